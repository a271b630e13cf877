"""Issue 27's invariant, as a property: for any split of a workspace's history into a first export and a later
one, a first pass then a delta pass lands in Teams the same messages with the same threading as one pass of the
later export (no edits or deletes here: those are listed, not applied, and test_delta.py checks them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migratekit import NOW_MS, migrate_sample
from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.stages.load import LoadOptions, load
from migrator.stages.transform import transform
from migrator.target import Target
from slackkit import write_export

USERS = [
    {"id": "U1", "name": "ada", "real_name": "Ada Lovelace", "profile": {"email": "ada@contoso.example"}},
    {"id": "U2", "name": "grace", "real_name": "Grace Hopper", "profile": {"email": "grace@contoso.example"}},
]
CHANNELS = [
    {"id": "C1", "name": "general", "created": 1700000000, "is_general": True, "members": ["U1", "U2"]},
    {"id": "C2", "name": "dev", "created": 1700000100, "members": ["U1", "U2"]},
]
START = 1700006400

# Per channel, each message in time order: None for a thread root (or a lone message), else the index of the root
# it replies to.
History = list[list[int | None]]


@st.composite
def histories(draw: st.DrawFn) -> tuple[History, float]:
    channels: History = []
    for _ in CHANNELS:
        messages: list[int | None] = []
        for _ in range(draw(st.integers(0, 8))):
            roots = [index for index, root in enumerate(messages) if root is None]
            reply = bool(roots) and draw(st.booleans())
            messages.append(draw(st.sampled_from(roots)) if reply else None)
        channels.append(messages)
    return channels, draw(st.floats(0.0, 1.0))


def export(root: Path, history: History, cut: float | None) -> Path:
    """The workspace with every message of `history`, or only each channel's first `cut` share of them."""
    files: dict[str, Any] = {"users.json": USERS, "channels.json": CHANNELS}
    for number, (channel, messages) in enumerate(zip(CHANNELS, history, strict=True)):
        kept = len(messages) if cut is None else round(cut * len(messages))
        records = []
        for index, parent in enumerate(messages[:kept]):
            ts = f"{START + index * 60}.{number + 1:06d}"
            record = {"type": "message", "user": f"U{index % 2 + 1}", "text": f"message {index}", "ts": ts}
            if parent is not None or index in messages:
                record["thread_ts"] = f"{START + (index if parent is None else parent) * 60}.{number + 1:06d}"
            records.append(record)
        files[f"{channel['name']}/2023-11-15.json"] = records
    return write_export(root, files, base=False)


def landed(emulator: EmulatorProcess) -> set[tuple[str, str, str | None]]:
    """(channel, message, the root it is under) of every message in the team, by content."""
    found = set()
    for channel in emulator.operator("dump")["teams"][0]["channels"]:
        assert channel["migrationMode"] == "completed"
        for root in channel["messages"]:
            found.add((channel["displayName"], root["body"]["content"], None))
            found |= {(channel["displayName"], r["body"]["content"], root["body"]["content"]) for r in root["replies"]}
    return found


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories())
def test_a_first_pass_and_a_delta_land_what_one_pass_of_the_later_export_lands(
    emulator, tmp_path_factory, case: tuple[History, float]
) -> None:
    history, cut = case
    tmp = tmp_path_factory.mktemp("split")
    emulator.operator("reset", {})
    work = tmp / "delta"
    migrate_sample(emulator, export(tmp / "early" / "acme", history, cut), work)
    transform(export(tmp / "late" / "acme", history, None), work / "mappings", work / "plan", now_ms=NOW_MS)
    with (
        Journal(work / "journal.sqlite") as journal,
        GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client,
    ):
        journal.bind(Target(emulator.graph_config(), None).fingerprint)
        assert load(work / "plan", client, journal, LoadOptions(workers=4)).ok
    in_two_passes = landed(emulator)

    emulator.operator("reset", {})
    once = migrate_sample(emulator, export(tmp / "once" / "acme", history, None), tmp / "once-out")
    assert once.loaded.ok
    assert in_two_passes == landed(emulator)
    assert len(in_two_passes) == sum(len(messages) for messages in history)
