"""The `load` and `reset` commands: target, journal, logging and reports around the load stage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from migrator.cli import fail
from migrator.emulator.runner import EmulatorStartError
from migrator.graph import GraphClient, GraphError, NotFoundError
from migrator.journal import Journal, JournalError
from migrator.logfile import log_to
from migrator.plan import Manifest, PlanError, PlannedConversation, PlannedTeam
from migrator.reports.html import duration
from migrator.reports.load import write
from migrator.stages.load import LoadError, LoadOptions, load, select_teams
from migrator.stages.load.estimate import estimate
from migrator.stages.mapping import MAX_CHANNEL_NAME
from migrator.target import graph_target
from migrator.timestamps import format_ms, now_ms


def run_load(
    plan_dir: Path,
    journal_path: Path | None,
    out: Path | None,
    workers: int,
    only: str | None,
    dry_run: bool,
    complete_with_failures: bool,
    directory: Path | None,
) -> bool:
    """True when every planned message landed (or, for a dry run, always); the reports say what did not."""
    journal_path = journal_path or plan_dir / "journal.sqlite"
    out = out or plan_dir
    try:
        manifest = Manifest.read(plan_dir)
        teams = select_teams(manifest, only)
        if dry_run:
            _dry_run(manifest, teams, manifest.chats if only is None else [], journal_path, workers)
            return True
        with (
            log_to(out / "load.log"),
            Journal(journal_path) as journal,
            graph_target(journal_path.parent / "emulator", directory) as target,
        ):
            journal.bind(target.fingerprint)
            chats = manifest.chats if only is None else []
            typer.echo(
                f"load: {sum(c.messages for t in teams for c in t.channels) + sum(c.messages for c in chats)} "
                f"messages into {target.description}"
            )
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


def _dry_run(manifest: Manifest, teams, chats, journal_path: Path, workers: int) -> None:
    """Per channel and chat what is still to send, and where each archived conversation went instead."""
    journal = Journal(journal_path, readonly=True) if journal_path.exists() else None
    rows, seconds = estimate(manifest, teams, journal, workers, chats=chats)
    counts = Counter(row.kind for row in rows)
    typer.echo(
        f"dry run: nothing is sent. {len(teams)} teams: {counts['channel']} channels, "
        f"{counts['private channel']} private channels; {counts['chat']} chats; {workers} in parallel"
    )
    for row in rows:
        where = row.channel if row.kind == "chat" else f"{row.team} / {row.channel}"
        typer.echo(
            f"  {row.kind}: {where}: {row.messages - row.already} of {row.messages} messages to post, "
            f"{row.uploads} files, {row.requests} requests, {duration(row.requests / 5)} at 5/s"
        )
    for entry in manifest.archive:
        typer.echo(f"  archive (not imported): {entry['name']}: {entry['messages']} messages, {entry['reason']}")
    typer.echo(f"dry run: about {duration(seconds)} in all")


CHAT_RESET_REFUSED = (
    "reset: chat {name!r} cannot be reset: Microsoft Graph cannot delete a chat, and what was imported into it stays. "
    "A chat can only be reopened with startMigration (its creation time may move only into the past) and topped up "
    "with messages it lacks; it is never redone from scratch. To keep a DM out of Teams, map it to `action: archive` "
    "before it is loaded."
)


def run_reset(
    plan_dir: Path,
    team_name: str | None,
    channel_name: str | None,
    chat_name: str | None,
    journal_path: Path | None,
    yes: bool,
    directory: Path | None,
) -> None:
    """`reset --team`, `--channel` or `--chat` (refused with the reason): exactly one of them."""
    if sum(name is not None for name in (team_name, channel_name, chat_name)) != 1:
        fail("reset: name exactly one of --team, --channel or --chat")
    journal_path = journal_path or plan_dir / "journal.sqlite"
    try:
        manifest = Manifest.read(plan_dir)
        if chat_name is not None:
            chat = _find_chat(manifest, chat_name)
            fail(CHAT_RESET_REFUSED.format(name=chat.display_name or chat.key))
        with Journal(journal_path) as journal:
            if team_name is not None:
                _reset_team(select_teams(manifest, team_name)[0], journal, journal_path, yes, directory)
            else:
                assert channel_name is not None
                _reset_channel(*_find_channel(manifest, channel_name), journal, journal_path, yes, directory)
    except (PlanError, JournalError, LoadError, GraphError) as error:
        fail(f"reset: {error}")


def _reset_team(team: PlannedTeam, journal: Journal, journal_path: Path, yes: bool, directory: Path | None) -> None:
    team_id = journal.team_id(team.key)
    if team_id is None:
        fail(f"reset: the journal {journal_path} has no team {team.display_name!r}; nothing to delete")
    if not yes and not typer.confirm(f"Delete team {team.display_name!r} ({team_id}) and everything imported into it?"):
        raise typer.Exit(1)
    with _client(journal, journal_path, directory) as client:
        try:
            client.request("DELETE", f"/groups/{team_id}")
        except NotFoundError:
            typer.echo(f"reset: team {team_id} was already deleted in Teams")
    journal.forget_team(team.key, [c.key for c in team.channels])
    typer.echo(f"reset: team {team.display_name!r} deleted and forgotten; the next load migrates it again")


def _reset_channel(
    team: PlannedTeam,
    channel: PlannedConversation,
    journal: Journal,
    journal_path: Path,
    yes: bool,
    directory: Path | None,
) -> None:
    """Rename, then delete: Teams keeps a deleted channel's name, and the next load needs it for the new channel."""
    if channel.general:
        fail(f"reset: the General channel of {team.display_name!r} cannot be deleted; reset the team instead (--team)")
    team_id, channel_id = journal.team_id(team.key), journal.conversation_id(channel.key)
    if team_id is None or channel_id is None:
        fail(f"reset: the journal {journal_path} has no channel {channel.key!r}; nothing to delete")
    if not yes and not typer.confirm(
        f"Delete channel {channel.display_name!r} of {team.display_name!r} and everything imported into it?"
    ):
        raise typer.Exit(1)
    base = f"/teams/{team_id}/channels/{channel_id}"
    with _client(journal, journal_path, directory) as client:
        try:
            suffix = f" (reset {format_ms(now_ms())[:10]})"  # the name the deleted channel keeps, freeing the plan's
            client.request(
                "PATCH", base, json={"displayName": channel.display_name[: MAX_CHANNEL_NAME - len(suffix)] + suffix}
            )
            client.request("DELETE", base)
        except NotFoundError:
            typer.echo(f"reset: channel {channel_id} was already deleted in Teams")
    journal.forget_conversation(channel.key)
    typer.echo(
        f"reset: channel {channel.display_name!r} deleted and forgotten; the next load creates and fills it again"
    )


@contextmanager
def _client(journal: Journal, journal_path: Path, directory: Path | None) -> Iterator[GraphClient]:
    with graph_target(journal_path.parent / "emulator", directory) as target:
        journal.bind(target.fingerprint)
        with GraphClient(target.config) as client:
            yield client


def _find_channel(manifest: Manifest, name: str) -> tuple[PlannedTeam, PlannedConversation]:
    """By plan key (`team/channel`) or by display name when only one channel has it."""
    found = [(t, c) for t in manifest.teams for c in t.channels if name in (c.key, c.display_name)]
    if len(found) != 1:
        keys = ", ".join(c.key for _, c in (found or [(t, c) for t in manifest.teams for c in t.channels]))
        raise LoadError(
            f"--channel {name!r} names {'several' if found else 'no'} channels of the plan; give one of: {keys}"
        )
    return found[0]


def _find_chat(manifest: Manifest, name: str) -> PlannedConversation:
    chat = next((c for c in manifest.chats if name in (c.key, c.display_name)), None)
    if chat is None:
        keys = ", ".join(c.key for c in manifest.chats) or "none"
        raise LoadError(f"--chat {name!r} names no chat of the plan; its chats are: {keys}")
    return chat
