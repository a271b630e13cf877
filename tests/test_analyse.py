"""analyse: the inventory's numbers follow the issue's definitions, the report shows them, the CLI fails clearly."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migrator.cli import app
from migrator.limits import CHANNEL_RPS, MAX_BODY_BYTES, TEAMS_CALLS_PER_10S
from migrator.mapping import run_map
from migrator.model import Message, SourceError
from migrator.sources import open_source
from migrator.stages.analyse import estimate_html_bytes, run_analyse, summary
from tests.slackkit import SAMPLE, message, sample_directory_lookup, write_export

REQUIRED_KEYS = {"source", "channels", "users", "totals", "quarantined", "issues"}
CHANNEL_KEYS = {"id", "name", "kind", "messages", "threads", "replies", "files", "first", "last"}


def reference_counts(root: Path, folder: str) -> dict[str, int]:
    """The issue's definitions applied directly to the raw JSON, independently of the reader."""
    messages = replies = files = 0
    roots_with_replies = set()
    for day in sorted((root / folder).glob("*.json")):
        for raw in json.loads(day.read_text(encoding="utf-8")):
            messages += 1
            files += len(raw.get("files") or []) + (
                1 if raw.get("file") and raw.get("subtype") != "file_comment" else 0
            )
            if raw.get("thread_ts") and raw["thread_ts"] != raw["ts"]:
                replies += 1
                roots_with_replies.add(raw["thread_ts"])
    return {"messages": messages, "replies": replies, "threads": len(roots_with_replies), "files": files}


@pytest.fixture(scope="module")
def sample_inventory(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_analyse(SAMPLE, tmp_path_factory.mktemp("analyse"))


def test_sample_inventory_has_the_issue_s_shape(sample_inventory: dict[str, Any]) -> None:
    assert set(sample_inventory) >= REQUIRED_KEYS
    assert sample_inventory["source"] == {"path": str(SAMPLE), "kind": "slack"}
    for channel in sample_inventory["channels"]:
        assert set(channel) >= CHANNEL_KEYS
        assert channel["kind"] in {"public", "private", "dm", "group_dm"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", channel["first"])
        assert channel["first"] <= channel["last"]
    assert set(sample_inventory["users"]) >= {"total", "bots", "deleted", "without_email"}
    assert set(sample_inventory["totals"]) >= {"conversations", "messages", "threads", "replies", "files"}
    assert set(sample_inventory["issues"]) >= {
        "ms_collisions",
        "replies_before_root",
        "oversize_messages",
        "missing_files",
    }


def test_sample_counts_match_the_raw_json(sample_inventory: dict[str, Any]) -> None:
    folders = {c["id"]: c["name"] for c in sample_inventory["channels"]}
    for channel in sample_inventory["channels"]:
        expected = reference_counts(SAMPLE, folders[channel["id"]])
        assert {k: channel[k] for k in expected} == expected, channel["name"]
    for key in ("messages", "threads", "replies", "files"):
        assert sample_inventory["totals"][key] == sum(c[key] for c in sample_inventory["channels"])


def test_sample_shows_what_it_was_written_to_show(sample_inventory: dict[str, Any]) -> None:
    kinds = sorted(c["kind"] for c in sample_inventory["channels"])
    assert kinds == ["dm", "dm", "group_dm", "private"] + ["public"] * 5
    assert sample_inventory["users"] == {"total": 12, "bots": 2, "deleted": 1, "without_email": 1, "external": 0}
    issues = sample_inventory["issues"]
    assert (issues["ms_collisions"], issues["oversize_messages"], issues["missing_files"]) == (2, 1, 1)
    assert issues["replies_before_root"] == 0 and sample_inventory["quarantined"] == []
    assert sample_inventory["files"] == {"available": 7, "missing": 1, "external": 1, "deleted": 0}
    destinations = {c["name"]: c["destination"] for c in sample_inventory["channels"]}
    assert destinations["general"] == "Northwind Labs / General"
    assert destinations["leadership"] == "Northwind Labs / leadership"
    assert destinations["D01ADAGRACE"] == "DM: ada, Grace"
    goes = {c["name"]: c["goes_to"] for c in sample_inventory["channels"]}
    assert (goes["general"], goes["leadership"], goes["D01ADAGRACE"], goes["mpdm-ada--jose--mei-1"]) == (
        "channel",
        "private channel",
        "chat",
        "chat",
    )
    assert sample_inventory["conversions"]["pins"] == 2 and sample_inventory["conversions"]["canvases"] == 1


def test_definitions_on_a_crafted_conversation(tmp_path: Path) -> None:
    day1 = [
        message("1700000000.000100", "root A", thread_ts="1700000000.000100"),
        message("1700000000.000900", "reply A1, same ms as root A", thread_ts="1700000000.000100"),
        message("1700000005.000000", "root B, no replies"),
        message("1700000005.000400", "root C, same ms as root B but another thread"),
        message("1699999999.000000", "reply to A stamped before it", thread_ts="1700000000.000100"),
        message("1700000010.000000", "reply whose root is not in the export", thread_ts="1690000000.000000"),
        message("1700000011.000000", "dup ts"),
        message(
            "1700000011.000000", "dup ts again", files=[{"id": "F1", "name": "x.txt"}, {"id": "F2", "name": "y.txt"}]
        ),
    ]
    day2 = [message("1700086400.000001", "reply A2 a day later", thread_ts="1700000000.000100")]
    root = write_export(tmp_path / "export", {"general/2023-11-14.json": day1, "general/2023-11-15.json": day2})
    inventory = run_analyse(root, tmp_path / "out")
    (general,) = [c for c in inventory["channels"] if c["name"] == "general"]
    assert (general["messages"], general["replies"], general["threads"], general["files"]) == (9, 4, 2, 2)
    assert general["first"] == "2023-11-14T22:13:19.000000Z" and general["last"] == "2023-11-15T22:13:20.000001Z"
    issues = inventory["issues"]
    # root A + reply A1 share a millisecond in one thread; the two dup-ts records share one too
    assert issues["ms_collisions"] == 4
    assert issues["ms_collisions_channel"] == 6  # roots B and C also collide across threads
    assert issues["replies_before_root"] == 1
    assert issues["orphan_replies"] == 1
    assert issues["duplicate_ts"] == 2
    assert issues["missing_files"] == 2


def _message(text: str, **fields: Any) -> Message:
    return Message(ts="1.000001", us=1_000_001, conversation_id="C1", origin="c/d.json", text=text, **fields)


def test_oversize_estimate_is_an_upper_bound_at_the_limit() -> None:
    assert estimate_html_bytes(_message("a" * MAX_BODY_BYTES)) == MAX_BODY_BYTES
    assert estimate_html_bytes(_message("<" * (MAX_BODY_BYTES // 4 + 1))) > MAX_BODY_BYTES  # each < becomes &lt;
    assert (
        estimate_html_bytes(_message("é" * (MAX_BODY_BYTES // 2 + 1))) > MAX_BODY_BYTES
    )  # UTF-8 bytes, not characters
    blocks = [{"type": "rich_text", "elements": [{"type": "text", "text": "b" * MAX_BODY_BYTES}]}]
    assert (
        estimate_html_bytes(Message(ts="1.1", us=1, conversation_id="C", origin="o", blocks=blocks)) >= MAX_BODY_BYTES
    )


def test_import_estimate_runs_channels_in_parallel_within_the_tenant_rate(tmp_path: Path) -> None:
    busy = [message(f"{1700000000 + i}.000001") for i in range(100)]
    quiet = [message(f"{1700000000 + i}.000002") for i in range(10)]
    root = write_export(tmp_path / "export", {"general/2023-11-14.json": busy, "dev/2023-11-14.json": quiet})
    estimate = run_analyse(root, tmp_path / "out")["estimate"]
    # per channel: create + posts + complete; the team: create + complete + 2 active people (ada, grace)
    assert (
        estimate["slowest_channel_requests"] == 102 and estimate["critical_path_requests"] == 102
    )  # no private channel
    assert estimate["requests"] == 102 + 12 + 4
    assert estimate["seconds"] == math.ceil(max(102 / CHANNEL_RPS, 118 / (TEAMS_CALLS_PER_10S / 10)))


def test_report_is_self_contained_and_escapes_source_text(tmp_path: Path) -> None:
    evil = "<script>alert('x')</script>"
    channels = [{"id": "C1", "name": evil, "members": ["U1"]}]
    root = write_export(
        tmp_path / "export", {"channels.json": channels, f"{evil}/2024-01-01.json": [message("1704067200.000001")]}
    )
    run_analyse(root, tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert html.count("<script>") == 1  # only the report's own sorting script
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html)
    assert "<svg" in html and "<?xml" not in html


def test_access_tokens_stay_out_of_inventory_and_report(tmp_path: Path) -> None:
    token = "xoxe-1234-5678-abcdef"
    day = [message("1.000001", files=[{"id": "F1", "name": f"{token}.txt", "url_private": f"https://x/?t={token}"}])]
    root = write_export(tmp_path / "export", {"general/2024-01-01.json": day, "README.txt": token})
    run_analyse(root, tmp_path / "out")
    for name in ("inventory.json", "report.html"):
        assert "xoxe-" not in (tmp_path / "out" / name).read_text(encoding="utf-8")


# --- the command line ---------------------------------------------------------


def test_cli_prints_a_summary_and_writes_both_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["analyse", str(SAMPLE), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "Northwind Labs (slack): 9 conversations, 370 messages" in result.output
    assert (tmp_path / "out" / "inventory.json").is_file() and (tmp_path / "out" / "report.html").is_file()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing.zip", "no such file or folder"),
        (lambda p: (p / "notes.txt").write_text("x") and p / "notes.txt", "not a zip archive"),
        (
            lambda p: write_export(p / "e", {}) and ((p / "e" / "users.json").unlink() or p / "e"),
            "users.json is missing",
        ),
    ],
)
def test_cli_exits_2_with_a_clear_message_on_bad_input(tmp_path: Path, make: Any, expected: str) -> None:
    result = CliRunner().invoke(app, ["analyse", str(make(tmp_path)), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert expected in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("kind", "advice"),
    [
        (None, "give the export: the .zip as downloaded, its unpacked folder, or a Mattermost .jsonl or Discord"),
        ("slack", "give the Slack export .zip as downloaded, or its unpacked folder"),
        ("mattermost", "give the Mattermost bulk export (mmctl export create)"),
        ("discord", "give DiscordChatExporter's JSON"),
        ("teams", "give the folder `migrator export` wrote"),
    ],
)
def test_a_path_that_is_no_export_gets_the_advice_of_its_product(tmp_path: Path, kind: str | None, advice: str) -> None:
    """Without --source-format nothing says which product the export came from, so the advice names them all."""
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    for path, found in ((tmp_path / "missing.zip", "no such file or folder"), (tmp_path / "notes.txt", "not a zip")):
        with pytest.raises(SourceError, match="^" + re.escape(f"{path}: {found}")) as raised:
            open_source(path, kind)
        assert advice in str(raised.value) and (kind == "slack" or "Slack" not in str(raised.value))


def test_quarantine_reaches_inventory_and_report(tmp_path: Path) -> None:
    root = write_export(
        tmp_path / "export", {"general/2024-01-01.json": "not json", "general/2024-01-02.json": [{"text": "no ts"}]}
    )
    inventory = run_analyse(root, tmp_path / "out")
    assert [q["file"] for q in inventory["quarantined"]] == ["general/2024-01-01.json", "general/2024-01-02.json"]
    assert inventory["quarantined"][1]["item"] == 0
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "general/2024-01-01.json" in html and "not valid JSON" in html


def test_broken_characters_replaced_are_listed_in_inventory_report_and_summary(tmp_path: Path) -> None:
    day = json.dumps(
        [
            message("1704067200.000001", "half \ud83d emoji, whole \ud83d\ude00"),
            message("1704067201.000001", "\udc00", user_profile={"real_name": "x \ud800"}),
        ]
    )
    root = write_export(tmp_path / "export", {"general/2024-01-01.json": day})
    inventory = run_analyse(root, tmp_path / "out")
    assert inventory["repaired"] == [{"file": "general/2024-01-01.json", "strings": 3}]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Broken characters replaced by U+FFFD" in html and "<td>general/2024-01-01.json</td><td>3</td>" in html
    assert "broken characters replaced by U+FFFD: 3 strings in 1 file" in summary(inventory)
    assert "1</span> file holds text" in html


def test_counts_per_conversation_use_the_reader_not_file_order(tmp_path: Path) -> None:
    """Replies listed before later roots (as in zulip's colliding-topics fixture) still count once each."""
    day = [
        message("3.000001", thread_ts="1.000001"),
        message("1.000001", thread_ts="1.000001"),
        message("2.000001", thread_ts="1.000001"),
    ]
    root = write_export(tmp_path / "export", {"general/1970-01-01.json": day})
    counts = defaultdict(int)
    for c in run_analyse(root, tmp_path / "out")["channels"]:
        counts[c["name"]] = (c["threads"], c["replies"])
    assert counts["general"] == (1, 2)


def test_mappings_decide_destinations_and_show_who_is_not_in_the_directory(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    run_map(SAMPLE, mappings, sample_directory_lookup(), fallback="migration@contoso.example")
    text = (mappings / "migration.yaml").read_text(encoding="utf-8")
    text = text.replace("    channel: random\n", "    channel: engineering\n    merge: true\n", 1)
    (mappings / "migration.yaml").write_text(text, encoding="utf-8")
    inventory = run_analyse(SAMPLE, tmp_path / "out", mappings / "migration.yaml")
    destinations = {c["name"]: c["destination"] for c in inventory["channels"]}
    assert destinations["random"] == destinations["engineering"] == "Northwind Labs / engineering"
    assert inventory["estimate"]["target_channels"] == 5 and inventory["mapping_problems"] == []
    assert inventory["estimate"]["target_chats"] == 3
    assert inventory["user_lists"]["not_in_directory"] == [
        "Søren",
        "Linus Old-Account",
        "Zoë (guest)",
        "deploybot",
        "Slackbot",
    ]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Not found in the directory" in html and "Søren" in html


def test_the_dry_run_report_shows_where_private_conversations_go(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    run_map(SAMPLE, mappings, sample_directory_lookup(), fallback="migration@contoso.example")
    users = (mappings / "users.csv").read_text(encoding="utf-8").splitlines()
    users = [line.replace(",map", ",fallback") if line.startswith("U06MEI") else line for line in users]
    (mappings / "users.csv").write_text("\n".join(users) + "\n", encoding="utf-8")
    inventory = run_analyse(SAMPLE, tmp_path / "out", mappings)
    goes = {c["id"]: (c["goes_to"], c["destination"]) for c in inventory["channels"]}
    reason = "not a chat: 美 has no Entra account in users.csv, and a Teams chat needs every participant"
    assert goes["D02ALANMEI"] == ("archive", reason)
    assert goes["D01ADAGRACE"] == ("chat", "DM: ada, Grace")
    assert goes["G01LEADERSHIP"] == ("private channel", "Northwind Labs / leadership")
    assert inventory["estimate"]["target_chats"] == 1
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "private channel" in html and reason in html and "DM: ada, Grace" in html


def test_broken_mappings_are_reported_not_fatal(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    run_map(SAMPLE, mappings, sample_directory_lookup(), fallback="migration@contoso.example")
    text = (mappings / "migration.yaml").read_text(encoding="utf-8").replace("channel: random", "channel: ran/dom")
    (mappings / "migration.yaml").write_text(text, encoding="utf-8")
    inventory = run_analyse(SAMPLE, tmp_path / "out", mappings)
    (problem,) = inventory["mapping_problems"]
    assert "channel name 'ran/dom' contains /" in problem
    assert "ran/dom" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
