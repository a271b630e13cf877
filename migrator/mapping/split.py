"""Splitting a workspace into teams Teams will hold (docs/graph-contract.md#capacity-limits; the rule is in README).

A team holds at most `channels_per_team` channels (its General included) and `private_channels_per_team` private
ones. When the workspace's channels do not fit in one team, the draft spreads them over several, by one rule a
consultant can predict and edit:

1. channels whose names share a prefix (`eng-*`, `sales_*`: the part before the first `-` or `_`) form a team of their
   own, `{workspace} ({prefix})`, when the group is large enough to be worth a team (`min_group`);
2. archived channels go together, into `{workspace} (archived)`;
3. the rest fill `{workspace} (1)`, `{workspace} (2)`, ... most active first (messages in the export), so the
   channels people use most stay together; the source's general channel stays the General of team (1).

A group too large for one team is itself spread over numbered teams (`{workspace} (eng 1)`, ...). A private channel
with more members than a private channel holds, and a group DM with more people than a chat holds, become the
channel of a team of their own (`target: own_team`) before anything is counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from migrator.capacity import CapacityLimits
from migrator.mapping.model import GENERAL, OWN_TEAM, PRIVATE_CHANNEL, Route, Team
from migrator.mapping.names import slug
from migrator.model import Conversation
from migrator.words import counted

PREFIX = re.compile(r"^([^-_]+)[-_].")
Activity = Callable[[Conversation], int]  # messages of a conversation in the export


def min_group(limits: CapacityLimits) -> int:
    """Channels a name prefix needs to become a team of its own: a twentieth of a team (50 of Teams' 1,000), and
    never fewer than two."""
    return max(2, limits.channels_per_team // 20)


def prefix_of(name: str) -> str | None:
    """`eng` for `eng-backend` or `eng_ops`; None for a name without a prefix."""
    match = PREFIX.match(name)
    return match.group(1).casefold() if match else None


@dataclass
class _Bin:
    """One team being filled: its channel routes, private ones counted apart."""

    key: str
    name: str
    rule: str
    routes: list[Route] = field(default_factory=list)

    def private(self) -> int:
        return sum(r.kind == PRIVATE_CHANNEL for r in self.routes)

    def fits(self, route: Route, limits: CapacityLimits) -> bool:
        if len(self.routes) + 1 >= limits.channels_per_team:  # General is one of the team's channels
            return False
        return route.kind != PRIVATE_CHANNEL or self.private() < limits.private_channels_per_team


def fits_one_team(routes: Iterable[Route], limits: CapacityLimits) -> bool:
    """Whether these channel routes (General among them or not) fit a single team."""
    channels = [r for r in routes if r.channel != GENERAL]
    private = sum(r.kind == PRIVATE_CHANNEL for r in channels)
    return len(channels) + 1 <= limits.channels_per_team and private <= limits.private_channels_per_team


def split_team(
    main: Team,
    routes: list[Route],
    by_id: dict[str, Conversation],
    limits: CapacityLimits,
    activity: Activity,
) -> tuple[list[Team], list[Route]]:
    """The teams `main`'s channel `routes` are spread over (by the module's rule) and the routes pointing at them;
    each team carries a note saying which rule filled it."""
    channels = [r for r in routes if r.channel != GENERAL]
    general = [r for r in routes if r.channel == GENERAL]
    groups: dict[str, list[Route]] = {}
    for route in channels:
        prefix = prefix_of(by_id[route.source].name)
        if prefix and not by_id[route.source].archived:
            groups.setdefault(prefix, []).append(route)
    grouped = {p: rs for p, rs in groups.items() if len(rs) >= min_group(limits)}
    in_group = {r.source for rs in grouped.values() for r in rs}
    archived = [r for r in channels if by_id[r.source].archived]
    rest = [r for r in channels if r.source not in in_group and not by_id[r.source].archived]
    rest.sort(key=lambda r: (-activity(by_id[r.source]), by_id[r.source].name))
    bins = _fill(main, "", "the rest, most active first", rest, limits, numbered=True)
    bins[0].routes[:0] = general  # the source's general channel is the General of team (1)
    for prefix, members in sorted(grouped.items()):
        bins += _fill(main, prefix, f"channels named {prefix}-*", members, limits, numbered=False)
    if archived:
        bins += _fill(main, "archived", "archived channels", archived, limits, numbered=False)
    teams = [
        Team(key=b.key, name=b.name, description=main.description, note=f"{b.rule}: {_count(b)}")
        for b in bins
        if b.routes or b is bins[0]
    ]
    moved = [replace(r, team=b.key) for b in bins for r in b.routes]
    return teams, moved


def _count(b: _Bin) -> str:
    channels = sum(r.channel != GENERAL for r in b.routes)
    return f"{counted(channels, 'channel')} ({b.private():,} private) besides General"


def _fill(
    main: Team, group: str, rule: str, routes: list[Route], limits: CapacityLimits, *, numbered: bool
) -> list[_Bin]:
    """Routes poured in order into as many teams as they need: `{workspace} ({group})`, or numbered when there are
    several (or always, for the rest)."""

    def name(n: int, many: bool) -> str:
        if not group:
            return f"{main.name} ({n})"
        return f"{main.name} ({group} {n})" if many else f"{main.name} ({group})"

    bins: list[_Bin] = [_Bin("", "", rule)]
    for route in routes:
        target = next((b for b in bins if b.fits(route, limits)), None)
        if target is None:
            target = _Bin("", "", rule)
            bins.append(target)
        target.routes.append(route)
    many = numbered or len(bins) > 1
    for n, b in enumerate(bins, 1):
        b.name = name(n, many)
        b.key = slug(b.name)
    return bins


def own_team(main: Team, conv: Conversation, route: Route, why: str, taken: set[str]) -> tuple[Team, Route]:
    """A team of the conversation's own members with the conversation as its General channel: how a private channel
    or group DM too large for its kind still reaches exactly its readers. Its key is not in `taken` (which gains it)."""
    name = f"{main.name} ({conv.name or conv.id})"
    key, n = slug(name), 2
    while key in taken:
        key, n = f"{slug(name)}-{n}", n + 1
    taken.add(key)
    team = Team(key=key, name=name, description=main.description, members=conv.members, note=why)
    return team, replace(route, team=key, channel=GENERAL, kind=OWN_TEAM, note=why)
