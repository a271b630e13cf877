"""Progress for a long load: bars on a terminal, periodic plain lines otherwise (CI, logs)."""

from __future__ import annotations

import sys
import threading
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class LoadProgress:
    def __init__(self, total: int, every: float = 10.0, stream=None):
        self.stream = stream or sys.stdout
        self.total = total
        self.done = 0
        self.every = every
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._bars: Progress | None = None
        self._tasks: dict[str, int] = {}
        if self.stream.isatty():
            self._bars = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.1f}/s"),
                TimeRemainingColumn(),
                transient=False,
            )
            self._overall = self._bars.add_task("all conversations", total=total, rate=0.0)
            self._bars.start()
        else:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def add(self, key: str, name: str, total: int) -> None:
        if self._bars is not None:
            self._tasks[key] = self._bars.add_task(name[:40], total=total, rate=0.0)

    def advance(self, key: str, started: float) -> None:
        with self._lock:
            self.done += 1
        if self._bars is not None and key in self._tasks:
            task = self._tasks[key]
            self._bars.advance(task)
            done = self._bars.tasks[task].completed
            self._bars.update(task, rate=done / max(1e-6, time.monotonic() - started))
            self._bars.update(self._overall, advance=1, rate=self.done / max(1e-6, time.monotonic() - self._started))

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        return f"load: {self.done}/{self.total} messages, {rate:.1f}/s, about {left:.0f}s left"

    def close(self) -> None:
        self._stop.set()
        if self._bars is not None:
            self._bars.stop()
