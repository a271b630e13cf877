"""`migrator load` and `migrator reset`: the Graph target, journal, log, confirmation and reports around them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from migrator.cli.options import EmulatorDirectory, ImportBudget, JournalOption, LoadWorkers, journal_of, load_workers
from migrator.cli.shell import step
from migrator.errors import OptionError
from migrator.limits import IMPORT_BUDGET_RPS
from migrator.words import counted

if TYPE_CHECKING:
    from migrator.graph import GraphClient
    from migrator.journal import JournalStore
    from migrator.plan import Manifest, PlannedConversation, PlannedTeam
    from migrator.stages.load.estimate import ChannelEstimate
    from migrator.stages.load.reset import ChannelReset, ChatFilesReset, TeamReset

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def load(
    plan_dir: Annotated[Path, typer.Argument(help="The plan folder written by `migrator transform`.")],
    journal: JournalOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Where load-report.html/.csv and load.log go (default: PLAN_DIR).")
    ] = None,
    workers: LoadWorkers = "auto",
    import_budget: ImportBudget = IMPORT_BUDGET_RPS,
    only: Annotated[str | None, typer.Option(help="Load only this team (plan key or display name).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Send nothing: print what would happen and how long it would take.")
    ] = False,
    complete_with_failures: Annotated[
        bool, typer.Option("--complete-with-failures", help="Complete channels even when some messages failed.")
    ] = False,
    directory: EmulatorDirectory = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish",
            help="Load nothing: store the plan in the PostgreSQL --journal for `migrator worker` processes.",
        ),
    ] = False,
) -> None:
    """Import a plan into Teams: teams, channels, files, messages, completion, members. Safe to re-run."""
    journal_path = journal_of(journal, plan_dir)
    settings = LoadSettings(load_workers(workers), import_budget)
    if publish:
        publish_plan(plan_dir, journal_path)
    elif dry_run:
        dry_run_load(plan_dir, journal_path, settings, only)
    elif not run_load(plan_dir, journal_path, out or plan_dir, settings, only, complete_with_failures, directory):
        raise typer.Exit(1)


@dataclass(frozen=True)
class LoadSettings:
    """How hard load may push: `migrate` passes its own, apart from verify's."""

    workers: int | None = None  # None: as many as the budget holds
    import_budget: float = IMPORT_BUDGET_RPS

    @property
    def concurrency(self) -> int:
        from migrator.stages.load.schedule import concurrency

        return concurrency(self.workers, self.import_budget)


def run_load(
    plan_dir: Path,
    journal_path: str | Path,
    out: Path,
    settings: LoadSettings,
    only: str | None = None,
    complete_with_failures: bool = False,
    directory: Path | None = None,
) -> bool:
    """Load and print the outcome; True when every planned message landed (the reports say what did not)."""
    from migrator.cli.progress import LoadBars
    from migrator.earlier import changed_summary
    from migrator.graph import GraphClient
    from migrator.graph.aimd import AdaptiveRate
    from migrator.journals import emulator_dir, open_journal
    from migrator.logfile import log_to
    from migrator.plan import Manifest
    from migrator.reports.load import write
    from migrator.stages.load import LoadOptions, select_teams
    from migrator.stages.load import load as load_plan
    from migrator.target import graph_target

    with step("load"):
        manifest = Manifest.read(plan_dir)
        teams = select_teams(manifest, only)
        chats = manifest.chats if only is None else []
        with (
            log_to(out / "load.log"),
            open_journal(journal_path) as journal,
            graph_target(emulator_dir(journal_path, plan_dir), directory) as target,
        ):
            journal.bind(target.fingerprint)
            messages = sum(c.messages for t in teams for c in t.channels) + sum(c.messages for c in chats)
            typer.echo(f"load: {counted(messages, 'message')} into {target.description}")
            pace = AdaptiveRate(settings.import_budget)
            with (
                GraphClient(target.config, pace=pace) as client,
                LoadBars(pacing=lambda: (pace.rate, client.stats.snapshot().get("throttled", 0))) as progress,
            ):
                options = LoadOptions(
                    settings.workers, only, complete_with_failures, import_budget=settings.import_budget
                )
                outcome = load_plan(plan_dir, client, journal, options, progress)
        csv_path, html_path = write(outcome, out)
    typer.echo(f"{outcome.summary()}; report {html_path}")
    if outcome.changes:
        typer.echo(f"load: {changed_summary(outcome.changes)}")
    if outcome.ok and not outcome.total("posted") and outcome.total("already"):
        typer.echo("load: nothing new to post: every planned message had landed in an earlier pass")
    for team, why in outcome.teams_blocked.items():
        typer.echo(f"load: team {team!r} not completed: {why}", err=True)
    for blocked in outcome.blocked_conversations:
        typer.echo(
            f"load: {blocked.team} / {blocked.name or blocked.key} not completed: "
            + ("; ".join(blocked.described_reasons()) or "load again"),
            err=True,
        )
    return outcome.ok


def publish_plan(plan_dir: Path, journal: str | Path) -> None:
    """Store the plan and its units in the PostgreSQL journal, for workers on any machine."""
    import os

    from migrator.graph.config import APPS_ENV, apps_from_env
    from migrator.journals import is_url
    from migrator.pgjournal import PostgresJournal
    from migrator.workqueue import WorkQueue

    with step("load"):
        if not is_url(journal):
            raise OptionError(
                "--publish stores the plan for workers in a PostgreSQL journal: give --journal postgresql://…"
            )
        apps = [app.client_id for app in apps_from_env()] if os.environ.get(APPS_ENV, "").strip() else None
        with PostgresJournal(str(journal)) as opened:
            files, units = WorkQueue(opened).publish(plan_dir, apps)
            where = opened.where
    spread = f", teams and chats spread over {len(apps)} apps" if apps else ""
    typer.echo(
        f"load: published {files} plan files and {units} units to {where}{spread}; "
        "start `migrator worker --journal URL` on each machine"
    )


def dry_run_load(plan_dir: Path, journal_path: str | Path, settings: LoadSettings, only: str | None) -> None:
    """Per channel and chat what is still to send, and where each archived conversation went instead."""
    from migrator.journals import journal_exists, open_journal
    from migrator.plan import Manifest
    from migrator.stages.load import select_teams

    with step("load"):
        manifest = Manifest.read(plan_dir)
        teams = select_teams(manifest, only)
        chats = manifest.chats if only is None else []
        journal = open_journal(journal_path, readonly=True) if journal_exists(journal_path) else None
        _print_estimate(plan_dir, manifest, teams, chats, journal, settings)


def _print_estimate(
    plan_dir: Path,
    manifest: Manifest,
    teams: list[PlannedTeam],
    chats: list[PlannedConversation],
    journal: JournalStore | None,
    settings: LoadSettings,
) -> None:
    from migrator.reports.html import duration
    from migrator.stages.load.estimate import estimate

    workers = settings.concurrency
    rows, seconds, longest = estimate(
        plan_dir, manifest, teams, journal, workers, tenant_rps=settings.import_budget, chats=chats
    )
    typer.echo(estimate_header(len(teams), Counter(row.kind for row in rows), workers))
    for row in rows:
        typer.echo(estimate_line(row))
    for entry in manifest.archive:
        typer.echo(
            f"  archive (not imported): {entry['name']}: {counted(entry['messages'], 'message')}, {entry['reason']}"
        )
    typer.echo(f"dry run: about {duration(seconds)} in all")
    if longest is not None:
        links = [link for link in (longest.first, longest.then) if link is not None]
        chain = " then ".join(f"{key} ({duration(seconds)} at 5/s)" for key, seconds in links)
        typer.echo(f"dry run: decided by {longest.name}: {chain}")


def estimate_header(teams: int, kinds: Counter[str], workers: int) -> str:
    """The dry run's first line: what the plan creates."""
    return (
        f"dry run: nothing is sent. {counted(teams, 'team')}: {counted(kinds['channel'], 'channel')}, "
        f"{counted(kinds['private channel'], 'private channel')}; {counted(kinds['chat'], 'chat')}; "
        f"{workers} in parallel"
    )


def estimate_line(row: ChannelEstimate) -> str:
    """One conversation of the dry run: what is still to send and how long it takes at the per-conversation rate."""
    from migrator.reports.html import duration

    where = row.channel if row.kind == "chat" else f"{row.team} / {row.channel}"
    return (
        f"  {row.kind}: {where}: {row.messages - row.already:,} of {counted(row.messages, 'message')} to post, "
        f"{counted(row.uploads, 'file')}, {counted(row.requests, 'request')}, {duration(row.requests / 5)} at 5/s"
    )


def reset(
    plan_dir: Annotated[Path, typer.Argument(help="The plan folder the team was loaded from.")],
    team: Annotated[str | None, typer.Option(help="The team to delete and forget (plan key or display name).")] = None,
    channel: Annotated[
        str | None, typer.Option(help="One channel to delete and forget (plan key team/channel, or its name).")
    ] = None,
    chat: Annotated[
        str | None, typer.Option(help="A chat: its files in OneDrive deleted (Graph cannot delete a chat).")
    ] = None,
    journal: JournalOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    directory: EmulatorDirectory = None,
) -> None:
    """Delete a migrated team (DELETE /groups/{id}) or channel and forget it, so the next load migrates it again;
    of a chat, which Graph cannot delete, the files load put in OneDrive."""
    from migrator.journals import emulator_dir, open_journal
    from migrator.plan import Manifest
    from migrator.stages.load.reset import channel_reset, chat_files_reset, team_reset

    with step("reset"):
        if sum(name is not None for name in (team, channel, chat)) != 1:
            raise OptionError("name exactly one of --team, --channel or --chat")
        journal_path = journal_of(journal, plan_dir)
        manifest = Manifest.read(plan_dir)
        state = emulator_dir(journal_path, plan_dir)
        with open_journal(journal_path) as opened:
            if team is not None:
                _reset_team(team_reset(manifest, opened, team), opened, yes, _Target(state, directory))
            elif chat is not None:
                _reset_chat_files(chat_files_reset(manifest, opened, chat), opened, yes, _Target(state, directory))
            else:
                assert channel is not None
                _reset_channel(channel_reset(manifest, opened, channel), opened, yes, _Target(state, directory))


@dataclass(frozen=True)
class _Target:
    """Where the embedded emulator keeps its tenant, and its directory file (when no credentials are set)."""

    state: Path
    directory: Path | None


def _reset_team(chosen: TeamReset, journal: JournalStore, yes: bool, target: _Target) -> None:
    from migrator.stages.load.reset import reset_team

    name = chosen.team.display_name
    if not yes and not typer.confirm(f"Delete team {name!r} ({chosen.team_id}) and everything imported into it?"):
        raise typer.Exit(1)
    with _client(journal, target) as client:
        if not reset_team(client, journal, chosen):
            typer.echo(f"reset: team {chosen.team_id} was already deleted in Teams")
    typer.echo(f"reset: team {name!r} deleted and forgotten; the next load migrates it again")


def _reset_channel(chosen: ChannelReset, journal: JournalStore, yes: bool, target: _Target) -> None:
    from migrator.stages.load.reset import reset_channel

    name = chosen.channel.display_name
    if not yes and not typer.confirm(
        f"Delete channel {name!r} of {chosen.team.display_name!r} and everything imported into it?"
    ):
        raise typer.Exit(1)
    with _client(journal, target) as client:
        if not reset_channel(client, journal, chosen):
            typer.echo(f"reset: channel {chosen.channel_id} was already deleted in Teams")
    typer.echo(f"reset: channel {name!r} deleted and forgotten; the next load creates and fills it again")


def _reset_chat_files(chosen: ChatFilesReset, journal: JournalStore, yes: bool, target: _Target) -> None:
    from migrator.stages.load.reset import reset_chat_files

    name, files = chosen.chat.display_name or chosen.chat.key, counted(len(chosen.files), "file")
    if not yes and not typer.confirm(
        f"Delete the {files} of chat {name!r} from OneDrive? The chat and its messages stay (Graph cannot delete "
        "them); their links to the files stop working until the next load uploads them again."
    ):
        raise typer.Exit(1)
    with _client(journal, target) as client:
        gone = reset_chat_files(client, journal, chosen)
    if gone:
        typer.echo(f"reset: {counted(gone, 'file')} of chat {name!r} had already been deleted from OneDrive")
    typer.echo(
        f"reset: {files} of chat {name!r} deleted from OneDrive; the chat and its messages stay (Graph cannot delete "
        "them), and the next load uploads the files again"
    )


@contextmanager
def _client(journal: JournalStore, chosen: _Target) -> Iterator[GraphClient]:
    """A client for the journal's target: the tenant, or the embedded emulator that holds the journal's data."""
    from migrator.graph import GraphClient
    from migrator.target import graph_target

    with graph_target(chosen.state, chosen.directory) as target:
        journal.bind(target.fingerprint)
        with GraphClient(target.config) as client:
            yield client
