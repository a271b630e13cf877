"""The delta pass at cutover (issue 27): read and plan a newer export, then load only what is new.

    python -m bench.delta [--messages 100000] [--new 1000] [--conversations 50] [--keep]

A generated workspace is the newer export; the earlier one is the same export without the latest
`new ÷ conversations` messages of each of `conversations` channels (the latest by ts, so no reply loses its
root). The earlier export is mapped, planned and loaded as a first pass with the emulator's limits raised (its
cost is not what is measured); then, with Graph's own limits back, the newer export is planned into the same
folder and loaded with the same journal, as `migrate` does at cutover.

- `delta_read_plan_ratio`: CPU seconds of `analyse` + `transform` of the newer export into the earlier pass's
  folder, over the same of a first pass (into an empty folder), each the best of `RUNS`: no slower is ≤ 1.0.
- `delta_load_ratio`: the physical limit of the delta's load (each conversation's requests still to send at 5 a
  second, all in parallel: the longest) over the load's wall time; ≥ 0.9.
- `delta_failed` and `delta_missing` (planned new lines that did not land): 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import orjson

from bench import loading, stages
from bench.report import Figure, Results
from migrator.emulator.app import Limits
from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.limits import CHANNEL_RPS
from migrator.plan import Manifest
from migrator.sample.generate import EXPORT_DIR
from migrator.stages.load import LoadOptions, load
from migrator.stages.load.estimate import estimate
from migrator.stages.load.schedule import concurrency

MESSAGES, NEW, CONVERSATIONS = 100_000, 1_000, 50
RUNS = 3  # read + plan is timed best of three, first pass and delta alike: a shared machine only adds CPU time
FIRST_PASS_RPS = 1000.0  # per conversation, for the first pass: its load is setup, not a figure
FIRST_PASS_WORKERS = 8


@dataclass(frozen=True)
class DeltaRun:
    first_read_plan: list[float]  # CPU seconds of analyse + transform, first pass, per run
    delta_read_plan: list[float]  # the same into the earlier pass's folder
    new_lines: int  # plan lines the journal does not record as landed before the delta's load
    conversations: int  # conversations with something to send
    limit: float  # the longest of them at 5 requests/s
    seconds: float  # the delta's load, wall
    posted: int
    failed: int
    throttled: int  # 429s the emulator sent during the delta's load (its per-second peaks include the first pass)

    @property
    def read_plan_ratio(self) -> float:
        return min(self.delta_read_plan) / min(self.first_read_plan)

    @property
    def load_ratio(self) -> float:
        return self.limit / self.seconds


def earlier_export(newer: stages.Workspace, work: Path, new: int, conversations: int) -> stages.Workspace:
    """A copy of the newer workspace without the latest `new ÷ conversations` messages of each of its first
    `conversations` channels (public and private, by the export's own lists)."""
    root = work / f"earlier-{newer.root.name}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(newer.root, root)
    channels = [c["name"] for name in ("channels.json", "groups.json") for c in _json(root / EXPORT_DIR / name)]
    if len(channels) < conversations:
        raise SystemExit(f"the workspace has {len(channels)} channels, fewer than the {conversations} asked for")
    for name in channels[:conversations]:
        _drop_latest(root / EXPORT_DIR / name, new // conversations)
    return stages.Workspace(root, newer.messages - new, newer.generated)


def _drop_latest(folder: Path, count: int) -> None:
    """Remove the `count` latest messages (by ts) from a channel's day files; a day left empty is removed."""
    days = {path: _json(path) for path in sorted(folder.glob("*.json"))}
    stamps = sorted((float(m["ts"]), path, m["ts"]) for path, messages in days.items() for m in messages)
    gone: dict[Path, set[str]] = {}
    for _, path, ts in stamps[-count:]:
        gone.setdefault(path, set()).add(ts)
    for path, removed in gone.items():
        kept = [m for m in days[path] if m["ts"] not in removed]
        if kept:
            path.write_bytes(orjson.dumps(kept))
        else:
            path.unlink()


def _json(path: Path) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], orjson.loads(path.read_bytes())) if path.is_file() else []


def read_plan(workspace: stages.Workspace, mappings: Path, plan: Path, work: Path, earlier: Path | None) -> float:
    """CPU seconds of `analyse` then `transform` of the export into `plan`: an empty folder for a first pass, or a
    copy of the `earlier` pass's plan for the delta (copied before the clock starts)."""
    shutil.rmtree(plan, ignore_errors=True)
    if earlier is not None:
        shutil.copytree(earlier, plan)
    os.sync()  # the copy on disk, as an earlier pass's plan is weeks later: its writeback is not the transform's CPU
    return stages.analyse(workspace, work).cpu_seconds + stages.transform(workspace, mappings, plan, work).cpu_seconds


def first_pass(emulator: EmulatorProcess, plan: Path, journal_path: Path) -> None:
    """The earlier export's load, with the emulator's limits raised: setup for the delta, not measured."""
    loading.fresh(emulator, **loading.raised_limits(FIRST_PASS_RPS))
    with (
        Journal(journal_path) as journal,
        GraphClient(emulator.graph_config(), limiter=RateLimiter(per_key=FIRST_PASS_RPS)) as client,
    ):
        journal.bind("bench")
        outcome = load(plan, client, journal, LoadOptions(workers=FIRST_PASS_WORKERS))
    if outcome.total("failed") or not outcome.ok:
        raise SystemExit(f"the first pass did not land cleanly: {outcome.total('failed')} failed")


def measure_delta(work: Path, messages: int = MESSAGES, new: int = NEW, conversations: int = CONVERSATIONS) -> DeltaRun:
    newer = stages.generate(work, messages)
    earlier = earlier_export(newer, work, new, conversations)
    mappings = stages.mappings(earlier, work)
    first = [read_plan(newer, mappings, work / "first-plan", work, None) for _ in range(RUNS)]
    out = work / "out"
    plan, journal_path, snapshot = out / "plan", out / "journal.sqlite", out / "earlier-plan"
    stages.transform(earlier, mappings, plan, work)
    with EmulatorProcess(directory=newer.directory) as emulator:
        first_pass(emulator, plan, journal_path)
        shutil.copytree(plan, snapshot)
        delta = [read_plan(newer, mappings, plan, work, snapshot) for _ in range(RUNS)]
        emulator.operator("config", asdict(Limits()))  # Graph's own pacing for what is measured
        stats = emulator.operator("stats")["totals"]
        with (
            Journal(journal_path) as journal,
            GraphClient(emulator.graph_config(), limiter=RateLimiter(per_key=CHANNEL_RPS)) as client,
        ):
            journal.bind("bench")
            manifest = Manifest.read(plan)
            rows, _, _ = estimate(plan, manifest, manifest.teams, journal, concurrency(None))
            outcome = load(plan, client, journal, LoadOptions())
        after = emulator.operator("stats")["totals"]
    sending = [row for row in rows if row.requests]
    return DeltaRun(
        first_read_plan=first,
        delta_read_plan=delta,
        new_lines=sum(row.messages - row.already for row in rows),
        conversations=len(sending),
        limit=max((row.requests for row in sending), default=0) / CHANNEL_RPS,
        seconds=outcome.seconds,
        posted=outcome.total("posted"),
        failed=outcome.total("failed"),
        throttled=after["throttled"] - stats["throttled"],
    )


def figures(results: Results, run: DeltaRun, messages: int, new: int, conversations: int) -> None:
    what = f"{messages:,} messages, the latest {new:,} new in {conversations} channels"
    cpu = ", ".join(f"{seconds:.1f}" for seconds in run.delta_read_plan)
    first = ", ".join(f"{seconds:.1f}" for seconds in run.first_read_plan)
    results.add(
        Figure(
            "delta_read_plan_ratio",
            round(run.read_plan_ratio, 3),
            "<= 1.0",
            "",
            f"{what}: analyse + transform CPU s into the earlier pass's folder {cpu}, into an empty one {first} "
            f"(best of {RUNS} each)",
        )
    )
    results.add(
        Figure(
            "delta_load_ratio",
            round(run.load_ratio, 3),
            ">= 0.9",
            "",
            f"{run.posted:,} posted of {run.new_lines:,} new plan lines in {run.conversations} conversations: limit "
            f"{run.limit:.1f} s, load {run.seconds:.1f} s; {run.throttled} 429s",
        )
    )
    results.add(Figure("delta_failed", run.failed, "<= 0", "messages", "the delta's load"))
    results.add(
        Figure("delta_missing", run.new_lines - run.posted, "<= 0", "messages", "new plan lines the load did not post")
    )


def delta_pass(
    results: Results, work: Path, messages: int = MESSAGES, new: int = NEW, conversations: int = CONVERSATIONS
) -> None:
    """`make bench`'s step (the issue's shape by default); progress lines go to the run's load log."""
    with open(work / "logs" / "load.log", "a", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        run = measure_delta(work, messages, new, conversations)
    figures(results, run, messages, new, conversations)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--new", type=int, default=NEW)
    parser.add_argument("--conversations", type=int, default=CONVERSATIONS)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (workspaces, plans, logs)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="teams-migrator-delta-"))
    (work / "logs").mkdir()
    results = Results(command="python -m bench.delta")
    try:
        delta_pass(results, work, args.messages, args.new, args.conversations)
    finally:
        if args.keep:
            print(f"bench.delta: work files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if any(figure.ok is False for figure in results.figures) else 0


if __name__ == "__main__":
    sys.exit(main())
