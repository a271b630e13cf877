"""Progress of an export: rich bars on a terminal, a plain line every few seconds otherwise (CI, logs).

How many messages a target holds is unknown until its last page, so the
bars count messages and pages rather than a percentage; the overall line
shows the request rate against the tenant budget.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from migrator.graph import GraphStats
from migrator.stages.export.outcome import DONE, TargetOutcome


class ExportProgress:
    def __init__(self, targets: int, stats: GraphStats, every: float = 10.0, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.targets = targets
        self.stats = stats
        self._lock = threading.RLock()  # line() runs inside finished()
        self._started = time.monotonic()
        self._requests_before = stats.snapshot()["requests"]
        self._running: dict[str, TargetOutcome] = {}
        self._finished: list[TargetOutcome] = []
        self._stop = threading.Event()
        self._bars: Progress | None = None
        self._tasks: dict[str, int] = {}
        if self.stream.isatty():
            self._bars = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
            )
            self._overall = self._bars.add_task(self.line())
            self._bars.start()
        else:
            threading.Thread(target=self._tick, args=(every,), daemon=True).start()

    def started(self, outcome: TargetOutcome) -> None:
        with self._lock:
            self._running[outcome.target.key] = outcome
            if self._bars is not None:
                self._tasks[outcome.target.key] = self._bars.add_task(_describe(outcome))

    def page(self, outcome: TargetOutcome) -> None:
        if self._bars is not None:
            self._bars.update(self._tasks[outcome.target.key], description=_describe(outcome))
            self._bars.update(self._overall, description=self.line())

    def finished(self, outcome: TargetOutcome) -> None:
        with self._lock:
            self._running.pop(outcome.target.key, None)
            self._finished.append(outcome)
            if self._bars is not None:
                self._bars.remove_task(self._tasks.pop(outcome.target.key))
                self._bars.update(self._overall, description=self.line())
                self._bars.console.print(_finished_line(outcome), highlight=False, markup=False)

    def line(self) -> str:
        with self._lock:
            with_outcomes = list(self._running.values()) + self._finished
        elapsed = max(1e-6, time.monotonic() - self._started)
        requests = self.stats.snapshot()["requests"] - self._requests_before
        messages = sum(t.messages for t in with_outcomes)
        return (
            f"export: {len(self._finished)}/{self.targets} targets, {messages:,} messages, "
            f"{sum(t.pages for t in with_outcomes):,} pages, {requests / elapsed:.1f} requests/s"
        )

    def _tick(self, every: float) -> None:
        while not self._stop.wait(every):
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._bars is not None:
            self._bars.stop()


def _describe(outcome: TargetOutcome) -> str:
    return f"{outcome.target.kind} {outcome.name[:40]}: {outcome.messages:,} messages, {outcome.pages:,} pages"


def _finished_line(outcome: TargetOutcome) -> str:
    head = f"{outcome.target.kind} {outcome.name}: {outcome.status}"
    if outcome.status != DONE:
        return f"{head}: {outcome.error}"
    return f"{head}, {outcome.messages:,} messages ({outcome.new:,} new) in {outcome.pages:,} pages"
