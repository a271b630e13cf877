"""What a 402 from the export APIs means and what the consultant can do about it.

The export APIs are metered (docs/graph-contract.md#export-billing): Graph answers 402 when the chosen
billing model does not cover the call. The error alone ("needs a valid
license", "evaluation mode capacity has been exceeded") does not say which
choice fixes it, so every 402 is reported with this explanation.
"""

from __future__ import annotations

from migrator.graph import PaymentRequiredError

MODELS = ("A", "B")

BILLING_MODELS = (
    "The Teams export APIs are metered. --model A: for security and compliance apps; every exported user "
    '(or the tenant) needs a qualifying licence (E5-class), otherwise Graph answers 402 "needs a valid license". '
    "--model B: for any other purpose; no licence needed, every message is billed to the Azure subscription "
    "linked to the app registration. No --model: evaluation mode, free but limited to a small monthly "
    'capacity per app; past it Graph answers 402 "evaluation mode capacity has been exceeded" until next month.'
)


def explain(error: PaymentRequiredError, model: str | None) -> str:
    """Graph's message, what it means for the chosen model, and the fix."""
    text = error.message
    if "evaluation" in text.lower():
        advice = "the evaluation capacity is used up: rerun with --model A (licensed users) or --model B (billed)"
    elif model == "A" or "license" in text.lower():
        advice = (
            "the user or tenant has no licence for model A: assign one, or rerun with --model B "
            "(no licence needed, billed per message)"
        )
    else:
        advice = f"model {model or 'evaluation'} does not cover this call: check the app's billing set-up"
    return f"402 Payment Required: {text} — {advice}. {BILLING_MODELS}"


def tenant_wide(error: PaymentRequiredError) -> bool:
    """The evaluation capacity is the app's in the whole tenant: once used up, no target can go on."""
    return "evaluation" in error.message.lower()
