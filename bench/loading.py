"""Load figures: pacing against 5 requests/s per channel, the speed-up over a naive loader, growth.

Every run gets a fresh journal and an emptied emulator, whose own counters
(429s sent, the most requests any channel received in one second) are read
after the run, so pacing is judged by the server, not by the client.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.naive import naive_load
from migrator.critical import critical_path
from migrator.emulator.app import Limits
from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.limits import CHANNEL_RPS
from migrator.plan import Manifest
from migrator.stages.load import LoadOptions, load
from migrator.stages.load.estimate import estimate
from migrator.stages.load.schedule import concurrency


@dataclass(frozen=True)
class LoadRun:
    channels: int
    seconds: float  # the whole load: provisioning, posting, completion, members
    posting_seconds: float  # first channel started → last channel finished
    channel_seconds: float  # each channel's own posting time (from its creation on), summed over the channels
    imports: int  # messages posted, files uploaded, chat files shared
    failed: int
    throttled: int  # 429s the emulator sent
    peak_1s: int  # most requests one channel received in any one second

    @property
    def rate(self) -> float:
        return self.imports / self.posting_seconds if self.posting_seconds else 0.0

    @property
    def ratio(self) -> float:
        """Import requests/s a channel achieved while it posted, over the 5 it may send. Each channel's own time
        counts, not the span from the first channel's start to the last one's end: Graph creates at most 30 channels
        a second per app (limits.CHANNEL_WRITES_PER_S) and each channel posts as soon as it exists, so 50 channels
        start over about a second, which the makespan figures (migrator/critical.py) account for."""
        return self.imports / self.channel_seconds / CHANNEL_RPS if self.channel_seconds else 0.0


def fresh(emulator: EmulatorProcess, **limits: float) -> None:
    """An empty emulator with Graph's default limits, or the ones given (counters start at zero)."""
    emulator.operator("reset", {})
    emulator.operator("faults", {"spec": ""})
    emulator.operator("config", {**asdict(Limits()), **limits})


def run_ours(emulator: EmulatorProcess, plan_dir: Path, workers: int, per_channel: float = CHANNEL_RPS) -> LoadRun:
    """Our loader, all channels in parallel on `workers` threads, paced at `per_channel` requests/s."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-journal-") as scratch,
        Journal(Path(scratch) / "journal.sqlite") as journal,
        GraphClient(emulator.graph_config(), limiter=RateLimiter(per_key=per_channel)) as client,
    ):
        journal.bind("bench")
        outcome = load(plan_dir, client, journal, LoadOptions(workers=workers))
    stats = emulator.operator("stats")
    conversations = outcome.conversations
    span = max(c.finished for c in conversations) - min(c.started for c in conversations)
    return LoadRun(
        channels=len(conversations),
        seconds=outcome.seconds,
        posting_seconds=span,
        channel_seconds=sum(c.seconds for c in conversations),
        imports=outcome.total("posted") + outcome.total("uploads") + outcome.total("grants"),
        failed=outcome.total("failed"),
        throttled=stats["totals"]["throttled"],
        peak_1s=stats["totals"]["peak_1s_max"],
    )


@dataclass(frozen=True)
class MakespanRun:
    """A load with no options, against the physical limit of its plan (migrator.critical)."""

    conversations: int
    seconds: float  # the whole load, as the consultant waits for it
    limit: float  # the longest chain at 5 requests/s per conversation
    estimate: float  # what `load --dry-run` says beforehand
    decided_by: str  # the chain of the limit
    imports: int
    failed: int
    throttled: int
    peak_1s: int
    cpu_ms_per_request: float  # the loader's own CPU (all its threads) per request the emulator received

    @property
    def ratio(self) -> float:
        return self.limit / self.seconds

    @property
    def estimate_error(self) -> float:
        return abs(self.estimate - self.seconds) / self.seconds


def run_default(emulator: EmulatorProcess, plan_dir: Path, per_conversation: float = CHANNEL_RPS) -> MakespanRun:
    """`migrator load` as a new user runs it: default options, the client's default pacing; or, to test the
    scheduler at a scale this machine's CPU could not post at 5/s, every conversation paced at `per_conversation`
    (the emulator's channel_rps must say the same)."""
    manifest = Manifest.read(plan_dir)
    path = critical_path(manifest.teams, manifest.chats, rps=per_conversation)
    workers = concurrency(None, rps=per_conversation)
    _, estimated, _ = estimate(plan_dir, manifest, manifest.teams, None, workers, channel_rps=per_conversation)
    with (
        tempfile.TemporaryDirectory(prefix="bench-journal-") as scratch,
        Journal(Path(scratch) / "journal.sqlite") as journal,
        GraphClient(emulator.graph_config(), limiter=RateLimiter(per_key=per_conversation)) as client,
    ):
        journal.bind("bench")
        cpu = time.process_time()
        outcome = load(plan_dir, client, journal, LoadOptions(conversation_rps=per_conversation))
        cpu = time.process_time() - cpu
    stats = emulator.operator("stats")
    chain = path.longest
    return MakespanRun(
        conversations=len(outcome.conversations),
        seconds=outcome.seconds,
        limit=path.seconds,
        estimate=estimated,
        decided_by=f"{chain.name}: " + " then ".join(link[0] for link in (chain.first, chain.then) if link)
        if chain
        else "",
        imports=outcome.total("posted") + outcome.total("uploads"),
        failed=outcome.total("failed"),
        throttled=stats["totals"]["throttled"],
        peak_1s=stats["totals"]["peak_1s_max"],
        cpu_ms_per_request=1000 * cpu / max(1, stats["totals"]["requests"]),
    )


def run_raised(plan_dir: Path, directory: Path, per_channel: float, workers: int) -> LoadRun:
    """A generated workspace's plan against an emulator whose per-channel limit is raised to `per_channel`:
    what the loader itself costs per message once Graph's pacing is out of the way (the growth rows)."""
    with EmulatorProcess(directory=directory) as emulator:
        fresh(emulator, **raised_limits(per_channel))
        return run_ours(emulator, plan_dir, workers, per_channel)


def raised_limits(per_channel: float) -> dict[str, float]:
    """The emulator's limits with Graph's pacing out of the way: `per_channel` requests/s per channel, and the
    team and tenant limits raised with it."""
    return {
        "channel_rps": per_channel,
        "channel_writes_per_s": per_channel,
        "team_creates_per_s": per_channel,
        "team_reads_per_s": per_channel,
        "teams_calls_per_10s": per_channel * 1000,
    }


def run_naive(emulator: EmulatorProcess, plan_dir: Path) -> float:
    with (
        tempfile.TemporaryDirectory(prefix="bench-journal-") as scratch,
        Journal(Path(scratch) / "journal.sqlite") as journal,
        GraphClient(emulator.graph_config()) as client,
    ):
        journal.bind("bench")
        return naive_load(plan_dir, client, journal)
