"""`load`: put a plan into Teams in the order the import API demands, exactly once.

Order per team: create it in migration mode → create its channels → (per
channel, channels in parallel) upload files, post messages, completeMigration
→ completeMigration on the team → add members and owners. Every step is
recorded in the journal and resumes where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from migrator.graph import GraphClient
from migrator.journal import Journal
from migrator.plan import Manifest, PlannedConversation, PlannedTeam
from migrator.stages.load.conversation import ConversationLoader
from migrator.stages.load.outcome import ConversationOutcome, LoadOutcome
from migrator.stages.load.progress import LoadProgress
from migrator.stages.load.provision import LoadError, Provisioner

log = logging.getLogger("migrator.load")
__all__ = ["LoadError", "LoadOptions", "load", "select_teams"]


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
        raise LoadError(f"--only {only!r} names no team of the plan; its teams are: {names}")
    return chosen


def load(plan_dir: Path, client: GraphClient, journal: Journal, options: LoadOptions) -> LoadOutcome:
    manifest = Manifest.read(plan_dir)
    teams = select_teams(manifest, options.only)
    started = time.monotonic()
    provisioner = Provisioner(client, journal, options.operation_timeout)
    result = LoadOutcome()
    work = _provision(provisioner, teams, manifest.chats if options.only is None else [], result)
    progress = LoadProgress(sum(conv.messages for _, conv, _, _ in work))
    for _, conv, _, _ in work:
        progress.add(conv.key, conv.display_name, conv.messages)
    loader = ConversationLoader(client, journal, plan_dir, options.complete_with_failures, on_message=progress.advance)
    try:
        with ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="conversation") as pool:
            futures = [pool.submit(loader.run, base, conv, outcome, complete) for base, conv, outcome, complete in work]
            for future in futures:
                future.result()
    finally:
        progress.close()
    for team in teams:
        _finish_team(provisioner, journal, team, result)
    result.seconds = time.monotonic() - started
    return result


Work = tuple[str, PlannedConversation, ConversationOutcome, Callable[[], None]]


def _provision(provisioner: Provisioner, teams: list[PlannedTeam], chats: list[PlannedConversation],
               result: LoadOutcome) -> list[Work]:
    """Teams, channels and chats exist (and are in migration mode) before any message is posted."""
    work: list[Work] = []
    for team in teams:
        team_id = provisioner.team(team)
        for channel in team.channels:
            channel_id = provisioner.channel(team.key, team_id, channel)
            outcome = ConversationOutcome(channel.key, team.display_name, channel.display_name, channel.messages)
            complete = partial(provisioner.complete_channel, team_id, channel_id)
            work.append((f"/teams/{team_id}/channels/{channel_id}", channel, outcome, complete))
            result.conversations.append(outcome)
    for chat in chats:
        chat_id = provisioner.chat(chat)
        outcome = ConversationOutcome(chat.key, "(chats)", chat.display_name, chat.messages)
        work.append((f"/chats/{chat_id}", chat, outcome, partial(provisioner.complete_chat, chat_id)))
        result.conversations.append(outcome)
    return work


def _finish_team(provisioner: Provisioner, journal: Journal, team: PlannedTeam, result: LoadOutcome) -> None:
    """Complete the team and add its members once, and only once, every channel completed."""
    open_channels = [c.display_name for c in result.conversations if c.key in {ch.key for ch in team.channels} and not c.completed]
    if open_channels:
        result.teams_blocked[team.display_name] = (
            "channels still in migration mode because something failed: " + ", ".join(open_channels)
            + "; fix the cause and load again (or --complete-with-failures)"
        )
        return
    team_id = journal.team_id(team.key)
    provisioner.complete_team(team, team_id)
    result.members_added += provisioner.add_members(team, team_id)
    result.teams_completed.append(team.display_name)
