"""The shell's drawing of a stage's progress (`migrator.progress`): rich bars on a terminal, a plain line every
few seconds otherwise (CI, logs).

Use either as a context manager: leaving it stops the bars or the plain lines.
"""

from __future__ import annotations

import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Self, TextIO

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from migrator.graph.stats import GraphStats
from migrator.limits import CHANNEL_RPS
from migrator.stages.export.outcome import DONE, TargetOutcome
from migrator.words import counted


class _Drawing(ABC):
    """Bars on a terminal, else a thread that writes `line()` every `every` seconds; `close()` stops either.

    Subclasses set what `line()` reads before calling this `__init__`, and add their bars' tasks after it.
    """

    def __init__(self, bars: Progress, every: float, stream: TextIO | None) -> None:
        self.stream = stream or sys.stdout
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._bars: Progress | None = None
        if self.stream.isatty():
            self._bars = bars
            bars.start()
        else:
            threading.Thread(target=self._tick, args=(every,), daemon=True).start()

    @abstractmethod
    def line(self) -> str:
        """The plain progress line."""

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._bars is not None:
            self._bars.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class LoadBars(_Drawing):
    """`load`'s progress: a bar per conversation and one for all, with counts, rates and the time left.

    The time left is the critical path's (migrator.critical): the conversations that must follow one another, each at
    5 requests/s, decide the end, not the total divided by the rate so far (which promised 5 s when 20 s remained).
    A conversation's bar shows its own messages left at that rate; the line for all shows the longest chain left.
    """

    REFRESH = 0.5  # seconds between two computations of the critical path for the bar of all conversations

    def __init__(
        self,
        every: float = 10.0,
        stream: TextIO | None = None,
        pacing: Callable[[], tuple[float, int]] | None = None,
    ) -> None:
        """`pacing` says the tenant-wide import rate now and the 429s so far (migrator.graph.aimd, GraphStats)."""
        bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.1f}/s"),
            TextColumn("{task.fields[left]}"),
            transient=False,
        )
        self.total = 0
        self.done = 0
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskID] = {}
        self._left: dict[str, int] = {}  # messages still to handle per conversation
        self._chains: list[tuple[list[str], list[str]]] = []
        self._pacing = pacing
        self._throttled: deque[tuple[float, int]] = deque()  # (time, 429s so far), the last minute of them
        self._refreshed = 0.0
        super().__init__(bars, every, stream)
        self._overall = bars.add_task("all conversations", total=0, rate=0.0, left="")

    def add(self, key: str, name: str, messages: int) -> None:
        self.total += messages
        self._left[key] = messages
        if self._bars is not None:
            self._tasks[key] = self._bars.add_task(name[:40], total=messages, rate=0.0, left=_seconds_left(messages))
            self._bars.update(self._overall, total=self.total)

    def advance(self, key: str, started: float) -> None:
        with self._lock:
            self.done += 1
            self._left[key] = self._left.get(key, 1) - 1
        if self._bars is not None and key in self._tasks:
            task = self._tasks[key]
            self._bars.advance(task)
            done = self._bars.tasks[task].completed
            left = _seconds_left(self._left.get(key, 0))
            self._bars.update(task, rate=done / max(1e-6, time.monotonic() - started), left=left)
            now = time.monotonic()
            self._bars.update(self._overall, advance=1, rate=self.done / max(1e-6, now - self._started))
            if now - self._refreshed >= self.REFRESH:
                self._refreshed = now
                self._bars.update(self._overall, left=self.time_left())

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        line = f"load: {self.done}/{self.total} messages, {rate:.1f}/s, {self.time_left()}"
        if self._pacing is not None:
            tenant_rate, throttled = self._pacing()
            line += f"; tenant rate {tenant_rate:.0f}/s, {self._last_minute(throttled)} 429s in the last minute"
        return line

    def time_left(self) -> str:
        """The critical path's time left once load has told the chains; before, the messages left at the rate so
        far."""
        if self._chains:
            return f"about {self.critical_left():.0f}s left (critical path)"
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        return f"about {(self.total - self.done) / rate if rate > 0 else 0.0:.0f}s left"

    def chains(self, chains: list[tuple[list[str], list[str]]]) -> None:
        self._chains = chains
        if self._bars is not None:
            self._bars.update(self._overall, left=self.time_left())

    def critical_left(self) -> float:
        """Seconds the longest chain still needs at 5 messages/s per conversation (migrator.critical)."""
        with self._lock:
            left = dict(self._left)

        def longest(keys: list[str]) -> int:
            return max((left.get(key, 0) for key in keys), default=0)

        return max((longest(first) + longest(then) for first, then in self._chains), default=0) / CHANNEL_RPS

    def _last_minute(self, throttled: int) -> int:
        now = time.monotonic()
        self._throttled.append((now, throttled))
        while self._throttled[0][0] < now - 60:
            self._throttled.popleft()
        return throttled - self._throttled[0][1]


def _seconds_left(messages: int) -> str:
    """A conversation's own time left: its messages at 5 requests/s (its chain's followers are not its own)."""
    return f"{messages / CHANNEL_RPS:.0f}s left"


class ExportBars(_Drawing):
    """`export`'s progress. How many messages a target holds is unknown until its last page, so the bars count
    messages and pages rather than a percentage; the overall line shows the request rate against the tenant budget.
    """

    def __init__(self, targets: int, stats: GraphStats, every: float = 10.0, stream: TextIO | None = None) -> None:
        self.targets = targets
        self.stats = stats
        self._lock = threading.RLock()  # line() runs inside finished()
        self._requests_before = stats.snapshot()["requests"]
        self._running: dict[str, TargetOutcome] = {}
        self._finished: list[TargetOutcome] = []
        self._tasks: dict[str, TaskID] = {}
        bars = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True)
        super().__init__(bars, every, stream)
        self._overall = bars.add_task(self.line())

    def started(self, target: TargetOutcome) -> None:
        with self._lock:
            self._running[target.target.key] = target
            if self._bars is not None:
                self._tasks[target.target.key] = self._bars.add_task(_describe(target))

    def page(self, target: TargetOutcome) -> None:
        if self._bars is not None:
            self._bars.update(self._tasks[target.target.key], description=_describe(target))
            self._bars.update(self._overall, description=self.line())

    def finished(self, target: TargetOutcome) -> None:
        with self._lock:
            self._running.pop(target.target.key, None)
            self._finished.append(target)
            if self._bars is not None:
                self._bars.remove_task(self._tasks.pop(target.target.key))
                self._bars.update(self._overall, description=self.line())
                self._bars.console.print(_finished_line(target), highlight=False, markup=False)

    def line(self) -> str:
        with self._lock:
            with_outcomes = list(self._running.values()) + self._finished
        elapsed = max(1e-6, time.monotonic() - self._started)
        requests = self.stats.snapshot()["requests"] - self._requests_before
        messages = sum(t.messages for t in with_outcomes)
        return (
            f"export: {len(self._finished):,}/{counted(self.targets, 'target')}, {counted(messages, 'message')}, "
            f"{counted(sum(t.pages for t in with_outcomes), 'page')}, {requests / elapsed:.1f} requests/s"
        )


class FetchBars(_Drawing):
    """`fetch`'s progress: one bar of bytes (with speed and the time left) that also counts the files."""

    def __init__(self, every: float = 10.0, stream: TextIO | None = None) -> None:
        bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self.files = 0
        self.done = 0
        self.size = 0
        self.received_bytes = 0
        self._lock = threading.Lock()
        super().__init__(bars, every, stream)
        self._task = bars.add_task(self._files_text(), total=None)

    def _files_text(self) -> str:
        return f"fetch: {self.done:,}/{self.files:,} files"

    def to_fetch(self, files: int, size: int) -> None:
        self.files, self.size = files, size
        if self._bars is not None:
            self._bars.update(self._task, total=size, description=self._files_text())

    def received(self, size: int) -> None:
        with self._lock:
            self.received_bytes += size
        if self._bars is not None:
            self._bars.update(self._task, advance=size)

    def file_done(self) -> None:
        with self._lock:
            self.done += 1
        if self._bars is not None:
            self._bars.update(self._task, description=self._files_text())

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        rate = self.received_bytes / elapsed if elapsed > 0 else 0.0
        left = (self.size - self.received_bytes) / rate if rate > 0 else 0.0
        return (
            f"{self._files_text()}, {self.received_bytes / 1e6:,.1f}/{self.size / 1e6:,.1f} MB, "
            f"{rate / 1e6:.1f} MB/s, about {left:.0f}s left"
        )


def _describe(target: TargetOutcome) -> str:
    messages, pages = counted(target.messages, "message"), counted(target.pages, "page")
    return f"{target.target.kind} {target.name[:40]}: {messages}, {pages}"


def _finished_line(target: TargetOutcome) -> str:
    head = f"{target.target.kind} {target.name}: {target.status}"
    if target.status != DONE:
        return f"{head}: {target.error}"
    return f"{head}, {counted(target.messages, 'message')} ({target.new:,} new) in {counted(target.pages, 'page')}"
