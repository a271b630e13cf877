"""What body rendering needs beyond the message itself, and what it reports back.

A mention of a person users.csv maps becomes a real Teams mention (`<at>`, numbered per posted part by
`native.py`); any other becomes a name in bold, so the renderer needs the names people will see;
everything converted rather than carried over is counted per message, so the
report can say how many messages lost a real mention, a reaction, a block…
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from migrator.stages.transform.markup import Element, el

# Why a mention stays text, as the transform report counts them (`Context.mentions_as_text`).
UNMAPPED, SPECIAL, GROUP, BY_CHOICE = (
    "people without an Entra account in users.csv",
    "@channel / @here / @everyone",
    "user groups",
    "people mapped, but migration.yaml says mentions: text",
)


def _unnamed(user_id: str) -> str | None:
    return None


class Person(NamedTuple):
    """A source person users.csv maps to an Entra account: who a real mention or reaction names."""

    entra_id: str
    display_name: str


@dataclass(slots=True)
class Context:
    users: Mapping[str, str]  # source user id -> the name shown in Teams
    channels: Mapping[str, str]  # source conversation id -> its name
    features: set[str] = field(default_factory=set)  # conversions used by the current message
    unsupported: Counter[str] = field(default_factory=Counter)  # block / element types with no HTML form, whole run
    people: Mapping[str, Person] = field(default_factory=dict)  # source user id -> their Entra account
    native_mentions: bool = False  # migration.yaml `defaults.mentions: native`
    native_reactions: bool = False  # migration.yaml `defaults.reactions: native`
    mentions_as_text: Counter[str] = field(default_factory=Counter)  # why each mention stayed text, whole run
    elsewhere: Callable[[str], str | None] = _unnamed  # the name of someone `users` lacks (`Authors.elsewhere`)

    def user_name(self, user_id: str, label: str = "") -> str:
        return self.users.get(user_id) or label or self.elsewhere(user_id) or user_id

    def mention(self, user_id: str, label: str = "") -> Element:
        """A person mentioned: a real mention when users.csv maps them (and migration.yaml wants real ones), the
        name in bold otherwise, counted by why."""
        person = self.people.get(user_id)
        if person is not None and self.native_mentions:
            self.features.add("native_mentions")
            return el("at", person.display_name, id=person.entra_id)
        self.features.add("mentions")
        self.mentions_as_text[UNMAPPED if person is None else BY_CHOICE] += 1
        return el("b", self.user_name(user_id, label))

    def special_mention(self, kind: str, text: str) -> Element:
        """@channel, @here, @everyone (`SPECIAL`) or a user group (`GROUP`): bold text, nobody is notified."""
        self.features.add("special_mentions")
        self.mentions_as_text[kind] += 1
        return el("b", text)

    def channel_name(self, channel_id: str, label: str = "") -> str:
        return self.channels.get(channel_id) or label or channel_id

    def unsupported_item(self, kind: str) -> None:
        """A source structure with no HTML form: counted by type for the report, never silently gone."""
        self.features.add("unsupported_blocks")
        self.unsupported[kind] += 1
