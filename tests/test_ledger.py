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

from migratekit import NOW_MS, plan_sample
from migrator.ledger import NO_CONVERSATION, has_record, read_ledger
from migrator.stages.analyse import run_analyse
from migrator.stages.transform import summary, transform
from tests.slackkit import REPO, message, write_export

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
        return sum(_day_records(p) for p in files if _DAY_FILE.fullmatch(p.name))
    lines = [_parsed(line) for p in files if p.suffix in {".json", ".jsonl"} for line in _lines_of(p)]
    if any(line.get("type") == "version" for line in lines):  # Mattermost: posts with their replies inside
        posts = [line[line["type"]] for line in lines if line.get("type") in {"post", "direct_post"}]
        return sum(1 + len(post.get("replies") or []) for post in posts) + sum(line == {} for line in lines)
    if any("guild" in line for line in lines):  # Discord: one object per channel file
        return sum(len(line["messages"]) for line in lines if "guild" in line)
    return sum(1 for p in files if p.suffix == ".jsonl" for _ in _lines_of(p))  # Teams: a chatMessage per line


def records_by_conversation(export: Path) -> Counter[str | None]:
    """The same records per conversation, as each format names its conversations (None: a line that is not a
    record, or a record naming no conversation the export defines), read straight from the files."""
    files = sorted(p for p in export.rglob("*") if p.is_file())
    if any(p.name == "channels.json" for p in files):
        return _slack_records(files)
    lines = [_parsed(line) for p in files if p.suffix in {".json", ".jsonl"} for line in _lines_of(p)]
    counts: Counter[str | None] = Counter()
    if any(line.get("type") == "version" for line in lines):
        return _mattermost_records(lines)
    if any("guild" in line for line in lines):
        for line in lines:
            if "guild" in line:
                counts[line["channel"]["id"]] += len(line["messages"])
        return counts
    for p in files:
        if p.suffix == ".jsonl":
            for line in map(_parsed, _lines_of(p)):
                identity = line.get("channelIdentity") or {}
                counts[identity.get("channelId") or line.get("chatId")] += 1
    return counts


def _slack_records(files: list[Path]) -> Counter[str | None]:
    """A day file's records are its folder's conversation's: the folder is named by the conversation's name (by its
    id for a DM) in a conversation list beside it."""
    ids: dict[tuple[Path, str], str] = {}
    for path in files:
        if path.name in {"channels.json", "groups.json", "mpims.json", "dms.json"}:
            for entry in json.loads(path.read_text(encoding="utf-8")):
                ids[(path.parent, entry.get("name") or entry["id"])] = entry["id"]
    counts: Counter[str | None] = Counter()
    for path in files:
        if _DAY_FILE.fullmatch(path.name):
            counts[ids[(path.parent.parent, path.parent.name)]] += _day_records(path)
    return counts


def _day_records(path: Path) -> int:
    """A day file's records; none for one that is not a JSON list (quarantined whole: nobody knows how many)."""
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return 0
    return len(records) if isinstance(records, list) else 0


def _mattermost_records(lines: list[dict[str, Any]]) -> Counter[str | None]:
    """A post and its replies are its channel's (`team.channel`, or `dm:` and the sorted usernames of a direct
    one); a post in a channel no line defines, and a line that is not a JSON object, are in none."""
    defined = [line["channel"] for line in lines if line.get("type") == "channel"]
    channels = {f"{channel['team']}.{channel['name']}" for channel in defined}
    counts: Counter[str | None] = Counter()
    for line in lines:
        post = line.get(line.get("type") or "")
        if line == {}:
            counts[None] += 1
        elif line["type"] == "direct_post":
            counts["dm:" + ",".join(sorted(set(post["channel_members"])))] += 1 + len(post.get("replies") or [])
        elif line["type"] == "post":
            channel = f"{post['team']}.{post['channel']}"
            counts[channel if channel in channels else None] += 1 + len(post.get("replies") or [])
    return counts


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
    """The identity on one export: a line per record counted from its files, in total and per conversation (the
    records in no conversation among them); per conversation, the lines of the records the reader yielded equal
    the inventory's messages; the report's totals and every row of it balance."""
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
    by_conversation = Counter(line["conversation"] for line in ledger if has_record(line))
    assert by_conversation == +records_by_conversation(export), "the identity holds in each conversation"
    assert all(row["balanced"] for row in totals["conversations"])
    assert totals["no_conversation"] == by_conversation[None]
    places = Counter((line["file"], line["item"], line["id"]) for line in ledger)
    assert max(places.values(), default=1) == 1, "a record has one line"
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


# What a generated post is: fine, in a channel no line defines (refused in no conversation), or with a time that is
# not epoch milliseconds (refused in its channel).
POST_KINDS = ("fine", "unknown channel", "bad time")


def _mattermost(posts: list[tuple[int, int, bool, str]]) -> list[dict[str, Any]]:
    """A bulk export: two channels, and per post (minute, replies, is a system message, POST_KINDS); the replies of
    a refused post are refused with it."""
    lines: list[dict[str, Any]] = [
        {"type": "version", "version": 1},
        {"type": "team", "team": {"name": "acme", "display_name": "Acme", "type": "O"}},
        {"type": "channel", "channel": {"team": "acme", "name": "general", "display_name": "General", "type": "O"}},
        {"type": "channel", "channel": {"team": "acme", "name": "dev", "display_name": "Dev", "type": "O"}},
        {"type": "user", "user": {"username": "ada", "email": "ada@example.com"}},
    ]
    for number, (minute, replies, system, kind) in enumerate(posts):
        at = 1_704_103_200_000 + minute * 60_000
        post = {
            "team": "acme",
            "channel": "nowhere" if kind == "unknown channel" else ("general", "dev")[number % 2],
            "user": "ada",
            "message": f"post {number}",
            "create_at": "yesterday" if kind == "bad time" else at,
            "type": "system_join_channel" if system else "",
            "replies": [{"user": "ada", "message": "re", "create_at": at + 1 + r} for r in range(replies)],
        }
        lines.append({"type": "post", "post": post})
    return lines


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.booleans(), st.sampled_from(POST_KINDS)),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
)
def test_the_identity_holds_for_any_threads_times_and_system_messages(
    tmp_path_factory: pytest.TempPathFactory, posts: list[tuple[int, int, bool, str]], broken_line: bool
) -> None:
    """Roots sharing a minute, replies, system messages (skipped or kept), posts refused in their channel or in
    none, and a line that is not JSON (in none): the identity holds per conversation, the refused records without
    one in the no-conversation bucket."""
    export = tmp_path_factory.mktemp("export")
    text = "".join(json.dumps(line) + "\n" for line in _mattermost(posts))
    (export / "import.jsonl").write_text(text + ("{not json\n" if broken_line else ""), encoding="utf-8")
    ledger = assert_identity(export, tmp_path_factory.mktemp("work"))
    refused = [line for line in ledger if line["fate"] == "quarantined"]
    nowhere = broken_line + sum(1 + replies for _, replies, _, kind in posts if kind == "unknown channel")
    assert len(refused) == nowhere + sum(1 + replies for _, replies, _, kind in posts if kind == "bad time")
    assert sum(line["conversation"] is None for line in refused) == nowhere


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.lists(st.booleans(), max_size=4), min_size=1, max_size=4),
    st.lists(st.lists(st.booleans(), max_size=4), max_size=3),
    st.booleans(),
)
def test_the_identity_holds_for_slack_day_files_with_refused_records(
    tmp_path_factory: pytest.TempPathFactory, general: list[list[bool]], dev: list[list[bool]], unreadable: bool
) -> None:
    """Day files of two channels whose records are fine or lack their ts (refused in the day file's conversation),
    and a day file that is not JSON (one line, no record): the identity holds in each conversation."""
    files: dict[str, Any] = {}
    for folder, days in (("general", general), ("dev", dev)):
        for day, records in enumerate(days, 1):
            files[f"{folder}/2024-01-{day:02}.json"] = [
                message(f"{1704067200 + day * 86400 + n}.000100") if fine else {"type": "message", "text": "no ts"}
                for n, fine in enumerate(records)
            ]
    if unreadable:
        files["dev/2024-02-01.json"] = "[{not json"
    export = write_export(tmp_path_factory.mktemp("export"), files)
    ledger = assert_identity(export, tmp_path_factory.mktemp("work"))
    refused = [line for line in ledger if line["fate"] == "quarantined" and has_record(line)]
    assert len(refused) == sum(not fine for days in (general, dev) for records in days for fine in records)
    assert all(line["conversation"] in {"C1", "C2"} for line in ledger)


def test_the_transform_report_names_the_records_in_no_conversation(tmp_path: Path) -> None:
    """A line that is not JSON and a post in a channel no line defines are in no conversation; a post with a bad
    time is quarantined in its channel, with its reply. The totals, the summary and the page say so, and every row
    balances."""
    export = tmp_path / "export"
    export.mkdir()
    posts = [(0, 1, False, "fine"), (1, 0, False, "unknown channel"), (2, 1, False, "bad time")]
    text = "".join(json.dumps(line) + "\n" for line in _mattermost(posts)) + "{not json\n"
    (export / "import.jsonl").write_text(text, encoding="utf-8")
    assert_identity(export, tmp_path / "work")
    result = transform(export, tmp_path / "work" / "mappings", tmp_path / "again", now_ms=NOW_MS)
    rows = {row["conversation"]: row for row in result.report["ledger"]["conversations"]}
    assert (rows[""]["records"], rows[""]["quarantined_records"], rows[""]["read"]) == (2, 2, 0)
    general = rows["acme.general"]
    assert (general["records"], general["read"], general["quarantined_records"], general["balanced"]) == (4, 2, 2, True)
    assert result.report["ledger"]["no_conversation"] == 2 and result.report["ledger"]["balanced"]
    assert "; 2 in no conversation); they add up" in summary(result)
    assert NO_CONVERSATION in result.report_html.read_text(encoding="utf-8")
