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
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from migrator.limits import CHANNEL_RPS, IMPORT_BUDGET_RPS


def concurrency(workers: int | None, import_budget: float = IMPORT_BUDGET_RPS, rps: float = CHANNEL_RPS) -> int:
    """Conversations posting at once: as many as the import budget holds at `rps` each, at most `workers`."""
    allowed = max(1, math.floor(import_budget / rps))
    return allowed if workers is None else max(1, min(workers, allowed))


class Scheduler:
    """Runs jobs longest-priority first on a bounded pool; `wait` returns once every job (and every job they added)
    finished, and raises the first error one of them raised."""

    def __init__(self, workers: int) -> None:
        self._workers = max(1, workers)
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="conversation")
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()  # equal priorities start in the order they were added
        self._running = 0
        self._outstanding = 0
        self._errors: list[BaseException] = []
        self._closed = False  # after an error outside the jobs: what is queued never starts

    def add(self, priority: float, job: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._queue, (-priority, next(self._order), job))
            self._outstanding += 1
            self._start()

    def wait(self) -> None:
        with self._cond:
            while self._outstanding:
                self._cond.wait()
            if self._errors:
                raise self._errors[0]

    def _start(self) -> None:
        while not self._closed and self._running < self._workers and self._queue:
            _, _, job = heapq.heappop(self._queue)
            self._running += 1
            self._pool.submit(self._run, job)

    def _run(self, job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as error:  # re-raised by wait(), as future.result() would
            with self._cond:
                self._errors.append(error)
        finally:
            with self._cond:
                self._running -= 1
                self._outstanding -= 1
                self._start()
                self._cond.notify_all()

    def __enter__(self) -> Scheduler:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
        self._pool.shutdown(wait=True)
