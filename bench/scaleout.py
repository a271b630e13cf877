"""scale_out_ratio: import requests/s of 3 worker processes over 1, on one machine (issue #22).

The emulator's limits and the workers' own per-conversation pacing are raised, so that the client's CPU is what
bounds the rate: one Python process carries roughly one core. Each run gets an emptied emulator and a journal
schema of its own; the plan is published once per run and the workers (children of this process, each the
`migrator worker` code with a raised pacing) claim its conversations. The rate is the steady one: the requests
the emulator answered between the moments it had answered 10% and 90% of the run's (its count sampled every
SAMPLE seconds), so that neither the workers' start-up (imports, fetching the plan, the team's creation before
any channel) nor their last conversations finishing one by one counts.

    python -m bench.scaleout [--channels 60] [--messages 100]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.plans import even_plan
from bench.postgres import scratch_schema
from migrator.emulator.app import Limits
from migrator.emulator.runner import EmulatorProcess

RAISED_RPS = 1000.0  # per conversation, at the emulator and in the workers' pacing
THREADS = 32  # units each worker process works on at once: enough that its CPU, not latency, bounds it
SAMPLE = 0.2  # seconds between two reads of the emulator's request count


@dataclass(frozen=True)
class ScaleOut:
    one: float  # requests/s with 1 worker process
    three: float  # with 3
    cores: int
    load_average: tuple[float, float, float]

    @property
    def ratio(self) -> float:
        return self.three / self.one if self.one else 0.0

    def note(self) -> str:
        load = ", ".join(f"{value:.2f}" for value in self.load_average)
        return f"1 process {self.one:.0f} requests/s, 3 processes {self.three:.0f}; {self.cores} cores, load {load}"


def measure_scale_out(work: Path, channels: int = 60, messages: int = 100) -> ScaleOut:
    plan = work / f"scaleout-{channels}x{messages}"
    even_plan(plan, channels, messages)
    raised = {
        "channel_rps": RAISED_RPS,
        "channel_writes_per_s": RAISED_RPS,
        "team_creates_per_s": RAISED_RPS,
        "team_reads_per_s": RAISED_RPS,
        "teams_calls_per_10s": RAISED_RPS * 1000,
        "tenant_rps": RAISED_RPS * 1000,
    }
    with EmulatorProcess() as emulator:
        rates = {}
        for processes in (1, 3):
            emulator.operator("reset", {})
            emulator.operator("config", {**asdict(Limits()), **raised})
            rates[processes] = _run(emulator, plan, processes)
    return ScaleOut(rates[1], rates[3], os.cpu_count() or 0, os.getloadavg())


def _run(emulator: EmulatorProcess, plan: Path, processes: int) -> float:
    from migrator.pgjournal import PostgresJournal
    from migrator.workqueue import WorkQueue

    with scratch_schema("bench") as url:
        with PostgresJournal(url) as journal:
            WorkQueue(journal).publish(plan)
        env = dict(os.environ)
        command = [sys.executable, "-m", "bench.scaleout", "--child", url, emulator.url, str(emulator.ca)]
        before = emulator.operator("stats")["totals"]["requests"]
        children = [subprocess.Popen(command, env=env) for _ in range(processes)]
        samples = [(time.monotonic(), before)]
        while any(child.poll() is None for child in children):
            time.sleep(SAMPLE)
            samples.append((time.monotonic(), emulator.operator("stats")["totals"]["requests"]))
        codes = [child.wait() for child in children]
        if any(codes):
            raise RuntimeError(f"scale-out workers exited {codes}")
        return steady_rate(samples)


def steady_rate(samples: list[tuple[float, int]], low: float = 0.1, high: float = 0.9) -> float:
    """Requests/s between the moments the count passed `low` and `high` of its whole rise."""
    start, end = samples[0][1], samples[-1][1]
    begin, finish = (_when(samples, start + share * (end - start)) for share in (low, high))
    return (high - low) * (end - start) / (finish - begin) if finish > begin else 0.0


def _when(samples: list[tuple[float, int]], count: float) -> float:
    """When the count reached `count`, interpolated between the samples around it."""
    for (t0, c0), (t1, c1) in zip(samples, samples[1:], strict=False):
        if c1 >= count > c0 or (c1 >= count and c0 == c1):
            return t0 + (t1 - t0) * (count - c0) / (c1 - c0) if c1 != c0 else t1
    return samples[-1][0]


def _child(url: str, graph_url: str, ca: str) -> None:
    """One worker process: `migrator worker`'s Worker, its client paced at RAISED_RPS per conversation."""
    from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT
    from migrator.graph import GraphClient, GraphConfig, RateLimiter
    from migrator.graph.aimd import AdaptiveRate
    from migrator.pgjournal import PostgresJournal
    from migrator.stages.load.worker import Worker, WorkerOptions
    from migrator.workqueue import WorkQueue

    config = GraphConfig(
        tenant_id=DEMO_TENANT,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_SECRET,
        graph_url=graph_url,
        login_url=graph_url,
        ca_bundle=ca,
    )
    with (
        PostgresJournal(url) as journal,
        tempfile.TemporaryDirectory(prefix="scaleout-") as scratch,
        GraphClient(config, limiter=RateLimiter(per_key=RAISED_RPS), pace=AdaptiveRate(RAISED_RPS * 1000)) as client,
    ):
        queue = WorkQueue(journal)
        queue.fetch_plan(Path(scratch))
        options = WorkerOptions(workers=THREADS, import_budget=RAISED_RPS * 1000)
        outcome = Worker(queue, [client], Path(scratch), options).run()
    if outcome.failed:
        raise SystemExit(f"units failed: {outcome.failed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=60)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--child", nargs=3, metavar=("JOURNAL_URL", "GRAPH_URL", "CA"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="teams-migrator-scaleout-") as work:
        measured = measure_scale_out(Path(work), args.channels, args.messages)
    print(f"scale_out_ratio: {measured.ratio:.2f} ({measured.note()})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
