"""Client-side pacing so Graph never has to throttle us.

Graph limits imports to 5 requests per second per channel or chat, and the
tenant has an overall budget on top; channels run in parallel, so one global
bucket cannot express the limit. A request counts against its window from
the moment it starts until `period` after it *finishes*: the server may see
it arrive any time in between, so only this rule guarantees the server never
sees more than the limit in any window, whatever the network or thread jitter.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(eq=False)
class _Entry:
    key: Hashable | None
    start: float
    end: float | None = None  # None while in flight: it then counts whatever the clock says

    def counts(self, now: float, period: float) -> bool:
        return self.end is None or now < self.end + period


class RateLimiter:
    """At most `per_key` requests per `period` for each key, and `shared` per `shared_period` overall."""

    def __init__(
        self,
        per_key: float | None = 5.0,
        period: float = 1.0,
        shared: float | None = None,
        shared_period: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._per_key = per_key
        self._period = period
        self._shared = shared
        self._shared_period = shared_period
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._by_key: dict[Hashable, list[_Entry]] = {}
        self._all: list[_Entry] = []
        self._next_sweep = clock()

    @classmethod
    def unlimited(cls) -> RateLimiter:
        return cls(per_key=None, shared=None)

    @property
    def active_keys(self) -> int:
        """Keys that still hold part of their budget (bounded: idle keys are dropped)."""
        with self._cond:
            return len(self._by_key)

    @contextmanager
    def slot(self, key: Hashable | None) -> Iterator[None]:
        """Block until a request for `key` may start; it counts until `period` after the block exits."""
        entry = self._start(key)
        try:
            yield
        finally:
            self._finish(entry)

    def _start(self, key: Hashable | None) -> _Entry:
        while True:
            with self._cond:
                now = self._clock()
                self._prune(key, now)
                wait = self._wait(key, now)
                if wait == 0.0:
                    return self._record(key, now)
                if wait is None:
                    # Only an in-flight request finishing can free budget; _finish notifies.
                    self._cond.wait()
                    continue
            # Sleep outside the lock so other keys keep flowing; a finish cannot shorten this wait.
            self._sleep(wait)

    def _finish(self, entry: _Entry) -> None:
        with self._cond:
            entry.end = self._clock()
            self._cond.notify_all()

    def _wait(self, key: Hashable | None, now: float) -> float | None:
        """0 if a request may start now, else the seconds until it may, or None if unknown yet."""
        waits = [_wait_for(self._all, self._shared, self._shared_period, now)]
        if key is not None:
            waits.append(_wait_for(self._by_key.get(key, []), self._per_key, self._period, now))
        if None in waits:
            return None
        return max(w for w in waits if w is not None)

    def _record(self, key: Hashable | None, now: float) -> _Entry:
        entry = _Entry(key, now)
        if key is not None and self._per_key is not None:
            self._by_key.setdefault(key, []).append(entry)
        if self._shared is not None:
            self._all.append(entry)
        return entry

    def _prune(self, key: Hashable | None, now: float) -> None:
        """Forget entries that no longer count; sweep every key once per period to bound memory."""
        self._all = [e for e in self._all if e.counts(now, self._shared_period)]
        if now >= self._next_sweep:
            keys = list(self._by_key)
            self._next_sweep = now + self._period
        else:
            keys = [key] if key in self._by_key else []
        for k in keys:
            live = [e for e in self._by_key[k] if e.counts(now, self._period)]
            if live:
                self._by_key[k] = live
            else:
                del self._by_key[k]


def _wait_for(entries: list[_Entry], limit: float | None, period: float, now: float) -> float | None:
    """Wait until enough of the (live) `entries` expire for one more request to fit under `limit`."""
    if limit is None:
        return 0.0
    must_expire = len(entries) - math.ceil(limit) + 1
    if must_expire <= 0:
        return 0.0
    expiries = sorted(e.end + period for e in entries if e.end is not None)
    if len(expiries) < must_expire:
        return None
    return max(expiries[must_expire - 1] - now, 0.0)
