"""A tenant-wide import rate that adapts to a cap nobody documents (docs/graph-contract.md#throttling).

Each conversation paces itself at 5 requests/s (ratelimit.py), which
explains no 429 by itself; 429s on several conversations within one window,
on at least a tenth of the imports sent in it, mean the tenant as a whole is
over some budget. (Scattered 429s, a few percent of requests, come from
anywhere and say nothing about the rate: cutting on each would starve the
load, as multiplicative decrease under random loss does.) Then the rate all
imports share is cut multiplicatively, to a fraction of what was admitted in
the window (so a first cut lands near the cap, not halfway from the budget),
at most once a window; every second without such 429s raises it additively,
up to the ceiling (the import budget). The loader thus converges on the
tenant's cap instead of hammering it (AIMD, as TCP does).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable


class AdaptiveRate:
    """Admits requests at `rate` per second (starting at `ceiling`), adapting it to 429s as described above."""

    def __init__(
        self,
        ceiling: float,
        *,
        floor: float = 1.0,
        decrease: float = 0.9,
        increase: float = 0.5,  # requests/s added per second without tenant-wide 429s
        window: float = 1.0,
        spread: int = 2,  # conversations answered 429 within a window that make it tenant-wide
        share: float = 0.1,  # of the imports sent in the window, answered 429
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ceiling = ceiling
        self._floor = floor
        self._decrease = decrease
        self._increase = increase
        self._window = window
        self._spread = spread
        self._share = share
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = ceiling
        self._raised_at = clock()  # additive increase counts from here
        self._cut_at = -float("inf")
        self._next = clock()  # when the next request may start
        self._sent: deque[float] = deque()  # start times within the last window
        self._throttled: deque[tuple[float, Hashable]] = deque()

    @property
    def rate(self) -> float:
        with self._lock:
            return self._current(self._clock())

    def acquire(self) -> None:
        """Block until one more request may start at the current rate."""
        with self._lock:
            now = self._clock()
            rate = self._current(now)
            start = max(now, self._next)
            self._next = start + 1.0 / rate
            self._sent.append(start)
        if start > now:
            self._sleep(start - now)

    def throttled(self, key: Hashable) -> None:
        """A 429 on conversation `key`: with others within the window, on a tenth of what was sent, the tenant is over
        its cap."""
        with self._lock:
            now = self._clock()
            self._throttled.append((now, key))
            while self._throttled and self._throttled[0][0] < now - self._window:
                self._throttled.popleft()
            while self._sent and self._sent[0] < now - self._window:
                self._sent.popleft()
            keys = {k for _, k in self._throttled}
            sent, throttled = len(self._sent), len(self._throttled)
            if len(keys) < self._spread or throttled < self._share * sent or now < self._cut_at + self._window:
                return
            admitted = max(0, sent - throttled) / self._window
            self._rate = max(self._floor, min(self._current(now), admitted) * self._decrease)
            self._cut_at = self._raised_at = now
            self._throttled.clear()

    def cut(self, factor: float) -> None:
        """Cut the rate by `factor` (below 1) now, as another worker of the same app did (sharedrate.py)."""
        with self._lock:
            now = self._clock()
            self._rate = max(self._floor, self._current(now) * factor)
            self._cut_at = self._raised_at = now

    def _current(self, now: float) -> float:
        """The rate now: raised by `increase` for every second since the last cut or raise."""
        elapsed = now - self._raised_at
        if elapsed >= 1.0:
            steps = int(elapsed)
            self._rate = min(self.ceiling, self._rate + steps * self._increase)
            self._raised_at += steps
        return self._rate
