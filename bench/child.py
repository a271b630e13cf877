"""Run a command as a child process and measure what it cost: wall time, CPU time and peak memory (RSS).

Peak RSS comes from the kernel's accounting of that one process (`wait4`),
but Linux starts a process's peak at the size of the process that forked it:
measured straight from the benchmark (about 110 MB by then), every figure
read at least that. So a small starter process (this file run as a script,
about 10 MB) forks the command, waits for it and writes what it cost to a
file; the benchmark's own memory never mixes into the figure.

    python bench/child.py COST_FILE COMMAND...

It is started by its file path, so it works from any folder, and imports only the standard library.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
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
    cost_file = log.with_name(log.name + ".cost.json")
    cost_file.unlink(missing_ok=True)
    started = time.monotonic()
    with open(log, "wb") as out:
        starter = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), str(cost_file), *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    if cost_file.is_file():
        measured = json.loads(cost_file.read_text(encoding="utf-8"))
        code = measured.pop("code")
        cost = ChildCost(**measured)
    else:  # the starter itself failed or was killed: its own exit and the wall time are all there is
        code, cost = starter.returncode, ChildCost(time.monotonic() - started, 0.0, 0.0)
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise ChildFailed(f"{' '.join(command)} {_ending(code)}:\n{tail}", code, cost)
    return cost


def _ending(code: int) -> str:
    """How a process ended, as a person reads it: a negative code is the signal that killed it."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited {code}"


def main(argv: list[str]) -> int:
    """The starter: fork and exec the command, wait for it, write its cost and exit code to COST_FILE."""
    cost_file, *command = argv
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        except OSError as exc:  # said in the log; 127 not found, 126 found but not runnable, as shells say
            os.write(2, f"cannot start {command[0]}: {exc.strerror}\n".encode())
            os._exit(127 if isinstance(exc, FileNotFoundError) else 126)
    _, status, usage = os.wait4(pid, 0)
    cost = ChildCost(time.monotonic() - started, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
    code = os.waitstatus_to_exitcode(status)
    Path(cost_file).write_text(json.dumps({**asdict(cost), "code": code}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
