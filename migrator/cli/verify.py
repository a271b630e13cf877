"""`migrator verify`: the journal, Graph target, log and reports around the verify stage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from migrator.cli.options import EmulatorDirectory, JournalOption, journal_of
from migrator.cli.shell import step
from migrator.errors import OptionError
from migrator.limits import EXPORT_TENANT_RPS

if TYPE_CHECKING:
    from migrator.stages.verify import VerifyOutcome

VERIFY_WORKERS = 8  # teams read and conversations compared at once (export rate, not the import budget, bounds it)
SHOWN = 20  # findings echoed to the terminal; the reports have all of them

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def verify(
    plan_dir: Annotated[Path, typer.Argument(help="The plan folder that was loaded.")],
    journal: JournalOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Where verify.json and verify.html go (default: PLAN_DIR/verify).")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Billing model A or B of the export APIs; absent: evaluation mode.")
    ] = None,
    tenant_rps: Annotated[
        float, typer.Option(help="Export requests per second (Graph allows 200 per tenant).")
    ] = EXPORT_TENANT_RPS,
    workers: Annotated[
        int, typer.Option(min=1, help="Teams read and conversations compared in parallel.")
    ] = VERIFY_WORKERS,
    directory: EmulatorDirectory = None,
) -> None:
    """Read every migrated team and chat back through the export APIs and reconcile it with the plan; exit 1 on any
    difference.
    """
    journal_path = journal_of(journal, plan_dir)
    if not run_verify(plan_dir, journal_path, out or plan_dir / "verify", model, tenant_rps, workers, directory):
        raise typer.Exit(1)


def run_verify(
    plan_dir: Path,
    journal_path: str | Path,
    out: Path,
    model: str | None,
    tenant_rps: float,
    workers: int,
    directory: Path | None,
) -> bool:
    """Verify and print the findings; True when everything planned was read back exactly once and unchanged, and
    no source record is unaccounted."""
    from migrator.graph import GraphClient
    from migrator.journal import JournalError
    from migrator.journals import emulator_dir, journal_exists, open_journal
    from migrator.logfile import log_to
    from migrator.plan import Manifest
    from migrator.reports.verify import write
    from migrator.stages.export import export_limiter
    from migrator.stages.export.billing import MODELS
    from migrator.stages.verify import VerifyOptions
    from migrator.stages.verify import verify as verify_plan
    from migrator.target import graph_target

    with step("verify"):
        model = model.upper() if model else None
        if model is not None and model not in MODELS:
            raise OptionError(f"--model {model!r}: use A or B, or leave it out for evaluation mode")
        if tenant_rps <= 0:
            raise OptionError("--tenant-rps must be above 0")
        if not journal_exists(journal_path):
            raise JournalError(f"{journal_path}: no journal here; run `migrator load` first (or give --journal)")
        Manifest.read(plan_dir)
        with (
            log_to(out / "verify.log"),
            open_journal(journal_path) as journal,
            graph_target(emulator_dir(journal_path, plan_dir), directory) as target,
        ):
            journal.bind(target.fingerprint)
            typer.echo(f"verify: reading {plan_dir} back from {target.description}")
            with GraphClient(target.config, limiter=export_limiter(tenant_rps)) as client:
                outcome = verify_plan(plan_dir, client, journal, VerifyOptions(model, workers))
        json_path, html_path = write(outcome, out)
    _print_findings(outcome, json_path)
    typer.echo(outcome.summary())
    typer.echo(f"verify: reports {json_path} and {html_path}")
    return outcome.ok


def _print_findings(outcome: VerifyOutcome, json_path: Path) -> None:
    from migrator.stages.verify.outcome import PROBLEMS

    for check in outcome.conversations:
        if check.error:
            typer.echo(f"verify: {check.team} / {check.name}: {check.error}", err=True)
    findings = [f.describe(name) for name in PROBLEMS for c in outcome.conversations for f in getattr(c, name)] + [
        f"unaccounted: source record {u.id} ({u.file} item {u.item}) of {u.conversation}: {u.detail}"
        if u.file is not None
        else f"unaccounted: {u.conversation}: {u.detail}"
        for s in outcome.sources or []
        for u in s.unaccounted
    ]
    for finding in findings[:SHOWN]:
        typer.echo(f"verify: {finding}", err=True)
    if len(findings) > SHOWN:
        typer.echo(f"verify: … and {len(findings) - SHOWN} more in {json_path}", err=True)
