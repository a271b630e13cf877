"""Issue 27's invariant, as a property: for any split of a workspace's history into a first export and a later
one, a first pass then a delta pass lands in Teams the same messages with the same threading as one pass of the
later export, except the messages of the first export edited or deleted in the later one: Teams keeps them as the
first pass imported them, and transform lists exactly those."""

from __future__ import annotations

import json
import re
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
# it replies to; and what the later export did to it: None, EDIT or DELETE (only a message without replies).
EDIT, DELETE = "edit", "delete"
History = list[list[tuple[int | None, str | None]]]
Landed = dict[tuple[str, int], tuple[bool, int | None]]  # (channel, message) -> (edited text?, its root)


@st.composite
def histories(draw: st.DrawFn) -> tuple[History, float]:
    channels: History = []
    for _ in CHANNELS:
        messages: list[int | None] = []
        for _ in range(draw(st.integers(0, 8))):
            roots = [index for index, root in enumerate(messages) if root is None]
            reply = bool(roots) and draw(st.booleans())
            messages.append(draw(st.sampled_from(roots)) if reply else None)
        changes = [draw(st.sampled_from([None, None, EDIT, DELETE])) for _ in messages]
        # a root with replies is never deleted: its replies would be planned under a stand-in root of their own
        kept = [None if change == DELETE and index in messages else change for index, change in enumerate(changes)]
        channels.append(list(zip(messages, kept, strict=True)))
    return channels, draw(st.floats(0.0, 1.0))


def first_share(messages: list[Any], cut: float) -> int:
    return round(cut * len(messages))


def export(root: Path, history: History, cut: float | None) -> Path:
    """The later export (`cut` None: every message, with its changes), or the first: each channel's first `cut`
    share of its messages, as they were written."""
    files: dict[str, Any] = {"users.json": USERS, "channels.json": CHANNELS}
    for number, (channel, messages) in enumerate(zip(CHANNELS, history, strict=True)):
        kept = len(messages) if cut is None else first_share(messages, cut)
        roots = [parent for parent, _ in messages]
        records = []
        for index, (parent, change) in enumerate(messages[:kept]):
            if cut is None and change == DELETE:
                continue
            ts = f"{START + index * 60}.{number + 1:06d}"
            text = f"message {index}" + (" edited" if cut is None and change == EDIT else "")
            record: dict[str, Any] = {"type": "message", "user": f"U{index % 2 + 1}", "text": text, "ts": ts}
            if cut is None and change == EDIT:
                record["edited"] = {"user": "U1", "ts": str(START + 86400)}
            if parent is not None or index in roots:
                record["thread_ts"] = f"{START + (index if parent is None else parent) * 60}.{number + 1:06d}"
            records.append(record)
        files[f"{channel['name']}/2023-11-15.json"] = records
    return write_export(root, files, base=False)


def landed(emulator: EmulatorProcess) -> Landed:
    """Every message in the team by channel and number, whether its text is the edited one, and its root's number."""
    found: Landed = {}
    for channel in emulator.operator("dump")["teams"][0]["channels"]:
        assert channel["migrationMode"] == "completed"
        for root in channel["messages"]:
            number = _number(root)
            found[(channel["displayName"], number)] = ("edited" in root["body"]["content"], None)
            for reply in root["replies"]:
                found[(channel["displayName"], _number(reply))] = ("edited" in reply["body"]["content"], number)
    return found


def _number(message: dict[str, Any]) -> int:
    match = re.search(r"message (\d+)", message["body"]["content"])
    assert match, message["body"]["content"]
    return int(match.group(1))


def expected_after_two_passes(once: Landed, history: History, cut: float) -> Landed:
    """What one pass of the later export lands, with the first export's edited messages as first imported and its
    deleted ones still there."""
    expected = dict(once)
    for channel, messages in zip(CHANNELS, history, strict=True):
        name = "General" if channel.get("is_general") else channel["name"]
        for index, (parent, change) in enumerate(messages[: first_share(messages, cut)]):
            if change in (EDIT, DELETE):
                expected[(name, index)] = (False, parent)
    return expected


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
    changes = json.loads((work / "plan" / "transform-report.json").read_text(encoding="utf-8"))["changes"]

    emulator.operator("reset", {})
    once = migrate_sample(emulator, export(tmp / "once" / "acme", history, None), tmp / "once-out")
    assert once.loaded.ok
    assert in_two_passes == expected_after_two_passes(landed(emulator), history, cut)
    listed = {(c["kind"], c["id"]) for c in changes}
    assert listed == {
        ("edited" if change == EDIT else "deleted", f"C{number + 1}:{START + index * 60}.{number + 1:06d}")
        for number, messages in enumerate(history)
        for index, (_, change) in enumerate(messages[: first_share(messages, cut)])
        if change is not None
    }
