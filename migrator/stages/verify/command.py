"""The `verify` command: journal, Graph target, log and reports around the verify stage."""

from __future__ import annotations

from pathlib import Path

import typer

from migrator.cli import fail
from migrator.emulator.runner import EmulatorStartError
from migrator.graph import ConfigError, GraphClient
from migrator.journal import Journal, JournalError
from migrator.logfile import log_to
from migrator.plan import Manifest, PlanError
from migrator.reports.verify import write
from migrator.stages.export.billing import MODELS
from migrator.stages.export.runner import export_limiter
from migrator.stages.verify import VerifyOptions, verify
from migrator.stages.verify.outcome import PROBLEMS
from migrator.target import graph_target

SHOWN = 20  # findings echoed to the terminal; the reports have all of them


def run_verify(
    plan_dir: Path,
    journal_path: Path | None,
    out: Path | None,
    model: str | None,
    tenant_rps: float,
    workers: int,
    directory: Path | None,
) -> bool:
    """True when everything planned was read back exactly once and unchanged."""
    journal_path = journal_path or plan_dir / "journal.sqlite"
    out = out or plan_dir / "verify"
    model = model.upper() if model else None
    if model is not None and model not in MODELS:
        fail(f"verify: --model {model!r}: use A or B, or leave it out for evaluation mode")
    if tenant_rps <= 0:
        fail("verify: --tenant-rps must be above 0")
    if not journal_path.is_file():
        fail(f"verify: {journal_path}: no journal here; run `migrator load` first (or give --journal)")
    try:
        Manifest.read(plan_dir)
        with (
            log_to(out / "verify.log"),
            Journal(journal_path) as journal,
            graph_target(journal_path.parent / "emulator", directory) as target,
        ):
            journal.bind(target.fingerprint)
            typer.echo(f"verify: reading {plan_dir} back from {target.description}")
            with GraphClient(target.config, limiter=export_limiter(tenant_rps)) as client:
                outcome = verify(plan_dir, client, journal, VerifyOptions(model, workers))
    except (PlanError, JournalError, ConfigError, EmulatorStartError) as error:
        fail(f"verify: {error}")
    json_path, html_path = write(outcome, out)
    for check in outcome.conversations:
        if check.error:
            typer.echo(f"verify: {check.team} / {check.name}: {check.error}", err=True)
    findings = [(name, f) for name in PROBLEMS for c in outcome.conversations for f in getattr(c, name)]
    for name, finding in findings[:SHOWN]:
        typer.echo(
            f"verify: {name}: {finding.conversation} {finding.key} at {finding.createdDateTime}: {finding.detail}",
            err=True,
        )
    if len(findings) > SHOWN:
        typer.echo(f"verify: … and {len(findings) - SHOWN} more in {json_path}", err=True)
    typer.echo(outcome.summary())
    typer.echo(f"verify: reports {json_path} and {html_path}")
    return outcome.ok
