"""`load --dry-run`: what would be sent and how long it would take, without sending anything.

The import runs at 5 requests/s per channel with channels in parallel on
`workers` threads, and the tenant-wide budget caps the total; the estimate
schedules channels on workers longest-first, as the loader effectively does.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from migrator import limits
from migrator.journal import POSTED, Journal
from migrator.plan import CHAT_TYPES, Manifest, PlannedConversation, PlannedTeam


@dataclass
class ChannelEstimate:
    team: str  # "(chat)" for a chat
    channel: str
    messages: int
    already: int
    uploads: int
    kind: str = "channel"  # channel | private channel | chat
    grants: int = 0  # a chat's files still to share with it (one invite each, after its upload)

    @property
    def requests(self) -> int:
        """Messages and files still to send (and a chat file's grant), plus the files folder and completeMigration."""
        return self.messages - self.already + self.uploads + self.grants + 2


def estimate(
    manifest: Manifest,
    teams: list[PlannedTeam],
    journal: Journal | None,
    workers: int,
    channel_rps: float = limits.CHANNEL_RPS,
    tenant_rps: float = limits.TEAMS_CALLS_PER_10S / 10,
    chats: list[PlannedConversation] | None = None,
) -> tuple[list[ChannelEstimate], float]:
    """Rows per channel of `teams` and per chat of `chats` (default: the manifest's), and the seconds for all."""
    rows = []
    planned = [(team.display_name, channel) for team in teams for channel in team.channels]
    planned += [("(chat)", chat) for chat in (manifest.chats if chats is None else chats)]
    for team_name, conv in planned:
        done = sum(1 for e in journal.messages(conv.key).values() if e.state == POSTED) if journal else 0
        known = journal.uploads(conv.key) if journal else {}
        kind = (
            "chat"
            if conv.membership in CHAT_TYPES
            else "private channel"
            if conv.membership == "private"
            else "channel"
        )
        uploads = sum(1 for u in conv.uploads if u.key not in known)
        rows.append(
            ChannelEstimate(
                team_name, conv.display_name, conv.messages, done, uploads, kind, uploads if kind == "chat" else 0
            )
        )
    finish = [0.0] * max(1, workers)
    heapq.heapify(finish)
    for row in sorted(rows, key=lambda r: r.requests, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + row.requests / channel_rps)
    per_team_overhead = 4 + len(teams) / limits.TEAM_CREATES_PER_S
    seconds = max(max(finish), sum(r.requests for r in rows) / tenant_rps) + per_team_overhead
    return rows, seconds
