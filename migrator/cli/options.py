"""Options several commands share, declared once with their help text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Source = Annotated[Path, typer.Argument(help="The export: the .zip as downloaded, or its unpacked folder.")]
SourceFormat = Annotated[
    str | None,
    typer.Option(
        "--source-format", help="slack, mattermost, discord or teams; detected from the export when left out."
    ),
]
Fetched = Annotated[
    Path | None,
    typer.Option(
        "--fetched",
        help="The folder `migrator fetch` wrote: its files and emails are used as if the Slack export held them.",
    ),
]
JournalOption = Annotated[
    str | None,
    typer.Option(
        "--journal",
        envvar="MIGRATOR_JOURNAL_URL",
        show_envvar=False,
        metavar="PATH|URL",
        help="The journal: a SQLite file (default: PLAN_DIR/journal.sqlite) or a PostgreSQL URL "
        "(also MIGRATOR_JOURNAL_URL).",
    ),
]


def journal_of(journal: str | None, plan_dir: Path) -> str | Path:
    """`--journal` as given, or the plan folder's SQLite journal."""
    return journal if journal else plan_dir / "journal.sqlite"


EmulatorDirectory = Annotated[
    Path | None, typer.Option(help="Directory file for the embedded emulator (no credentials set).")
]


def load_workers(value: str) -> int | None:
    """`--workers`: a number, or `auto` (None) for as many as the import budget holds."""
    if value == "auto":
        return None
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise typer.BadParameter(f"{value!r}: give a number of at least 1, or auto")


LoadWorkers = Annotated[
    str,
    typer.Option(
        metavar="N|auto",
        help="Conversations posting at once, at most (each at 5 requests/s); auto: as many as --import-budget holds.",
    ),
]
ImportBudget = Annotated[
    float,
    typer.Option(
        min=5.0,
        metavar="RPS",  # not click's "<float range> [x>=5.0]", which leaves option names no room at 80 columns
        help="Teams requests/s the whole load may send, at least 5 (Graph allows 15,000 per 10 s per app and "
        "tenant): budget / 5 conversations post at once.",
    ),
]
