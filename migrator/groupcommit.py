"""Group commit: rows that many threads write at once, committed together in one transaction.

A loader thread journals each message it posted before it goes on, and with tens of threads per worker the
PostgreSQL journal spent a transaction (its round trip, its commit record and the server's work) on every one.
Here a caller's row waits in a queue; the first caller to find no flush under way becomes the leader, commits
everything queued in one call of `commit`, and wakes the others. Each caller returns only once its own row is
committed, so the journal's promise is unchanged (a row is durable when the call returns), while a busy worker
commits its messages in batches as large as the number of threads that were waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Row = TypeVar("Row")


@dataclass(slots=True)
class _Waiter(Generic[Row]):
    row: Row
    finished: bool = False
    error: BaseException | None = None


class GroupCommit(Generic[Row]):
    """`write(row)` returns once `commit` has committed a batch holding the row (or raises what `commit` raised).

    Only one `commit` runs at a time; a batch holds the rows in the order their callers queued them."""

    def __init__(self, commit: Callable[[Sequence[Row]], None]) -> None:
        self._commit = commit
        self._changed = threading.Condition()
        self._queue: list[_Waiter[Row]] = []
        self._leading = False

    def write(self, row: Row) -> None:
        waiter = _Waiter(row)
        with self._changed:
            self._queue.append(waiter)
            while self._leading and not waiter.finished:
                self._changed.wait()
            if not waiter.finished:
                self._leading = True
                batch, self._queue = self._queue, []
        if not waiter.finished:
            self._lead(batch)
        if waiter.error is not None:
            raise waiter.error

    def _lead(self, batch: list[_Waiter[Row]]) -> None:
        """Commit the batch, then hand the lead on: a caller that queued meanwhile becomes the next leader."""
        error: BaseException | None = None
        try:
            self._commit([waiter.row for waiter in batch])
        except BaseException as failed:  # every caller of the batch gets it, as a Future's result() would
            error = failed
        with self._changed:
            for waiter in batch:
                waiter.finished, waiter.error = True, error
            self._leading = False
            self._changed.notify_all()
