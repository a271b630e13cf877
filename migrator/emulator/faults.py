"""Fault injection: error statuses, lost responses and latency, drawn per request; and refusals for good.

A refusal may also be written in the fault spec, aimed at a route: `500@POST /teams/*/completeMigration` answers
every such call 500 (one mechanism with the refuse rules below, which it becomes; unlike them it may be a 5xx, a
failure retries meet again and again).

`drop` is the important one: the request is applied and then the connection
is closed without an answer, which is exactly what a crash-safe loader must
survive without posting twice.

Two kinds model what real tenants do to chats (docs/graph-contract.md#observed-behaviour) and hit only the calls
they name: `chat-import-502` answers 502 BadGateway to a chat message import after applying it (msteams-docs
13680), and `stuck-chat` picks chats (the same ones on every call) whose `startMigration` is refused with 400 once
an import session on them completed (msteams-docs 14576). `member-add-error` fails single members of a bulk
`members/add` (the 207 answer `conversationMember: add` documents), so that retrying only those can be tested.

A refusal is the other kind of failure a loader meets: a 4xx that no retry
can mend (a message "in the future", a file Graph will not store, a member it
will not add). It is not drawn at random: a rule picks the requests it refuses
by method, path, body and a hash of the request, so the same request is refused
every time it is sent, until the rule is lifted. A rule for `POST /teams/*/members` also refuses that member
inside a bulk `members/add` (as a failed result of its own), so one rule says "Graph will not add this person".
"""

from __future__ import annotations

import fnmatch
import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from migrator.errors import InputError

_LATENCY = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")
CHAT_IMPORT_502, STUCK_CHAT, MEMBER_ADD_ERROR = "chat-import-502", "stuck-chat", "member-add-error"
TARGETED = (CHAT_IMPORT_502, STUCK_CHAT, MEMBER_ADD_ERROR)
_AIMED = re.compile(r"^(\d{3})@([A-Za-z]+)\s+(/[^\s#]*)(?:#(\d+))?$")
_CODES = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}  # Graph's codes for the statuses


class FaultSpecError(InputError):
    pass


@dataclass(frozen=True)
class Refusal:
    """Requests Graph refuses for good: `POST /_emulator/faults {"refuse": [{...}]}` (graph-contract.md#errors)."""

    path: str  # without the version; `*` stands for one segment: "/teams/*/channels/*/messages", "/_upload/*"
    method: str = "POST"
    body: str = ""  # only requests whose body holds this text (a message's words, a file's name)
    share: float = 1.0  # of the matching requests, chosen by a hash of the request: the same one every time
    status: int = 400
    code: str = "BadRequest"
    message: str = "Refused for good by an emulator refuse rule."
    nth: int = 0  # only the Nth matching call (1 = the first), when set; every one otherwise

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Refusal:
        """One rule; an unknown key, a status outside 400-499 (a refusal no retry mends) or a share outside 0-1
        names the rule."""
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown or not isinstance(raw.get("path"), str):
            raise FaultSpecError(f"refuse rule {dict(raw)!r}: needs path; may have {sorted(cls.__dataclass_fields__)}")
        try:
            rule = cls(**{**raw, "status": int(raw.get("status", 400)), "share": float(raw.get("share", 1.0))})
        except (TypeError, ValueError):
            raise FaultSpecError(f"refuse rule {dict(raw)!r}: status must be a number, share a fraction") from None
        if not 400 <= rule.status <= 499 or not 0.0 <= rule.share <= 1.0:
            raise FaultSpecError(f"refuse rule {dict(raw)!r}: status must be 400-499 and share between 0 and 1")
        return rule

    @classmethod
    def aimed(cls, item: str) -> Refusal:
        """A `--faults` item aimed at a route, `500@POST /teams/*/completeMigration`: every such call answered so;
        with `#N` after the path, only the Nth such call."""
        match = _AIMED.match(item)
        if not match:
            raise FaultSpecError(f"fault {item!r}: a route-aimed fault is STATUS@METHOD PATH, e.g. 500@POST /teams")
        status = int(match.group(1))
        if not 400 <= status <= 599:
            raise FaultSpecError(f"fault {item!r}: the status must be 400-599")
        nth = int(match.group(4) or 0)
        return cls(match.group(3), match.group(2).upper(), status=status, code=_CODES.get(status, "Error"), nth=nth)

    def refuses(self, method: str, path: str, body: bytes) -> bool:
        if method.upper() != self.method.upper() or not _same_segments(path, self.path):
            return False
        if self.body and self.body.encode() not in body:
            return False
        if self.share >= 1.0:
            return True
        digest = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.share


def _same_segments(path: str, pattern: str) -> bool:
    """Each segment of the path matches the pattern's segment at the same place (`*` within one segment)."""
    segments, wanted = path.strip("/").split("/"), pattern.strip("/").split("/")
    return len(segments) == len(wanted) and all(map(fnmatch.fnmatchcase, segments, wanted))


@dataclass
class Faults:
    """Probabilities per outcome (`"500"`, `"503"`, `"429"`, `"drop"`, ...), per targeted kind (`TARGETED`), a
    fixed latency, and refusals."""

    rates: dict[str, float] = field(default_factory=dict)
    latency: float = 0.0
    seed: int | None = None
    targeted: dict[str, float] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._matched: dict[int, int] = {}  # refuse rule (by place) -> calls it matched, for `nth`

    @classmethod
    def parse(cls, spec: str, seed: int | None = None, refuse: list[Mapping[str, Any]] | None = None) -> Faults:
        """`"500:0.02,503:0.01,429:0.05,drop:0.01,latency:20ms"` and refuse rules; errors name the bad item."""
        rates: dict[str, float] = {}
        targeted: dict[str, float] = {}
        latency = 0.0
        aimed: list[Refusal] = []
        for item in filter(None, (part.strip() for part in (spec or "").split(","))):
            if "@" in item:
                aimed.append(Refusal.aimed(item))
                continue
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
        refusals = aimed + [Refusal.parse(rule) for rule in refuse or []]
        return cls(rates=rates, latency=latency, seed=seed, targeted=targeted, refusals=refusals)

    def refusal(self, method: str, path: str, body: bytes) -> Refusal | None:
        """The rule that refuses this request, if any (a rule with `nth` refuses only its Nth matching call)."""
        for place, rule in enumerate(self.refusals):
            if not rule.refuses(method, path, body):
                continue
            self._matched[place] = self._matched.get(place, 0) + 1
            if not rule.nth or self._matched[place] == rule.nth:
                return rule
        return None

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

    def refuse_rules(self) -> list[dict[str, Any]]:
        return [asdict(rule) for rule in self.refusals]
