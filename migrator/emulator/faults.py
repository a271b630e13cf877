"""Fault injection: error statuses, lost responses and latency, drawn per request.

`drop` is the important one: the request is applied and then the connection
is closed without an answer, which is exactly what a crash-safe loader must
survive without posting twice.

Two kinds model what real tenants do to chats (docs/graph-contract.md#observed-behaviour) and hit only the calls
they name: `chat-import-502` answers 502 BadGateway to a chat message import after applying it (msteams-docs
13680), and `stuck-chat` picks chats (the same ones on every call) whose `startMigration` is refused with 400 once
an import session on them completed (msteams-docs 14576). `member-add-error` fails single members of a bulk
`members/add` (the 207 answer `conversationMember: add` documents), so that retrying only those can be tested.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from migrator.errors import InputError

_LATENCY = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
CHAT_IMPORT_502, STUCK_CHAT, MEMBER_ADD_ERROR = "chat-import-502", "stuck-chat", "member-add-error"
TARGETED = (CHAT_IMPORT_502, STUCK_CHAT, MEMBER_ADD_ERROR)


class FaultSpecError(InputError):
    pass


@dataclass
class Faults:
    """Probabilities per outcome (`"500"`, `"503"`, `"429"`, `"drop"`, ...), per targeted kind (`TARGETED`),
    and a fixed latency."""

    rates: dict[str, float] = field(default_factory=dict)
    latency: float = 0.0
    seed: int | None = None
    targeted: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, spec: str, seed: int | None = None) -> Faults:
        """`"500:0.02,503:0.01,429:0.05,drop:0.01,latency:20ms"`; errors name the bad item."""
        rates: dict[str, float] = {}
        targeted: dict[str, float] = {}
        latency = 0.0
        for item in filter(None, (part.strip() for part in (spec or "").split(","))):
            kind, _, value = item.partition(":")
            kind = kind.strip().lower()
            if kind == "latency":
                match = _LATENCY.match(value.strip())
                if not match:
                    raise FaultSpecError(f"fault {item!r}: latency needs a duration like 20ms or 0.1s")
                latency = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
                continue
            if kind not in TARGETED and kind != "drop" and not (kind.isdigit() and 400 <= int(kind) <= 599):
                raise FaultSpecError(
                    f"fault {item!r}: kind must be an HTTP status 400-599, drop, latency, {' or '.join(TARGETED)}"
                )
            try:
                rate = float(value)
            except ValueError:
                raise FaultSpecError(f"fault {item!r}: the rate must be a number between 0 and 1") from None
            if not 0.0 <= rate <= 1.0:
                raise FaultSpecError(f"fault {item!r}: the rate must be between 0 and 1")
            (targeted if kind in TARGETED else rates)[kind] = rate
        if sum(rates.values()) > 1.0:
            raise FaultSpecError(f"fault spec {spec!r}: the rates add up to more than 1")
        return cls(rates=rates, latency=latency, seed=seed, targeted=targeted)

    def draw(self) -> str | None:
        """The fault for this request, if any."""
        if not self.rates:
            return None
        roll = self._rng.random()
        for kind, rate in self.rates.items():
            if roll < rate:
                return kind
            roll -= rate
        return None

    def hits(self, kind: str) -> bool:
        """Whether a targeted kind strikes this call (drawn per call)."""
        rate = self.targeted.get(kind, 0.0)
        return rate > 0 and self._rng.random() < rate

    def stuck_chat(self, chat_id: str) -> bool:
        """Whether this chat is one of the stuck ones: decided by its id, so every call on it agrees."""
        rate = self.targeted.get(STUCK_CHAT, 0.0)
        return rate > 0 and random.Random(f"{self.seed}|{chat_id}").random() < rate

    def spec(self) -> str:
        parts = [f"{kind}:{rate:g}" for kind, rate in (self.rates | self.targeted).items()]
        if self.latency:
            parts.append(f"latency:{self.latency * 1000:g}ms")
        return ",".join(parts)
