"""What `map --check` asks the tenant about routes into channels and chats people already use (`action: existing`).

The file alone cannot say whether such a target exists or who reads it, so these rules read it through Graph (the
customer's tenant, or the emulator): the team, channel or chat is there (and only one has the name given), the app
holds the permission to reopen it for import, Teams accepts imports into it (not an archived team, not a meeting
chat), and a private channel, DM or group DM lands only where exactly its source audience (its members with an Entra
account) can read it: imported history must not become readable by someone who could not read it at the source.
"""

from __future__ import annotations

from collections.abc import Callable

from migrator.existing import ExistingTargetError, channel_members, find_channel, find_chat, find_team
from migrator.existing_rules import channel_label, chat_label, refusals
from migrator.graph import GraphClient, GraphError
from migrator.mapping.audience import source_audience
from migrator.mapping.existing_keys import names_one_target
from migrator.mapping.model import EXISTING, Problem, Route, UserMapping
from migrator.mapping.resolve import ResolvedMappings
from migrator.model import Conversation, Source
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
    first: dict[str, Route] = {}  # a resolved target's id -> the first route into it
    for route in resolved.routes:
        conv = by_id.get(route.source)
        named = names_one_target(route.existing_team, route.existing_channel, route.existing_chat)
        if route.action != EXISTING or conv is None or not named:  # the file rules' problems: nothing to look up
            continue
        try:
            reasons, target_id = _route_reasons(client, roles, route, conv, rows, made_by)
            reasons += _twice(first.setdefault(target_id, route), route)
        except (ExistingTargetError, GraphError) as error:
            reasons = [str(error)]
        problems += [Problem(where, route.line, f"conversation {route.source}: {reason}") for reason in reasons]
    return problems


def _twice(earlier: Route, route: Route) -> list[str]:
    """A target an earlier route already goes into: several conversations merge into one existing channel only when
    their routes name it alike (transform groups them by what they say); otherwise, and for any chat, each would be
    its own import into it, and the first to finish closes the others' session (completeMigration)."""
    if earlier is route or (route.existing_chat is None and _spelled(earlier) == _spelled(route)):
        return []
    if route.existing_chat is not None:
        return [
            f"existing chat {route.existing_chat} is already conversation {earlier.source}'s target: two imports into "
            "one chat would close each other's session; send only one conversation there"
        ]
    return [
        f"existing channel {route.existing_channel!r} of team {route.existing_team!r} is the one conversation "
        f"{earlier.source} names as {earlier.existing_channel!r} of team {earlier.existing_team!r}: name it the "
        "same way in both routes, so that they merge into one import"
    ]


def _spelled(route: Route) -> tuple[str | None, str]:
    """How transform tells existing channels apart: the team as written, the channel ignoring case."""
    return route.existing_team, str(route.existing_channel).casefold()


def _route_reasons(
    client: GraphClient,
    roles: frozenset[str],
    route: Route,
    conv: Conversation,
    rows: list[UserMapping],
    made_by: str,
) -> tuple[list[str], str]:
    """Why the route's target may not receive the conversation, and the target's id (a chat's, or a team's and
    channel's)."""
    audience = source_audience(conv, rows, made_by)
    if route.existing_chat:
        chat = find_chat(client, route.existing_chat)
        permission = _permission(roles, START_CHAT, chat_label(chat))
        return refusals(chat, [audience]) + permission, str(chat["id"])
    team = find_team(client, str(route.existing_team))
    channel = find_channel(client, team["id"], str(route.existing_channel))
    members = channel_members(client, team["id"], channel["id"]) if audience.restricted else []
    permission = _permission(roles, START_CHANNEL, channel_label(team, channel))
    return refusals(channel, [audience], team, members) + permission, f"{team['id']}/{channel['id']}"


def _permission(roles: frozenset[str], call: tuple[str, str], label: str) -> list[str]:
    """The app may reopen the target for import: its token holds a permission the startMigration call accepts."""
    needed = required(*call)
    if needed & roles:
        return []
    return [
        f"the app may not import into {label}: {call[0]} {call[1]} needs one of {', '.join(sorted(needed))}; add it "
        "to the app registration and have an administrator grant it"
    ]


TenantCheck = Callable[[ResolvedMappings, list[UserMapping], Source], list[Problem]]
