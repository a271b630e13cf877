"""`migrator analyse`: the inventory and dry-run report of an export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.options import Fetched, JournalOption, Source, SourceFormat
from migrator.errors import OptionError

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def analyse(
    source: Source,
    out: Annotated[Path, typer.Option("--out", help="Folder for inventory.json and report.html.")],
    mappings: Annotated[
        Path | None,
        typer.Option("--mappings", help="migration.yaml (or its folder) to report destinations and unmatched users."),
    ] = None,
    since: Annotated[
        Path | None,
        typer.Option(
            "--since",
            help="The --out folder of an earlier migrate of the same source: also the delta pass's dry run (new "
            "messages per conversation, new conversations, what changed, the estimate); needs --mappings.",
        ),
    ] = None,
    journal: JournalOption = None,
    source_format: SourceFormat = None,
    fetched: Fetched = None,
) -> None:
    """Inventory an export and write a self-contained dry-run report."""
    from migrator.reports.analyse import REPORT_FILE
    from migrator.stages.analyse import run_analyse, summary

    if since is not None and mappings is None:
        raise OptionError("--since needs --mappings: the delta is planned as the delta pass will plan it")
    inventory = run_analyse(source, out, mappings, source_format, fetched)
    typer.echo(summary(inventory))
    typer.echo(f"wrote {out / 'inventory.json'} and {out / REPORT_FILE}")
    if since is not None and mappings is not None:
        _since(source, mappings, since, out, source_format, fetched, journal)


def _since(
    source: Path,
    mappings: Path,
    since: Path,
    out: Path,
    source_format: str | None,
    fetched: Path | None,
    journal: str | None,
) -> None:
    """The delta pass's dry run: per conversation what it sends, what changed, and how long."""
    from migrator.earlier import changed_summary
    from migrator.reports.html import duration
    from migrator.stages.since import DELTA_FILE, dry_run_since

    delta = dry_run_since(source, mappings, since, out, source_format=source_format, fetched=fetched, journal=journal)
    for row in delta.rows:
        if row.new or row.new_conversation:
            where = row.name if row.kind == "chat" else f"{row.team} / {row.name}"
            status = "new " + row.kind if row.new_conversation else row.kind
            typer.echo(f"  {status}: {where}: {row.new} new messages, {row.requests} requests")
    new_conversations = sum(row.new_conversation for row in delta.rows)
    typer.echo(
        f"delta since {since}: {delta.new_messages} new messages in "
        f"{sum(1 for row in delta.rows if row.new)} conversations ({new_conversations} new); "
        f"{changed_summary(delta.changes) if delta.changes else 'nothing changed since the earlier pass'}"
    )
    typer.echo(
        f"delta estimate: about {duration(delta.seconds)} (physical limit {duration(delta.limit_seconds)} at "
        f"5 requests/s per conversation); wrote {out / DELTA_FILE}"
    )
