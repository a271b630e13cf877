"""Graph's throttling as sliding one-second (or ten-second) windows, plus the stats that prove pacing.

A request is admitted when every window it belongs to still has room; only
admitted requests fill windows. Independently, every arrival is counted per
channel/chat so `stats` can report the most requests seen in any 1-second
window, the figure a well-paced client keeps at or under the limit.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str
    limit: float
    period: float = 1.0


class SlidingWindows:
    def __init__(self) -> None:
        self._windows: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)

    def admit(self, now: float, scopes: list[tuple[Limit, str]]) -> float:
        """0.0 when admitted (and recorded in every scope), else the seconds until room frees up."""
        wait = 0.0
        for limit, key in scopes:
            window = self._prune(limit, key, now)
            if len(window) >= limit.limit:
                wait = max(wait, window[0] + limit.period - now)
        if wait > 0:
            return wait
        for limit, key in scopes:
            self._windows[(limit.name, key)].append(now)
        return 0.0

    def _prune(self, limit: Limit, key: str, now: float) -> deque[float]:
        window = self._windows[(limit.name, key)]
        while window and window[0] <= now - limit.period:
            window.popleft()
        return window

    def reset(self) -> None:
        self._windows.clear()


class ConversationStats:
    """Per channel/chat: requests, 429s sent, and the peak arrivals in any 1-second window."""

    def __init__(self) -> None:
        self._arrivals: defaultdict[str, deque[float]] = defaultdict(deque)
        self.requests: defaultdict[str, int] = defaultdict(int)
        self.throttled: defaultdict[str, int] = defaultdict(int)
        self.peak: defaultdict[str, int] = defaultdict(int)

    def arrival(self, key: str, now: float) -> None:
        window = self._arrivals[key]
        while window and window[0] <= now - 1.0:
            window.popleft()
        window.append(now)
        self.requests[key] += 1
        self.peak[key] = max(self.peak[key], len(window))

    def reset(self) -> None:
        self._arrivals.clear()
        self.requests.clear()
        self.throttled.clear()
        self.peak.clear()
