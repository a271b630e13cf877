"""`load`: put a plan into Teams in the order the import API demands, exactly once.

Order per team: create it in migration mode → create its standard channels →
(per channel, channels and chats in parallel) upload files, post messages,
completeMigration → completeMigration on General, last, then on the team → add members and owners →
its private channels (created with their members, who must be team members
by then, and reopened with startMigration) → their messages and completion.
Chats are created with their members and startMigration alongside the
standard channels. Each team goes through this on its own, while other teams
still post; every conversation posts as soon as it exists, the one with the
longest critical path left first (migrator/critical.py, schedule.py), as many at once
as the import budget holds. In a delta pass (issue 27) a private channel an earlier
pass created, in a team it completed, posts alongside the standard channels
(stages/load/delta.py `open_private`). Every step is recorded in the journal and
resumes where it stopped.

What Graph refuses for good (a team, a channel, a chat, a member, a completion)
is recorded with its request-id on the team or conversation it blocks, and
the run goes on with everything else: the reports say what to fix, and the
next load resumes there.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from migrator.capacity import CapacityLimits
from migrator.critical import CriticalPath, critical_path
from migrator.earlier import read_changes
from migrator.graph import GraphClient
from migrator.journal import COMPLETED, JournalStore
from migrator.limits import CHANNEL_RPS, IMPORT_BUDGET_RPS
from migrator.plan import Manifest, PlannedConversation, PlannedTeam
from migrator.progress import NO_PROGRESS, LoadProgress
from migrator.stages.load.accounts import AccountsError, SoFar, check_accounts
from migrator.stages.load.conversation import ConversationLoader
from migrator.stages.load.delta import Landed, open_private, read_landed
from migrator.stages.load.errors import LoadError, ProvisionError, SelectionError, TeamFullError
from migrator.stages.load.estimate import remaining_requests
from migrator.stages.load.outcome import ConversationOutcome, LoadOutcome, Refusal, attempt
from migrator.stages.load.provision import Provisioner
from migrator.stages.load.room import check_room
from migrator.stages.load.schedule import Scheduler, concurrency

log = logging.getLogger("migrator.load")
TEAM_CREATORS = 16  # teams whose creation is awaited at once (each POST within Graph's 6 a second)
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
    workers: int | None = None  # conversations posting at once, at most; None: as many as the import budget holds
    only: str | None = None  # one team, by plan key or display name
    complete_with_failures: bool = False
    operation_timeout: float = 600.0
    import_budget: float = IMPORT_BUDGET_RPS  # Teams requests/s for the whole load (per app per tenant)
    membership_wait: float = 300.0  # seconds new team members may take to be usable for a private channel
    # Each conversation's pace, as the client's RateLimiter keeps it: Graph's 5/s. The scheduler sizes concurrency
    # and orders conversations by it; only the scale bench lowers it (with the emulator's and the client's).
    conversation_rps: float = CHANNEL_RPS


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
    journal: JournalStore,
    options: LoadOptions,
    progress: LoadProgress = NO_PROGRESS,
) -> LoadOutcome:
    manifest = Manifest.read(plan_dir)
    teams = select_teams(manifest, options.only)
    chats = manifest.chats if options.only is None else []
    result = LoadOutcome(started=time.monotonic(), changes=read_changes(plan_dir))
    planned = _planned(teams, chats)
    # Read once, for the accounts check, the critical path and each conversation's import: a delta's plan files are
    # scanned for their keys once per conversation.
    landed = {conv.key: read_landed(plan_dir, conv, journal) for _, conv in planned}
    check_accounts(client, plan_dir, manifest, teams, chats, SoFar(journal, landed))
    provisioner = Provisioner(client, journal, options.operation_timeout, options.membership_wait)
    for _, conv in planned:
        progress.add(conv.key, conv.display_name, conv.messages)
    loader = ConversationLoader(client, journal, plan_dir, options.complete_with_failures, on_message=progress.advance)
    early = open_private(journal, teams)
    path = critical_path(teams, chats, remaining_requests(journal, landed), options.conversation_rps, early)
    progress.chains(path.follow)
    result.critical_seconds = path.seconds
    with Scheduler(concurrency(options.workers, options.import_budget, options.conversation_rps)) as scheduler:
        run = _Run(provisioner, loader, scheduler, result, path, landed, early)
        run.provision(teams, chats, manifest.capacity)
        scheduler.wait()
    order = {conv.key: index for index, (_, conv) in enumerate(planned)}
    result.conversations.sort(key=lambda outcome: order.get(outcome.key, len(order)))  # reports in plan order
    result.seconds = time.monotonic() - result.started
    return result


def _planned(
    teams: list[PlannedTeam], chats: list[PlannedConversation]
) -> list[tuple[PlannedTeam | None, PlannedConversation]]:
    """Every conversation to load, standard channels and chats before private channels, as the reports list them."""
    standard = [(team, c) for team in teams for c in team.channels if c.membership != "private"]
    private = [(team, c) for team in teams for c in team.channels if c.membership == "private"]
    return [*standard, *[(None, chat) for chat in chats], *private]


class _Run:
    """One load in flight: conversations start as soon as they exist, the longest critical path first, and each
    team completes, gets its members and opens its private channels as soon as its own standard channels are done,
    while other teams still post."""

    def __init__(
        self,
        provisioner: Provisioner,
        loader: ConversationLoader,
        scheduler: Scheduler,
        result: LoadOutcome,
        path: CriticalPath,
        landed: dict[str, Landed],
        early: frozenset[str] = frozenset(),
    ) -> None:
        self.provisioner = provisioner
        self.loader = loader
        self.scheduler = scheduler
        self.result = result
        self.path = path
        self.landed = landed  # each conversation's landed lines, as load read them before it started
        self.early = early  # private channels that post alongside the standard ones (delta.open_private)
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}  # team key → its standard channels not finished yet

    def provision(self, teams: list[PlannedTeam], chats: list[PlannedConversation], limits: CapacityLimits) -> None:
        """Teams first, created concurrently (their async operations polled together, within Graph's limits: see
        Provisioner), each checked to have room for all its channels, private ones too, before the first channel is
        created; then standard channels and chats longest-first, each posting as soon as it exists."""
        team_ids: dict[str, str] = {}
        with ThreadPoolExecutor(max_workers=TEAM_CREATORS, thread_name_prefix="team") as creators:
            answers = list(creators.map(lambda team: attempt(partial(self.provisioner.team, team)), teams))
        for team, team_id in zip(teams, answers, strict=True):
            if isinstance(team_id, Refusal):
                self.result.teams_blocked[team.display_name] = f"not created: {team_id}; fix the cause and load again"
                _not_created(team, team.channels, "its team was not created (see Teams)", self.result)
                continue
            team_ids[team.key] = team_id
        created = [team for team in teams if team.key in team_ids]
        self.provisioner.known_channels(created)
        for team in (t for t in created if not t.existing):  # an existing team is never completed: nothing waits
            check_room(self.provisioner.client, self.provisioner.journal, team, team_ids[team.key], limits)
            self._running[team.key] = sum(1 for c in team.channels if c.membership != "private")
            if not self._running[team.key]:  # a team without standard channels
                self.scheduler.add(math.inf, partial(self._finish_team, team, team_ids[team.key]))
        pending: list[tuple[PlannedTeam | None, PlannedConversation]] = [
            (team, c) for team in created for c in team.channels if c.membership != "private" or c.key in self.early
        ]
        pending += [(None, chat) for chat in chats]
        pending.sort(key=lambda item: self.path.priority(item[1].key), reverse=True)
        for owner, conv in pending:
            if owner is None:
                self._add_chat(conv)
            elif conv.membership == "private":
                self._add_channel(owner, team_ids[owner.key], conv)
            else:
                owner_id = team_ids[owner.key]
                then = None if owner.existing else partial(self._channel_done, owner, owner_id)
                self._add_channel(owner, owner_id, conv, then=then)

    def _add_chat(self, chat: PlannedConversation) -> None:
        outcome = ConversationOutcome.of("(chats)", chat)
        self.result.conversations.append(outcome)
        chat_id = attempt(partial(self.provisioner.chat, chat))
        if isinstance(chat_id, Refusal):
            outcome.refused("not created", chat_id)
            return
        complete = partial(self.provisioner.complete_chat, chat_id)
        post = partial(self.loader.run, f"/chats/{chat_id}", chat, outcome, complete, self.landed[chat.key])
        self.scheduler.add(self.path.priority(chat.key), post)

    def _add_channel(
        self, team: PlannedTeam, team_id: str, channel: PlannedConversation, then: Callable[[], None] | None = None
    ) -> None:
        """The channel's outcome in the result and, once the channel exists, its import (followed by `then`, also
        when the channel could not be created)."""
        outcome = ConversationOutcome.of(team.display_name, channel)
        self.result.conversations.append(outcome)
        channel_id = attempt(partial(self.provisioner.channel, team.key, team_id, channel))
        if isinstance(channel_id, Refusal):
            outcome.refused("not created", channel_id)
            if then is not None:
                then()
            return
        if channel.membership == "private":
            self._channel_members(team, team_id, channel, channel_id, outcome)
        complete = self.provisioner.channel_completion(team.key, team_id, channel, channel_id)
        base = f"/teams/{team_id}/channels/{channel_id}"
        self.scheduler.add(self.path.priority(channel.key), partial(self._post, base, channel, outcome, complete, then))

    def _channel_members(
        self,
        team: PlannedTeam,
        team_id: str,
        channel: PlannedConversation,
        channel_id: str,
        outcome: ConversationOutcome,
    ) -> None:
        """People who joined a private channel in the source since an earlier pass created it; one refused is noted
        on the channel, whose messages are still posted (the next load adds the member)."""
        added = attempt(partial(self.provisioner.channel_members, team.key, team_id, channel, channel_id))
        if isinstance(added, Refusal):
            outcome.refused("members not added", added)
            return
        with self._lock:
            self.result.members_added += added

    def _post(
        self,
        base: str,
        conv: PlannedConversation,
        outcome: ConversationOutcome,
        complete: Callable[[], None] | None,
        then: Callable[[], None] | None,
    ) -> None:
        try:
            self.loader.run(base, conv, outcome, complete, self.landed[conv.key])
        finally:
            if then is not None:
                then()

    def _channel_done(self, team: PlannedTeam, team_id: str) -> None:
        """One standard channel of the team finished (or could not be created): the last one finishes the team."""
        with self._lock:
            self._running[team.key] -= 1
            last = self._running[team.key] == 0
        if last:
            self.scheduler.add(math.inf, partial(self._finish_team, team, team_id))

    def _finish_team(self, team: PlannedTeam, team_id: str) -> None:
        """Complete the team and add its members once, and only once, every standard channel completed; then its
        private channels: their members must already be members of the team, and Graph adds team members only after
        the team's completeMigration. Each is created with its members, then reopened with startMigration
        (backdated) for the import."""
        private = [c for c in team.channels if c.membership == "private" and c.key not in self.early]
        if not self._complete_team(team, team_id):
            _not_created(team, private, "its team is not completed yet (see Teams)", self.result)
            return
        for channel in sorted(private, key=lambda c: self.path.priority(c.key), reverse=True):
            self._add_channel(team, team_id, channel)

    def _complete_team(self, team: PlannedTeam, team_id: str) -> bool:
        """Whether the team completed (members refused are listed, and do not keep it from opening its private
        channels)."""
        result = self.result
        keys = {ch.key for ch in team.channels if ch.membership != "private"}
        outcomes = [c for c in result.conversations if c.key in keys]
        open_channels = [c.name for c in outcomes if not (c.completed or c.ready)]
        if open_channels:
            result.teams_blocked[team.display_name] = (
                "channels still in migration mode because something failed: "
                + ", ".join(open_channels)
                + "; fix the cause and load again (or --complete-with-failures)"
            )
            return False
        refused = attempt(partial(self.provisioner.complete_team, team, team_id))
        for general in (c for c in outcomes if c.ready):  # completed by complete_team, before the team itself
            entry = self.provisioner.journal.conversation(general.key)
            general.completed = entry is not None and entry.state == COMPLETED
        if isinstance(refused, Refusal):
            result.teams_blocked[team.display_name] = f"completeMigration refused: {refused}; load again"
            return False
        added, refusals = self.provisioner.add_members(team, team_id)
        with self._lock:
            result.members_added += added
            result.teams_completed.append(team.display_name)
        if refusals:
            result.teams_blocked[team.display_name] = (
                "members not added: " + "; ".join(refusals) + "; fix the cause and load again"
            )
        return True


def _not_created(team: PlannedTeam, channels: list[PlannedConversation], why: str, result: LoadOutcome) -> None:
    for channel in channels:
        outcome = ConversationOutcome.of(team.display_name, channel)
        outcome.note(f"not created: {why}; load again")
        result.conversations.append(outcome)
