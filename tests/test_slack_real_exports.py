"""Inventories of the real Slack exports in ../shared/fixtures/slack (see SOURCES.md there).

Expected numbers come from SOURCES.md or from counting the raw JSON in the
test itself, never from the reader under test.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migrator.cli import app
from migrator.model import SourceError
from migrator.sources.slack import SlackExport
from migrator.stages.analyse import run_analyse
from tests.slackkit import ZULIP, copy_tree, shared_fixtures, zulip_export


def raw_messages(export: Path) -> list[dict[str, Any]]:
    """Every message of a zip or folder export, read with plain json (single objects count as one)."""
    found = []
    if export.is_dir():
        members = {p.relative_to(export).as_posix(): p.read_bytes() for p in export.rglob("*.json")}
    else:
        with zipfile.ZipFile(export) as archive:
            members = {n: archive.read(n) for n in archive.namelist() if n.endswith(".json")}
    for name, data in members.items():
        if "/" in name and not name.startswith("__"):
            value = json.loads(data)
            found += value if isinstance(value, list) else [value]
    return found


def analyse(path: Path, tmp_path: Path) -> tuple[dict[str, Any], str]:
    inventory = run_analyse(path, tmp_path / "out")
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    return inventory, report


def test_slack_export_viewer_testarchive(tmp_path: Path) -> None:
    archive = shared_fixtures() / "slack-export-viewer" / "testarchive.zip"
    inventory, report = analyse(archive, tmp_path)
    assert [(c["name"], c["kind"]) for c in inventory["channels"]] == [
        ("enrique", "public"),
        ("traveling-sailor", "public"),
    ]
    assert inventory["totals"] == {"conversations": 2, "messages": 158, "threads": 0, "replies": 0, "files": 3}
    assert [c["messages"] for c in inventory["channels"]] == [102, 56]
    assert inventory["subtypes"] == {
        "bot_message": 94,
        "(none)": 49,
        "channel_join": 8,
        "bot_add": 3,
        "file_share": 3,
        "file_comment": 1,
    }
    assert inventory["users"] == {"total": 4, "bots": 0, "deleted": 0, "without_email": 4, "external": 0}
    assert inventory["conversions"]["bot_attachments"] == sum(bool(m.get("attachments")) for m in raw_messages(archive))
    assert inventory["conversions"]["edits"] == 1 and inventory["conversions"]["reactions"] == 1
    assert inventory["issues"]["missing_files"] == 3  # a standard export carries no file bytes
    # old Slack ts count within a second (.000004, .000005): same millisecond in one channel
    assert inventory["issues"]["ms_collisions_channel"] > 0
    assert inventory["quarantined"] == [] and inventory["ignored"] == []
    assert inventory["integrations"]["events"] == 30 and "Travis CI" in inventory["integrations"]["names"]
    # the archive holds xoxe- tokens in file URLs; none may leave the reader
    with zipfile.ZipFile(archive) as raw:
        assert any(b"xoxe-" in raw.read(n) for n in raw.namelist())
    assert "xoxe-" not in report and "xoxe-" not in json.dumps(inventory)


def test_slackdump_standard_export(tmp_path: Path) -> None:
    archive = shared_fixtures() / "slackdump" / "source_export.zip"
    inventory, _ = analyse(archive, tmp_path)
    (channel,) = inventory["channels"]
    assert (channel["name"], channel["kind"], channel["destination"]) == (
        "B75B4C7",
        "public",
        "source_export / General",
    )
    assert inventory["totals"] == {"conversations": 1, "messages": 16, "threads": 3, "replies": 4, "files": 2}
    assert channel["first"] == "2025-01-10T03:08:34.897649Z"
    assert inventory["users"] == {"total": 10, "bots": 6, "deleted": 1, "without_email": 4, "external": 0}
    assert inventory["files"]["external"] == 1 and inventory["files"]["missing"] == 1  # the gdoc and the hosted JPEG
    assert inventory["conversions"]["deleted_placeholders"] == 1  # the tombstone kept for its reply
    assert inventory["conversions"]["canvases"] == 1  # the channel's canvas (properties.canvas)
    assert inventory["issues"]["orphan_replies"] == 0 and inventory["issues"]["replies_before_root"] == 0
    with SlackExport(archive) as export:
        (conv,) = export.conversations()
        days = list(export.days(conv))
        thread = [m for d in days for m in d.messages if m.root_ts == "1736478630.905399"]
    assert [d.date for d in days] == ["2025-01-10", "2025-01-11", "2025-01-18", "2025-01-24"]
    assert [(m.ts, m.is_reply, m.origin.split("/")[-1]) for m in thread] == [  # a thread across two day files
        ("1736478630.905399", False, "2025-01-10.json"),
        ("1736554746.482349", True, "2025-01-11.json"),
        ("1736554783.040199", True, "2025-01-11.json"),
    ]


def test_slackdump_dump_is_not_a_slack_export(tmp_path: Path) -> None:
    archive = shared_fixtures() / "slackdump" / "source_dump-not-a-slack-export.zip"
    with pytest.raises(SourceError, match="slackdump 'dump' archive.*CHY5HUESG.json"):
        SlackExport(archive)
    result = CliRunner().invoke(app, ["analyse", str(archive), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "not a Slack export" in result.output


def test_zulip_importer_export_with_workspace_files(tmp_path: Path) -> None:
    shared_fixtures()
    root = zulip_export(tmp_path)
    inventory, _ = analyse(root, tmp_path)
    kinds = [c["kind"] for c in inventory["channels"]]
    assert kinds.count("public") == 4 and kinds.count("group_dm") == 3 and kinds.count("dm") == 4
    by_name = {c["name"]: c for c in inventory["channels"]}
    assert by_name["random"]["messages"] == len(raw_messages(root)) and by_name["random"]["archived"]
    assert by_name["general"]["destination"].endswith("/ General")  # no is_general flag: the channel named general
    assert by_name["DRS3PSLDK"]["members"] == 1  # a DM with yourself lists you twice
    assert inventory["users"]["without_email"] == 4  # no email in any profile of this users.json
    assert inventory["quarantined"] == []


def test_zulip_importer_folder_alone_lacks_channels_json(tmp_path: Path) -> None:
    shared_fixtures()
    with pytest.raises(SourceError, match="channels.json is missing"):
        SlackExport(ZULIP / "test_slack_importer")


def test_zulip_message_fixtures_as_day_files(tmp_path: Path) -> None:
    """Every exported-message fixture, each as one day file, with the wrapped users.list response as users.json."""
    shared_fixtures()
    root = tmp_path / "export"
    (root / "random").mkdir(parents=True)
    shutil.copy(ZULIP / "channels.json", root / "channels.json")
    shutil.copy(ZULIP / "user_data.json", root / "users.json")
    fixtures = sorted(p for p in (ZULIP / "exported_messages_fixtures").glob("*.json") if p.name != "users.json")
    for day, fixture in enumerate(fixtures, start=1):
        shutil.copy(fixture, root / "random" / f"2020-01-{day:02d}.json")
    inventory, report = analyse(root, tmp_path)
    random = next(c for c in inventory["channels"] if c["name"] == "random")
    raw = raw_messages(root)
    assert inventory["quarantined"] == []
    assert random["messages"] == len(raw)
    assert random["replies"] == sum(1 for m in raw if m.get("thread_ts") and m["thread_ts"] != m["ts"])
    assert inventory["users"]["total"] == 5 and inventory["users"]["without_email"] == 0  # slackbot counts as a bot
    assert inventory["issues"]["duplicate_ts"] > 0  # same ts across files and threads
    assert inventory["issues"]["ms_collisions"] > 0
    assert inventory["unknown_fields"]["channel_name"] == sum(
        "channel_name" in m for m in raw
    )  # added by Zulip's loader
    assert inventory["conversions"]["canvases"] >= 1 and inventory["conversions"]["thread_broadcasts"] == 1
    assert min(c["first"] for c in inventory["channels"] if c["first"]) == "1974-07-27T06:38:20.000008Z"  # 9-digit ts
    assert "xoxe-" not in report and "xoxe-" not in json.dumps(inventory)


def test_unicode_users_list_with_a_bot_user(tmp_path: Path) -> None:
    shared_fixtures()
    root = copy_tree(ZULIP / "test_slack_importer", tmp_path / "export")
    shutil.copy(ZULIP / "channels.json", root / "channels.json")
    shutil.copy(ZULIP / "unicode_user_data.json", root / "users.json")
    with SlackExport(root) as export:
        users = export.users
    assert sorted(u for u, user in users.items() if user.is_bot) == ["U04LYMYPGSG", "USLACKBOT"]
    assert users["U04LW5V0LH0"].email == "alexmv@zulip.com"
