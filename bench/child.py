"""Run a command as a child process and measure what it cost: wall time and peak memory (RSS).

Peak RSS comes from the kernel's accounting of that one child (`wait4`), so
the benchmark's own memory never mixes into the figure.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChildCost:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float


class ChildFailed(RuntimeError):
    """The command exited non-zero (or was killed: a negative code); what it cost is still known."""

    def __init__(self, message: str, code: int, cost: ChildCost):
        super().__init__(message)
        self.code = code
        self.cost = cost


def measure(command: list[str], log: Path, env: dict[str, str] | None = None) -> ChildCost:
    """Run to completion with output in `log`; a non-zero exit raises ChildFailed with the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    cost = ChildCost(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
    if process.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise ChildFailed(f"{' '.join(command)} exited {process.returncode}:\n{tail}", process.returncode, cost)
    return cost
