"""`migrator analyse`: the inventory and dry-run report of an export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.options import Fetched, Source, SourceFormat

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def analyse(
    source: Source,
    out: Annotated[Path, typer.Option("--out", help="Folder for inventory.json and report.html.")],
    mappings: Annotated[
        Path | None,
        typer.Option("--mappings", help="migration.yaml (or its folder) to report destinations and unmatched users."),
    ] = None,
    source_format: SourceFormat = None,
    fetched: Fetched = None,
) -> None:
    """Inventory an export and write a self-contained dry-run report."""
    from migrator.reports.analyse import REPORT_FILE
    from migrator.stages.analyse import run_analyse, summary

    inventory = run_analyse(source, out, mappings, source_format, fetched)
    typer.echo(summary(inventory))
    typer.echo(f"wrote {out / 'inventory.json'} and {out / REPORT_FILE}")
