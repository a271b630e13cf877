"""`migrator sample generate`: synthetic workspaces for benchmarks, reliability tests and demos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.shell import step

app = typer.Typer(help="Synthetic workspaces for benchmarks, reliability tests and demos.", no_args_is_help=True)

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


@app.command("generate")
def generate(
    *,  # keyword-only, so that --out can stay last in the help without a default
    channels: Annotated[
        int, typer.Option("--channels", help="Channels: #general, other public ones and the private ones.")
    ],
    teams: Annotated[
        int,
        typer.Option(
            "--teams",
            help="Teams the channels are meant for: team K's channels are named tK-... (K from 2), for a mapping "
            "that routes them there.",
        ),
    ] = 1,
    private_channels: Annotated[int, typer.Option("--private-channels", help="Private channels among them.")] = 1,
    messages: Annotated[
        int, typer.Option("--messages", help="Messages in all (joins, roots and replies; 10% in DMs and group DMs).")
    ],
    threads_ratio: Annotated[
        float, typer.Option("--threads-ratio", help="Share of the messages that are thread replies.")
    ] = 0.3,
    files: Annotated[
        int | None,
        typer.Option(
            "--files", help="Files attached to messages (small PNG images and text documents); 20 unless --plain."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The same seed always writes the same workspace.")] = 1,
    plain: Annotated[
        bool,
        typer.Option(
            "--plain",
            help="Every message plain text by a person: no markup, blocks, files, bots, joins, edits or reactions.",
        ),
    ] = False,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="New folder: the export goes to OUT/slack, the emulator directory to OUT/directory.json."
        ),
    ],
) -> None:
    """Write a synthetic, realistic Slack export and the Entra directory that matches it."""
    from migrator.sample import SampleOptions
    from migrator.sample import generate as write_sample

    with step("sample"):
        summary = write_sample(
            out,
            SampleOptions(
                channels,
                messages,
                threads_ratio,
                files,
                seed,
                plain=plain,
                teams=teams,
                private_channels=private_channels,
            ),
        )
    typer.echo(summary.line())
    typer.echo(f"wrote {summary.directory}: the matching directory (emulator serve --directory, map --directory)")
