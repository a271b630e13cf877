"""The ledger (PLAN_DIR/ledger.jsonl): every source record has exactly one line, counted here from the export's own
files, never through the readers."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migratekit import plan_sample
from migrator.ledger import has_record, read_ledger
from migrator.stages.analyse import run_analyse
from tests.slackkit import REPO

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLES = REPO / "sample_data"
REFUSED = {"slackdump-archive", "teams-other-tool"}  # other tools' exports: refused with advice, never read
EXPORTS = [SAMPLES / kind for kind in ("slack", "slack-grid", "mattermost", "discord", "teams")] + sorted(
    p for p in FIXTURES.iterdir() if p.is_dir() and p.name not in REFUSED
)
_DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")


def count_records(export: Path) -> int:
    """The message records an export holds, read straight from its files by the format's own shape."""
    files = [p for p in export.rglob("*") if p.is_file()]
    if any(p.name == "channels.json" for p in files):  # Slack: a list of messages per day file
        return sum(len(json.loads(p.read_text(encoding="utf-8"))) for p in files if _DAY_FILE.fullmatch(p.name))
    lines = [_parsed(line) for p in files if p.suffix in {".json", ".jsonl"} for line in _lines_of(p)]
    if any(line.get("type") == "version" for line in lines):  # Mattermost: posts with their replies inside
        posts = [line[line["type"]] for line in lines if line.get("type") in {"post", "direct_post"}]
        return sum(1 + len(post.get("replies") or []) for post in posts) + sum(line == {} for line in lines)
    if any("guild" in line for line in lines):  # Discord: one object per channel file
        return sum(len(line["messages"]) for line in lines if "guild" in line)
    return sum(1 for p in files if p.suffix == ".jsonl" for _ in _lines_of(p))  # Teams: a chatMessage per line


def _parsed(line: str) -> dict[str, Any]:
    """A JSON object; {} for a line that is not one (a record of its own, which the reader quarantines)."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _lines_of(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".json" and not text.lstrip().startswith('{"type"'):
        return [text]  # one JSON document
    return [line for line in text.splitlines() if line.strip()]


def assert_identity(export: Path, work: Path) -> list[dict[str, Any]]:
    """The identity on one export: a line per record counted from its files; per conversation, the lines of
    the records the reader yielded equal the inventory's messages; the report's totals balance."""
    inventory = run_analyse(export, work / "analysis")
    result = plan_sample(export, work)
    ledger = list(read_ledger(result.plan_dir))
    assert sum(has_record(line) for line in ledger) == count_records(export)
    yielded = Counter(line["conversation"] for line in ledger if line["fate"] in {"planned", "archived", "skipped"})
    assert yielded == Counter({c["id"]: c["messages"] for c in inventory["channels"] if c["messages"]})
    totals = result.report["ledger"]
    assert totals["balanced"] and totals["read"] == inventory["totals"]["messages"]
    assert totals["records"] == sum(has_record(line) for line in ledger)
    assert Counter(line["fate"] for line in ledger) == Counter({k: v for k, v in totals["fates"].items() if v})
    places = Counter((line["file"], line["item"], line["id"]) for line in ledger)
    assert max(places.values()) == 1, "a record has one line"
    return ledger  # type: ignore[return-value]


@pytest.mark.parametrize("export", EXPORTS, ids=lambda p: p.name)
def test_every_source_record_has_one_line(tmp_path: Path, export: Path) -> None:
    assert_identity(export, tmp_path)


def test_the_fates_of_a_sample_say_where_each_record_went(tmp_path: Path) -> None:
    """Mattermost's sample: planned records name their plan keys (and a reply its thread); the private channel and
    the DMs, whose people have no Entra account, are archived."""
    ledger = assert_identity(SAMPLES / "mattermost", tmp_path)
    planned = [line for line in ledger if line["fate"] == "planned"]
    keys = {key for line in planned for key in line["keys"]}
    plan_keys = {
        json.loads(raw)["key"]
        for path in (tmp_path / "plan").rglob("*.jsonl")
        if path.name != "ledger.jsonl" and "archive" not in path.parts
        for raw in path.read_text(encoding="utf-8").splitlines()
    }
    assert keys <= plan_keys and len(keys) == len(planned)
    replies = [line for line in planned if "thread" in line]
    by_id = {(line["conversation"], line["id"]) for line in ledger}
    assert len(replies) == 12 and all((line["conversation"], line["thread"]) in by_id for line in replies)
    archived = [line for line in ledger if line["fate"] == "archived"]
    assert len(archived) == 10 and all((tmp_path / "plan" / line["page"]).is_file() for line in archived)


def test_a_message_exported_twice_is_a_duplicate_of_the_first(tmp_path: Path) -> None:
    ledger = assert_identity(FIXTURES / "discord-duplicate-message", tmp_path)
    [duplicate] = [line for line in ledger if line["fate"] == "duplicate"]
    assert (duplicate["item"], duplicate["of"]["item"], duplicate["id"]) == (2, 1, "1200000000000000002")


def _mattermost(posts: list[tuple[int, int, bool]]) -> list[dict[str, Any]]:
    """A bulk export: one channel, and per post (minute, replies, is a system message)."""
    lines: list[dict[str, Any]] = [
        {"type": "version", "version": 1},
        {"type": "team", "team": {"name": "acme", "display_name": "Acme", "type": "O"}},
        {"type": "channel", "channel": {"team": "acme", "name": "general", "display_name": "General", "type": "O"}},
        {"type": "user", "user": {"username": "ada", "email": "ada@example.com"}},
    ]
    for number, (minute, replies, system) in enumerate(posts):
        at = 1_704_103_200_000 + minute * 60_000
        post = {
            "team": "acme",
            "channel": "general",
            "user": "ada",
            "message": f"post {number}",
            "create_at": at,
            "type": "system_join_channel" if system else "",
            "replies": [{"user": "ada", "message": "re", "create_at": at + 1 + r} for r in range(replies)],
        }
        lines.append({"type": "post", "post": post})
    return lines


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.booleans()), min_size=1, max_size=8),
    st.booleans(),
)
def test_the_identity_holds_for_any_threads_times_and_system_messages(
    tmp_path_factory: pytest.TempPathFactory, posts: list[tuple[int, int, bool]], broken_line: bool
) -> None:
    """Roots sharing a minute, replies, system messages (skipped or kept) and a line that is not JSON."""
    export = tmp_path_factory.mktemp("export")
    text = "".join(json.dumps(line) + "\n" for line in _mattermost(posts))
    (export / "import.jsonl").write_text(text + ("{not json\n" if broken_line else ""), encoding="utf-8")
    ledger = assert_identity(export, tmp_path_factory.mktemp("work"))
    assert sum(line["fate"] == "quarantined" for line in ledger) == broken_line
