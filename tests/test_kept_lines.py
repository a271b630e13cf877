"""A delta pass keeps the plan lines of messages that landed unchanged instead of rendering them again (issue 27).

The sample workspace is migrated into the emulator over HTTPS; then a consultant maps Ada to another account and
plans the same export into the same folder. Teams holds Ada's messages as the first pass posted them, so the plan
describes them so: each one-part line without files of a landed message is the earlier line, while a message with
files, and any line a fresh transform plans, follow the new mappings. The report counts what a fresh transform
counts, and verify is clean.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from migratekit import NOW_MS, map_by_hand, migrate_sample
from migrator.earlier import VERSIONS, Planned, Versions, Where
from migrator.journal import Journal
from migrator.plan import Manifest
from migrator.sources import open_source
from migrator.stages.transform import transform
from migrator.stages.transform.kept import EARLIER_PLAN, KeptLines, set_aside
from migrator.stages.transform.planner import keyed_messages
from slackkit import SAMPLE
from test_delta import verify_again

ADA, OTHER = "U01ADA", "a0000000-0000-4000-8000-000000000005"  # Ada, and Katherine's account she is mapped to now
COUNTED = ("conversions", "unsupported", "mentions_as_text")  # the report's counts of what rendering converted


def plan_lines(plan_dir: Path) -> dict[str, bytes]:
    """Every line of a plan by key, as written."""
    manifest = Manifest.read(plan_dir)
    lines = {}
    for _, conversation in manifest.conversations():
        for raw in (plan_dir / conversation.file).read_bytes().splitlines():
            lines[orjson.loads(raw)["key"]] = raw
    return lines


def with_files() -> set[str]:
    """The plan keys of the sample's messages that carry files."""
    source = open_source(SAMPLE)
    try:
        return {
            key
            for conversation in source.conversations()
            for key, message in keyed_messages(conversation, source.messages(conversation))
            if message.files
        }
    finally:
        source.close()


def one_part(lines: dict[str, bytes]) -> set[str]:
    return {key for key in lines if "/" not in key.split(":", 1)[1] and f"{key}/part-2" not in lines}


def counted(report: Any) -> list[Any]:
    return [report[name] for name in COUNTED]


def remapped_first_pass(emulator: Any, tmp_path: Path) -> tuple[Path, dict[str, bytes], Any]:
    """The sample migrated (all landed), then Ada mapped to another account; returns the folder, the first pass's
    plan lines and its transform report."""
    work = tmp_path / "out"
    first = migrate_sample(emulator, SAMPLE, work)
    assert first.loaded.ok and first.verified.ok
    with Journal(work / "journal.sqlite", readonly=True) as journal:
        landed = {key for _, conv in Manifest.read(work / "plan").conversations() for key in journal.posted(conv.key)}
    lines = plan_lines(work / "plan")
    assert landed == set(lines)
    map_by_hand(work / "mappings" / "users.csv", {ADA: OTHER})
    return work, lines, first.plan.report


def test_a_delta_pass_keeps_the_landed_lines_as_teams_holds_them_and_counts_as_a_fresh_transform(
    emulator, tmp_path: Path
) -> None:
    work, before, report = remapped_first_pass(emulator, tmp_path)
    again = transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    fresh = transform(SAMPLE, work / "mappings", tmp_path / "fresh", now_ms=NOW_MS)
    after, rendered = plan_lines(work / "plan"), plan_lines(tmp_path / "fresh")
    keepable = one_part(before) - with_files()
    assert after.keys() == before.keys() == rendered.keys()
    assert {key for key in after if after[key] == before[key]} >= keepable
    assert all(after[key] == rendered[key] for key in after.keys() - keepable)
    remapped = {key for key in keepable if before[key] != rendered[key]}  # Ada's, and her real mentions
    assert remapped and all(after[key] == before[key] for key in remapped)
    assert all(OTHER.encode() in rendered[key] for key in remapped)
    assert counted(again.report) == counted(fresh.report) == counted(report)
    fates = again.report["ledger"]["fates"]
    assert fates["planned"] == 0 and fates["already-migrated"] == report["ledger"]["fates"]["planned"]
    assert not (work / "plan" / EARLIER_PLAN).exists()
    verified = verify_again(emulator, work)
    found = {f.key for c in verified.conversations for f in c.missing + c.duplicated + c.mismatched + c.unexpected}
    # Verify reads a chat as its planned members see it, and Ada's DMs now name another account; in channels, only
    # her message with files is rendered anew (and differs from what landed): the kept lines are what Teams holds.
    channels = {key for key in remapped if key.startswith("C")}
    assert channels and not found & channels
    mismatched = {f.key for c in verified.conversations for f in c.mismatched if c.key.startswith("northwind")}
    assert mismatched <= with_files()


def test_a_plan_file_changed_since_its_transform_keeps_none_of_its_lines(emulator, tmp_path: Path) -> None:
    """A plan file another hand touched (its modification time is not the one versions.json recorded) is not where
    versions.json says the lines are: its messages are rendered; the other conversations' lines are kept."""
    work, before, _ = remapped_first_pass(emulator, tmp_path)
    manifest = Manifest.read(work / "plan")
    touched = next(conv for _, conv in manifest.conversations() if conv.key == "northwind-labs/General")
    path = work / "plan" / touched.file
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    transform(SAMPLE, work / "mappings", tmp_path / "fresh", now_ms=NOW_MS)
    after, rendered = plan_lines(work / "plan"), plan_lines(tmp_path / "fresh")
    mine = {orjson.loads(raw)["key"] for raw in (work / "plan" / touched.file).read_bytes().splitlines()}
    assert mine and all(after[key] == rendered[key] for key in mine)
    kept = one_part(before) - with_files() - mine
    assert any(after[key] != rendered[key] for key in kept) and all(after[key] == before[key] for key in kept)


def test_a_transform_killed_after_setting_the_earlier_plan_aside_still_keeps_its_lines(
    emulator, tmp_path: Path
) -> None:
    """kill -9 after the plan files were set aside (the old manifest still in place): the next transform finds them
    there, keeps the same lines, and removes the folder."""
    work, before, _ = remapped_first_pass(emulator, tmp_path)
    set_aside(work / "plan", Manifest.read(work / "plan"))
    assert (work / "plan" / EARLIER_PLAN).is_dir()
    transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    after = plan_lines(work / "plan")
    assert all(after[key] == before[key] for key in one_part(before) - with_files())
    assert not (work / "plan" / EARLIER_PLAN).exists()


def test_versions_pointing_anywhere_but_the_line_keep_nothing(tmp_path: Path) -> None:
    """Where versions.json says a line is, the line there must start with that key and its request fields where it
    says; a wrong number, a footprint it lacks, a plan file of another size keep nothing, and nothing crashes."""
    line = b'{"key":"C1:1","kind":"root","root_key":null,"createdDateTime":"2024-01-01T00:00:00.000Z",'
    fields = b'"from":{"user":{"id":"u"}},"body":{"contentType":"html","content":"hi"}'
    folder = tmp_path / EARLIER_PLAN
    folder.mkdir()
    (folder / "c.jsonl").write_bytes(b"{}\n" + line + fields + b"}\n")
    stat = (folder / "c.jsonl").stat()
    good = [3, len(line), len(fields)]

    def take(key: str, where: list[Any], footprint: int = 0, size: int = stat.st_size) -> Any:
        planned = Planned(
            messages={key: ["t/c", 7, 0, footprint, *where]},
            footprints=[[["links"], [["mentions", "user groups"]]]],
            plans={"t/c": ["c.jsonl", size, stat.st_mtime_ns]},
        )
        versions = Versions(None, planned)
        versions.now[key] = ["t/c", 7, 0]
        return KeptLines(folder, planned).line(versions, "t/c", key)

    kept = take("C1:1", good)
    assert kept is not None and kept[0] == fields and kept[1].features == ("links",)
    assert kept[1].counted == (("mentions", "user groups"),)
    assert take("C1:2", good) is None  # another key's line
    assert take("C1:1", [0, len(line), len(fields)]) is None
    assert take("C1:1", [3, len(line) + 1, len(fields)]) is None
    assert take("C1:1", [3, len(line), 10**9]) is None
    assert take("C1:1", [3, "x", len(fields)]) is None
    assert take("C1:1", good, footprint=5) is None
    assert take("C1:1", good, size=stat.st_size + 1) is None
    assert Where(*good) == (3, len(line), len(fields))


def test_versions_json_says_where_each_one_part_line_is(tmp_path: Path) -> None:
    """The positions a transform records are those of the lines it wrote: each points at its own line's request
    fields (a message with files or in parts has none)."""
    from migratekit import plan_sample

    planned = plan_sample(SAMPLE, tmp_path)
    versions = orjson.loads((planned.plan_dir / VERSIONS).read_bytes())
    files = {conv.key: (planned.plan_dir / conv.file).read_bytes() for _, conv in planned.manifest.conversations()}
    placed = 0
    for key, entry in versions["messages"].items():
        if len(entry) == 7:
            where = Where(*entry[4:])
            data = files[entry[0]]
            line = data[where.line : data.index(b"\n", where.line)]
            assert orjson.loads(line)["key"] == key
            assert line[where.fields : where.fields + where.length].startswith(b'"from":')
            placed += 1
    assert placed > len(versions["messages"]) / 2
