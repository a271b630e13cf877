"""@mentions and reactions on imported messages, as Microsoft's newest import article allows them
(docs/graph-contract.md#microsofts-newest-import-article-november-2025-and-what-real-tenants-answer).

The article puts both in scope without an example body, so the emulator holds them to the shape of Graph's own
`chatMessageMention` and `chatMessageReaction` resources and refuses, with 400 naming the field, what a tenant
cannot store: an `<at id>` without its entry or an entry without its tag, a person outside the directory, more
than 250 reactions, an empty reaction, a reaction older than its message. A tenant that refuses them all is the
`refuse_native_elements` reading switch (emulator/reading.py), which the loader's text fallback is tested against.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from migrator.emulator.errors import BadRequest
from migrator.emulator.store import Record
from migrator.limits import MAX_REACTIONS
from migrator.timestamps import format_ms, parse_ms

AT_TAG = re.compile(r"""<at\b[^>]*?\bid=["']([^"']*)["']""", re.IGNORECASE)
Identity = Callable[[str], Record | None]  # a directory user's aadUser identity, or None for a stranger


def refuse_all(body: Mapping[str, Any]) -> None:
    """A tenant that takes neither: 400 naming the first one the request carries."""
    for name in ("mentions", "reactions"):
        if body.get(name):
            raise BadRequest(f"'{name}' cannot be imported into this tenant; send the message without {name}.")


def mentions(items: object, content: str, identity: Identity) -> list[Record]:
    """The request's mentions as Graph stores them: one entry per `<at id>` of the body, each of a directory user."""
    if not isinstance(items, list):
        raise BadRequest("mentions must be a list of chatMessageMention.")
    stored: dict[str, Record] = {}
    for index, item in enumerate(items):
        where = f"mentions[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("id"), int) or isinstance(item.get("id"), bool):
            raise BadRequest(f"{where}: id must be a number matching an <at id> of the body.")
        user = _user((item.get("mentioned") or {}).get("user") if isinstance(item.get("mentioned"), dict) else None)
        known = identity(user) if user else None
        if known is None:
            raise BadRequest(f"{where}: mentioned.user.id {user!r} is not a user of this tenant.")
        key = str(item["id"])
        if key in stored:
            raise BadRequest(f"{where}: mention id {key} is given twice.")
        stored[key] = {
            "id": item["id"],
            "mentionText": str(item.get("mentionText") or ""),
            "mentioned": {"application": None, "device": None, "conversation": None, "tag": None, "user": known},
        }
    tags = set(AT_TAG.findall(content))
    untagged = sorted(set(stored) - tags)
    if untagged:
        raise BadRequest(f"mentions: entries {untagged} have no <at id> in the body.")
    missing = sorted(tags - set(stored))
    if missing:
        raise BadRequest(f"mentions: <at id> {missing} of the body has no mentions entry.")
    return list(stored.values())


def reactions(items: object, created_ms: int, identity: Identity) -> list[Record]:
    """The request's reactions as Graph stores them (chatMessageReaction): at most 250, each with a reaction type,
    a directory user and a time no older than the message's."""
    if not isinstance(items, list):
        raise BadRequest("reactions must be a list of chatMessageReaction.")
    if len(items) > MAX_REACTIONS:
        raise BadRequest(f"reactions: {len(items)} given, a message takes at most {MAX_REACTIONS}.")
    return [_reaction(item, f"reactions[{index}]", created_ms, identity) for index, item in enumerate(items)]


def _reaction(item: object, where: str, created_ms: int, identity: Identity) -> Record:
    if not isinstance(item, dict) or not isinstance(item.get("reactionType"), str) or not item["reactionType"].strip():
        raise BadRequest(f"{where}: reactionType must not be empty.")
    outer = item.get("user")
    user = _user(outer.get("user") if isinstance(outer, dict) else None)
    known = identity(user) if user else None
    if known is None:
        raise BadRequest(f"{where}: user.user.id {user!r} is not a user of this tenant.")
    when = created_ms
    if item.get("createdDateTime") is not None:
        try:
            when = parse_ms(str(item["createdDateTime"]))
        except ValueError:
            raise BadRequest(f"{where}: createdDateTime is not a date and time.") from None
        if when < created_ms:
            raise BadRequest(f"{where}: reactions cannot be older than their message ({format_ms(created_ms)}).")
    return {
        "reactionType": item["reactionType"],
        "displayName": item.get("displayName"),
        "reactionContentUrl": None,
        "createdDateTime": format_ms(when),
        "user": {"application": None, "device": None, "user": dict(known, displayName=None)},
    }


def _user(user: object) -> str | None:
    return str(user["id"]) if isinstance(user, dict) and user.get("id") else None
