"""The first draft of the mapping files: the conventional answer for every conversation and person.

A consultant edits the draft; it only has to be a sound starting point that already keeps the
privacy rules, so every conversation that cannot land as drafted is drafted to the archive with
the reason beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path

from migrator.capacity import TEAMS_DEFAULTS, CapacityLimits
from migrator.mapping.audience import chat_fallback_reason, chat_without_two_people, mapped_members
from migrator.mapping.directory import DirectoryLookup
from migrator.mapping.fit import largest_chat, largest_private_channel
from migrator.mapping.model import (
    CHAT,
    DEFAULT_TARGET,
    GENERAL,
    PRIVATE_CHANNEL,
    Mappings,
    Route,
    Team,
    UserMapping,
)
from migrator.mapping.names import safe_channel_name, slug
from migrator.mapping.split import Activity, fits_one_team, own_team, split_team
from migrator.mapping.workspaces import Posts, home, listed_by, posts_in
from migrator.model import Conversation, ConversationKind, Source, User, Workspace
from migrator.sources.products import Product, product


def general_channel(conversations: Iterable[Conversation]) -> Conversation | None:
    """The source's general channel: flagged `is_general` (Slack's #general), or the public channel named general
    (old Slack exports, and sources without the flag)."""
    public = [c for c in conversations if c.kind is ConversationKind.PUBLIC]
    return next((c for c in public if c.is_general), None) or next((c for c in public if c.name == "general"), None)


def draft_source(
    path: Path,
    source: Source,
    reference: str | None,
    rows: list[UserMapping] | None = None,
    *,
    limits: CapacityLimits = TEAMS_DEFAULTS,
) -> Mappings:
    """The draft for an export: one team for its workspace (`draft_mappings`), or for an export of several
    workspaces (Slack Enterprise Grid) one per workspace (`draft_workspaces`)."""
    conversations, made_by, activity = source.conversations(), product(source.kind), messages_in(source)
    if source.workspaces:
        return draft_workspaces(
            path, source, conversations, reference, rows, product=made_by, limits=limits, activity=activity
        )
    return draft_mappings(
        path,
        source.workspace,
        conversations,
        reference,
        rows,
        source.users,
        product=made_by,
        limits=limits,
        activity=activity,
    )


def draft_workspaces(
    path: Path,
    source: Source,
    conversations: list[Conversation],
    reference: str | None,
    rows: list[UserMapping] | None,
    *,
    product: Product,
    limits: CapacityLimits,
    activity: Activity,
    posts: Posts | None = None,
) -> Mappings:
    """One team per workspace of the export, each drafted (and split) as that workspace alone would be, its
    members the workspace's people and the people of the org-level channels drafted into it; each org-level
    channel goes to the workspace that posted most in it (`workspaces.home`, said beside it). DMs and group DMs
    have no team: they are drafted as chats with the first workspace's conversations."""
    spaces, posts = source.workspaces, posts or posts_in(source)
    placed = {c.id: home(posts(c), spaces) for c in conversations if not c.workspace and DEFAULT_TARGET[c.kind] != CHAT}
    teams: dict[str, Team] = {}
    routes: list[Route] = []
    split: list[str] = []
    for n, space in enumerate(spaces):
        own = [
            c
            for c in conversations
            if c.workspace == space.id
            or (c.id in placed and placed[c.id][0] is space)
            or (n == 0 and not c.workspace and c.id not in placed)
        ]
        draft = _own_keys(
            draft_mappings(
                path, space, own, reference, rows, source.users, product=product, limits=limits, activity=activity
            ),
            teams,
        )
        people = _workspace_people(space, own, placed, source.users)
        teams.update((k, t if t.members is not None else replace(t, members=people)) for k, t in draft.teams.items())
        routes += [
            replace(r, note=placed[r.source][1]) if r.source in placed and not r.note else r for r in draft.routes
        ]
        split += draft.split
    order = {c.id: i for i, c in enumerate(conversations)}
    routes.sort(key=lambda r: order[r.source])
    return Mappings(path=path, source=reference, teams=teams, routes=tuple(routes), split=tuple(split))


def _own_keys(draft: Mappings, taken: Mapping[str, Team]) -> Mappings:
    """A workspace's draft with team keys no earlier workspace's draft has (two names may slug alike:
    "Sales" and "sales!"), its routes following."""
    renamed: dict[str, str] = {}
    for key in draft.teams:
        new, n = key, 2
        while new in taken or new in renamed.values():
            new, n = f"{key}-{n}", n + 1
        renamed[key] = new
    if all(k == v for k, v in renamed.items()):
        return draft
    teams = {renamed[k]: replace(t, key=renamed[k]) for k, t in draft.teams.items()}
    routes = tuple(replace(r, team=renamed[r.team]) if r.team in renamed else r for r in draft.routes)
    return replace(draft, teams=teams, routes=routes)


def _workspace_people(
    space: Workspace, own: list[Conversation], placed: Mapping[str, object], users: Mapping[str, User]
) -> tuple[str, ...]:
    """A workspace team's members: the people its users list names, then the members of the org-level channels
    (`placed`) drafted into it, who could read them in Slack from whichever workspace; for a workspace whose list
    names nobody, the members of its own conversations."""
    org = (m for c in own if c.id in placed for m in c.members)
    people = tuple(dict.fromkeys([*listed_by(space, users.values()), *org]))
    return people or tuple(dict.fromkeys(m for c in own for m in c.members))


def draft_mappings(
    path: Path,
    workspace: Workspace,
    conversations: list[Conversation],
    source: str | None,
    rows: list[UserMapping] | None = None,
    users: Mapping[str, User] | None = None,
    *,
    product: Product,
    limits: CapacityLimits = TEAMS_DEFAULTS,
    activity: Activity | None = None,
) -> Mappings:
    """One team for the workspace: public channels as its standard channels, private channels as its
    private channels (readable by exactly their mapped members), DMs and group DMs as Teams chats.

    With `rows` (the drafted users.csv) a conversation that cannot land that way is drafted to the archive
    with the reason beside it: a chat or private channel needs its people to have Entra accounts. Nothing drafted
    breaks Teams' capacity `limits`: a private channel or group DM too large for its kind gets a team of its own,
    and channels one team cannot hold are split over several (see `split`; `activity` counts a conversation's
    messages, asked only when a split is needed).
    """
    main = Team(key=slug(workspace.name), name=workspace.name, description=product.described(workspace.name))
    routes: list[Route] = []
    general = general_channel(conversations)
    taken: set[str] = {GENERAL.casefold()}
    for conv in conversations:
        kind = DEFAULT_TARGET[conv.kind]
        reason = _draft_archive_reason(conv, kind, rows, users or {})
        if reason:
            routes.append(Route(source=conv.id, action="archive", name=conv.name, note=reason))
        elif kind == CHAT:
            routes.append(Route(source=conv.id, name=conv.name, kind=CHAT))
        else:
            channel = GENERAL if conv is general else safe_channel_name(conv.name, taken, product.kind)
            routes.append(Route(source=conv.id, team=main.key, channel=channel, name=conv.name, kind=kind))
    teams, fitted, split = _fit(main, routes, conversations, rows, limits, activity)
    return Mappings(path=path, source=source, teams=teams, routes=tuple(fitted), split=split)


def _fit(
    main: Team,
    routes: list[Route],
    conversations: list[Conversation],
    rows: list[UserMapping] | None,
    limits: CapacityLimits,
    activity: Activity | None,
) -> tuple[dict[str, Team], list[Route], tuple[str, ...]]:
    """The drafted teams and routes within Teams' capacity limits, and the lines saying how the workspace was split
    (none when one team holds it)."""
    by_id = {c.id: c for c in conversations}
    too_large = {r.source: why for r in routes if (why := _too_large(r, by_id[r.source], rows, limits))}
    in_main = [r for r in routes if r.team == main.key and r.action == "migrate" and r.source not in too_large]
    teams, moved = [main], {}
    summary: tuple[str, ...] = ()
    if not fits_one_team(in_main, limits):
        teams, split = split_team(main, in_main, by_id, limits, activity or _no_activity)
        moved = {r.source: r for r in split}
        summary = _split_summary(in_main, teams, limits)
    taken = {t.key for t in teams}
    fitted = []
    for route in routes:
        if route.source in too_large:
            team, route = own_team(main, by_id[route.source], route, too_large[route.source], taken)
            teams.append(team)
        fitted.append(moved.get(route.source, route))
    people = len({r.entra_id for r in rows if r.action == "map" and r.entra_id}) if rows is not None else 0
    if people > limits.members_per_team:
        teams = [_channel_people(t, fitted, by_id, people, limits) if t.members is None else t for t in teams]
    return {t.key: t for t in teams}, fitted, summary


def _channel_people(
    team: Team, routes: list[Route], by_id: dict[str, Conversation], people: int, limits: CapacityLimits
) -> Team:
    """A team for everyone (`members: all`) when everyone is more than a team holds: the people of its channels
    instead, said beside it (`map --check` still reports a team whose channels alone have too many)."""
    members = dict.fromkeys(m for r in routes if r.team == team.key for m in by_id[r.source].members)
    why = (
        f"the people of its channels: the workspace's {people:,} mapped people are more than the "
        f"{limits.members_per_team:,} members Teams allows per team"
    )
    return replace(team, members=tuple(members), note="; ".join(n for n in (team.note, why) if n))


def _split_summary(routes: list[Route], teams: list[Team], limits: CapacityLimits) -> tuple[str, ...]:
    """The draft's comment (and the analyse report's lines) on how the workspace was split."""
    channels = [r for r in routes if r.channel != GENERAL]
    return (
        f"{len(channels):,} channels besides General, {sum(r.kind == PRIVATE_CHANNEL for r in channels):,} of them "
        f"private, do not fit one team (Teams allows {limits.channels_per_team:,} channels per team, General "
        f"included, and {limits.private_channels_per_team:,} private ones), so the draft splits them over "
        f"{len(teams)} teams (the README's rule: name prefixes, then archived channels, then the rest by activity):",
        *(f"  {team.name}: {team.note}" for team in teams),
    )


def _no_activity(_: Conversation) -> int:
    return 0


def messages_in(source: Source) -> Activity:
    """A conversation's activity for the split: its messages in the export (read only when a split needs it)."""
    return lambda conversation: sum(1 for _ in source.messages(conversation))


def _too_large(route: Route, conv: Conversation, rows: list[UserMapping] | None, limits: CapacityLimits) -> str:
    """Why a private channel or group DM cannot be drafted as one (more people than Teams allows), or ''."""
    if route.action != "migrate" or route.kind not in (PRIVATE_CHANNEL, CHAT):
        return ""
    people = len(mapped_members(conv, rows)) if rows is not None else len(set(conv.members))
    most = largest_private_channel(limits) if route.kind == PRIVATE_CHANNEL else largest_chat(limits)
    if people <= most:
        return ""
    if route.kind == PRIVATE_CHANNEL:
        why = f"{people:,} members, and Teams creates a private channel with at most {most:,}"
    else:
        why = f"{people:,} people, and Teams creates a group chat with at most {most:,}"
    return f"{why}: the General channel of a team of exactly its members"


def _draft_archive_reason(
    conv: Conversation, kind: str, rows: list[UserMapping] | None, users: Mapping[str, User]
) -> str | None:
    if rows is None:
        return chat_without_two_people(conv) if kind == CHAT else None
    if kind == CHAT:
        return chat_fallback_reason(conv, rows, users)
    if kind == PRIVATE_CHANNEL and not mapped_members(conv, rows):
        return "no member has an Entra account, so nobody could read it in Teams"
    return None


def draft_users(users: Iterable[User], lookup: DirectoryLookup) -> list[UserMapping]:
    """Match people by email in the directory; bots and everyone unmatched post through the fallback."""
    rows = []
    for user in users:
        found = lookup(user.email) if user.email and not user.is_bot else None
        rows.append(
            UserMapping(
                source_id=user.id,
                source_name=user.real_name or user.label,
                email=user.email or "",
                entra_id=str(found["id"]) if found else "",
                action="map" if found else "fallback",
            )
        )
    return rows
