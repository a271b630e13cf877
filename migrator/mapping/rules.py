"""The rules the mapping files must meet before anything is sent to Microsoft Graph.

Two are not negotiable and are therefore checked, not just drafted: private content must never
become readable by someone who could not read it in the source, and no conversation or person may
be left without a decision. Every problem names its file and line.
"""

from __future__ import annotations

from collections.abc import Mapping

from migrator.mapping.audience import chat_fallback_reason, mapped_members
from migrator.mapping.fit import capacity_problems
from migrator.mapping.model import (
    ALLOWED_TARGETS,
    CHAT,
    EXISTING,
    GENERAL,
    OWN_TEAM,
    PRIVATE_CHANNEL,
    USER_ACTIONS,
    Mappings,
    Problem,
    Route,
    Team,
    UserMapping,
    conversation_label,
)
from migrator.mapping.names import MAX_TEAM_NAME, channel_name_problems
from migrator.mapping.resolve import ResolvedMappings
from migrator.model import Conversation, ConversationKind, Source, User
from migrator.sources.products import product
from migrator.words import counted


def check_mappings(
    resolved: ResolvedMappings,
    conversations: list[Conversation],
    rows: list[UserMapping] | None,
    product_name: str,
    workspaces: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Every rule migration.yaml must meet before a migration may start (the member rules of private
    channels need `rows`, users.csv; `product_name` names the source in the messages; `workspaces` names by id
    the workspaces of an export of several, for a channel name two of them use). Reads the resolved routes
    and changes nothing."""
    mappings = resolved.mappings
    where = mappings.path.as_posix()
    problems: list[Problem] = []
    by_id = {c.id: c for c in conversations}
    problems += _check_teams(mappings, where)
    seen: dict[str, int | None] = {}
    targets: dict[tuple[str, str], Route] = {}
    owners: dict[tuple[str, str], Route] = {}
    for route in resolved.routes:
        if not route.source:
            continue
        if route.source in seen:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"conversation {route.source} is listed twice (first on line {seen[route.source]})",
                )
            )
            continue
        seen[route.source] = route.line
        conv = by_id.get(route.source)
        if conv is None:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"unknown source conversation {route.source!r}: the export has no such channel, group or DM",
                )
            )
            continue
        if route.action == EXISTING and route.existing_chat and conv.kind is ConversationKind.PUBLIC:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"public channel {conv.name} goes to an existing chat; a chat is for a DM, group DM or private "
                    "channel whose people are its members: give it an existing_team and existing_channel instead",
                )
            )
        if route.action != "migrate":
            continue
        target_problems = _check_target(mappings, route, conv, rows, where, product_name)
        if target_problems or route.kind == CHAT:
            problems += target_problems
            continue
        assert route.team is not None and route.channel is not None  # _check_target found both
        naming = [
            Problem(where, route.line, f"channel name {route.channel!r} {reason}")
            for reason in channel_name_problems(route.channel)
        ]
        if naming:  # an invalid name is reported once, not again as a clash
            problems += naming
            continue
        key = route.target
        assert key is not None
        first = targets.setdefault(key, route)
        if first.channel != route.channel:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"channel {route.channel!r} differs only in case from {first.channel!r} "
                    f"(line {first.line}); Teams treats them as one name",
                )
            )
            continue
        if first is not route and PRIVATE_CHANNEL in (first.kind, route.kind):
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"{route.source} and {first.source} (line {first.line}) both go to "
                    f"{route.team}/{route.channel}, a private channel; a private channel "
                    f"holds exactly one {product_name} conversation, so give each its own channel",
                )
            )
            continue
        if route.merge:
            continue
        owner = owners.setdefault(key, route)  # the one source a channel may have without `merge: true`
        if owner is not route:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"{route.source} goes into {route.team}/{route.channel}, which "
                    f"{owner.source} (line {owner.line}) already fills"
                    f"{_across_workspaces(conv, by_id[owner.source], workspaces or {})}; add `merge: true` "
                    "to one of them to merge, or choose another channel",
                )
            )
    for conv in conversations:
        if conv.id not in seen:
            problems.append(
                Problem(
                    where,
                    mappings.lines.get("conversations"),
                    f"conversation {conv.id} ({conv.kind.value} {conv.name}) has no entry; "
                    "add one (action: skip to leave it out), or run `migrator map SOURCE --out DIR --update` to "
                    "draft every conversation a newer export added",
                )
            )
    return problems


def _across_workspaces(conv: Conversation, owner: Conversation, workspaces: Mapping[str, str]) -> str:
    """What to add when two conversations filling one channel come from different workspaces of one export (Slack
    Enterprise Grid): the same channel name in two workspaces now landing in one team; "" otherwise."""
    if conv.workspace == owner.workspace or not workspaces:
        return ""

    def of(c: Conversation) -> str:
        return f"#{c.name} of {workspaces.get(c.workspace, c.workspace) if c.workspace else 'the organisation'}"

    same = "the channel name" if conv.name == owner.name else "channels"
    return f" ({of(conv)} and {of(owner)}: {same} of two workspaces landing in one team)"


def _check_teams(mappings: Mappings, where: str) -> list[Problem]:
    problems = []
    names: dict[str, Team] = {}
    for team in mappings.teams.values():
        if len(team.name) > MAX_TEAM_NAME:
            problems.append(
                Problem(where, team.line, f"team {team.key!r}: name is longer than {MAX_TEAM_NAME} characters")
            )
        other = names.get(team.name.casefold())
        if other is not None and team.name:
            problems.append(
                Problem(
                    where,
                    team.line,
                    f"team {team.key!r} has the same name as {other.key!r} (line {other.line}); "
                    "people could not tell them apart",
                )
            )
        names.setdefault(team.name.casefold(), team)
    return problems


def _check_target(
    mappings: Mappings, route: Route, conv: Conversation, rows: list[UserMapping] | None, where: str, product_name: str
) -> list[Problem]:
    """The route's target suits its source's kind and names what that target needs."""
    allowed = ALLOWED_TARGETS[conv.kind]
    if route.kind not in allowed:
        return [
            Problem(
                where,
                route.line,
                f"target {route.kind!r} is not possible for {conv.kind.value} conversation "
                f"{conv.name}; use {' or '.join(allowed)} (or action: archive)",
            )
        ]
    if route.kind == CHAT:
        if route.team is not None or route.channel is not None:
            return [
                Problem(
                    where,
                    route.line,
                    f"{route.source} goes to a chat, which has no team or channel; remove them, "
                    f"or write target: {OWN_TEAM}",
                )
            ]
        return []
    for key, value in (("team", route.team), ("channel", route.channel)):
        if value is None:
            return [Problem(where, route.line, f"conversation {route.source} has no {key!r}")]
    if route.kind == PRIVATE_CHANNEL:
        return _check_private_channel(mappings, route, conv, rows, where, product_name)
    return _check_access(mappings, route, conv, where, product_name)


def _check_private_channel(
    mappings: Mappings, route: Route, conv: Conversation, rows: list[UserMapping] | None, where: str, product_name: str
) -> list[Problem]:
    """A private channel is readable by exactly the source's mapped members, who must all be members of its team."""
    team = mappings.teams.get(route.team or "")
    if team is None:
        return [Problem(where, route.line, f"team {route.team!r} is not defined under teams")]
    if route.channel == GENERAL:
        return [
            Problem(
                where,
                route.line,
                f"{GENERAL} is the team's standard channel, readable by the whole team; give the "
                f"private channel {conv.name} a name of its own (or write target: {OWN_TEAM})",
            )
        ]
    if rows is None:
        return []
    members = mapped_members(conv, rows)
    if not members:
        return [
            Problem(
                where,
                route.line,
                f"no member of private channel {conv.name} has an Entra account in users.csv, so "
                "nobody could read it in Teams; map its members or archive it",
            )
        ]
    if team.members is not None:
        outside = [m.source_id for m in members if m.source_id not in team.members]
        if outside:
            return [
                Problem(
                    where,
                    route.line,
                    f"{', '.join(outside)} could read private channel {conv.name} in {product_name} but "
                    f"{'is' if len(outside) == 1 else 'are'} not in team {team.key!r}, and a "
                    "private channel's members must be members of its team; add them to the "
                    f"team's members, or write target: {OWN_TEAM}",
                )
            ]
    return []


def chat_notes(resolved: ResolvedMappings, rows: list[UserMapping], source: Source) -> list[Problem]:
    """DMs and group DMs mapped to a chat that will be archived instead, with the reason (not problems:
    transform archives them and says why in its report)."""
    where = resolved.path.as_posix()
    notes = []
    for conv in source.conversations():
        route = resolved.route(conv.id)
        if route is None or route.action != "migrate" or route.kind != CHAT:
            continue
        reason = chat_fallback_reason(conv, rows, source.users)
        if reason:
            notes.append(
                Problem(
                    where,
                    route.line,
                    f"note: {conversation_label(conv, source.users)} will be archived, not a chat: {reason}",
                )
            )
    return notes


def _check_access(mappings: Mappings, route: Route, conv: Conversation, where: str, product_name: str) -> list[Problem]:
    """The target team exists and adds no reader the source conversation did not have."""
    problems = []
    assert route.team is not None
    team = mappings.teams.get(route.team)
    if team is None:
        problems.append(Problem(where, route.line, f"team {route.team!r} is not defined under teams"))
    elif conv.kind is not ConversationKind.PUBLIC:
        readers = set(conv.members)
        if team.members is None:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"{conv.kind.value} conversation {conv.name} would be readable by "
                    f"every member of team {team.key!r} (members: all); give it a team "
                    "whose members are only its own members, or archive it",
                )
            )
        else:
            outsiders = sorted(set(team.members) - readers)
            if outsiders:
                problems.append(
                    Problem(
                        where,
                        route.line,
                        f"{conv.kind.value} conversation {conv.name} would become readable "
                        f"by {', '.join(outsiders)} in team {team.key!r}, who could not "
                        f"read it in {product_name}; remove them from the team or archive it",
                    )
                )
    return problems


def check_users(
    mappings: Mappings, rows: list[UserMapping], users: Mapping[str, User], product_name: str
) -> list[Problem]:
    """Every source user has exactly one decision and every decision can be carried out (`product_name` names
    the source in the messages)."""
    where = mappings.users_path.as_posix()
    problems = []
    seen: dict[str, int | None] = {}
    fallback_rows = 0
    for row in rows:
        if row.source_id in seen:
            problems.append(
                Problem(where, row.line, f"user {row.source_id} is listed twice (first on line {seen[row.source_id]})")
            )
            continue
        seen[row.source_id] = row.line
        if row.source_id not in users:
            problems.append(
                Problem(where, row.line, f"unknown {product_name} user {row.source_id!r}: the export has no such user")
            )
        if row.action not in USER_ACTIONS:
            problems.append(Problem(where, row.line, f"action {row.action!r} is not one of {', '.join(USER_ACTIONS)}"))
        elif row.action == "map" and not row.entra_id:
            problems.append(
                Problem(
                    where,
                    row.line,
                    f"user {row.source_id} ({row.source_name}) has action map but no entra_id; "
                    "fill in the Entra object id or use fallback",
                )
            )
        fallback_rows += row.action == "fallback"
    for user_id, user in users.items():
        if user_id not in seen:
            problems.append(Problem(where, None, f"user {user_id} ({user.label}) has no row, so no target; add one"))
    if fallback_rows and not (mappings.fallback and mappings.fallback_id):
        problems.append(
            Problem(
                mappings.path.as_posix(),
                mappings.lines.get("users"),
                f"users.csv sends {counted(fallback_rows, 'user')} to the fallback account, but "
                "users.fallback/fallback_id is not set; "
                "name an Entra account (run `migrator map` with --fallback EMAIL)",
            )
        )
    return problems


def check_against(resolved: ResolvedMappings, rows: list[UserMapping], source: Source) -> list[Problem]:
    """The rules that need the export: conversations, privacy, users, Teams' capacity limits."""
    if not resolved.mappings.lines:
        return []
    name = product(source.kind).name
    conversations = source.conversations()
    return (
        check_mappings(resolved, conversations, rows, name, {w.id: w.name for w in source.workspaces})
        + check_users(resolved.mappings, rows, source.users, name)
        + capacity_problems(resolved, conversations, rows, source.users)
        + _workspace_problems(resolved.mappings, source)
    )


def _workspace_problems(mappings: Mappings, source: Source) -> list[Problem]:
    """`workspaces:` names workspaces of the export, by id or name: another key would silently change nothing."""
    known = {w.id for w in source.workspaces} | {w.name for w in source.workspaces}
    listed = ", ".join(f"{w.name} ({w.id})" for w in source.workspaces) or "none: the export is one workspace"
    return [
        Problem(
            mappings.path.as_posix(),
            mappings.lines.get("workspaces"),
            f"workspaces: {key!r} is not a workspace of the export (its workspaces: {listed})",
        )
        for key in mappings.workspace_forms
        if key not in known
    ]
