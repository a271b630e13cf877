"""`migrator transform`: the plan of exact import requests, and the report that adds up to the export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.options import Fetched, JournalOption, Source, SourceFormat

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def transform(
    source: Source,
    mappings: Annotated[
        Path,
        typer.Option("--mappings", help="The folder holding migration.yaml and users.csv (or migration.yaml itself)."),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="The plan folder: manifest.json, one JSONL per channel, files/, archive/, reports."),
    ],
    source_format: SourceFormat = None,
    fetched: Fetched = None,
    journal: JournalOption = None,
) -> None:
    """Write the exact import requests (the plan) for `load`, and a report that adds up to the export.

    Into a folder an earlier pass loaded, the newer export is compared with what landed there: the journal named
    by --journal (default: journal.sqlite in OUT or beside it, where `load` and `migrate` keep it)."""
    from migrator.stages.transform import summary
    from migrator.stages.transform import transform as run_transform

    result = run_transform(source, mappings, out, source_format=source_format, fetched=fetched, journal=journal)
    typer.echo(summary(result))
    typer.echo(f"wrote the plan in {out} ({result.report_html.name}, {result.report_json.name})")
