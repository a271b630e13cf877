"""`load --dry-run`: what would be sent and how long it would take, without sending anything.

The import runs at 5 requests/s per channel with conversations in parallel,
up to `workers` at once, and the import budget caps the total; the estimate is
the longest of the critical path (migrator.critical, the same the
scheduler orders conversations by), the conversations scheduled longest-first
on `workers`, and the total over the budget, plus the teams' provisioning.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from migrator import limits
from migrator.critical import Chain, critical_path
from migrator.journal import COMPLETED, JournalStore
from migrator.plan import CHAT_TYPES, Manifest, PlannedConversation, PlannedTeam
from migrator.stages.load.delta import Landed, open_private, read_landed


@dataclass
class ChannelEstimate:
    team: str  # "(chat)" for a chat
    channel: str
    messages: int
    already: int
    uploads: int
    kind: str = "channel"  # channel | private channel | chat
    grants: int = 0  # a chat's files still to share with it (one invite each, after its upload)
    completed: bool = False  # an earlier load completed it: nothing is sent unless lines are new, then it reopens
    key: str = ""  # the conversation's plan key

    @property
    def requests(self) -> int:
        """Messages and files still to send (and a chat file's grant), the files folder read when files remain, and
        completeMigration (as critical.planned_requests counts them from scratch); for a conversation an earlier
        pass completed, nothing when every line landed, else also its read and startMigration to reopen it."""
        to_post = self.messages - self.already
        if self.completed and not to_post:
            return 0
        reopen = 2 if self.completed else 0
        return to_post + self.uploads + self.grants + (1 if self.uploads else 0) + 1 + reopen


def estimate(
    plan_dir: Path,
    manifest: Manifest,
    teams: list[PlannedTeam],
    journal: JournalStore | None,
    workers: int,
    channel_rps: float = limits.CHANNEL_RPS,
    tenant_rps: float = limits.TEAMS_CALLS_PER_10S / 10,
    chats: list[PlannedConversation] | None = None,
) -> tuple[list[ChannelEstimate], float, Chain | None]:
    """Rows per channel of `teams` and per chat of `chats` (default: the manifest's), the seconds for all, and the
    chain of conversations that decides them (None when nothing is planned)."""
    chats = manifest.chats if chats is None else chats
    planned = [(team.display_name, channel) for team in teams for channel in team.channels]
    planned += [("(chat)", chat) for chat in chats]
    rows = {
        conv.key: _row(team_name, conv, journal, read_landed(plan_dir, conv, journal).count if journal else 0)
        for team_name, conv in planned
    }
    early = open_private(journal, teams) if journal else frozenset()
    path = critical_path(teams, chats, lambda conv: rows[conv.key].requests, channel_rps, early)
    finish = [0.0] * max(1, workers)
    heapq.heapify(finish)
    for key in sorted(rows, key=path.priority, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + rows[key].requests / channel_rps)
    per_team_overhead = 4 + len(teams) / limits.TEAM_CREATES_PER_S
    total = sum(r.requests for r in rows.values()) / tenant_rps
    return list(rows.values()), max(path.seconds, max(finish), total) + per_team_overhead, path.longest


def remaining_requests(journal: JournalStore, landed: Mapping[str, Landed]) -> Callable[[PlannedConversation], int]:
    """A conversation's requests still to send after earlier runs, for `critical_path`: a resumed load starts the
    conversations with the most left first, not those that were largest when planned. `landed`: each conversation's,
    as load read it."""
    return lambda conv: _row("", conv, journal, landed[conv.key].count).requests


def _row(team_name: str, conv: PlannedConversation, journal: JournalStore | None, done: int) -> ChannelEstimate:
    """`done`: the plan's own lines the journal recorded as landed (load/delta.py)."""
    known = journal.uploads(conv.key) if journal else {}
    entry = journal.conversation(conv.key) if journal else None
    kind = "chat" if conv.membership in CHAT_TYPES else "private channel" if conv.membership == "private" else "channel"
    uploads = sum(1 for u in conv.uploads if u.key not in known)
    grants = uploads if kind == "chat" else 0  # a chat's file is shared with the chat after its upload
    completed = entry is not None and entry.state == COMPLETED
    return ChannelEstimate(
        team_name, conv.display_name, conv.messages, done, uploads, kind, grants, completed, conv.key
    )
