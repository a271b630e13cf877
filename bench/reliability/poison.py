"""Poison: a share of the messages refused for good while the rest run under the transient faults; then lifted.

A refusal for good (a 4xx no retry mends) must not stop the run: every other
message lands, each run ends 1 with its load report written and the refused
messages listed with Graph's request-id, and verify misses exactly those and
duplicates nothing. Once the cause is lifted, loading again lands the rest:
every planned message exactly once.
"""

from __future__ import annotations

import csv
import re
import subprocess
from pathlib import Path

from bench.reliability.faults import SPEC
from bench.reliability.migration import (
    RUN_TIMEOUT,
    CheckFailed,
    Planned,
    load_command,
    load_until_done,
    require_clean,
    runs_text,
    target_env,
    verify_plan,
)
from migrator.emulator.runner import EmulatorProcess
from migrator.journal import Journal
from migrator.plan import Manifest, read_lines

CODE = "PoisonMessage"
POISONED_RUNS = 2  # the poison is still there on the second run: it must fail the same messages again


def rules(share: float) -> list[dict[str, object]]:
    """Imports refused for good, a share of them chosen by the request itself: the same ones on every run."""
    message = "The message cannot be imported (poisoned by the reliability check)."
    paths = ["/teams/*/channels/*/messages", "/teams/*/channels/*/messages/*/replies", "/chats/*/messages"]
    return [{"path": path, "share": share, "code": CODE, "message": message} for path in paths]


def check_poison(planned: Planned, work: Path, workers: int, share: float = 0.02, seed: int = 5) -> str:
    """The summary line; raises CheckFailed when a poisoned run crashes, leaves no report, hides a refusal,
    or when anything is lost or duplicated once the poison is lifted."""
    journal = work / "poison-journal.sqlite"
    with EmulatorProcess(directory=planned.workspace.directory) as emulator:
        env = target_env(emulator)
        # Verify reads the workspace back twice here (poisoned, then lifted): more than evaluation mode's capacity.
        emulator.operator("config", {"evaluation_capacity": 4 * planned.messages})
        emulator.operator("faults", {"spec": SPEC, "seed": seed, "refuse": rules(share)})
        refused = []
        for run in range(POISONED_RUNS):
            before = emulator.operator("faults")["injected"].get("refuse", 0)
            moved_before = _moved(planned.plan, journal)
            failed = _poisoned_run(planned, journal, env, workers, work / "poison-reports" / f"run-{run + 1}")
            refused.append(emulator.operator("faults")["injected"].get("refuse", 0) - before)
            answered = failed + _second_tries(planned.plan, journal, moved_before)
            if refused[-1] > answered:  # every refusal is in the report (a run may meet none: its team not created)
                raise CheckFailed(
                    f"poison: run {run + 1}: {refused[-1]} requests refused, but the load report counts {failed} "
                    f"failed and the journal {answered - failed} messages sent a second time without inline images"
                )
        if not refused[-1]:
            raise CheckFailed(f"poison: no message was refused in {POISONED_RUNS} poisoned runs; nothing was tested")
        poisoned = verify_plan(planned.plan, journal, env, work / "poison-verify-poisoned")
        lost = poisoned.expected - poisoned.found
        if poisoned.duplicated or poisoned.missing != lost or lost < refused[-1]:
            raise CheckFailed(f"poison: while poisoned verify found {poisoned.line()}; {refused[-1]} were refused")
        emulator.operator("faults", {"spec": SPEC, "seed": seed})  # the poison is lifted; the transient faults stay
        runs = load_until_done(planned.plan, journal, env, workers)
        injected = emulator.operator("faults")["injected"]
        emulator.operator("faults", {"spec": ""})
        verdict = verify_plan(planned.plan, journal, env, work / "poison-verify")
    require_clean("poison", verdict, planned.messages)
    faults = ", ".join(f"{count} × {name}" for name, count in sorted(injected.items()) if name != "refuse")
    return (
        f"poison: {verdict.line()} ({' and '.join(map(str, refused))} messages refused for good in "
        f"{POISONED_RUNS} load runs, each exit 1 with its report listing them with request-ids, verify "
        f"{poisoned.missing} missing and 0 duplicated; then lifted: {runs_text(runs)}; {faults} injected)"
    )


def _moved(plan: Path, journal: Path) -> set[tuple[str, str]]:
    """Messages the journal records as posted again with their inline images as files (after a refusal)."""
    if not journal.is_file():
        return set()
    with Journal(journal, readonly=True) as entries:
        return {(c.key, key) for _, c in Manifest.read(plan).conversations() for key in entries.moved(c.key)}


def _second_tries(plan: Path, journal: Path, moved_before: set[tuple[str, str]]) -> int:
    """Refusals a run may meet beyond one per failed message: a message refused with inline images is sent again
    without them (docs/graph-contract.md#inline-images), and the poison, chosen by the request's hash, may refuse
    that second request too (counted here once per failed message carrying images) or let it land (moved this run)."""
    moved = _moved(plan, journal) - moved_before
    with Journal(journal, readonly=True) as entries:
        failed = {(c.key, key) for _, c in Manifest.read(plan).conversations() for key in entries.failures(c.key)}
    with_images = {
        (c.key, line["key"])
        for _, c in Manifest.read(plan).conversations()
        for line in read_lines(plan, c)
        if line.get("hostedContents") and (c.key, line["key"]) in failed
    }
    return len(moved) + len(with_images)


def _poisoned_run(planned: Planned, journal: Path, env: dict[str, str], workers: int, out: Path) -> int:
    """One load while poisoned: it must end 1, not crash, and list the refusals with their request-id in its
    report; returns how many messages the report counts failed."""
    done = subprocess.run(
        [*load_command(planned.plan, journal, workers), "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    said = done.stdout + done.stderr
    if done.returncode != 1 or "Traceback" in said:
        raise CheckFailed(f"poison: a poisoned load exited {done.returncode}:\n{said[-2000:]}")
    report = out / "load-report.csv"
    if not report.is_file():
        raise CheckFailed(f"poison: a poisoned load wrote no {report.name}:\n{said[-2000:]}")
    with open(report, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    poisoned = [row["failure_reasons"] for row in rows if CODE in row["failure_reasons"]]
    if not poisoned or not all(re.search(rf"{CODE}: [^;]*\(×\d+; request-id ", reason) for reason in poisoned):
        raise CheckFailed(f"poison: the load report does not list the refusals with their request-id: {poisoned[:3]}")
    return sum(int(row["failed"]) for row in rows)
