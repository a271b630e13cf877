"""`migrator status`: where a migration loaded by workers stands, read from its PostgreSQL journal.

Per unit (migrator.workqueue): the team and conversation, the app that owns it, the worker that holds (or last
held) its lease, messages posted of planned, the rate over the last minute, the time left at that rate, and its
lease: held, or expired while the unit is still open (stuck: its worker died and no other has claimed it yet).
Per team the same summed over its conversations. Times are the PostgreSQL server's, as the leases' are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator.pgjournal import PostgresJournal
from migrator.workqueue import CHAT, DONE, NOW, TEAM, TODO

RATE_WINDOW = 60.0  # seconds of posted messages the rate is measured over


@dataclass(frozen=True)
class UnitStatus:
    unit: str
    kind: str
    team: str  # the team's display name, or "(chats)"
    name: str
    app: str | None
    owner: str | None
    state: str  # todo, done, failed or blocked
    posted: int
    planned: int  # messages; 0 for the team's and finish units
    rate: float  # messages per second over the last RATE_WINDOW
    lease_left: float | None  # seconds the lease still runs; negative: expired that long ago; None: no lease
    claims: int
    note: str | None

    @property
    def stuck(self) -> bool:
        """Open, and its lease expired: its worker is gone and no other has claimed it yet."""
        return self.state == TODO and self.lease_left is not None and self.lease_left < 0

    @property
    def working(self) -> bool:
        return self.state == TODO and self.lease_left is not None and self.lease_left >= 0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate; None when it does not post now."""
        left = self.planned - self.posted
        return 0.0 if left <= 0 else left / self.rate if self.rate > 0 else None

    @property
    def lease(self) -> str:
        if self.state != TODO or self.lease_left is None:
            return ""
        if self.lease_left >= 0:
            return f"held, {self.lease_left:.0f} s left"
        return f"STUCK: expired {-self.lease_left:.0f} s ago"


class _Totals:
    """Messages posted of planned, rate and time left, summed over `units` (a team's, or the whole migration's)."""

    units: list[UnitStatus]

    @property
    def posted(self) -> int:
        return sum(u.posted for u in self.units)

    @property
    def planned(self) -> int:
        return sum(u.planned for u in self.units)

    @property
    def rate(self) -> float:
        return sum(u.rate for u in self.units)

    @property
    def eta(self) -> float | None:
        left = self.planned - self.posted
        return 0.0 if left <= 0 else left / self.rate if self.rate > 0 else None


@dataclass
class TeamStatus(_Totals):
    team: str
    units: list[UnitStatus] = field(default_factory=list)

    @property
    def app(self) -> str | None:
        """The team's app; for the chats, each chat's, listed once each."""
        return ", ".join(sorted({u.app for u in self.units if u.app})) or None

    @property
    def state(self) -> str:
        states = {u.state for u in self.units}
        return DONE if states == {DONE} else "failed" if states & {"failed", "blocked"} else "open"


@dataclass
class MigrationStatus(_Totals):
    where: str
    units: list[UnitStatus]

    @property
    def teams(self) -> list[TeamStatus]:
        teams: dict[str, TeamStatus] = {}
        for unit in self.units:
            teams.setdefault(unit.team, TeamStatus(unit.team)).units.append(unit)
        return list(teams.values())

    def count(self, state: str) -> int:
        return sum(1 for u in self.units if u.state == state)

    @property
    def stuck(self) -> list[UnitStatus]:
        return [u for u in self.units if u.stuck]


def read_status(journal: PostgresJournal) -> MigrationStatus:
    rows = journal.query(
        "WITH landed AS (SELECT conv_key, count(*) AS posted, "
        f"count(*) FILTER (WHERE updated > {NOW} - %s) AS recent FROM messages WHERE state = 'posted' "
        "GROUP BY conv_key) "
        "SELECT w.unit, w.kind, w.team_key, w.name, w.app, w.owner, w.state, coalesce(l.posted, 0), w.planned, "
        f"coalesce(l.recent, 0), w.expires - {NOW}, w.claims, w.note "
        "FROM work w LEFT JOIN landed l ON l.conv_key = w.conv_key "
        "ORDER BY w.team_key NULLS LAST, w.priority DESC, w.unit",
        RATE_WINDOW,
    )
    teams = {team_key: name for _, kind, team_key, name, *_ in rows if kind == "team"}
    units = [
        UnitStatus(
            unit=unit,
            kind=kind,
            team=teams.get(team_key, team_key) if kind != CHAT else "(chats)",
            name=name,
            app=app,
            owner=owner,
            state=state,
            posted=int(posted),
            planned=int(planned) if kind != TEAM else 0,  # the team's unit repeats its channels' sum
            rate=int(recent) / RATE_WINDOW,
            lease_left=None if lease_left is None or owner is None else float(lease_left),
            claims=int(claims),
            note=note,
        )
        for unit, kind, team_key, name, app, owner, state, posted, planned, recent, lease_left, claims, note in rows
    ]
    return MigrationStatus(journal.where, units)
