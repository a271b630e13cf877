"""A delta pass keeps the plan lines of messages that landed unchanged instead of rendering them again (issue 27).

The sample workspace is migrated into the emulator over HTTPS; then a consultant maps Ada to another account and
plans the same export into the same folder. Teams holds Ada's messages as the first pass posted them, so the plan
describes them so: each one-part line without files of a landed message is the earlier line, while a message with
files, and any line a fresh transform plans, follow the new mappings. The report counts what a fresh transform
counts, and verify is clean.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from migratekit import NOW_MS, map_by_hand, migrate_sample, plan_sample
from migrator.earlier import CHECKSUMS, KEPT_ENTRY, RENDERED, VERSIONS, Planned, Versions, Where
from migrator.journal import Journal
from migrator.model import Message
from migrator.plan import Manifest
from migrator.sources import open_source
from migrator.stages.transform import transform
from migrator.stages.transform.kept import EARLIER_PLAN, KeptLines, set_aside
from migrator.stages.transform.planner import ChannelPlan, keyed_messages
from slackkit import SAMPLE
from test_delta import verify_again

ADA, OTHER = "U01ADA", "a0000000-0000-4000-8000-000000000005"  # Ada, and Katherine's account she is mapped to now
SOREN = "U08SOREN"  # posted through the fallback account in the first pass (the demo directory lacks him)
COUNTED = ("conversions", "unsupported", "mentions_as_text")  # the report's counts of what rendering converted


def plan_lines(plan_dir: Path) -> dict[str, bytes]:
    """Every line of a plan by key, as written."""
    manifest = Manifest.read(plan_dir)
    lines = {}
    for _, conversation in manifest.conversations():
        for raw in (plan_dir / conversation.file).read_bytes().splitlines():
            lines[orjson.loads(raw)["key"]] = raw
    return lines


def sample_keys(keep: Callable[[Message], bool]) -> set[str]:
    """The plan keys of the sample's messages `keep` chooses (plan keys say nothing of files or authors)."""
    source = open_source(SAMPLE)
    try:
        return {
            key
            for conversation in source.conversations()
            for key, message in keyed_messages(conversation, source.messages(conversation))
            if keep(message)
        }
    finally:
        source.close()


def with_files() -> set[str]:
    return sample_keys(lambda message: bool(message.files))


def one_part(lines: dict[str, bytes]) -> set[str]:
    return {key for key in lines if "/" not in key.split(":", 1)[1] and f"{key}/part-2" not in lines}


def counted(report: Any) -> list[Any]:
    return [report[name] for name in COUNTED]


def first_pass(emulator: Any, tmp_path: Path) -> tuple[Path, dict[str, bytes], Any]:
    """The sample migrated (every line landed); returns the folder, the plan's lines and its transform report."""
    work = tmp_path / "out"
    first = migrate_sample(emulator, SAMPLE, work)
    assert first.loaded.ok and first.verified.ok
    with Journal(work / "journal.sqlite", readonly=True) as journal:
        landed = {key for _, conv in Manifest.read(work / "plan").conversations() for key in journal.posted(conv.key)}
    lines = plan_lines(work / "plan")
    assert landed == set(lines)
    return work, lines, first.plan.report


def authored_by(lines: dict[str, bytes], person: str) -> set[str]:
    return sample_keys(lambda message: message.user == person) & lines.keys()


def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys `ChannelPlan._plan` renders from now on."""
    keys: list[str] = []
    render = ChannelPlan._plan

    def counting(self: ChannelPlan, conversation: Any, message: Any, key: str, *rest: Any) -> None:
        keys.append(key)
        render(self, conversation, message, key, *rest)

    monkeypatch.setattr(ChannelPlan, "_plan", counting)
    return keys


def mentions_as_text(work: Path) -> None:
    """migration.yaml says `mentions: text` from now on (the first pass posted real ones)."""
    yaml = work / "mappings" / "migration.yaml"
    text = yaml.read_text(encoding="utf-8")
    yaml.write_text(text.replace("\nteams:\n", "\ndefaults:\n  mentions: text\n\nteams:\n", 1), encoding="utf-8")


def test_a_delta_pass_renders_only_what_it_cannot_keep_and_counts_as_a_fresh_transform(
    emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing changed: the delta's plan is byte for byte a fresh transform's and its report counts the same, though
    it rendered only the messages with files and those split in parts."""
    work, before, report = first_pass(emulator, tmp_path)
    rendered = renders(monkeypatch)
    again = transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    assert set(rendered) == {key for key in one_part(before) if key in with_files()} | {
        key.split("/part-")[0] for key in before.keys() - one_part(before) if "/part-" in key
    }
    fresh = transform(SAMPLE, work / "mappings", tmp_path / "fresh", now_ms=NOW_MS)
    assert plan_lines(work / "plan") == plan_lines(tmp_path / "fresh") == before
    assert counted(again.report) == counted(fresh.report) == counted(report)
    assert again.report["authors"] == fresh.report["authors"]
    fates = again.report["ledger"]["fates"]
    assert fates["planned"] == 0 and fates["already-migrated"] == report["ledger"]["fates"]["planned"]
    assert not (work / "plan" / EARLIER_PLAN).exists()


def test_a_landed_line_is_kept_as_teams_holds_it_after_the_mentions_setting_changed(emulator, tmp_path: Path) -> None:
    """`mentions: text` after the first pass posted real mentions: a kept line still holds the real mention Teams
    has, so verify finds nothing wrong with it; a fresh transform would describe a bold name instead."""
    work, before, _ = first_pass(emulator, tmp_path)
    mentions_as_text(work)
    transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    transform(SAMPLE, work / "mappings", tmp_path / "fresh", now_ms=NOW_MS)
    after, rendered = plan_lines(work / "plan"), plan_lines(tmp_path / "fresh")
    keepable = one_part(before) - with_files()
    assert all(after[key] == before[key] for key in keepable)
    assert all(after[key] == rendered[key] for key in after.keys() - keepable)
    changed = {key for key in keepable if before[key] != rendered[key]}
    assert changed and all(b'"mentions":[{' in before[key] for key in changed)
    verified = verify_again(emulator, work)
    found = {f.key for c in verified.conversations for f in c.missing + c.duplicated + c.mismatched + c.unexpected}
    assert not found & keepable


def test_someone_mapped_otherwise_since_is_rendered_anew_and_the_others_kept(emulator, tmp_path: Path) -> None:
    """Ada mapped to another account, Søren from the fallback account to his own: their messages are rendered as
    the mappings say now (the report counts them so), everyone else's landed lines are kept."""
    work, before, _ = first_pass(emulator, tmp_path)
    map_by_hand(work / "mappings" / "users.csv", {ADA: OTHER, SOREN: OTHER})
    again = transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    fresh = transform(SAMPLE, work / "mappings", tmp_path / "fresh", now_ms=NOW_MS)
    after, rendered = plan_lines(work / "plan"), plan_lines(tmp_path / "fresh")
    theirs = authored_by(before, ADA) | authored_by(before, SOREN)
    assert authored_by(before, SOREN) and all(after[key] == rendered[key] != before[key] for key in theirs)
    assert all(after[key] == before[key] for key in one_part(before) - with_files() - theirs)
    assert again.report["authors"] == fresh.report["authors"]


def test_without_a_journal_nothing_is_known_to_have_landed_and_nothing_is_kept(tmp_path: Path) -> None:
    """Planned twice before any load, with Ada mapped otherwise in between: the second plan is the mappings' own."""
    plan_sample(SAMPLE, tmp_path)
    map_by_hand(tmp_path / "mappings" / "users.csv", {ADA: OTHER})
    transform(SAMPLE, tmp_path / "mappings", tmp_path / "plan", now_ms=NOW_MS)
    transform(SAMPLE, tmp_path / "mappings", tmp_path / "fresh", now_ms=NOW_MS)
    assert plan_lines(tmp_path / "plan") == plan_lines(tmp_path / "fresh")


def test_a_plan_file_changed_since_its_transform_keeps_none_of_its_lines(emulator, tmp_path: Path) -> None:
    """A plan file another hand touched (its modification time is not the one versions.json recorded) is not where
    versions.json says the lines are: its messages are rendered; the other conversations' lines are kept."""
    work, before, _ = first_pass(emulator, tmp_path)
    mentions_as_text(work)
    manifest = Manifest.read(work / "plan")
    touched = next(conv for _, conv in manifest.conversations() if conv.key == "northwind-labs/General")
    path = work / "plan" / touched.file
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    transform(SAMPLE, work / "mappings", tmp_path / "fresh", now_ms=NOW_MS)
    after, rendered = plan_lines(work / "plan"), plan_lines(tmp_path / "fresh")
    mine = {orjson.loads(raw)["key"] for raw in (work / "plan" / touched.file).read_bytes().splitlines()}
    assert any(before[key] != rendered[key] for key in mine) and all(after[key] == rendered[key] for key in mine)
    kept = one_part(before) - with_files() - mine
    assert any(after[key] != rendered[key] for key in kept) and all(after[key] == before[key] for key in kept)


def test_a_landed_message_rendered_anew_is_never_kept_as_if_teams_held_it(emulator, tmp_path: Path) -> None:
    """General's plan file touched, then planned with `mentions: text`: its landed messages are rendered anew, which
    is not what Teams holds. With real mentions back, the next pass renders them again (as the first pass did)
    instead of keeping the text form Teams never received."""
    work, before, _ = first_pass(emulator, tmp_path)
    yaml = work / "mappings" / "migration.yaml"
    original = yaml.read_text(encoding="utf-8")
    mentions_as_text(work)
    general = next(c for _, c in Manifest.read(work / "plan").conversations() if c.key == "northwind-labs/General")
    path = work / "plan" / general.file
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    mine = {orjson.loads(raw)["key"] for raw in path.read_bytes().splitlines()}
    second = plan_lines(work / "plan")
    assert any(second[key] != before[key] for key in mine)
    yaml.write_text(original, encoding="utf-8")
    transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    third = plan_lines(work / "plan")
    assert all(third[key] == before[key] for key in mine)


def test_a_transform_killed_midway_leaves_the_earlier_plan_for_the_next_to_keep(emulator, tmp_path: Path) -> None:
    """kill -9 once the plan files were set aside and a new one written in General's place (the old manifest still
    in place): the next transform keeps the same lines from the set-aside files, not from the killed run's, and
    removes the folder."""
    work, before, _ = first_pass(emulator, tmp_path)
    mentions_as_text(work)
    manifest = Manifest.read(work / "plan")
    set_aside(work / "plan", manifest)
    general = next(conv for _, conv in manifest.conversations() if conv.key == "northwind-labs/General")
    (work / "plan" / general.file).write_bytes(b'{"key":"written by the killed run"}\n')
    set_aside(work / "plan", manifest)  # what the next transform does first
    assert (work / "plan" / EARLIER_PLAN / general.file).read_bytes() != b'{"key":"written by the killed run"}\n'
    transform(SAMPLE, work / "mappings", work / "plan", now_ms=NOW_MS)
    after = plan_lines(work / "plan")
    assert all(after[key] == before[key] for key in one_part(before) - with_files())
    assert not (work / "plan" / EARLIER_PLAN).exists()


def test_versions_pointing_anywhere_but_the_line_keep_nothing(tmp_path: Path) -> None:
    """Where versions.json says a line is, the line there must be that key's, posted as the same person, with its
    request fields whole where it says; anything else keeps nothing, and nothing crashes."""
    line = b'{"key":"C1:1","kind":"root","root_key":null,"createdDateTime":"2024-01-01T00:00:00.000Z",'
    fields = b'"from":{"user":{"id":"u"}},"body":{"contentType":"html","content":"hi"}'
    folder = tmp_path / EARLIER_PLAN
    folder.mkdir()
    (folder / "c.jsonl").write_bytes(b"{}\n" + line + fields + b',"note":"moved"}\n')
    stat = (folder / "c.jsonl").stat()
    good = [3, len(line), len(fields)]
    footprints = [[["links"], [["mentions", "user groups"]]]]

    def take(key: str, where: list[Any], footprint: Any = 0, **changed: Any) -> Any:
        planned = Planned.from_json(
            {
                "checksums": CHECKSUMS,
                "messages": {key: ["t/c", 7, 0, footprint, *where]},
                "footprints": changed.get("footprints", footprints),
                "plans": changed.get("plans", {"t/c": ["c.jsonl", stat.st_size, stat.st_mtime_ns]}),
            }
        )
        versions = Versions(None, planned)
        versions.now[key] = ["t/c", 7, 0]
        head = changed.get("head", b'"from":{"user":{"id":"u"}}')
        return KeptLines(folder, planned).line(versions, "t/c", key, head)

    kept = take("C1:1", good)
    assert kept is not None and kept[0] == fields and kept[1].features == {"links"}
    assert kept[1].counted == (("mentions", "user groups"),)
    assert take("C1:2", good) is None  # another key's line
    assert take("C1:1", good, head=b'"from":{"user":{"id":"v"}}') is None  # posted as someone else
    assert take("C1:1", [0, len(line), len(fields)]) is None
    assert take("C1:1", [3, len(line) + 1, len(fields)]) is None
    assert take("C1:1", [3, len(line), len(fields) - 3]) is None  # the fields cut short
    assert take("C1:1", [3, len(line), 10**9]) is None
    assert take("C1:1", [3, "x", len(fields)]) is None
    assert take("C1:1", good, footprint=5) is None
    assert take("C1:1", good, footprint="0") is None
    assert take("C1:1", good, footprints=5) is None
    assert take("C1:1", good, footprints=[["links"]]) is None
    assert take("C1:1", good, plans=[]) is None
    assert take("C1:1", good, plans={"t/c": ["c.jsonl", stat.st_size + 1, stat.st_mtime_ns]}) is None
    assert take("C1:1", good, plans={"t/c": ["../c.jsonl", stat.st_size, stat.st_mtime_ns]}) is None


def test_versions_json_says_where_each_one_part_line_is(tmp_path: Path) -> None:
    """The positions a transform records are those of the lines it wrote: each points at its own line's request
    fields (a message with files or in parts has none)."""
    planned = plan_sample(SAMPLE, tmp_path)
    versions = orjson.loads((planned.plan_dir / VERSIONS).read_bytes())
    files = {conv.key: (planned.plan_dir / conv.file).read_bytes() for _, conv in planned.manifest.conversations()}
    placed = 0
    for key, entry in versions["messages"].items():
        if len(entry) == KEPT_ENTRY:
            where = Where(*entry[RENDERED:])
            data = files[entry[0]]
            line = data[where.line : data.index(b"\n", where.line)]
            assert orjson.loads(line)["key"] == key
            assert line[where.fields : where.fields + where.length].startswith(b'"from":')
            placed += 1
    assert placed > len(versions["messages"]) / 2
