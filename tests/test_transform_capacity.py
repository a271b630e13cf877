"""transform keeps messages within Teams' per-message limits, and load counts a team's channels before creating any
(docs/graph-contract.md#capacity-limits), both against the emulator, which enforces every limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacitykit import workspace
from migrator.emulator.models import DAY_MS
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.mapping import run_map
from migrator.plan import Manifest
from migrator.stages.load import LoadOptions, TeamFullError, load
from migrator.stages.load.reset import channel_reset, reset_channel
from migrator.stages.transform import transform
from migrator.target import Target as GraphTarget
from migrator.timestamps import parse_ms
from tests.transformkit import assert_plan_rules, plan_lines

NOW = parse_ms("2026-01-01T00:00:00.000Z")
FALLBACK = "migration@contoso.example"


def demo_lookup(mail: str):
    """Only the emulator's migration account is in the directory: everyone posts through the fallback."""
    return {"id": "a0000000-0000-4000-8000-000000000001", "mail": mail} if mail == FALLBACK else None


def planned(tmp_path: Path, **export: object) -> tuple[Path, dict[str, list[dict]]]:
    source = workspace(tmp_path / "export", **export)  # type: ignore[arg-type]
    run_map(source, tmp_path / "map", demo_lookup, fallback=FALLBACK)
    result = transform(source, tmp_path / "map", tmp_path / "plan", now_ms=NOW)
    assert_plan_rules(tmp_path / "plan", NOW)
    return tmp_path / "plan", {"report": [dict(result.report)], **plan_lines(tmp_path / "plan")}


def loaded(emulator, plan: Path, journal: Path):
    emulator.operator("config", {"channel_rps": 10_000, "channel_writes_per_s": 10_000})
    with Journal(journal) as j, GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        j.bind(GraphTarget(emulator.graph_config(), None).fingerprint)
        return load(plan, client, j, LoadOptions(workers=2))


def test_ten_files_stay_on_one_message(tmp_path: Path) -> None:
    _, lines = planned(tmp_path, public=["docs"], files={"docs": 10})
    (line,) = lines["export/docs"]
    assert len(line["attachments"]) == 10
    assert lines["report"][0]["split"] == []


def test_eleven_files_put_the_eleventh_in_a_follow_up_part_counted_and_loaded(emulator, tmp_path: Path) -> None:
    plan, lines = planned(tmp_path, public=["docs"], files={"docs": 11})
    first, follow_up = lines["export/docs"]
    assert (len(first["attachments"]), len(follow_up["attachments"])) == (10, 1)
    assert follow_up["attachments"][0]["name"] == "file10.txt"
    assert (
        "(file 11 of 11 of the message above: Teams takes at most 10 on one message)" in (follow_up["body"]["content"])
    )
    assert (first["kind"], follow_up["kind"], follow_up["root_key"]) == ("root", "reply", first["key"])  # as parts
    report = lines["report"][0]
    assert report["split"] == [{"key": first["key"], "parts": 2, "bytes": report["split"][0]["bytes"], "files": 1}]
    assert report["lines"]["split_extra"] == 1 and report["lines"]["balanced"]
    assert report["conversions"]["files_over_limit"] == 1
    outcome = loaded(emulator, plan, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.total("posted") == 2


def test_files_beyond_twice_the_limit_need_two_follow_ups(tmp_path: Path) -> None:
    _, lines = planned(tmp_path, public=["docs"], files={"docs": 21})
    assert [len(line["attachments"]) for line in lines["export/docs"]] == [10, 10, 1]
    assert "(files 11–20 of 21 of" in lines["export/docs"][1]["body"]["content"]
    assert lines["report"][0]["split"][0]["files"] == 11


def test_load_counts_channels_deleted_in_the_last_30_days_before_creating_any(emulator, tmp_path: Path) -> None:
    source = workspace(tmp_path / "export", public=["a", "b"], messages={"a": 2, "b": 1})
    run_map(source, tmp_path / "map", demo_lookup, fallback=FALLBACK)
    migration = tmp_path / "map" / "migration.yaml"
    text = migration.read_text(encoding="utf-8")
    migration.write_text(text.replace("teams:\n", "defaults:\n  limits:\n    channels_per_team: 3\nteams:\n", 1))
    plan, journal = tmp_path / "plan", tmp_path / "journal.sqlite"
    transform(source, tmp_path / "map", plan, now_ms=NOW)
    assert Manifest.read(plan).capacity.channels_per_team == 3
    emulator.operator("config", {"capacity": {"channels_per_team": 3}})
    assert loaded(emulator, plan, journal).ok  # General, a and b: exactly the limit
    with Journal(journal) as j, GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        assert reset_channel(client, j, channel_reset(Manifest.read(plan), j, "export/a"))
    with pytest.raises(TeamFullError) as full:
        loaded(emulator, plan, journal)
    message = str(full.value)
    assert (
        "team 'export' has no room for the plan's channels: it holds 2 channels and 1 deleted in the last 30 days"
        in (message)
    )
    assert "the plan's 1 new channels would make 4; Teams allows 3 (limit channels_per_team)" in message
    assert "No channel of it was created by this run" in message and "when the oldest deleted channel" in message
    assert full.value.exit_code == 2
    with Journal(journal) as j:  # 31 days later, for the journal and for Teams (the emulator's clock)
        j._db.execute("UPDATE deleted_channels SET deleted_ms = deleted_ms - ?", (31 * DAY_MS,))
    emulator.operator("config", {"clock_offset_ms": 31 * DAY_MS})
    outcome = loaded(emulator, plan, journal)
    assert outcome.ok and outcome.total("posted") == 2  # channel a again; b was already complete
