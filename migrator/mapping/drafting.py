"""The first draft of the mapping files: the conventional answer for every conversation and person.

A consultant edits the draft; it only has to be a sound starting point that already keeps the
privacy rules, so every conversation that cannot land as drafted is drafted to the archive with
the reason beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from migrator.mapping.audience import chat_fallback_reason, chat_without_two_people, mapped_members
from migrator.mapping.directory import DirectoryLookup
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
from migrator.model import Conversation, ConversationKind, User, Workspace
from migrator.sources.products import Product


def general_channel(conversations: Iterable[Conversation]) -> Conversation | None:
    """The source's general channel: flagged `is_general` (Slack's #general), or the public channel named general
    (old Slack exports, and sources without the flag)."""
    public = [c for c in conversations if c.kind is ConversationKind.PUBLIC]
    return next((c for c in public if c.is_general), None) or next((c for c in public if c.name == "general"), None)


def draft_mappings(
    path: Path,
    workspace: Workspace,
    conversations: list[Conversation],
    source: str | None,
    rows: list[UserMapping] | None = None,
    users: Mapping[str, User] | None = None,
    *,
    product: Product,
) -> Mappings:
    """One team for the workspace: public channels as its standard channels, private channels as its
    private channels (readable by exactly their mapped members), DMs and group DMs as Teams chats.

    With `rows` (the drafted users.csv) a conversation that cannot land that way is drafted to the archive
    with the reason beside it: a chat or private channel needs its people to have Entra accounts.
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
    return Mappings(path=path, source=source, teams={main.key: main}, routes=tuple(routes))


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
