"""Room in a team for the plan's channels, counted before any is created (docs/graph-contract.md#capacity-limits).

Teams refuses a channel beyond its team's limits (1,000 channels, General, private ones and those deleted in the last
30 days included; 30 private ones), so a load that only finds out at the refusal stops half-way through a team.
Graph lists a team's live channels but no deleted one; the journal knows the ones `reset --channel` deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrator.capacity import DELETED_CHANNELS_COUNT_DAYS, CapacityLimits
from migrator.graph import GraphClient
from migrator.journal import JournalStore
from migrator.plan import PlannedTeam
from migrator.stages.load.errors import TeamFullError
from migrator.timestamps import format_ms, now_ms

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Room:
    """What counts against one team's channel limits, and what the plan still adds."""

    live: int  # channels Teams lists, General included
    live_private: int
    deleted: list[tuple[str, int]]  # (membership, deleted_ms) deleted in the last 30 days, oldest first
    new: int  # the plan's channels not created yet
    new_private: int

    def problems(self, limits: CapacityLimits) -> list[str]:
        deleted_private = sum(m == "private" for m, _ in self.deleted)
        checks = (
            ("channels", self.live, len(self.deleted), self.new, limits.channels_per_team, "channels_per_team"),
            (
                "private channels",
                self.live_private,
                deleted_private,
                self.new_private,
                limits.private_channels_per_team,
                "private_channels_per_team",
            ),
        )
        return [
            f"it holds {live:,} {what} and {deleted:,} deleted in the last 30 days still count, so the plan's "
            f"{new:,} new {what} would make {live + deleted + new:,}; Teams allows {limit:,} (limit {name})"
            for what, live, deleted, new, limit, name in checks
            if new and live + deleted + new > limit
        ]


def count_room(client: GraphClient, journal: JournalStore, team: PlannedTeam, team_id: str) -> Room:
    """The team's channels in Teams, its deleted ones the journal knows, and the plan's channels still to create."""
    listed = list(client.paginate(f"/teams/{team_id}/channels"))
    since = now_ms() - DELETED_CHANNELS_COUNT_DAYS * DAY_MS
    pending = [
        c for c in team.channels if not c.general and not ((entry := journal.conversation(c.key)) and entry.graph_id)
    ]
    return Room(
        live=len(listed),
        live_private=sum(c.get("membershipType") == "private" for c in listed),
        deleted=journal.deleted_channels(team.key, since),
        new=len(pending),
        new_private=sum(c.membership == "private" for c in pending),
    )


def check_room(
    client: GraphClient, journal: JournalStore, team: PlannedTeam, team_id: str, limits: CapacityLimits
) -> None:
    """Stop before creating any channel of `team` when they would not all fit, saying what counts and what to do. A
    team people already use gets no channel: the plan only imports into channels it has."""
    if team.existing:
        return
    room = count_room(client, journal, team, team_id)
    problems = room.problems(limits)
    if not problems:
        return
    freed = (
        f", or load after {format_ms(room.deleted[0][1] + DELETED_CHANNELS_COUNT_DAYS * DAY_MS)[:16]} UTC, when the "
        "oldest deleted channel stops counting"
        if room.deleted
        else ""
    )
    raise TeamFullError(
        f"team {team.display_name!r} has no room for the plan's channels: {'; '.join(problems)}. No channel of it "
        f"was created by this run. Move channels to another team in migration.yaml and transform again{freed}."
    )
