"""What body rendering needs beyond the message itself, and what it reports back.

Mentions become names, so the renderer needs the names people will see;
everything converted rather than carried over is counted per message, so the
report can say how many messages lost a real mention, a reaction, a block…
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(slots=True)
class Context:
    users: Mapping[str, str]  # source user id -> the name shown in Teams
    channels: Mapping[str, str]  # source conversation id -> its name
    features: set[str] = field(default_factory=set)  # conversions used by the current message
    unsupported: Counter[str] = field(default_factory=Counter)  # block / element types with no HTML form, whole run

    def user_name(self, user_id: str, label: str = "") -> str:
        return self.users.get(user_id) or label or user_id

    def channel_name(self, channel_id: str, label: str = "") -> str:
        return self.channels.get(channel_id) or label or channel_id

    def unsupported_item(self, kind: str) -> None:
        """A source structure with no HTML form: counted by type for the report, never silently gone."""
        self.features.add("unsupported_blocks")
        self.unsupported[kind] += 1
