"""The `migrator` command line: everything typer, one module per command or command group.

Commands parse options, call a stage, and print what it returns; stages never
print, prompt, exit or import this package. Errors are turned into one line and
an exit code in one place, `shell.Shell` (see the README's "Exit codes").

Every module here imports the stage and service modules inside its commands,
not at the top: every `migrator` process (each embedded Graph emulator too)
starts by importing this package, and importing every stage would add about a
second to each start.
"""

from __future__ import annotations

import typer

from migrator.cli import (
    analyse,
    emulator,
    export,
    fetch,
    load,
    mapping,
    migrate,
    preflight,
    sample,
    status,
    transform,
    verify,
    worker,
)
from migrator.cli.shell import Shell

app = typer.Typer(
    cls=Shell,
    help="Migrate chat history into Microsoft Teams through Microsoft Graph.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(emulator.app, name="emulator")
app.add_typer(sample.app, name="sample")
app.add_typer(export.app, name="export")
app.command("fetch")(fetch.fetch)
app.command("analyse")(analyse.analyse)
app.command("transform")(transform.transform)
app.command("load")(load.load)
app.command("reset")(load.reset)
app.command("map")(mapping.map_command)
app.command("migrate")(migrate.migrate)
app.command("verify")(verify.verify)
app.command("preflight")(preflight.preflight)
app.command("worker")(worker.worker)
app.command("status")(status.status)


def main() -> None:
    app()
