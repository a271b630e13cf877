"""Who may read a conversation in Teams: exactly its members who have an Entra account.

Drafting, the rules and transform all ask this one question, so a private channel or a chat
can never gain a reader the source conversation did not have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from migrator.existing_rules import Audience
from migrator.mapping.model import UserMapping
from migrator.model import Conversation, ConversationKind, User

OWNER_FLAGS = ("is_primary_owner", "is_owner", "is_admin")  # Slack workspace roles that own the team in Teams


class Reader(NamedTuple):
    """One person a team, private channel or chat will have in Teams."""

    entra_id: str
    name: str
    owner: bool


def _posts_as_self(row: UserMapping | None) -> bool:
    return row is not None and row.action == "map" and bool(row.entra_id)


def mapped_members(conversation: Conversation, rows: Iterable[UserMapping]) -> list[UserMapping]:
    """The conversation's members who have an Entra account (users.csv `map`), in its order, one per account:
    exactly the people who may read it in Teams."""
    by_id = {row.source_id: row for row in rows}
    found: dict[str, UserMapping] = {}
    for member in conversation.members:
        row = by_id.get(member)
        if row is not None and _posts_as_self(row):
            found.setdefault(row.entra_id, row)
    return list(found.values())


def source_audience(conversation: Conversation, rows: Iterable[UserMapping], made_by: str) -> Audience:
    """Who could read the conversation in `made_by` (the product that exported it), as an existing target's members
    are compared with: anyone of the workspace for a public channel, else its mapped members."""
    restricted = conversation.kind is not ConversationKind.PUBLIC
    people = {row.entra_id: row.source_name or row.source_id for row in mapped_members(conversation, rows)}
    what = f"{conversation.kind.value} conversation {conversation.name}"
    return Audience(what, made_by, restricted, people if restricted else {})


TWO_PEOPLE = "a Teams chat needs two different people"


def chat_without_two_people(conversation: Conversation) -> str | None:
    """Why a DM with one person (a note to self) cannot become a Teams chat whoever has an account; None otherwise.
    Known from the export alone, so a draft without users.csv (analyse's) archives it as `map` does."""
    return TWO_PEOPLE if len(set(conversation.members)) < 2 else None


def chat_fallback_reason(conversation: Conversation, rows: list[UserMapping], users: Mapping[str, User]) -> str | None:
    """Why this DM or group DM cannot become a Teams chat (it is archived instead), or None when it can:
    a chat has exactly its participants as members, so every one of them needs an Entra account."""
    if alone := chat_without_two_people(conversation):
        return alone
    by_id = {row.source_id: row for row in rows}
    missing = [m for m in dict.fromkeys(conversation.members) if not _posts_as_self(by_id.get(m))]
    if missing:
        names = ", ".join(users[m].label if m in users else m for m in missing)
        return (
            f"{names} {'has' if len(missing) == 1 else 'have'} no Entra account in users.csv, "
            "and a Teams chat needs every participant"
        )
    if len(mapped_members(conversation, rows)) < 2:
        return TWO_PEOPLE  # two source accounts of one person
    return None


def administers(user: User | None) -> int:
    """How highly the person administers the source workspace (the Slack roles, which readers of other sources may
    set too): 3 a primary owner, 2 an owner, 1 an admin, 0 nobody. Who administers owns what they are a member of."""
    if user is None:
        return 0
    return next((len(OWNER_FLAGS) - rank for rank, flag in enumerate(OWNER_FLAGS) if user.extra.get(flag)), 0)


def private_channel_readers(
    conversation: Conversation, rows: list[UserMapping], users: Mapping[str, User]
) -> list[Reader]:
    """Exactly the source channel's mapped members; its owner is its creator when mapped, else its first member
    who administers the workspace, else its first mapped member (never an outsider: map --check refuses a private
    channel without a mapped member)."""
    people = mapped_members(conversation, rows)
    admins = [p for p in people if administers(users.get(p.source_id))]
    owner = next((p for p in people if p.source_id == conversation.creator), None) or next(iter(admins), people[0])
    return [Reader(p.entra_id, p.source_name, p is owner) for p in people]


def team_readers(
    listed: tuple[str, ...] | None,
    rows: list[UserMapping],
    users: Mapping[str, User],
    sources: Iterable[Conversation],
    max_owners: int,
) -> tuple[list[Reader], int]:
    """Everyone the mapping puts in the team who has an Entra account (`listed`: the team's `members`, None for all);
    workspace admins and, in a team with listed members, the creators of its source conversations own it. Teams
    allows `max_owners` owners: the highest workspace roles first, then creators, in users.csv order; the others
    stay members. Returns the readers and how many would-be owners became members."""
    creators = {c.creator for c in sources if c.creator}
    by_id = {row.source_id: row for row in rows}
    wanted = [row.source_id for row in rows] if listed is None else list(listed)
    found: dict[str, tuple[Reader, int]] = {}
    for source_id in wanted:
        row = by_id.get(source_id)
        if row is None or not _posts_as_self(row) or row.entra_id in found:
            continue
        user = users.get(source_id)
        role = administers(user)
        rank = role + 1 if role else int(listed is not None and source_id in creators)  # a creator ranks lowest
        name = row.source_name or (user.label if user else source_id)
        found[row.entra_id] = Reader(row.entra_id, name, bool(rank)), rank
    ranked = sorted((r for r in found.values() if r[1]), key=lambda r: -r[1])  # stable: users.csv order within a rank
    demoted = {reader.entra_id for reader, _ in ranked[max_owners:]}
    readers = [reader._replace(owner=False) if reader.entra_id in demoted else reader for reader, _ in found.values()]
    return readers, len(demoted)
