"""`migrator fetch`: the files and emails a standard Slack export only links to, fetched from Slack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.options import Source
from migrator.words import counted

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def fetch(
    source: Source,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder for __uploads/, users.json and fetch-report.json/.html (give it as --fetched)."
        ),
    ],
    workers: Annotated[int, typer.Option(min=1, max=32, help="Downloads in parallel.")] = 4,
    rps: Annotated[
        float, typer.Option(min=0.1, help="Downloads started per second, all workers together (429s honoured too).")
    ] = 20.0,
) -> None:
    """Download the files a Slack export links to and the emails it lacks (SLACK_TOKEN); exit 1 if any failed."""
    if not run_fetch(source, out, workers, rps):
        raise typer.Exit(1)


def run_fetch(source: Path, out: Path, workers: int = 4, rps: float = 20.0) -> bool:
    """Fetch with progress bars and print the summary; whether everything that could be fetched was (`migrate`
    goes on either way, with placeholders for what is missing)."""
    from migrator.cli.progress import FetchBars
    from migrator.cli.shell import step
    from migrator.slack.config import SlackConfig
    from migrator.stages.fetch import FetchOptions, summary
    from migrator.stages.fetch import fetch as run

    with step("fetch"):
        config = SlackConfig.from_env()
        with FetchBars() as bars:
            result = run(source, out, config, FetchOptions(workers=workers, files_rps=rps), bars)
    typer.echo(summary(result))
    typer.echo(f"wrote {result.report_html}, {result.report_json} and {result.users_json}")
    if not result.ok:
        typer.echo(
            f"fetch: not complete: {counted(result.report['totals']['failed'], 'file')} failed "
            f"(listed in {result.report_html})"
            "; run the same command again to retry them",
            err=True,
        )
    return result.ok
