"""`load`: put a plan into Teams in the order the import API demands, exactly once.

Order per team: create it in migration mode → create its standard channels →
(per channel, channels and chats in parallel) upload files, post messages,
completeMigration → completeMigration on General, last, then on the team → add members and owners →
its private channels (created with their members, who must be team members
by then, and reopened with startMigration) → their messages and completion.
Chats are created with their members and startMigration alongside the
standard channels. Every step is recorded in the journal and resumes where
it stopped.

What Graph refuses for good (a team, a channel, a chat, a member, a completion)
is recorded with its request-id on the team or conversation it blocks, and
the run goes on with everything else: the reports say what to fix, and the
next load resumes there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from migrator.capacity import CapacityLimits
from migrator.graph import GraphClient
from migrator.journal import COMPLETED, Journal
from migrator.plan import Manifest, PlannedConversation, PlannedTeam
from migrator.progress import NO_PROGRESS, LoadProgress
from migrator.stages.load.accounts import AccountsError, check_accounts
from migrator.stages.load.conversation import ConversationLoader
from migrator.stages.load.errors import LoadError, ProvisionError, SelectionError, TeamFullError
from migrator.stages.load.outcome import ConversationOutcome, LoadOutcome, Refusal, attempt
from migrator.stages.load.provision import Provisioner
from migrator.stages.load.room import check_room

log = logging.getLogger("migrator.load")
__all__ = [
    "AccountsError",
    "LoadError",
    "LoadOptions",
    "ProvisionError",
    "SelectionError",
    "TeamFullError",
    "load",
    "select_teams",
]


@dataclass
class LoadOptions:
    workers: int = 8  # channels posted in parallel
    only: str | None = None  # one team, by plan key or display name
    complete_with_failures: bool = False
    operation_timeout: float = 600.0


def select_teams(manifest: Manifest, only: str | None) -> list[PlannedTeam]:
    if only is None:
        return manifest.teams
    chosen = [t for t in manifest.teams if only in (t.key, t.display_name)]
    if not chosen:
        names = ", ".join(t.display_name for t in manifest.teams)
        raise SelectionError(f"--only {only!r} names no team of the plan; its teams are: {names}")
    return chosen


def load(
    plan_dir: Path,
    client: GraphClient,
    journal: Journal,
    options: LoadOptions,
    progress: LoadProgress = NO_PROGRESS,
) -> LoadOutcome:
    manifest = Manifest.read(plan_dir)
    teams = select_teams(manifest, options.only)
    chats = manifest.chats if options.only is None else []
    started = time.monotonic()
    check_accounts(client, plan_dir, manifest, teams, chats)
    provisioner = Provisioner(client, journal, options.operation_timeout)
    result = LoadOutcome()
    for _, conv in _planned(teams, chats):
        progress.add(conv.key, conv.display_name, conv.messages)
    loader = ConversationLoader(client, journal, plan_dir, options.complete_with_failures, on_message=progress.advance)
    team_ids, work = _provision(provisioner, teams, chats, result, manifest.capacity)
    _run(loader, work, options.workers)
    for team in teams:
        if team.key in team_ids:
            _finish_team(provisioner, team, team_ids[team.key], result)
    _run(loader, _provision_private(provisioner, teams, team_ids, result), options.workers)
    result.seconds = time.monotonic() - started
    return result


Work = tuple[str, PlannedConversation, ConversationOutcome, Callable[[], None] | None]


def _planned(
    teams: list[PlannedTeam], chats: list[PlannedConversation]
) -> list[tuple[PlannedTeam | None, PlannedConversation]]:
    return [(team, channel) for team in teams for channel in team.channels] + [(None, chat) for chat in chats]


def _run(loader: ConversationLoader, work: list[Work], workers: int) -> None:
    """Conversations in parallel, each paced on its own."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="conversation") as pool:
        futures = [pool.submit(loader.run, base, conv, outcome, complete) for base, conv, outcome, complete in work]
        for future in futures:
            future.result()


def _provision(
    provisioner: Provisioner,
    teams: list[PlannedTeam],
    chats: list[PlannedConversation],
    result: LoadOutcome,
    limits: CapacityLimits,
) -> tuple[dict[str, str], list[Work]]:
    """Teams, standard channels and chats exist (and are in migration mode) before any message is posted; every
    team is checked to have room for all its channels (private ones too) before the first channel is created.

    Returns each team's id in Teams by plan key, and the conversations to load."""
    team_ids: dict[str, str] = {}
    work: list[Work] = []
    for team in teams:
        team_id = attempt(partial(provisioner.team, team))
        if isinstance(team_id, Refusal):
            result.teams_blocked[team.display_name] = f"not created: {team_id}; fix the cause and load again"
            _not_created(team, team.channels, "its team was not created (see Teams)", result)
            continue
        team_ids[team.key] = team_id
    created = [team for team in teams if team.key in team_ids]
    for team in created:
        check_room(provisioner.client, provisioner.journal, team, team_ids[team.key], limits)
    for team in created:
        team_id = team_ids[team.key]
        for channel in team.channels:
            if channel.membership == "private":
                continue  # after the team's members: see _provision_private
            _add_channel(provisioner, team, team_id, channel, result, work)
    for chat in chats:
        outcome = ConversationOutcome(chat.key, "(chats)", chat.display_name, chat.messages)
        result.conversations.append(outcome)
        chat_id = attempt(partial(provisioner.chat, chat))
        if isinstance(chat_id, Refusal):
            outcome.refused("not created", chat_id)
            continue
        work.append((f"/chats/{chat_id}", chat, outcome, partial(provisioner.complete_chat, chat_id)))
    return team_ids, work


def _not_created(team: PlannedTeam, channels: list[PlannedConversation], why: str, result: LoadOutcome) -> None:
    for channel in channels:
        outcome = ConversationOutcome(channel.key, team.display_name, channel.display_name, channel.messages)
        outcome.note(f"not created: {why}; load again")
        result.conversations.append(outcome)


def _provision_private(
    provisioner: Provisioner, teams: list[PlannedTeam], team_ids: dict[str, str], result: LoadOutcome
) -> list[Work]:
    """Private channels of the teams whose members are in: a private channel's members must already be members
    of its team, and Graph adds team members only after the team's completeMigration. Each is created with its
    members, then reopened with startMigration (backdated) for the import."""
    work: list[Work] = []
    for team in teams:
        private = [c for c in team.channels if c.membership == "private"]
        if not private:
            continue
        if team.display_name not in result.teams_completed:
            if team.key in team_ids:  # a team never created has its channels listed already
                _not_created(team, private, "its team is not completed yet (see Teams)", result)
            continue
        for channel in private:
            _add_channel(provisioner, team, team_ids[team.key], channel, result, work)
    return work


def _add_channel(
    provisioner: Provisioner,
    team: PlannedTeam,
    team_id: str,
    channel: PlannedConversation,
    result: LoadOutcome,
    work: list[Work],
) -> None:
    """The channel's outcome in the result and, once the channel exists, its import in `work`."""
    outcome = ConversationOutcome(channel.key, team.display_name, channel.display_name, channel.messages)
    result.conversations.append(outcome)
    channel_id = attempt(partial(provisioner.channel, team.key, team_id, channel))
    if isinstance(channel_id, Refusal):
        outcome.refused("not created", channel_id)
        return
    # General is completed with its team, after every other channel exists and is completed (complete_team).
    complete = None if channel.general else partial(provisioner.complete_channel, team_id, channel_id)
    work.append((f"/teams/{team_id}/channels/{channel_id}", channel, outcome, complete))


def _finish_team(provisioner: Provisioner, team: PlannedTeam, team_id: str, result: LoadOutcome) -> None:
    """Complete the team and add its members once, and only once, every channel completed."""
    keys = {ch.key for ch in team.channels if ch.membership != "private"}
    outcomes = [c for c in result.conversations if c.key in keys]
    open_channels = [c.name for c in outcomes if not (c.completed or c.ready)]
    if open_channels:
        result.teams_blocked[team.display_name] = (
            "channels still in migration mode because something failed: "
            + ", ".join(open_channels)
            + "; fix the cause and load again (or --complete-with-failures)"
        )
        return
    refused = attempt(partial(provisioner.complete_team, team, team_id))
    for general in (c for c in outcomes if c.ready):  # completed by complete_team, before the team itself
        entry = provisioner.journal.conversation(general.key)
        general.completed = entry is not None and entry.state == COMPLETED
    if isinstance(refused, Refusal):
        result.teams_blocked[team.display_name] = f"completeMigration refused: {refused}; load again"
        return
    added, refusals = provisioner.add_members(team, team_id)
    result.members_added += added
    result.teams_completed.append(team.display_name)
    if refusals:
        result.teams_blocked[team.display_name] = (
            "members not added: " + "; ".join(refusals) + "; fix the cause and load again"
        )
