"""`make bench` / `make bench-full`: every figure of the issue, measured side by side in one run.

    python -m bench.run [--full] [--keep] [--results bench/results.json]

Prints one line per figure, `name: value (target: …)`, then the growth table,
and writes the same to bench/results.json. Work files go to a temporary
folder (kept with --keep). Exits 1 when a figure misses its target, so a
regression is never silent; the line says which and why.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench import capacity, delta, exporting, fetching, loading, scaleout, stages
from bench.child import ChildCost
from bench.plans import chat_files_plan, even_plan
from bench.report import Figure, GrowthRow, Results
from migrator.emulator.runner import EmulatorProcess

RESULTS = Path(__file__).with_name("results.json")
RATIO_CHANNELS = (1, 10, 50)
RATIO_MESSAGES = 60  # per channel: 12 s of posting at 5/s, long enough for a steady rate
CHAT_FILES_CHATS = 10  # group chats, a file in one message of three: 60 messages + 2 × 20 file requests each
NAIVE_CHANNELS = 10
# tenant_cap_ratio: an undocumented tenant-wide import cap (the emulator's --tenant-message-rps) below what the
# conversations could send at 5/s each: the loader must find it (graph/aimd.py) and keep 429s rare.
TENANT_CAP = {"rps": 50.0, "channels": 20, "messages": 150}  # 100 requests/s possible, half of it allowed
RAISED_RPS = 1000.0  # per channel, for the load growth rows: the loader's own cost, not Graph's pacing
FIGURE_MESSAGES = 1_000_000  # the size at which the offline figures are taken
OFFLINE_SIZES = (10_000, 100_000, 1_000_000)
TRANSFORM_SIZES = (10_000, 100_000)  # 1M takes minutes: make bench-full
PLAIN_MESSAGES = 100_000  # the plain-text workspace the transform target is set for
# The transform figures are each the best of five runs of the same plan, as timeit takes the minimum of five by
# default: other work on a shared machine only ever adds CPU time to a run (up to a third, measured here).
FIGURE_RUNS = 5
LOAD_SIZES = (1_000, 10_000)
# makespan_ratio_default: a skewed workspace of 130 channels (6 private) over 2 teams and 30 chats, loaded with no
# options (`migrator sample generate --channels 130 --messages 6000 --teams 2 --private-channels 6 --seed 3`).
MAKESPAN = {"channels": 130, "messages": 6000, "teams": 2, "private_channels": 6, "seed": 3}
# makespan_ratio_500: the same shape at 500 conversations, every conversation paced at 1 request/s in the emulator and
# the loader, so that the run tests the scheduler at that scale rather than this machine's CPU
# (`migrator sample generate --channels 470 --messages 9000 --teams 2 --private-channels 10 --seed 3`).
MAKESPAN_500 = {"channels": 470, "messages": 9000, "teams": 2, "private_channels": 10, "seed": 3}
MAKESPAN_500_RPS = 1.0


@contextlib.contextmanager
def quiet(log: Path) -> Iterator[None]:
    """Progress lines and retry warnings go to the run's log, so the terminal shows only figures."""
    with open(log, "a", encoding="utf-8") as out, contextlib.redirect_stdout(out):
        yield


def emulator_capacity(results: Results) -> None:
    results.add(
        Figure(
            "emulator_rps",
            round(capacity.measure_capacity()),
            ">= 1500",
            "requests/s",
            "3 client processes × 8 TLS connections, simple message imports, limits raised",
        )
    )


def scale_out(results: Results, work: Path) -> None:
    measured = scaleout.measure_scale_out(work)
    results.add(Figure("scale_out_ratio", round(measured.ratio, 2), ">= 1.3", "", measured.note()))


def load_pacing(results: Results, work: Path) -> None:
    with EmulatorProcess() as emulator:
        runs = {}
        for channels in RATIO_CHANNELS:
            plan = work / f"even-{channels}"
            even_plan(plan, channels, RATIO_MESSAGES)
            loading.fresh(emulator)
            with quiet(work / "logs" / "load.log"):
                run = runs[channels] = loading.run_ours(emulator, plan, workers=channels)
            note = (
                f"{run.imports} imports, each channel posting for {run.channel_seconds / run.channels:.1f} s; "
                f"{run.posting_seconds:.1f} s from the first channel's start to the last one's end"
                + (f", {run.failed} failed" if run.failed else "")
            )
            results.add(Figure(f"load_rate_ratio_{channels}", round(run.ratio, 3), ">= 0.95", "", note))
            results.add(
                Figure(
                    f"load_throttled_{channels}", run.throttled, "<= 0", "429s", "sent by the emulator, any endpoint"
                )
            )
            results.add(
                Figure(
                    f"load_peak_1s_{channels}",
                    run.peak_1s,
                    "<= 5",
                    "requests",
                    "most requests to one channel in any second",
                )
            )
        loading.fresh(emulator)
        with quiet(work / "logs" / "load.log"):
            naive = loading.run_naive(emulator, work / f"even-{NAIVE_CHANNELS}")
        ours = runs[NAIVE_CHANNELS].seconds
        results.add(
            Figure(
                "load_vs_naive",
                round(naive / ours, 2),
                f">= {0.9 * NAIVE_CHANNELS:g}",
                "× faster",
                f"{NAIVE_CHANNELS} channels: naive {naive:.1f} s, ours {ours:.1f} s",
            )
        )


def makespan_run(work: Path, shape: dict[str, int], per_conversation: float = 5.0) -> loading.MakespanRun:
    """A skewed generated workspace mapped onto its teams, transformed, and loaded with no options."""
    options = dict(shape)
    workspace = stages.generate(work, options.pop("messages"), **options)
    mappings = stages.mappings(workspace, work)
    stages.route_teams(mappings, shape["teams"])
    plan = work / f"makespan-plan-{shape['channels']}"
    stages.transform(workspace, mappings, plan, work)
    with EmulatorProcess(directory=workspace.directory) as emulator:
        loading.fresh(emulator, channel_rps=per_conversation)
        with quiet(work / "logs" / "load.log"):
            return loading.run_default(emulator, plan, per_conversation)


def makespan_text(run: loading.MakespanRun) -> str:
    return (
        f"{run.conversations} conversations, {run.imports} imports: limit {run.limit:.1f} s ({run.decided_by}), "
        f"wall {run.seconds:.1f} s, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {run.failed} "
        f"failed, {run.throttled} 429s, peak {run.peak_1s}/s per conversation, {run.cpu_ms_per_request:.2f} ms loader "
        "CPU per request"
    )


def makespan(results: Results, work: Path) -> None:
    """The default load of a skewed workspace against its physical limit, and the dry run's estimate of it."""
    run = makespan_run(work, MAKESPAN)
    what = makespan_text(run)
    results.add(Figure("makespan_ratio_default", round(run.ratio, 3), ">= 0.95", "", what))
    results.add(
        Figure(
            "estimate_error",
            round(run.estimate_error, 3),
            "<= 0.10",
            "",
            f"load --dry-run said {run.estimate:.1f} s, the load took {run.seconds:.1f} s",
        )
    )
    results.add(Figure("makespan_failed", run.failed, "<= 0", "messages", "the default load above"))
    results.add(Figure("makespan_peak_1s", run.peak_1s, "<= 5", "requests", "most to one conversation in a second"))


def makespan_500(results: Results, work: Path) -> None:
    """The scheduler at 500 conversations: each paced at 1 request/s, so the machine's CPU is not what is measured."""
    run = makespan_run(work, MAKESPAN_500, MAKESPAN_500_RPS)
    what = f"at {MAKESPAN_500_RPS:g} request/s per conversation: " + makespan_text(run)
    results.add(Figure("makespan_ratio_500", round(run.ratio, 3), ">= 0.90", "", what))
    results.add(
        Figure(
            "makespan_500_estimate_error",
            round(run.estimate_error, 3),
            "<= 0.10",
            "",
            f"load --dry-run's estimate {run.estimate:.1f} s, the load took {run.seconds:.1f} s",
        )
    )
    results.add(
        Figure(
            "makespan_500_peak_1s",
            run.peak_1s,
            f"<= {MAKESPAN_500_RPS:g}",
            "requests",
            f"most to one conversation in a second; {run.failed} failed",
        )
    )


def tenant_cap(results: Results, work: Path) -> None:
    """Achieved import rate under a tenant-wide cap nobody documents, and the share of requests answered 429."""
    cap, channels = TENANT_CAP["rps"], int(TENANT_CAP["channels"])
    plan = work / f"tenant-cap-{channels}"
    even_plan(plan, channels, int(TENANT_CAP["messages"]))
    with EmulatorProcess() as emulator:
        loading.fresh(emulator, tenant_message_rps=cap)
        with quiet(work / "logs" / "load.log"):
            run = loading.run_ours(emulator, plan, workers=channels)
    share = run.throttled / run.imports if run.imports else 1.0
    what = f"{channels} channels could send {channels * 5} requests/s; the tenant allows {cap:g}"
    results.add(
        Figure("tenant_cap_ratio", round(run.rate / cap, 3), ">= 0.90", "", f"{what}: {run.rate:.1f}/s achieved")
    )
    results.add(
        Figure(
            "tenant_cap_throttled_share",
            round(share, 4),
            "<= 0.01",
            "",
            f"{run.throttled} 429s for {run.imports} imports, {run.failed} failed",
        )
    )


def chat_files_pacing(results: Results, work: Path) -> None:
    """Chats with files: uploads and grants count against each chat's 5 requests/s, like its messages."""
    with EmulatorProcess() as emulator:
        plan = work / f"chat-files-{CHAT_FILES_CHATS}"
        chat_files_plan(plan, CHAT_FILES_CHATS, RATIO_MESSAGES)
        loading.fresh(emulator)
        with quiet(work / "logs" / "load.log"):
            run = loading.run_ours(emulator, plan, workers=CHAT_FILES_CHATS)
    note = f"{run.imports} imports (messages, uploads, grants) in {run.posting_seconds:.1f} s" + (
        f", {run.failed} failed" if run.failed else ""
    )
    results.add(Figure(f"load_chat_files_ratio_{CHAT_FILES_CHATS}", round(run.ratio, 3), ">= 0.95", "", note))
    results.add(
        Figure("load_chat_files_peak_1s", run.peak_1s, "<= 5", "requests", "most requests to one chat in any second")
    )


def export_rate(results: Results) -> None:
    run = exporting.run_export()
    note = f"{run.requests} requests in {run.seconds:.1f} s, {run.messages:,} messages, {run.throttled} throttled"
    results.add(
        Figure(
            "export_rate_ratio",
            round(run.ratio, 3),
            ">= 0.9",
            "",
            note + (f", {run.failed} users failed" if run.failed else ""),
        )
    )


def fetch_throughput(results: Results, work: Path) -> None:
    """2,000 files of 1 KB to 20 MB fetched from the Slack emulator; peak memory beside a run of small files only."""
    every = fetching.sizes()
    run = fetching.run_fetch(work / "fetch-all", every, work)
    small = fetching.run_fetch(work / "fetch-small", [size for size in every if size <= 64 * fetching.KB], work)
    shutil.rmtree(work / "fetch-all", ignore_errors=True)
    shutil.rmtree(work / "fetch-small", ignore_errors=True)
    what = f"{run.files:,} files, {run.bytes / 1e6:,.0f} MB (largest {max(every) / 1e6:.1f} MB) in {run.seconds:.1f} s"
    results.add(Figure("fetch_mb_per_s", round(run.bytes / 1e6 / run.seconds, 1), ">= 30", "MB/s", what))
    results.add(Figure("fetch_files_per_s", round(run.files / run.seconds), ">= 100", "files/s", what))
    results.add(
        Figure(
            "fetch_peak_rss_mb",
            round(run.cost.peak_rss_mb),
            "<= 150",
            "MB",
            f"the command's own peak fetching files of up to 20 MB; {small.files:,} files of at most 64 KB: "
            f"{small.cost.peak_rss_mb:.0f} MB",
        )
    )
    results.add(
        Figure(
            "fetch_rss_growth_mb",
            round(run.cost.peak_rss_mb - small.cost.peak_rss_mb, 1),
            "<= 16",
            "MB",
            "peak with files up to 20 MB minus peak with files up to 64 KB: flat as sizes grow",
        )
    )


def offline_stages(results: Results, work: Path, sizes: tuple[int, ...], transform_sizes: tuple[int, ...]) -> None:
    """generate, analyse and transform at each size, as the commands a consultant runs, in their own processes.

    Speeds are messages per CPU second of that one process (each stage runs on one core): the machine may
    be shared, and CPU time is what the stage itself cost; the wall time is in the note and the growth table.
    """
    for size in sizes:
        workspace = stages.generate(work, size)
        results.grow(
            GrowthRow(
                "generate",
                size,
                workspace.generated.seconds,
                workspace.generated.peak_rss_mb,
                workspace.generated.cpu_seconds,
            )
        )
        analysed = stages.analyse(workspace, work)
        results.grow(GrowthRow("analyse", size, analysed.seconds, analysed.peak_rss_mb, analysed.cpu_seconds))
        if size == FIGURE_MESSAGES:
            results.add(
                Figure(
                    "analyse_msgs_per_s",
                    round(size / analysed.cpu_seconds),
                    "",
                    "messages/s",
                    f"{size:,} messages, {analysed.seconds:.0f} s wall",
                )
            )
            results.add(
                Figure("analyse_peak_rss_mb", round(analysed.peak_rss_mb), "<= 300", "MB", f"{size:,} messages")
            )
        if size in transform_sizes:
            figure = "transform_msgs_per_s" if size == max(transform_sizes) else None
            transformed = transform_speed(results, workspace, work, figure, "realistic messages")
            results.grow(
                GrowthRow("transform", size, transformed.seconds, transformed.peak_rss_mb, transformed.cpu_seconds)
            )
        shutil.rmtree(workspace.root, ignore_errors=True)  # a 1M workspace is ~0.8 GB: keep the disk bounded


def plain_transform(results: Results, work: Path) -> None:
    """The issue's own measure: plain-text messages, where every message costs transform the least."""
    workspace = stages.generate(work, PLAIN_MESSAGES, plain=True)
    transform_speed(results, workspace, work, "transform_plain_msgs_per_s", "plain-text messages")
    shutil.rmtree(workspace.root, ignore_errors=True)


def transform_speed(
    results: Results, workspace: stages.Workspace, work: Path, figure: str | None, what: str
) -> ChildCost:
    """One transform of the workspace; for a named figure, the fastest of FIGURE_RUNS, recorded as its speed."""
    mappings, plan = stages.mappings(workspace, work), work / f"plan-{workspace.root.name}"
    costs = [stages.transform(workspace, mappings, plan, work) for _ in range(FIGURE_RUNS if figure else 1)]
    best = min(costs, key=lambda cost: cost.cpu_seconds)
    if figure is not None:
        results.add(
            Figure(
                figure,
                round(workspace.messages / best.cpu_seconds),
                ">= 20,000",
                "messages/s",
                f"{workspace.messages:,} {what}, best of {len(costs)} runs (CPU s: "
                f"{', '.join(f'{cost.cpu_seconds:.1f}' for cost in costs)}), peak {best.peak_rss_mb:.0f} MB",
            )
        )
    shutil.rmtree(plan, ignore_errors=True)
    return best


def load_growth(results: Results, work: Path, sizes: tuple[int, ...]) -> None:
    """Generated workspaces through map and transform, loaded with the per-channel limit raised."""
    for size in sizes:
        workspace = stages.generate(work, size, seed=2)
        plan = work / f"load-plan-{size}"
        stages.transform(workspace, stages.mappings(workspace, work), plan, work)
        with quiet(work / "logs" / "load.log"):
            run = loading.run_raised(plan, workspace.directory, RAISED_RPS, workers=8)
        if run.failed:
            results.add(Figure(f"load_growth_failed_{size}", run.failed, "<= 0", "messages", "raised-limit load"))
        results.grow(GrowthRow("load", run.imports, run.seconds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full", action="store_true", help="also the slow sizes (transform 1M and 3M, analyse 3M, load 100k)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (workspaces, plans, logs)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="teams-migrator-bench-"))
    (work / "logs").mkdir()
    logging.basicConfig(
        filename=work / "logs" / "bench.log",
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    results = Results(command="make bench-full" if args.full else "make bench")
    print(f"bench: {results.command} on {work}", flush=True)
    try:
        emulator_capacity(results)
        load_pacing(results, work)
        makespan(results, work)
        makespan_500(results, work)
        tenant_cap(results, work)
        chat_files_pacing(results, work)
        export_rate(results)
        fetch_throughput(results, work)
        offline_stages(
            results,
            work,
            OFFLINE_SIZES + ((3_000_000,) if args.full else ()),
            TRANSFORM_SIZES + ((1_000_000, 3_000_000) if args.full else ()),
        )
        plain_transform(results, work)
        load_growth(results, work, LOAD_SIZES + ((100_000,) if args.full else ()))
        scale_out(results, work)
        delta.delta_pass(results, work)
        print(results.growth_table(), flush=True)
    finally:
        results.write(args.results)
        if args.keep:
            print(f"bench: work files kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    missed = [f.name for f in results.figures if f.ok is False]
    minutes = (time.time() - results.started) / 60
    print(
        f"bench: {len(results.figures)} figures in {minutes:.1f} min, written to {args.results}; "
        + (f"MISSED: {', '.join(missed)}" if missed else "every target met"),
        flush=True,
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
