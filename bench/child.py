"""Run a command as a child process and measure what it cost: wall time, CPU time and peak memory (RSS).

Peak RSS comes from the kernel's accounting of that one process (`wait4`),
but Linux starts a process's peak at the size of the process that forked it:
measured straight from the benchmark (about 110 MB by then), every figure
read at least that. So a small starter process (`python -m bench.child`,
about 10 MB) forks the command, waits for it and writes what it cost to a
file; the benchmark's own memory never mixes into the figure.

    python -m bench.child COST_FILE COMMAND...
"""

from __future__ import annotations

import json
import os
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
    with open(log, "wb") as out:
        subprocess.run([sys.executable, "-m", "bench.child", str(cost_file), *command],
                       stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    measured = json.loads(cost_file.read_text(encoding="utf-8"))
    code = measured.pop("code")
    cost = ChildCost(**measured)
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise ChildFailed(f"{' '.join(command)} exited {code}:\n{tail}", code, cost)
    return cost


def main(argv: list[str]) -> int:
    """The starter: fork and exec the command, wait for it, write its cost and exit code to COST_FILE."""
    cost_file, *command = argv
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)  # the command could not be started; the parent sees 127, as a shell would say
    _, status, usage = os.wait4(pid, 0)
    cost = ChildCost(time.monotonic() - started, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
    code = os.waitstatus_to_exitcode(status)
    Path(cost_file).write_text(json.dumps({**asdict(cost), "code": code}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
