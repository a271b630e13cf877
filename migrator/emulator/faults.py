"""Fault injection: error statuses, lost responses and latency, drawn per request.

`drop` is the important one: the request is applied and then the connection
is closed without an answer, which is exactly what a crash-safe loader must
survive without posting twice.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from migrator.errors import InputError

_LATENCY = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


class FaultSpecError(InputError):
    pass


@dataclass
class Faults:
    """Probabilities per outcome (`"500"`, `"503"`, `"429"`, `"drop"`, ...) and a fixed latency."""

    rates: dict[str, float] = field(default_factory=dict)
    latency: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, spec: str, seed: int | None = None) -> Faults:
        """`"500:0.02,503:0.01,429:0.05,drop:0.01,latency:20ms"`; errors name the bad item."""
        rates: dict[str, float] = {}
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
            if kind != "drop" and not (kind.isdigit() and 400 <= int(kind) <= 599):
                raise FaultSpecError(f"fault {item!r}: kind must be an HTTP status 400-599, drop or latency")
            try:
                rate = float(value)
            except ValueError:
                raise FaultSpecError(f"fault {item!r}: the rate must be a number between 0 and 1") from None
            if not 0.0 <= rate <= 1.0:
                raise FaultSpecError(f"fault {item!r}: the rate must be between 0 and 1")
            rates[kind] = rate
        if sum(rates.values()) > 1.0:
            raise FaultSpecError(f"fault spec {spec!r}: the rates add up to more than 1")
        return cls(rates=rates, latency=latency, seed=seed)

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

    def spec(self) -> str:
        parts = [f"{kind}:{rate:g}" for kind, rate in self.rates.items()]
        if self.latency:
            parts.append(f"latency:{self.latency * 1000:g}ms")
        return ",".join(parts)
