"""What `map --check` asks the tenant about routes into channels and chats people already use (`action: existing`).

The file alone cannot say whether such a target exists or who reads it, so these rules read it through Graph (the
customer's tenant, or the emulator): the team, channel or chat is there (and only one has the name given), the app
holds the permission to reopen it for import, Teams accepts imports into it (not an archived team, not a meeting
chat), and a private channel, DM or group DM lands only where exactly its source audience (its members with an Entra
account) can read it: imported history must not become readable by someone who could not read it at the source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from migrator.existing import ExistingTargetError, channel_members, find_channel, find_chat, find_team
from migrator.graph import GraphClient, GraphError
from migrator.mapping.audience import mapped_members
from migrator.mapping.existing import names_one_target
from migrator.mapping.model import EXISTING, Problem, Route, UserMapping
from migrator.mapping.resolve import ResolvedMappings
from migrator.model import Conversation, ConversationKind, Source
from migrator.permissions import required
from migrator.sources.products import product

# What reopening an existing target for import needs (docs/graph-contract.md#newer-import-apis)
START_CHANNEL = ("POST", "/teams/{team}/channels/{channel}/startMigration")
START_CHAT = ("POST", "/chats/{chat}/startMigration")


def has_existing(resolved: ResolvedMappings) -> bool:
    """Whether any route goes into an existing target: only then does `map --check` need Graph."""
    return any(route.action == EXISTING for route in resolved.routes)


def existing_target_problems(
    client: GraphClient, roles: frozenset[str], resolved: ResolvedMappings, rows: list[UserMapping], source: Source
) -> list[Problem]:
    """Every `action: existing` route whose target is missing, closed to the app (`roles`: the token's), or read by
    other people than its source conversation's audience; placed on the route's line."""
    where = resolved.path.as_posix()
    by_id = {c.id: c for c in source.conversations()}
    made_by = product(source.kind).name
    problems = []
    for route in resolved.routes:
        conv = by_id.get(route.source)
        named = names_one_target(route.existing_team, route.existing_channel, route.existing_chat)
        if route.action != EXISTING or conv is None or not named:  # the file rules' problems: nothing to look up
            continue
        try:
            reasons = _route_reasons(client, roles, route, conv, rows, made_by)
        except (ExistingTargetError, GraphError) as error:
            reasons = [str(error)]
        problems += [Problem(where, route.line, f"conversation {route.source}: {reason}") for reason in reasons]
    return problems


def _route_reasons(
    client: GraphClient,
    roles: frozenset[str],
    route: Route,
    conv: Conversation,
    rows: list[UserMapping],
    made_by: str,
) -> list[str]:
    if route.existing_chat:
        chat = find_chat(client, route.existing_chat)
        label = f"existing chat {route.existing_chat}"
        meeting = chat.get("chatType") == "meeting"
        closed = [f"{label} is a meeting chat, and Teams imports into none"] if meeting else []
        readers = chat.get("members", [])
        return closed + _permission(roles, START_CHAT, label) + _audience(conv, readers, rows, label, made_by)
    team = find_team(client, str(route.existing_team))
    channel = find_channel(client, team["id"], str(route.existing_channel))
    label = f"existing channel {channel.get('displayName')!r} of team {team.get('displayName')!r}"
    closed = [f"team {team.get('displayName')!r} is archived (read-only): unarchive it first"]
    closed = closed if team.get("isArchived") else []
    members = channel_members(client, team["id"], channel["id"]) if conv.kind is not ConversationKind.PUBLIC else []
    return closed + _permission(roles, START_CHANNEL, label) + _audience(conv, members, rows, label, made_by)


def _permission(roles: frozenset[str], call: tuple[str, str], label: str) -> list[str]:
    """The app may reopen the target for import: its token holds a permission the startMigration call accepts."""
    needed = required(*call)
    if needed & roles:
        return []
    return [
        f"the app may not import into {label}: {call[0]} {call[1]} needs one of {', '.join(sorted(needed))}; add it "
        "to the app registration and have an administrator grant it"
    ]


def _audience(
    conv: Conversation, members: Iterable[dict[str, Any]], rows: list[UserMapping], label: str, made_by: str
) -> list[str]:
    """A private channel, DM or group DM lands only where exactly its mapped members read it; a public channel's
    history may go anywhere (anyone of the workspace could read it)."""
    if conv.kind is ConversationKind.PUBLIC:
        return []
    audience = {row.entra_id: row.source_name or row.source_id for row in mapped_members(conv, rows)}
    readers = {str(m.get("userId")): str(m.get("displayName") or m.get("userId")) for m in members}
    gained, lost = set(readers) - set(audience), set(audience) - set(readers)
    if not gained and not lost:
        return []
    parts = []
    if gained:
        parts.append(f"{_names(readers, gained)} could read it there but not in {made_by}")
    if lost:
        verb = "is" if len(lost) == 1 else "are"
        parts.append(f"{_names(audience, lost)} could read it in {made_by} but {verb} not a member there")
    return [
        f"{conv.kind.value} conversation {conv.name} would go into {label}, whose members are not exactly its own: "
        f"{'; '.join(parts)}. Imported history must not become readable by people who could not read it; choose a "
        "target with exactly its members, let the migration create one (action: migrate), or archive it"
    ]


def _names(people: dict[str, str], ids: set[str]) -> str:
    return ", ".join(sorted(people[i] for i in ids))


TenantCheck = Callable[[ResolvedMappings, list[UserMapping], Source], list[Problem]]
