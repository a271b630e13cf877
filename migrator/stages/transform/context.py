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
from typing import Any, NamedTuple

from migrator.stages.transform.markup import Element, el

# Why a mention stays text, as the transform report counts them (`Context.mentions_as_text`).
UNMAPPED, SPECIAL, GROUP, BY_CHOICE = (
    "people without an Entra account in users.csv",
    "@channel / @here / @everyone",
    "user groups",
    "people mapped, but migration.yaml says mentions: text",
)


MENTIONS, UNSUPPORTED = "mentions", "unsupported"  # `Context.counted`: which counter


class Footprint(NamedTuple):
    """What rendering one message used (`Context.features`) and counted (`Context.counted`); versions.json keeps one
    per distinct footprint (`migrator.earlier.Versions`), as two lists."""

    features: frozenset[str]
    counted: tuple[tuple[str, str], ...]

    def to_json(self) -> list[Any]:
        return [sorted(self.features), [list(pair) for pair in self.counted]]

    @classmethod
    def from_json(cls, raw: list[Any]) -> Footprint:
        features, counted = raw
        return cls(frozenset(str(feature) for feature in features), tuple((str(c), str(k)) for c, k in counted))


NO_FOOTPRINT = Footprint(frozenset(), ())  # messages with nothing to convert


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
    # What the current message added to `mentions_as_text` and `unsupported`, so that a message planned again from
    # the line an earlier pass landed (`Footprint`) counts in the report as if it had been rendered.
    counted: list[tuple[str, str]] = field(default_factory=list)
    _footprints: dict[tuple[frozenset[str], tuple[tuple[str, str], ...]], Footprint] = field(default_factory=dict)

    def begin(self) -> None:
        """A new message: nothing used or counted yet."""
        self.features.clear()
        self.counted.clear()

    def footprint(self) -> Footprint:
        """What the current message used and counted, as `replay` takes it: one object per distinct footprint, built
        once (a first pass asks this of nearly every message)."""
        if not self.features:
            return NO_FOOTPRINT
        key = (frozenset(self.features), tuple(self.counted))
        found = self._footprints.get(key)
        if found is None:
            found = self._footprints[key] = Footprint(*key)
        return found

    def replay(self, footprint: Footprint) -> None:
        """Count a message that is not rendered again as it was counted when it was (`footprint`)."""
        for counter, kind in footprint.counted:
            (self.mentions_as_text if counter == MENTIONS else self.unsupported)[kind] += 1

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
        self._as_text(UNMAPPED if person is None else BY_CHOICE)
        return el("b", self.user_name(user_id, label))

    def special_mention(self, kind: str, text: str) -> Element:
        """@channel, @here, @everyone (`SPECIAL`) or a user group (`GROUP`): bold text, nobody is notified."""
        self.features.add("special_mentions")
        self._as_text(kind)
        return el("b", text)

    def channel_name(self, channel_id: str, label: str = "") -> str:
        return self.channels.get(channel_id) or label or channel_id

    def unsupported_item(self, kind: str) -> None:
        """A source structure with no HTML form: counted by type for the report, never silently gone."""
        self.features.add("unsupported_blocks")
        self.unsupported[kind] += 1
        self.counted.append((UNSUPPORTED, kind))

    def _as_text(self, why: str) -> None:
        self.mentions_as_text[why] += 1
        self.counted.append((MENTIONS, why))
