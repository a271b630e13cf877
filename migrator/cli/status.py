"""`migrator status`: where a migration loaded by workers stands (README, Large migrations)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.options import JournalOption
from migrator.cli.shell import step
from migrator.errors import OptionError

# Stage and service modules are imported inside the function below, for start-up time: see migrator.cli.


def status(
    journal: JournalOption = None,
    out: Annotated[Path | None, typer.Option(help="Also write the status as this HTML page.")] = None,
) -> None:
    """Per team and conversation: owner worker, app, posted / planned, rate, ETA, stuck leases."""
    from migrator.journals import is_url
    from migrator.pgjournal import PostgresJournal
    from migrator.reports.status import eta, write
    from migrator.workstatus import read_status

    with step("status"):
        if not journal or not is_url(journal):
            raise OptionError("status reads a PostgreSQL journal: --journal postgresql://… or MIGRATOR_JOURNAL_URL")
        with PostgresJournal(journal, readonly=True) as opened:
            found = read_status(opened)
    typer.echo(
        f"status: {found.posted} of {found.planned} messages posted, {found.rate:.1f}/s, {eta(found.eta)} left; "
        f"units {found.count('done')} done of {len(found.units)}, {found.count('failed')} failed, "
        f"{found.count('blocked')} blocked, {len(found.stuck)} stuck"
    )
    for team in found.teams:
        typer.echo(
            f"  {team.team} [{team.app or 'any app'}]: {team.state}, {team.posted}/{team.planned}, "
            f"{team.rate:.1f}/s, {eta(team.eta)} left"
        )
        for unit in team.units:
            if unit.state == "done":
                continue
            lease = f", {unit.lease}" if unit.lease else ""
            note = f": {unit.note}" if unit.note else ""
            typer.echo(
                f"    {unit.kind} {unit.name}: {unit.state}{note}, {unit.posted}/{unit.planned}, {unit.rate:.1f}/s, "
                f"{eta(unit.eta)} left, worker {unit.owner or '-'}{lease}"
            )
    if out is not None:
        typer.echo(f"status: {write(found, out)}")
