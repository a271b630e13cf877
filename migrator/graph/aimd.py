"""A tenant-wide import rate that adapts to a cap nobody documents (docs/graph-contract.md#throttling).

Each conversation paces itself at 5 requests/s (ratelimit.py), which
explains no 429 by itself; 429s on several conversations within one window,
on at least a small share of the imports sent in it, mean the tenant as a
whole is over some budget. Then the rate all imports share is cut
multiplicatively, to a fraction of what was admitted in the window (so a cut
lands near the cap, not halfway from the budget), at most once a window; every
second without such 429s raises it additively, up to the ceiling (the import
budget). The loader thus converges on the tenant's cap instead of hammering
it (AIMD, as TCP does), with few 429s: it cuts on the first percent or two.

Scattered 429s (a few percent of requests, from anywhere) say nothing about
the rate, and cutting on each would starve the load, as multiplicative
decrease under random loss does. They are told apart by what a cut does: a
window after a cut, 429s caused by the rate have gone, and noise has not. A
cut that left them undiminished is undone, and from then on a window's share
of 429s must be twice that noise before it cuts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass


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
        share: float = 0.02,  # of the imports sent in the window, answered 429 (before any noise is learnt)
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
        self._next = clock()  # when the next request may start
        self._sent: deque[float] = deque()  # start times within the last window
        self._throttled: deque[tuple[float, Hashable]] = deque()
        self._noise = 0.0  # share of 429s a cut did not remove: not about the rate
        self._cut: _Cut | None = None  # the last cut, until the window after it tells whether it helped

    @property
    def rate(self) -> float:
        with self._lock:
            return self._current(self._clock())

    def acquire(self) -> None:
        """Block until one more request may start at the current rate."""
        with self._lock:
            now = self._clock()
            self._judge_cut(now)
            if self._cut is not None and now >= self._cut.at + self._window:
                self._cut.sent += 1
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
            self._judge_cut(now)
            if self._cut is not None and now >= self._cut.at + self._window:
                self._cut.throttled += 1
            self._throttled.append((now, key))
            while self._throttled and self._throttled[0][0] < now - self._window:
                self._throttled.popleft()
            while self._sent and self._sent[0] < now - self._window:
                self._sent.popleft()
            keys = {k for _, k in self._throttled}
            sent, throttled = len(self._sent), len(self._throttled)
            needed = max(self._share, 2 * self._noise) * sent
            if len(keys) < self._spread or throttled < needed or self._cut is not None:  # one cut judged at a time
                return
            before = self._current(now)
            admitted = max(0, sent - throttled) / self._window
            self._rate = max(self._floor, min(before, admitted) * self._decrease)
            self._cut = _Cut(now, before, throttled / max(1, sent))
            self._raised_at = now
            self._throttled.clear()

    def cut(self, factor: float) -> None:
        """Cut the rate by `factor` (below 1) now, as another worker of the same app did (sharedrate.py)."""
        with self._lock:
            now = self._clock()
            self._rate = max(self._floor, self._current(now) * factor)
            self._raised_at = now

    def _judge_cut(self, now: float) -> None:
        """A window after the last cut took effect: if the share of 429s stayed at half what caused it or more, they
        were noise; the cut is undone and that share is what a window must double before the next one."""
        cut = self._cut
        if cut is None or now < cut.at + 2 * self._window:
            return
        self._cut = None
        after = cut.throttled / max(1, cut.sent)
        if cut.sent and after >= cut.share / 2:
            self._noise = max(self._noise, after)
            self._rate = max(self._rate, cut.rate)

    def _current(self, now: float) -> float:
        """The rate now: raised by `increase` for every second since the last cut or raise."""
        elapsed = now - self._raised_at
        if elapsed >= 1.0:
            steps = int(elapsed)
            self._rate = min(self.ceiling, self._rate + steps * self._increase)
            self._raised_at += steps
        return self._rate


@dataclass
class _Cut:
    at: float
    rate: float  # the rate before the cut, restored if the cut turns out to have been about noise
    share: float  # of the window's imports answered 429 when it cut
    sent: int = 0  # imports started in the window after the cut took effect
    throttled: int = 0  # and 429s in it
