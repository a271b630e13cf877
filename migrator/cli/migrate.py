"""`migrator migrate`: analyse, transform, load and verify in one go, each printing as its own command does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.fetch import run_fetch
from migrator.cli.load import LoadSettings, run_load
from migrator.cli.options import (
    EmulatorDirectory,
    Fetched,
    ImportBudget,
    LoadWorkers,
    Source,
    SourceFormat,
    load_workers,
)
from migrator.cli.verify import VERIFY_WORKERS, run_verify
from migrator.limits import EXPORT_TENANT_RPS, IMPORT_BUDGET_RPS

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def migrate(
    source: Source,
    mappings: Annotated[Path, typer.Option("--mappings", help="The folder holding migration.yaml and users.csv.")],
    out: Annotated[
        Path,
        typer.Option("--out", help="One folder for every stage's files: analyse/, plan/, journal, reports, verify/."),
    ],
    workers: LoadWorkers = "auto",
    import_budget: ImportBudget = IMPORT_BUDGET_RPS,
    model: Annotated[
        str | None,
        typer.Option(help="Billing model A or B of the export APIs used by verify; absent: evaluation mode."),
    ] = None,
    directory: EmulatorDirectory = None,
    source_format: SourceFormat = None,
    fetched: Fetched = None,
) -> None:
    """Run analyse, transform, load and verify in one go (a Slack export with SLACK_TOKEN set: fetch first, into
    OUT/fetched/); safe to re-run, exit 1 unless everything verifies clean."""
    from migrator.graph.config import GraphConfig
    from migrator.slack.config import SlackConfig
    from migrator.sources import detect_format
    from migrator.stages.analyse import run_analyse
    from migrator.stages.analyse import summary as analyse_summary
    from migrator.stages.migrate import Layout, guidance
    from migrator.stages.transform import summary as transform_summary
    from migrator.stages.transform import transform

    layout = Layout(out)
    fetched_all = True
    if SlackConfig.has_token() and (source_format or detect_format(source)) == "slack":
        fetched = fetched or layout.fetched
        fetched_all = run_fetch(source, fetched)
    typer.echo(analyse_summary(run_analyse(source, layout.analyse, mappings, source_format, fetched)))
    typer.echo(
        transform_summary(transform(source, mappings, layout.plan, source_format=source_format, fetched=fetched))
    )
    settings = LoadSettings(load_workers(workers), import_budget)
    loaded = run_load(layout.plan, layout.journal, out, settings, directory=directory)
    verified = run_verify(
        layout.plan, layout.journal, layout.verify, model, EXPORT_TENANT_RPS, VERIFY_WORKERS, directory
    )
    typer.echo("reports:")
    for name, path in layout.reports(fetched):
        typer.echo(f"  {name:<9} {path}")
    clean = loaded and verified and fetched_all
    if clean:
        typer.echo("migrate: done; every planned message landed exactly once and reads back unchanged")
    else:
        typer.echo(
            "migrate: not clean; see the fetch, load and verify reports above, fix, and run migrate again "
            "(it resumes where it stopped)",
            err=True,
        )
    for line in guidance(embedded=not GraphConfig.has_credentials(os.environ)):
        typer.echo(line)
    if not clean:
        raise typer.Exit(1)
