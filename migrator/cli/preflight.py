"""`migrator preflight`: the tenant checks before cutover, their reports and one line per step."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.options import EmulatorDirectory
from migrator.cli.shell import step
from migrator.errors import OptionError

# Stage and service modules are imported inside the function below, for start-up time: see migrator.cli.


def preflight(
    mappings: Annotated[Path, typer.Option(help="The mapping folder (migration.yaml and users.csv).")],
    out: Annotated[Path, typer.Option(help="Where preflight.json and preflight.html go.")] = Path("preflight"),
    plan: Annotated[Path | None, typer.Option(help="A plan folder: its requests and conversations are sized.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Billing model A or B of the export APIs; absent: evaluation mode.")
    ] = None,
    no_canary: Annotated[bool, typer.Option("--no-canary", help="Skip the canary migration.")] = False,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the canary team instead of deleting it.")] = False,
    canary_chat: Annotated[
        bool, typer.Option("--canary-chat", help="Also migrate a group chat into the tenant: it cannot be deleted.")
    ] = False,
    directory: EmulatorDirectory = None,
) -> None:
    """Check that the tenant of the MIGRATOR_* variables (else the embedded emulator) accepts the migration: exit 0
    when every step that ran passed, 1 when one failed, 2 for bad input.
    """
    from migrator.graph import GraphClient
    from migrator.reports.preflight import write
    from migrator.stages.export.billing import MODELS
    from migrator.stages.preflight import PreflightOptions, read_inputs
    from migrator.stages.preflight import preflight as run_preflight
    from migrator.target import graph_target

    with step("preflight"):
        model = model.upper() if model else None
        if model is not None and model not in MODELS:
            raise OptionError(f"--model {model!r}: use A or B, or leave it out for evaluation mode")
        options = PreflightOptions(mappings, plan, model, canary=not no_canary, keep=keep, canary_chat=canary_chat)
        read_inputs(options)
        with graph_target(out / "emulator", directory) as target, GraphClient(target.config) as client:
            typer.echo(f"preflight: checking {target.description}")
            outcome = run_preflight(target.config, client, options, target.description)
        json_path, html_path = write(outcome, out)
    for record in outcome.steps:
        typer.echo(f"preflight: {record.verdict}", err=record.status == "failed")
        for line in record.details:
            typer.echo(f"preflight:   {line}", err=True)
    typer.echo(f"preflight: {'ready' if outcome.ok else 'NOT ready'}; reports {json_path} and {html_path}")
    if not outcome.ok:
        raise typer.Exit(1)
