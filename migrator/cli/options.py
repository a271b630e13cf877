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
EmulatorDirectory = Annotated[
    Path | None, typer.Option(help="Directory file for the embedded emulator (no credentials set).")
]
