"""Who may read a conversation in Teams: exactly its members who have an Entra account.

Drafting, the rules and transform all ask this one question, so a private channel or a chat
can never gain a reader the source conversation did not have.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from migrator.mapping.model import UserMapping
from migrator.model import Conversation, User


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
