"""The `load` and `reset` commands: target, journal, logging and reports around the load stage."""

from __future__ import annotations

from pathlib import Path

import typer

from migrator.cli import fail
from migrator.emulator.runner import EmulatorStartError
from migrator.graph import GraphClient, GraphError, NotFoundError
from migrator.journal import Journal, JournalError
from migrator.logfile import log_to
from migrator.plan import Manifest, PlanError
from migrator.reports.html import duration
from migrator.stages.load import LoadError, LoadOptions, load, select_teams
from migrator.stages.load.estimate import estimate
from migrator.stages.load.report import write
from migrator.target import graph_target


def run_load(plan_dir: Path, journal_path: Path | None, out: Path | None, workers: int, only: str | None,
             dry_run: bool, complete_with_failures: bool, directory: Path | None) -> bool:
    """True when every planned message landed (or, for a dry run, always); the reports say what did not."""
    journal_path = journal_path or plan_dir / "journal.sqlite"
    out = out or plan_dir
    try:
        manifest = Manifest.read(plan_dir)
        teams = select_teams(manifest, only)
        if dry_run:
            _dry_run(manifest, teams, journal_path, workers)
            return True
        with log_to(out / "load.log"), Journal(journal_path) as journal, \
                graph_target(journal_path.parent / "emulator", directory) as target:
            journal.bind(target.fingerprint)
            typer.echo(f"load: {sum(c.messages for t in teams for c in t.channels)} messages into {target.description}")
            with GraphClient(target.config) as client:
                outcome = load(plan_dir, client, journal, LoadOptions(workers, only, complete_with_failures))
    except (PlanError, JournalError, LoadError, GraphError, EmulatorStartError) as error:
        fail(f"load: {error}")
    csv_path, html_path = write(outcome, out)
    typer.echo(
        f"load: {outcome.total('posted')} posted, {outcome.total('already')} already present, "
        f"{outcome.total('failed')} failed, {outcome.total('uploads')} files, {outcome.members_added} members added "
        f"in {duration(outcome.seconds)}; report {html_path}"
    )
    for team, why in outcome.teams_blocked.items():
        typer.echo(f"load: team {team!r} not completed: {why}", err=True)
    return outcome.ok


def _dry_run(manifest: Manifest, teams, journal_path: Path, workers: int) -> None:
    journal = Journal(journal_path, readonly=True) if journal_path.exists() else None
    rows, seconds = estimate(manifest, teams, journal, workers)
    typer.echo(f"dry run: nothing is sent. {len(teams)} teams, {len(rows)} channels, {workers} in parallel")
    for row in rows:
        typer.echo(f"  {row.team} / {row.channel}: {row.messages - row.already} of {row.messages} messages to post, "
                   f"{row.uploads} files, {row.requests} requests, {duration(row.requests / 5)} at 5/s")
    typer.echo(f"dry run: about {duration(seconds)} in all")


def run_reset(plan_dir: Path, team_name: str, journal_path: Path | None, yes: bool, directory: Path | None) -> None:
    journal_path = journal_path or plan_dir / "journal.sqlite"
    try:
        team = select_teams(Manifest.read(plan_dir), team_name)[0]
        with Journal(journal_path) as journal:
            team_id = journal.team_id(team.key)
            if team_id is None:
                fail(f"reset: the journal {journal_path} has no team {team.display_name!r}; nothing to delete")
            if not yes and not typer.confirm(f"Delete team {team.display_name!r} ({team_id}) and everything imported into it?"):
                raise typer.Exit(1)
            with graph_target(journal_path.parent / "emulator", directory) as target:
                journal.bind(target.fingerprint)
                with GraphClient(target.config) as client:
                    try:
                        client.request("DELETE", f"/groups/{team_id}")
                    except NotFoundError:
                        typer.echo(f"reset: team {team_id} was already deleted in Teams")
            journal.forget_team(team.key, [c.key for c in team.channels])
    except (PlanError, JournalError, LoadError, GraphError) as error:
        fail(f"reset: {error}")
    typer.echo(f"reset: team {team.display_name!r} deleted and forgotten; the next load migrates it again")
