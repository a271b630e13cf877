"""Crashes: the loader killed with SIGKILL at seeded random moments, and the emulator killed and restarted
from its --state file in the middle of a run; each time the migration is simply run again until done.

A kill can land anywhere: between a POST and its journal entry, inside a
SQLite commit, while a team is being created. Verify then proves that
every message is there exactly once.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

from bench.reliability.migration import (
    Planned,
    load_command,
    load_until_done,
    require_clean,
    runs_text,
    target_env,
    verify_plan,
)
from migrator.emulator.runner import EmulatorProcess

POLL = 0.05  # seconds between looks at the emulator's request count


def check_kills(
    planned: Planned, work: Path, workers: int, kills: int = 20, seed: int = 20, step: tuple[int, int] = (20, 200)
) -> str:
    """Kill the loader `kills` times, each once the emulator has answered a seeded random number of requests
    (in `step`) since that loader started: moments in the middle of the work, whatever the machine's speed."""
    journal = work / "kills-journal.sqlite"
    rng = random.Random(seed)
    with EmulatorProcess(directory=planned.workspace.directory) as emulator:
        env = target_env(emulator)
        for _ in range(kills):
            loader = subprocess.Popen(
                load_command(planned.plan, journal, workers),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _after_requests(emulator, loader, rng.randint(*step))
            loader.send_signal(signal.SIGKILL)
            loader.wait()
        before = emulator.operator("stats")["totals"]["requests"]
        runs = load_until_done(planned.plan, journal, env, workers)
        verdict = verify_plan(planned.plan, journal, env, work / "kills-verify")
    require_clean("kill -9", verdict, planned.messages)
    return (
        f"kill -9: {verdict.line()} ({kills} kills after {step[0]}–{step[1]} requests of a run, seed {seed}; "
        f"{before:,} requests answered by then; {runs_text(runs)} to finish)"
    )


def _after_requests(emulator: EmulatorProcess, loader: subprocess.Popen, requests: int) -> None:
    """Return once the emulator has answered `requests` more requests, or the loader has exited."""
    start = emulator.operator("stats")["totals"]["requests"]
    while loader.poll() is None and emulator.operator("stats")["totals"]["requests"] - start < requests:
        time.sleep(POLL)


def check_emulator_restart(
    planned: Planned, work: Path, workers: int, seed: int = 9, step: tuple[int, int] = (100, 400)
) -> str:
    """Kill -9 the emulator while a load runs, restart it on the same port from its --state file; load again until
    done.
    """
    journal = work / "restart-journal.sqlite"
    state, tls = work / "restart-state.jsonl", work / "restart-tls"
    moment = random.Random(seed).randint(*step)
    first = EmulatorProcess(directory=planned.workspace.directory, state=state, tls_dir=tls).start()
    try:
        env = target_env(first)
        loader = subprocess.Popen(
            load_command(planned.plan, journal, workers), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _after_requests(first, loader, moment)
        first.kill()
    finally:
        first.kill()
    port = first.url.rsplit(":", 1)[1]
    records = sum(1 for _ in state.open("rb"))
    with EmulatorProcess(
        directory=planned.workspace.directory, state=state, tls_dir=tls, extra_args=["--port", port]
    ) as second:
        interrupted = loader.wait()
        runs = load_until_done(planned.plan, journal, env, workers)
        verdict = verify_plan(planned.plan, journal, target_env(second), work / "restart-verify")
    require_clean("emulator restart", verdict, planned.messages)
    return (
        f"emulator restart: {verdict.line()} (emulator killed -9 after {moment} requests of the load, with {records:,} "
        f"state records, restarted from --state; the interrupted load exited {interrupted}, "
        f"then {runs_text(runs)} to finish)"
    )
