"""Whether a mapping fits in Teams: the capacity limits (`migrator.capacity`) a hand-edited migration.yaml may break.

Teams refuses the channel, member or chat over a limit only when load reaches it, hours into a cutover; these rules
find every one before anything is sent, each with the count, the limit and the line to edit. The per-message limits
(files and bytes) are kept by transform, which splits a message instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from migrator.capacity import CapacityLimits
from migrator.mapping.audience import mapped_members, team_readers
from migrator.mapping.model import CHAT, GENERAL, OWN_TEAM, PRIVATE_CHANNEL, Mappings, Problem, Route, UserMapping
from migrator.mapping.resolve import ResolvedMappings
from migrator.model import Conversation, User


@dataclass
class TeamLoad:
    """What one team of the mapping would hold: its channels (General first) and private channels, in file order,
    each with the line that adds it."""

    channels: list[tuple[str, int | None]] = field(default_factory=lambda: [(GENERAL.casefold(), None)])
    private: list[tuple[str, int | None]] = field(default_factory=list)
    sources: list[Conversation] = field(default_factory=list)


def team_loads(resolved: ResolvedMappings, conversations: list[Conversation]) -> dict[str, TeamLoad]:
    """Each team's channels as the routes fill them (a merged channel counts once; General is always there)."""
    by_id = {c.id: c for c in conversations}
    loads: dict[str, TeamLoad] = {}
    for route in resolved.routes:
        if route.target is None or route.source not in by_id:
            continue
        team, channel = route.target
        load = loads.setdefault(team, TeamLoad())
        load.sources.append(by_id[route.source])
        if all(name != channel for name, _ in load.channels):
            load.channels.append((channel, route.line))
            if route.kind == PRIVATE_CHANNEL:
                load.private.append((channel, route.line))
    return loads


def _beyond(what: str, items: list[tuple[str, int | None]], limit: int) -> str:
    """Where the first item over the limit is added, for the message."""
    _, line = items[limit]
    return f"; the {_ordinal(limit + 1)} {what} is on line {line}" if line else ""


def allows(limit_lines: Mapping[str, int], name: str) -> str:
    """Who sets the limit `name` a message quotes: Teams, or the tenant's override in migration.yaml (with its line)."""
    line = limit_lines.get(name)
    return f"defaults.limits (line {line}) allows" if line else "Teams allows"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def capacity_problems(
    resolved: ResolvedMappings,
    conversations: list[Conversation],
    rows: list[UserMapping],
    users: Mapping[str, User],
) -> list[Problem]:
    """Every capacity limit the mapping breaks: per team (channels, private channels, members), per private channel
    (members) and per chat (people)."""
    mappings = resolved.mappings
    limits, where = mappings.limits, mappings.path.as_posix()
    problems: list[Problem] = []
    for key, load in team_loads(resolved, conversations).items():
        team = mappings.teams.get(key)
        if team is None:
            continue  # the rules report an undefined team
        problems += _team_problems(where, team.key, team.line, load, mappings)
        readers, _ = team_readers(team.members, rows, users, load.sources, limits.owners_per_team)
        if len(readers) > limits.members_per_team:
            problems.append(
                Problem(
                    where,
                    team.line,
                    f"team {team.key!r} would have {len(readers):,} members; "
                    f"{allows(mappings.limit_lines, 'members_per_team')} {limits.members_per_team:,} per team (limit "
                    "members_per_team): list fewer `members`, or split its channels into more teams",
                )
            )
    by_id = {c.id: c for c in conversations}
    for route in resolved.routes:
        conv = by_id.get(route.source)
        if conv is not None and route.action == "migrate":
            problems += _conversation_problems(where, route, conv, rows, mappings)
    return problems


def _team_problems(where: str, key: str, line: int | None, load: TeamLoad, mappings: Mappings) -> list[Problem]:
    limits, lines = mappings.limits, mappings.limit_lines
    problems = []
    if len(load.channels) > limits.channels_per_team:
        problems.append(
            Problem(
                where,
                line,
                f"team {key!r} would hold {len(load.channels):,} channels (General included); "
                f"{allows(lines, 'channels_per_team')} {limits.channels_per_team:,}"
                f" per team (limit channels_per_team, channels deleted in the last 30 "
                f"days included){_beyond('channel', load.channels, limits.channels_per_team)}: move channels to "
                "another team (`migrator map` drafts the split the README describes)",
            )
        )
    if len(load.private) > limits.private_channels_per_team:
        problems.append(
            Problem(
                where,
                line,
                f"team {key!r} would hold {len(load.private):,} private channels; "
                f"{allows(lines, 'private_channels_per_team')} {limits.private_channels_per_team:,}"
                f" per team (limit private_channels_per_team)"
                f"{_beyond('private channel', load.private, limits.private_channels_per_team)}: move some to "
                f"another team, or write target: {OWN_TEAM}",
            )
        )
    return problems


def largest_private_channel(limits: CapacityLimits) -> int:
    """The most members a migrated private channel may have: load creates it with all of them in one request."""
    return min(limits.members_per_private_channel, limits.private_channel_members_per_request)


def largest_chat(limits: CapacityLimits) -> int:
    """The most people a migrated group chat may have: load creates it with all of them in one request."""
    return min(limits.people_per_group_chat, limits.chat_members_per_request)


def _conversation_problems(
    where: str, route: Route, conv: Conversation, rows: list[UserMapping], mappings: Mappings
) -> list[Problem]:
    limits, lines = mappings.limits, mappings.limit_lines
    people = len(mapped_members(conv, rows))
    if route.kind == PRIVATE_CHANNEL and people > largest_private_channel(limits):
        message = (
            f"private channel {conv.name} would have {people:,} members; "
            f"{allows(lines, 'members_per_private_channel')} {limits.members_per_private_channel:,}"
            f" per private channel and Graph creates one with at most "
            f"{limits.private_channel_members_per_request:,} (limits members_per_private_channel, "
            f"private_channel_members_per_request): write target: {OWN_TEAM} with a team of its members"
        )
    elif route.kind == CHAT and people > largest_chat(limits):
        message = (
            f"{conv.kind.value} conversation {conv.name or conv.id} would be a chat of {people:,} people; "
            f"{allows(lines, 'people_per_group_chat')} {limits.people_per_group_chat:,}"
            f" in a group chat and {limits.chat_members_per_request:,} "
            f"added at once (limits people_per_group_chat, chat_members_per_request): write target: {OWN_TEAM} "
            "with a team of its members, or archive it"
        )
    else:
        return []
    return [Problem(where, route.line, message)]


def owner_notes(
    resolved: ResolvedMappings, conversations: list[Conversation], rows: list[UserMapping], users: Mapping[str, User]
) -> list[Problem]:
    """Teams whose would-be owners exceed the owner limit: not a problem, since transform keeps the highest roles as
    owners and makes the rest members, but said, with the counts."""
    mappings = resolved.mappings
    limit = mappings.limits.owners_per_team
    notes = []
    for key, load in team_loads(resolved, conversations).items():
        team = mappings.teams.get(key)
        if team is None:
            continue
        readers, demoted = team_readers(team.members, rows, users, load.sources, limit)
        if demoted:
            owners = sum(r.owner for r in readers) + demoted
            notes.append(
                Problem(
                    mappings.path.as_posix(),
                    team.line,
                    f"note: team {key!r} would have {owners:,} owners; "
                    f"{allows(mappings.limit_lines, 'owners_per_team')} {limit:,} (limit owners_per_team): "
                    "workspace owners and admins first, then creators of its channels, own it; the other "
                    f"{demoted:,} {'is a member' if demoted == 1 else 'are members'}",
                )
            )
    return notes
