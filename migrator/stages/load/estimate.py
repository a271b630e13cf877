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
from migrator.plan import Manifest, PlannedTeam


@dataclass
class ChannelEstimate:
    team: str
    channel: str
    messages: int
    already: int
    uploads: int

    @property
    def requests(self) -> int:
        """Messages and files still to send, plus the files folder and completeMigration."""
        return self.messages - self.already + self.uploads + 2


def estimate(manifest: Manifest, teams: list[PlannedTeam], journal: Journal | None, workers: int,
             channel_rps: float = limits.CHANNEL_RPS, tenant_rps: float = limits.TEAMS_CALLS_PER_10S / 10) -> tuple[list[ChannelEstimate], float]:
    rows = []
    for team in teams:
        for channel in team.channels:
            done = sum(1 for e in journal.messages(channel.key).values() if e.state == POSTED) if journal else 0
            known = journal.uploads(channel.key) if journal else {}
            rows.append(ChannelEstimate(team.display_name, channel.display_name, channel.messages, done,
                                        sum(1 for u in channel.uploads if u.key not in known)))
    finish = [0.0] * max(1, workers)
    heapq.heapify(finish)
    for row in sorted(rows, key=lambda r: r.requests, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + row.requests / channel_rps)
    per_team_overhead = 4 + len(teams) / limits.TEAM_CREATES_PER_S
    seconds = max(max(finish), sum(r.requests for r in rows) / tenant_rps) + per_team_overhead
    return rows, seconds
