"""Counters a run summary shows: how hard we pushed Graph and how often it pushed back."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class GraphStats:
    """Thread-safe counters; read them through `snapshot()` for a consistent view."""

    requests: int = 0  # HTTP attempts sent, retries included
    retries: int = 0  # attempts repeated after a throttle, server error, lost connection or token refresh
    throttled: int = 0  # 429 answers received
    errors: int = 0  # calls that ended in an exception
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
