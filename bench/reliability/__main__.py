"""`make reliability`: every check at full size, one summary line each; exit 1 when any check fails.

    python -m bench.reliability [--keep]

Faults: >= 20 channels and >= 5,000 planned messages under
500:0.03,503:0.02,429:0.05,drop:0.02,latency:10ms. Poison: 2% of the messages refused
for good under the same faults, then lifted. Crashes: 20 seeded kill -9
of the loader, and the emulator killed and restarted from its --state file.
Bad input: the corpus of tests/badinputs.py. Secrets: runs with a client
secret and with a certificate, every file searched. Workers: three worker
processes on one PostgreSQL journal (MIGRATOR_TEST_POSTGRES, default the
local one) with two apps load >= 5,000 messages over 50 conversations under
the same faults; two are killed with kill -9 and restarted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.reliability.crashes import check_emulator_restart, check_kills
from bench.reliability.faults import check_faults
from bench.reliability.inputs import check_inputs
from bench.reliability.migration import CheckFailed, planned_workspace
from bench.reliability.poison import check_poison
from bench.reliability.secrets import check_secrets
from bench.reliability.workers import check_workers

CHANNELS, MESSAGES, MINIMUM_PLANNED = 20, 5_600, 5_000  # the generator's joins are not imported: 5,600 plan ≥ 5,000
WORKERS = 20
SPREAD_CHANNELS = 50  # the workers' check: 50 conversations over two teams (and the workspace's chats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the work folder (plans, journals, logs, reports)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="teams-migrator-reliability-"))
    (work / "logs").mkdir()
    started = time.monotonic()
    print(f"reliability: work files in {work}", flush=True)
    planned = planned_workspace(work, CHANNELS, MESSAGES)
    print(
        f"reliability: a generated workspace of {CHANNELS} channels, {planned.messages:,} planned messages", flush=True
    )
    spread = planned_workspace(work, SPREAD_CHANNELS, MESSAGES, teams=2)
    checks: list[Callable[[], str | list[str]]] = [
        lambda: check_faults(planned, work, WORKERS),
        lambda: check_poison(planned, work, WORKERS),
        lambda: check_kills(planned, work, WORKERS),
        lambda: check_emulator_restart(planned, work, WORKERS),
        lambda: check_inputs(work),
        lambda: check_secrets(planned, work, WORKERS),
        lambda: check_workers(spread, work, WORKERS),
    ]
    failed = 0 if planned.messages >= MINIMUM_PLANNED else _fail(f"the plan has only {planned.messages} messages")
    for check in checks:
        try:
            said = check()
            print("\n".join(said) if isinstance(said, list) else said, flush=True)
        except CheckFailed as problem:
            failed += _fail(str(problem))
    print(
        f"reliability: {len(checks) - failed}/{len(checks)} checks passed in {(time.monotonic() - started) / 60:.1f} "
        "min",
        flush=True,
    )
    if args.keep or failed:
        print(f"reliability: work files kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


def _fail(problem: str) -> int:
    print(f"FAILED {problem}", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
