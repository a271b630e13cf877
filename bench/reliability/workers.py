"""Workers: three worker processes on one PostgreSQL journal, two app registrations, the emulator's faults on, and
two of the workers killed with kill -9 at seeded random moments and started again (issue #22).

Verify then proves every message landed exactly once; the journal's units prove each team (with its channels)
and each chat kept one app; the emulator's per-conversation peaks prove that no conversation, whichever worker
held it, went above 5 requests in any second.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.postgres import POSTGRES, scratch_schema
from bench.reliability.faults import SPEC
from bench.reliability.migration import RUN_TIMEOUT, CheckFailed, Planned, require_clean, target_env, verify_plan
from bench.stages import migrator
from migrator.emulator.directory import DEMO_PATH
from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, EmulatorProcess

SECOND_APP, SECOND_SECRET = "b1f1c0de-0000-4000-8000-0000000000a2", "second-secret-not-for-production"
LEASE = 5  # seconds: a killed worker's units go to another after this
POLL = 0.05


def check_workers(
    planned: Planned, work: Path, threads: int, seed: int = 22, kills: int = 2, step: tuple[int, int] = (100, 600)
) -> str:
    """The summary line; raises CheckFailed when a message is missing or duplicated, a team or chat changed app,
    or a conversation went above 5 requests in a second."""
    rng = random.Random(seed)
    with (
        _schema() as url,
        EmulatorProcess(directory=_two_apps(planned, work), faults=SPEC, extra_args=["--seed", str(seed)]) as emulator,
    ):
        env = _env(emulator, work, url)
        _run(migrator("load", str(planned.plan), "--publish"), env, "publish")
        command = migrator("worker", "--workers", str(threads), "--lease", str(LEASE))
        workers = [_start(command, env, work, n) for n in range(3)]
        killed = []
        for victim in rng.sample(range(3), kills):
            _after_requests(emulator, workers[victim], rng.randint(*step))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            killed.append(victim)
            workers[victim] = _start(command, env, work, victim)
        rounds = _until_done(planned.plan, workers, command, env, work)
        injected = emulator.operator("faults")["injected"]
        emulator.operator("faults", {"spec": ""})
        peak = emulator.operator("stats")["totals"]["peak_1s_max"]
        owners = _owners(url)
        verdict = verify_plan(planned.plan, url, env, work / "workers-verify")
    try:
        require_clean("workers", verdict, planned.messages)
    except CheckFailed as failed:
        raise CheckFailed(f"{failed}{_tails(work)}") from None
    mixed = [scope for scope, apps in owners.items() if len(apps) != 1]
    if mixed:
        raise CheckFailed(f"workers: teams or chats worked by more than one app: {', '.join(mixed)}")
    if peak > 5:
        raise CheckFailed(f"workers: a conversation took {peak} requests in one second (at most 5)")
    apps = sorted({app for names in owners.values() for app in names})
    faults = ", ".join(f"{count} × {name}" for name, count in sorted(injected.items()))
    return (
        f"workers: {verdict.line()} (3 workers, workers {killed} killed -9 and restarted, seed {seed}; "
        f"{len(owners)} teams and chats over {len(apps)} apps, each with one; peak {peak} requests/s per "
        f"conversation; {faults} injected; {rounds} worker rounds)"
    )


@contextmanager
def _schema() -> Iterator[str]:
    """A journal of its own on the tests' PostgreSQL, or why it cannot be had."""
    import psycopg

    try:
        psycopg.connect(POSTGRES, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        raise CheckFailed(f"workers: PostgreSQL at {POSTGRES} does not answer: {error}") from None
    with scratch_schema("reliability") as url:
        yield url


def _two_apps(planned: Planned, work: Path) -> Path:
    """The workspace's directory with a second app holding the demo app's permissions."""
    directory = json.loads(planned.workspace.directory.read_text(encoding="utf-8"))
    apps = directory.get("apps") or json.loads(DEMO_PATH.read_text(encoding="utf-8"))["apps"]
    second = {**apps[0], "client_id": SECOND_APP, "secret": SECOND_SECRET, "display_name": "second migrator"}
    path = work / "workers-directory.json"
    path.write_text(json.dumps({**directory, "apps": [*apps, second]}), encoding="utf-8")
    return path


def _env(emulator: EmulatorProcess, work: Path, url: str) -> dict[str, str]:
    apps = work / "workers-apps.yaml"
    apps.write_text(
        f"- client_id: {DEMO_CLIENT_ID}\n  client_secret: {DEMO_SECRET}\n"
        f"- client_id: {SECOND_APP}\n  client_secret: {SECOND_SECRET}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in target_env(emulator).items() if k not in ("MIGRATOR_CLIENT_ID", "MIGRATOR_CLIENT_SECRET")}
    return {**env, "MIGRATOR_APPS": str(apps), "MIGRATOR_JOURNAL_URL": url}


def _start(command: list[str], env: dict[str, str], work: Path, n: int) -> subprocess.Popen[bytes]:
    """Worker `n`, its output appended to `worker-n.log` (a failed check quotes the logs' tails)."""
    out = work / f"worker-{n}"
    with open(_log(work, n), "ab") as log:
        return subprocess.Popen([*command, "--out", str(out)], env=env, stdout=log, stderr=subprocess.STDOUT)


def _log(work: Path, n: int) -> Path:
    return work / f"worker-{n}.log"


def _tails(work: Path) -> str:
    """The end of each worker's log, for a check that failed."""
    return "".join(
        f"\n--- worker-{n}.log ---\n{_log(work, n).read_text(errors='replace')[-1500:]}"
        for n in range(3)
        if _log(work, n).is_file()
    )


def _after_requests(emulator: EmulatorProcess, worker: subprocess.Popen[bytes], requests: int) -> None:
    start = emulator.operator("stats")["totals"]["requests"]
    while worker.poll() is None and emulator.operator("stats")["totals"]["requests"] - start < requests:
        time.sleep(POLL)


def _until_done(
    plan: Path,
    workers: list[subprocess.Popen[bytes]],
    command: list[str],
    env: dict[str, str],
    work: Path,
    rounds: int = 6,
) -> int:
    """Wait for the workers; while a unit failed under the faults, publish again and start them again, as an
    operator would. The number of rounds. Whether a unit failed is read from the queue, not from exit codes: a
    worker that failed a unit and exited before it was to be killed is replaced, and its exit code with it."""
    url = env["MIGRATOR_JOURNAL_URL"]
    for done in range(1, rounds + 1):
        for worker in workers:
            worker.wait(timeout=RUN_TIMEOUT)
        if not _unfinished(url):
            return done
        _run(migrator("load", str(plan), "--publish"), env, "publish again")
        workers = [_start(command, env, work, n) for n in range(len(workers))]
    raise CheckFailed(f"workers: units still failing after {rounds} rounds of workers")


def _unfinished(url: str) -> int:
    """Units of the queue not done (failed under the faults, or waiting on one that did)."""
    from migrator.pgjournal import PostgresJournal

    with PostgresJournal(url, readonly=True) as journal:
        ((count,),) = journal.query("SELECT count(*) FROM work WHERE state <> 'done'")
    return int(count)


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if done.returncode != 0:
        raise CheckFailed(f"workers: {what} exited {done.returncode}:\n{(done.stdout + done.stderr)[-2000:]}")


def _owners(url: str) -> dict[str, set[str]]:
    from migrator.pgjournal import PostgresJournal

    with PostgresJournal(url, readonly=True) as journal:
        rows = journal.query("SELECT coalesce(team_key, conv_key), array_agg(DISTINCT app) FROM work GROUP BY 1")
    return {scope: set(apps) for scope, apps in rows}
