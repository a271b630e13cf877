"""One app's import budget shared by every worker of a migration through Redis (`--rate-store redis://…`).

Graph's limits are per app and tenant, whichever process sends: 15,000 Teams requests per 10 s, and the
tenant's undocumented import cap that the adaptive rate (aimd.py) converges on. With several workers, each
process's own pacing would let them send their sum. `SharedRate` is the AdaptiveRate of one worker that, before
each import, also takes a place in the app's windows kept in Redis by the `limits` library's moving window
(the 10 s window of Graph, and the import budget per second, so that no second of it bursts); and when its
adaptive rate cuts on tenant-wide 429s, it publishes the cut, which every other worker of the app applies at
its next import. Each one's additive increase stays its own, as does the per-conversation pacing of 5 requests/s
(only the worker holding a conversation's lease sends to it).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import urlsplit

from migrator.graph.aimd import AdaptiveRate
from migrator.graph.errors import ConfigError
from migrator.limits import TEAMS_CALLS_PER_10S

FOLLOW_EVERY = 1.0  # seconds between two reads of the app's last published cut


class SharedRate(AdaptiveRate):
    def __init__(
        self,
        url: str,
        tenant: str,
        app: str,
        ceiling: float,
        *,
        window: tuple[int, int] = (TEAMS_CALLS_PER_10S, 10),  # requests per seconds, per app and tenant
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        **adaptive: Any,
    ) -> None:
        import redis
        from limits import RateLimitItemPerSecond
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        super().__init__(ceiling, clock=clock, sleep=sleep, **adaptive)
        self._ids = ("migrator", tenant, app)
        self._windows = [RateLimitItemPerSecond(window[0], window[1]), RateLimitItemPerSecond(max(1, int(ceiling)), 1)]
        storage = storage_from_string(url)
        if not storage.check():
            where = urlsplit(url)
            raise ConfigError(f"--rate-store: no Redis answers at {where.hostname}:{where.port or 6379}")
        self._limiter = MovingWindowRateLimiter(storage)
        self._redis = redis.Redis.from_url(url)
        self._cut_key = f"migrator:cut:{tenant}:{app}"
        self._me = uuid.uuid4().hex
        self._wait = sleep
        self._clock_of_follow = clock
        self._followed_at = -float("inf")
        self._follow_lock = threading.Lock()
        self._last_cut = self._published()  # a cut from before this worker started is not news

    def acquire(self) -> None:
        """The local adaptive rate's turn, then a place in each of the app's shared windows."""
        self._follow()
        super().acquire()
        for window in self._windows:
            while not self._limiter.hit(window, *self._ids):
                reset = self._limiter.get_window_stats(window, *self._ids).reset_time
                self._wait(min(max(reset - time.time(), 0.001), window.get_expiry()))

    def throttled(self, key: Hashable) -> None:
        """As AdaptiveRate; a cut it makes is published for the app's other workers."""
        before = self.rate
        super().throttled(key)
        after = self.rate
        if after < before:
            cut = json.dumps({"id": uuid.uuid4().hex, "by": self._me, "factor": after / before})
            self._redis.set(self._cut_key, cut, ex=3600)
            with self._follow_lock:
                self._last_cut = cut

    def _follow(self) -> None:
        """Apply the app's last published cut once, if another worker made it (read at most once a second)."""
        with self._follow_lock:
            now = self._clock_of_follow()
            if now < self._followed_at + FOLLOW_EVERY:
                return
            self._followed_at = now
            published = self._published()
            if published is None or published == self._last_cut:
                return
            self._last_cut = published
        cut = json.loads(published)
        if cut["by"] != self._me:
            self.cut(float(cut["factor"]))

    def _published(self) -> str | None:
        raw = self._redis.get(self._cut_key)
        return raw.decode() if isinstance(raw, bytes) else None
