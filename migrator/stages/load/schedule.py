"""Which conversation posts next: the one with the longest critical path left (migrator.critical).

Conversations run on at most `workers` threads; each paces itself at 5
requests/s (the client's RateLimiter), so threads are not the unit of pacing,
only a bound. Jobs may be added while others run (a team's private channels
once it completed); they join the queue by their priority, so the last one to
finish is the one that had to.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Callable
from types import TracebackType

from migrator.limits import CHANNEL_RPS, IMPORT_BUDGET_RPS


def concurrency(workers: int | None, import_budget: float = IMPORT_BUDGET_RPS, rps: float = CHANNEL_RPS) -> int:
    """Conversations posting at once: as many as the import budget holds at `rps` each, at most `workers`."""
    allowed = max(1, math.floor(import_budget / rps))
    return allowed if workers is None else max(1, min(workers, allowed))


class Scheduler:
    """Runs jobs longest-priority first on a bounded pool; `wait` returns once every job (and every job they added)
    finished, and raises the first error one of them raised.

    The pool's threads start with it, before anything posts: a thread started later, while dozens of conversations
    already post, waits its turn for the interpreter, and starting 50 so cost a delta pass most of a second between
    its first conversation's start and its last's."""

    def __init__(self, workers: int) -> None:
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # a job was queued, or the pool closed
        self._done = threading.Condition(self._lock)  # a job finished
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()  # equal priorities start in the order they were added
        self._outstanding = 0
        self._errors: list[BaseException] = []
        self._closed = False  # after an error outside the jobs: what is queued never starts
        self._threads = [
            threading.Thread(target=self._serve, name=f"conversation-{n}", daemon=True) for n in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def add(self, priority: float, job: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._queue, (-priority, next(self._order), job))
            self._outstanding += 1
            self._work.notify()

    def wait(self) -> None:
        with self._lock:
            while self._outstanding:
                self._done.wait()
            if self._errors:
                raise self._errors[0]

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._work.wait()
                if self._closed:
                    return
                _, _, job = heapq.heappop(self._queue)
            try:
                job()
            except BaseException as error:  # re-raised by wait(), as future.result() would
                with self._lock:
                    self._errors.append(error)
            finally:
                with self._lock:
                    self._outstanding -= 1
                    self._done.notify_all()

    def __enter__(self) -> Scheduler:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with self._lock:
            self._closed = True
            self._queue.clear()
            self._work.notify_all()
        for thread in self._threads:
            thread.join()
