"""Who posts each message in Teams, decided by users.csv.

`map` people post as their Entra user; `fallback` people, bots, integrations
and authors the export does not know post as the fallback account, and the
message then starts with "Originally posted by NAME" so nobody's words lose
their author (people of another organisation, Slack Connect guests: "NAME (ORG)",
counted as external); `skip` people's messages are left out and counted. A message
that needs the fallback account when none is configured is skipped too,
and counted apart so the consultant sees why.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from migrator.mapping import Mappings, UserMapping
from migrator.model import EXTERNAL_ORG, Message, User
from migrator.stages.transform.context import Person

SKIPPED_BY_MAPPING = "users.csv says skip"
NO_FALLBACK = "needs the fallback account, which migration.yaml does not name"
# How Slack names a person inside a system message's text: "<@U0500003428|sam> has joined the channel".
_LABELLED = re.compile(r"<@([UW][A-Z0-9]+)\|([^>|]+)>")


@dataclass(frozen=True, slots=True)
class Author:
    sender: dict[str, Any]  # the request's `from`
    posted_by: str | None = None  # the original author's name when the fallback account posts
    sender_json: str = field(init=False, repr=False, compare=False)  # `from` as JSON: every plan line carries it

    def __post_init__(self) -> None:
        user = self.sender["user"]
        object.__setattr__(self, "sender_json", _sender_json(user["id"], user["displayName"]))


class Authors:
    def __init__(
        self,
        mappings: Mappings,
        rows: list[UserMapping],
        users: Mapping[str, User],
        naming: Callable[[], Iterable[Message]] | None = None,
    ) -> None:
        """`naming`: the export's messages that may name people the user list lacks (`Source.naming_messages`),
        read once, the first time someone would otherwise be shown by id."""
        self.users = users
        self._naming = naming
        self.rows = {row.source_id: row for row in rows}
        self.bots = {
            str(u.extra["profile"]["bot_id"]): u.id
            for u in users.values()
            if isinstance(u.extra.get("profile"), dict) and u.extra["profile"].get("bot_id")
        }
        self.fallback = (
            _sender(mappings.fallback_id, mappings.fallback or "Migration account") if mappings.fallback_id else None
        )
        self.names = {user_id: self._name(user_id) for user_id in users}
        # Who posts as themselves, decided once per person rather than once per message; looked up with the
        # message's author, which may be None (no author), hence the key type.
        self.mapped: dict[str | None, Author] = {
            row.source_id: _person(row.entra_id, self.names[row.source_id])
            for row in rows
            if row.action == "map" and row.entra_id and row.source_id in self.names
        }
        self.counts: Counter[str] = Counter({"mapped": 0, "fallback": 0, "skipped": 0, "external": 0})
        self.fallback_names: Counter[str] = Counter()  # original author -> messages the fallback account posted
        self.skipped: Counter[tuple[str, str]] = Counter()  # (author, reason) -> messages left out

    def people(self) -> dict[str, Person]:
        """Source id -> Entra account of everyone users.csv maps: whom a real mention or reaction may name, shown
        with the name their messages are posted under."""
        return {
            source_id: Person(author.sender["user"]["id"], author.sender["user"]["displayName"])
            for source_id, author in self.mapped.items()
            if source_id is not None
        }

    def _name(self, user_id: str) -> str:
        row = self.rows.get(user_id)
        user = self.users.get(user_id)
        return (row.source_name if row else "") or (user.label if user else "") or user_id

    def learn(self, message: Message) -> None:
        """Names of people the user list lacks, from what the export says elsewhere: a message's copy of its
        author's profile, and `<@ID|name>` in a system message. Every later message by or mentioning them shows
        the name instead of the id; an earlier one finds it with `elsewhere`."""
        user_id = message.user
        if user_id and user_id not in self.names:
            name = _profile_name(message)
            if name:
                self.names[user_id] = name
        if message.system and message.text and "|" in message.text:
            for labelled, name in _LABELLED.findall(message.text):
                self.names.setdefault(labelled, name)

    def elsewhere(self, user_id: str) -> str | None:
        """The name of someone nobody has named yet: the first call reads every naming message of the export
        (messages are planned as they stream, so the name may come after this message); later calls only look."""
        naming, self._naming = self._naming, None
        for message in naming() if naming is not None else ():
            self.learn(message)
        return self.names.get(user_id)

    def for_message(self, message: Message) -> Author | None:
        """The author to post as, or None when the message is to be left out (counted)."""
        user_id = message.user or self.bots.get(message.bot_id or "")
        author = self.mapped.get(user_id)
        if author is not None:
            self.counts["mapped"] += 1
            return author
        row = self.rows.get(user_id or "")
        name = self._original_name(message, user_id)
        org = message.extra.get(EXTERNAL_ORG) if message.extra else None
        if org and not (row is not None and row.action == "map" and row.entra_id):
            name = f"{name} ({org})"
            self.counts["external"] += 1
        if row is not None and row.action == "map" and row.entra_id:
            self.counts["mapped"] += 1
            return _person(row.entra_id, self.names.get(row.source_id, name))
        if row is not None and row.action == "skip":
            self._skip(name, SKIPPED_BY_MAPPING)
            return None
        if self.fallback is None:
            self._skip(name, NO_FALLBACK)
            return None
        self.counts["fallback"] += 1
        self.fallback_names[name] += 1
        return Author(self.fallback, posted_by=name)

    def placeholder_author(self, first_reply: Author) -> Author:
        """Who posts a thread's stand-in first message: the fallback account, else the first reply's author."""
        return Author(self.fallback) if self.fallback is not None else Author(first_reply.sender)

    def _skip(self, name: str, reason: str) -> None:
        self.counts["skipped"] += 1
        self.skipped[(name, reason)] += 1

    def _original_name(self, message: Message, user_id: str | None) -> str:
        """The name Slack showed: a bot's username, the export's copy of the profile, or the user list's."""
        if message.username and not message.user:
            return message.username
        if user_id and user_id in self.names:
            return self.names[user_id]
        return (
            _profile_name(message)
            or message.username
            or (user_id and (self.elsewhere(user_id) or user_id))
            or (bot_label(message.bot_id) if message.bot_id else "an unknown author")
        )


def bot_label(bot_id: str) -> str:
    """A bot the export never names (no username, profile or linked app): said to be a bot, with its id to
    look it up by, rather than a bare id that reads like a person's."""
    return f"a bot ({bot_id})"


def _profile_name(message: Message) -> str | None:
    """The name in the export's copy of the author's profile on the message itself (Slack's `user_profile`)."""
    profile = message.extra.get("user_profile") or message.extra.get("bot_profile")
    if isinstance(profile, dict):
        for key in ("real_name", "display_name", "name"):
            if profile.get(key):
                return str(profile[key])
    return None


def _sender(user_id: str, display_name: str) -> dict[str, Any]:
    return {"user": {"id": user_id, "displayName": display_name, "userIdentityType": "aadUser"}}


@lru_cache(maxsize=65_536)
def _person(entra_id: str, display_name: str) -> Author:
    """One Author per person: their messages share it, so nothing is built per message."""
    return Author(_sender(entra_id, display_name))


@lru_cache(maxsize=65_536)
def _sender_json(user_id: str, display_name: str) -> str:
    """The `from` of a plan line as JSON, encoded once per person (plan lines are written as text)."""
    return json.dumps(_sender(user_id, display_name), ensure_ascii=False, separators=(",", ":"))
