"""`migrator transform` on sample_data and on small hand-made exports: the plan, its rules, its report."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import tempfile
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from migrator.cli import app
from migrator.ledger import LEDGER, LedgerWriter, read_ledger
from migrator.limits import MAX_BODY_BYTES
from migrator.mapping import run_map
from migrator.plan import Manifest
from migrator.reports.transform import REPORT_HTML, REPORT_JSON
from migrator.sources import open_source
from migrator.stages.analyse import run_analyse
from migrator.stages.transform import TransformError, transform
from migrator.stages.transform.archive import Archiver
from migrator.timestamps import parse_ms
from tests.slackkit import CHANNELS, SAMPLE, USERS, message, write_export
from tests.transformkit import assert_adds_up, assert_golden, assert_plan_rules, by_thread, golden_view, plan_lines

REPO = Path(__file__).resolve().parents[1]
MAPPINGS = REPO / "mappings"
NOW = parse_ms("2026-01-01T00:00:00.000Z")
FALLBACK = "e-migration"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    plan = tmp_path_factory.mktemp("sample-plan")
    result = transform(SAMPLE, MAPPINGS, plan, now_ms=NOW)
    return plan, result.report


def edited_mappings(tmp_path: Path, replacements: dict[str, str], users: dict[str, str] | None = None) -> Path:
    """A copy of mappings/ with text replaced in migration.yaml (and users.csv)."""
    folder = shutil.copytree(MAPPINGS, tmp_path / "mappings")
    for name, changes in (("migration.yaml", replacements), ("users.csv", users or {})):
        text = (folder / name).read_text(encoding="utf-8")
        for old, new in changes.items():
            assert old in text, old
            text = text.replace(old, new)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# --- the sample ------------------------------------------------------------------------


def test_the_sample_plan_keeps_every_import_rule(sample) -> None:
    plan, _ = sample
    assert_plan_rules(plan, NOW)


def test_the_sample_plan_is_golden(sample) -> None:
    assert_golden("transform-sample", golden_view(sample[0]))


def test_the_report_adds_up_to_the_inventory(sample, tmp_path) -> None:
    plan, report = sample
    inventory = run_analyse(SAMPLE, tmp_path / "analyse")
    assert_adds_up(report, inventory)
    assert json.loads((plan / REPORT_JSON).read_text(encoding="utf-8")) == report
    assert report["messages"] == {**report["messages"], "read": 370, "planned": 370, "archived": 0}  # DMs are chats
    assert (report["lines"]["written"], report["lines"]["split_extra"]) == (371, 1)
    assert sum(len(lines) for lines in plan_lines(plan).values()) == report["lines"]["written"]
    html = (plan / REPORT_HTML).read_text(encoding="utf-8")
    assert "does not add up" not in html and "370" in html


def test_keys_and_lines_are_the_same_on_every_run(sample, tmp_path) -> None:
    plan, _ = sample
    again = tmp_path / "again"
    transform(SAMPLE, MAPPINGS, again, now_ms=NOW)
    manifest = Manifest.read(plan)
    assert Manifest.read(again) == manifest
    for _, conv in manifest.conversations():
        assert (again / conv.file).read_bytes() == (plan / conv.file).read_bytes()
    first = plan_lines(plan)["northwind-labs/engineering"][0]
    assert first["key"] == f"C03ENGINEERING:{first['source_ts']}"


def test_images_go_inline_files_are_uploaded_missing_ones_become_placeholders(sample) -> None:
    plan, report = sample
    lines = [line for conv in plan_lines(plan).values() for line in conv]
    hosted = [(line, h) for line in lines for h in line["hostedContents"]]
    exported = {hashlib.sha256(p.read_bytes()).hexdigest() for p in (SAMPLE / "__uploads").rglob("*") if p.is_file()}
    assert len(hosted) == report["files"]["inline_images"] == 3
    assert all(hashlib.sha256(base64.b64decode(h["contentBytes"])).hexdigest() in exported for _, h in hosted)
    manifest = Manifest.read(plan)
    uploads = [u for _, conv in manifest.conversations() for u in conv.uploads]
    assert sorted(u.name for u in uploads) == ["booking.txt", "latency.csv", "q2-plan.pdf", "runbook.txt"]
    for upload in uploads:
        data = (plan / upload.path).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (upload.size, upload.sha256)
        assert upload.sha256 in exported
    placeholders = {p["name"]: p for p in report["files"]["placeholders"]}
    assert len(placeholders) == 2 and report["files"]["missing_files"] == 1  # the external spec is not missing
    assert {name: p["status"] for name, p in placeholders.items()} == {
        "architecture.key": "missing",
        "Payments spec": "external",
    }
    line = next(line for line in lines if line["key"] == placeholders["Payments spec"]["message"])
    text = BeautifulSoup(line["body"]["content"], "html.parser").get_text()
    assert "📎 Payments spec (47.1 KB), stored outside Slack: https://files.slack.com/" in text
    assert "Payments%20spec" in line["body"]["content"]  # the link's path is encoded


def test_a_long_message_is_split_into_numbered_replies_never_truncated(sample) -> None:
    plan, report = sample
    (split,) = report["split"]
    lines = plan_lines(plan)["northwind-labs/engineering"]
    parts = [line for line in lines if line["key"].split("/part-")[0] == split["key"]]
    assert len(parts) == split["parts"] == 2
    assert [p["kind"] for p in parts] == ["root", "reply"] and parts[1]["root_key"] == split["key"]
    assert parse_ms(parts[1]["createdDateTime"]) == parse_ms(parts[0]["createdDateTime"]) + 1
    assert all(len(p["body"]["content"].encode()) <= MAX_BODY_BYTES for p in parts)
    texts = [BeautifulSoup(p["body"]["content"], "html.parser").get_text() for p in parts]
    assert texts[0].startswith("(part 1 of 2)") and texts[1].startswith("(part 2 of 2)")
    raw = next(
        m
        for m in json.loads((SAMPLE / "engineering" / "2024-03-26.json").read_text(encoding="utf-8"))
        if m["ts"] == split["key"].split(":")[1]
    )
    whole = texts[0].removeprefix("(part 1 of 2)") + texts[1].removeprefix("(part 2 of 2)")
    code = unescape(raw["text"].split("```")[1].strip("\n"))
    assert code in whole  # every line of the log, in order


def test_fallback_authors_say_who_wrote_and_skipped_ones_are_counted(sample, tmp_path) -> None:
    plan, report = sample
    lines = [line for conv in plan_lines(plan).values() for line in conv]
    fallback = [line for line in lines if line["from"]["user"]["id"] == "c0a80000-0000-4000-8000-000000000001"]
    assert len(fallback) == report["authors"]["fallback"] == 79
    assert all("Originally posted by" in line["body"]["content"] for line in fallback)
    folder = shutil.copytree(MAPPINGS, tmp_path / "mappings")
    rows = (folder / "users.csv").read_text(encoding="utf-8").splitlines()
    (folder / "users.csv").write_text(
        "\n".join(row.rsplit(",", 1)[0] + ",skip" if "Zoë Contractor" in row else row for row in rows) + "\n",
        encoding="utf-8",
    )
    skipped = transform(SAMPLE, folder, tmp_path / "plan", now_ms=NOW).report
    zoe = report["authors"]["fallback_for"]["Zoë Contractor"]
    assert skipped["authors"]["skipped_list"] == [
        {"author": "Zoë Contractor", "reason": "users.csv says skip", "messages": zoe}
    ]
    assert skipped["messages"]["skipped_authors"] == zoe
    assert skipped["messages"]["balanced"] and skipped["lines"]["balanced"] and skipped["files"]["balanced"]
    assert_plan_rules(tmp_path / "plan", NOW)


def test_system_messages_can_be_skipped_and_are_counted(tmp_path) -> None:
    folder = edited_mappings(tmp_path, {"version: 1\n": "version: 1\nsystem_messages: skip\n"})
    report = transform(SAMPLE, folder, tmp_path / "plan", now_ms=NOW).report
    assert report["messages"]["skipped_system"] > 0 and report["messages"]["balanced"]
    assert report["conversions"]["system_messages"] == 0
    assert_plan_rules(tmp_path / "plan", NOW)


def test_bad_mappings_stop_transform_with_file_and_line(tmp_path) -> None:
    folder = edited_mappings(tmp_path, {"    channel: design\n": '    channel: "de#sign"\n'})
    with pytest.raises(TransformError, match=r"migration\.yaml:\d+"):
        transform(SAMPLE, folder, tmp_path / "plan", now_ms=NOW)
    result = CliRunner().invoke(
        app, ["transform", str(SAMPLE), "--mappings", str(folder), "--out", str(tmp_path / "plan")]
    )
    assert result.exit_code == 2 and "migration.yaml:" in result.output


def test_the_cli_writes_the_plan_and_says_what_it_did(tmp_path) -> None:
    result = CliRunner().invoke(app, ["transform", str(SAMPLE), "--mappings", str(MAPPINGS), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "370 messages read: 370 planned, 0 archived, 0 left out" in result.output
    assert "for 6 channels (1 private) in 1 team and 3 chats" in result.output
    assert "ledger: 370 source records (370 planned); they add up" in result.output
    assert (
        (tmp_path / "manifest.json").is_file() and (tmp_path / REPORT_HTML).is_file() and (tmp_path / LEDGER).is_file()
    )
    assert sorted(p.name for p in (tmp_path / "chats").glob("*.jsonl")) == [
        "D01ADAGRACE.jsonl",
        "D02ALANMEI.jsonl",
        "G02MPIM.jsonl",
    ]
    assert not list((tmp_path / "archive").glob("*.html"))


# --- hand-made exports: the timeline and merge rules end to end ---------------------------------

DIRECTORY = {"ada@example.com": "e-ada", "grace@example.com": "e-grace", "migration@example.com": FALLBACK}


def lookup(mail: str) -> dict[str, str] | None:
    found = DIRECTORY.get(mail.lower())
    return {"id": found, "mail": mail} if found else None


def transform_export(tmp_path: Path, files: dict[str, Any], now_ms: int = NOW, edit: dict[str, str] | None = None):
    export = write_export(tmp_path / "export", files)
    mappings = tmp_path / "mappings"
    run_map(export, mappings, lookup, fallback="migration@example.com")
    text = (mappings / "migration.yaml").read_text(encoding="utf-8")
    for old, new in (edit or {}).items():
        assert old in text, (old, text)
        text = text.replace(old, new)
    (mappings / "migration.yaml").write_text(text, encoding="utf-8")
    result = transform(export, mappings, tmp_path / "plan", now_ms=now_ms)
    assert_plan_rules(tmp_path / "plan", now_ms)
    assert_adds_up(result.report, run_analyse(export, tmp_path / "analyse"))
    return result, plan_lines(tmp_path / "plan")


def test_duplicates_replies_before_their_root_merged_channels_and_the_future(tmp_path) -> None:
    now = parse_ms("2023-11-14T22:13:30.000Z")  # 1700000010 s
    result, lines = transform_export(
        tmp_path,
        {
            "general/2023-11-14.json": [
                message("1700000000.000100", "root"),
                message("1699999999.000000", "reply stamped before its root", thread_ts="1700000000.000100"),
                message("1700000000.000100", "same ts as the root, a second record"),
                message("1700000000.000900", "same millisecond", user="U2"),
                message("1700000100.000000", "in the future"),
                message("1700000200.000000", "further in the future", thread_ts="1700000000.000100"),
            ],
            "dev/2023-11-14.json": [message("1700000000.000500", "same millisecond, merged from #dev")],
        },
        now_ms=now,
        edit={"    channel: dev\n": "    channel: General\n    merge: true\n"},
    )
    (general,) = [v for k, v in lines.items() if k.endswith("/General")]
    assert len(general) == 7 and result.report["messages"]["planned"] == 7
    keys = [line["key"] for line in general]
    assert "C1:1700000000.000100/2" in keys  # a repeated ts gets a stable suffix
    moved = {a["key"]: a["reasons"] for a in result.report["timeline"]["adjustments"]}
    assert moved["C1:1699999999.000000"][0] == "reply_before_root"
    assert "future" in moved["C1:1700000100.000000"]
    thread = by_thread(general)["C1:1700000000.000100"]
    assert [line["body"]["content"] for line in thread] == [
        "<p>root</p>",
        "<p>reply stamped before its root</p>",
        "<p>further in the future</p>",
    ]
    assert result.report["timeline"]["moved"] == len(result.report["timeline"]["adjustments"]) >= 4


def test_replies_whose_root_is_missing_get_a_stand_in_first_message(tmp_path) -> None:
    result, lines = transform_export(
        tmp_path,
        {
            "general/2023-11-14.json": [
                message("1700000001.000000", "orphan reply", thread_ts="1700000000.000000"),
                message("1700000002.000000", "second orphan reply", thread_ts="1700000000.000000", user="U2"),
            ]
        },
    )
    (general,) = [v for k, v in lines.items() if k.endswith("/General")]
    assert [line["kind"] for line in general] == ["root", "reply", "reply"]
    assert "not in the export" in general[0]["body"]["content"] and general[0]["from"]["user"]["id"] == FALLBACK
    assert result.report["lines"]["thread_placeholders"] == 1 and result.report["lines"]["balanced"]


def test_a_message_far_over_the_limit_becomes_parts_that_keep_every_character(tmp_path) -> None:
    words = " ".join(f"word{i}&<{i}>" for i in range(12_000))  # ~150 KB once escaped, no line breaks
    result, lines = transform_export(
        tmp_path,
        {
            "general/2023-11-14.json": [
                message("1700000000.000000", "root"),
                message(
                    "1700000001.000000",
                    words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
                    thread_ts="1700000000.000000",
                ),
            ]
        },
    )
    (general,) = [v for k, v in lines.items() if k.endswith("/General")]
    parts = general[1:]
    assert len(parts) == result.report["split"][0]["parts"] >= 6
    assert all(p["kind"] == "reply" and p["root_key"] == "C1:1700000000.000000" for p in parts)
    text = "".join(BeautifulSoup(p["body"]["content"], "html.parser").get_text().split(")", 1)[1] for p in parts)
    assert text.replace(" ", "") == words.replace(" ", "")


@st.composite
def crowded_exports(draw: st.DrawFn) -> dict[str, Any]:
    """Two channels (to be merged) whose messages crowd a few seconds: repeated ts, replies before their
    root, replies to roots that do not exist, times after `now`."""
    base = 1_700_000_000
    roots: list[str] = []
    channels: dict[str, list[dict[str, Any]]] = {"general/2023-11-14.json": [], "dev/2023-11-14.json": []}
    for _ in range(draw(st.integers(1, 25))):
        ts = f"{base + draw(st.integers(-2, 12))}.{draw(st.sampled_from([0, 1, 999, 1000, 500_000])):06d}"
        day = draw(st.sampled_from(sorted(channels)))
        if roots and draw(st.booleans()):
            channels[day].append(
                message(
                    ts,
                    "reply",
                    user=draw(st.sampled_from(["U1", "U2", "U3"])),
                    thread_ts=draw(st.sampled_from(roots + [f"{base - 5}.000000"])),
                )
            )
        else:
            roots.append(ts)
            channels[day].append(message(ts, "root", user=draw(st.sampled_from(["U1", "U2"]))))
    return channels


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(crowded_exports())
def test_any_export_gives_a_plan_graph_accepts_with_every_message_once(tmp_path, files) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as work:
        now = (1_700_000_000 + 5) * 1000
        result, lines = transform_export(
            Path(work), files, now_ms=now, edit={"    channel: dev\n": "    channel: General\n    merge: true\n"}
        )
        planned = [line for conv in lines.values() for line in conv]
        sources = [
            line["key"]
            for line in planned
            if "/part-" not in line["key"] and not line.get("note", "").startswith("stand-in")
        ]
        assert len(sources) == len(set(sources)) == sum(len(day) for day in files.values())


def test_archived_conversations_keep_every_message_as_lines_and_a_readable_page(tmp_path) -> None:
    export = write_export(
        tmp_path / "export",
        {
            "dms.json": [{"id": "D1", "members": ["U1", "U2"], "created": 1700000000}],
            "D1/2023-11-14.json": [
                message(
                    "1700000001.000000", "root &lt;b&gt;not bold&lt;/b&gt; &amp; <@U2>"
                ),  # as Slack stores typed markup
                message("1700000002.000000", "reply", user="U2", thread_ts="1700000001.000000"),
                message("1700000003.000000", "reply to a missing root", thread_ts="1699999999.000000"),
            ],
        },
    )
    source = open_source(export)
    try:
        (dm,) = [c for c in source.conversations() if c.id == "D1"]
        (tmp_path / "plan").mkdir()
        ledger = LedgerWriter(tmp_path / "plan" / LEDGER)
        entry = Archiver(source, {"U1": "Ada", "U2": "Grace"}, {}, tmp_path / "plan", ledger).archive(
            dm, "DM: Ada, Grace", "a DM"
        )
        ledger.close()
    finally:
        source.close()
    assert [(line["fate"], line["item"], line["page"]) for line in read_ledger(tmp_path / "plan")] == [
        ("archived", n, entry["page"]) for n in range(3)
    ]
    assert (entry["messages"], entry["files_read"], entry["reason"]) == (3, 0, "a DM")
    lines = [json.loads(line) for line in (tmp_path / "plan" / entry["file"]).read_text(encoding="utf-8").splitlines()]
    assert lines[0]["text"] == "root &lt;b&gt;not bold&lt;/b&gt; &amp; <@U2>"  # the original, untouched
    assert lines[0]["html"] == "<p>root &lt;b&gt;not bold&lt;/b&gt; &amp; <b>Grace</b></p>"
    page = BeautifulSoup((tmp_path / "plan" / entry["page"]).read_text(encoding="utf-8"), "html.parser")
    threads = page.find_all("section", class_="thread")
    assert [[a.get("class") for a in t.find_all("article")] for t in threads] == [
        [["message"], ["message", "reply"]],
        [["message", "reply"]],
    ]
    assert threads[1].find("p", class_="orphan") is not None
    assert page.find("b", string="not bold") is None and "root <b>not bold</b> & Grace" in threads[0].get_text()


# --- broken characters --------------------------------------------------------------------


def broken_export() -> dict[str, str]:
    """Lone UTF-16 surrogate escapes (half an emoji) in a person's name, a bot's name, a channel's name and topic,
    channel, DM and archived DM texts, beside a complete pair. `json.dumps` keeps them as escapes, as an exporter
    that cut UTF-16 in two wrote them."""
    users = [*USERS[:1], {**USERS[1], "real_name": "Grace \ud83d Hopper"}, *USERS[2:]]
    channels = [CHANNELS[0], {**CHANNELS[1], "name": "dev\ud83d", "topic": {"value": "builds \udc00 here"}}]
    return {
        name: json.dumps(value)
        for name, value in {
            "users.json": users,
            "channels.json": channels,
            "dms.json": [
                {"id": "D1", "members": ["U1", "U2"], "created": 1700000000},
                {"id": "D2", "members": ["U1", "U3"], "created": 1700000000},
            ],  # U3 has no email: archived
            "general/2023-11-14.json": [
                message("1700000000.000100", "cut \ud83d here, whole \ud83d\ude00 there, ask <@U2>"),
                {
                    "type": "message",
                    "subtype": "bot_message",
                    "bot_id": "B9",
                    "username": "deploy \udead bot",
                    "text": "deployed",
                    "ts": "1700000001.000000",
                },
            ],
            "C2/2023-11-14.json": [
                message("1700000002.000000", "in dev")
            ],  # its folder is named by id, as its name is broken
            "D1/2023-11-14.json": [message("1700000003.000000", "dm \ud83d text", user="U2")],
            "D2/2023-11-14.json": [message("1700000004.000000", "archived \udbff text")],
        }.items()
    }


def test_broken_characters_become_u_fffd_in_every_stage_and_are_listed(tmp_path) -> None:
    result, lines = transform_export(tmp_path, broken_export())
    written = {
        path: path.read_bytes().decode("utf-8")
        for folder in ("plan", "analyse", "mappings")
        for path in (tmp_path / folder).rglob("*")
        if path.is_file()
    }  # strict UTF-8, every file
    (general,) = [v for k, v in lines.items() if k.endswith("/General")]
    first, bot = (line["body"]["content"] for line in general)
    assert 'cut \ufffd here, whole \U0001f600 there, ask <at id="0">Grace \ufffd Hopper</at>' in first
    assert "deploy \ufffd bot" in bot and "deployed" in bot
    (chat,) = [v for k, v in lines.items() if k.endswith("D1")]
    assert "dm \ufffd text" in chat[0]["body"]["content"]
    (dev,) = [c for _, c in Manifest.read(tmp_path / "plan").conversations() if c.key.endswith("/dev\ufffd")]
    assert (dev.display_name, dev.description) == ("dev\ufffd", "builds \ufffd here")
    assert written[tmp_path / "plan" / "archive" / "D2.jsonl"].count("archived \ufffd text") == 2  # text and html
    repaired = {
        "users.json": 1,
        "channels.json": 2,
        "general/2023-11-14.json": 2,
        "D1/2023-11-14.json": 1,
        "D2/2023-11-14.json": 1,
    }
    assert {r["file"]: r["strings"] for r in result.report["repaired"]} == repaired
    inventory = json.loads(written[tmp_path / "analyse" / "inventory.json"])
    assert {r["file"]: r["strings"] for r in inventory["repaired"]} == repaired
    html = written[tmp_path / "plan" / REPORT_HTML]
    assert "Broken characters replaced by U+FFFD (5 files)" in html and "D2/2023-11-14.json" in html


# --- the inline image cap (docs/graph-contract.md#inline-images) ---------------------------------


def test_images_over_the_inline_cap_are_uploaded_to_the_channel_and_counted(tmp_path) -> None:
    """`defaults.inline_image_max_bytes`: hero.jpg (2,916 bytes) is over a 2,000-byte cap, so it travels as a file
    with a reference attachment; the two smaller images stay inline."""
    mappings = edited_mappings(tmp_path, {"\nteams:\n": "\ndefaults:\n  inline_image_max_bytes: 2000\nteams:\n"})
    result = transform(SAMPLE, mappings, tmp_path / "plan", now_ms=NOW)
    files = result.report["files"]
    assert (files["inline_images"], files["images_over_cap"]) == (2, 1)
    uploads = [u for _, conv in Manifest.read(tmp_path / "plan").conversations() for u in conv.uploads]
    assert sorted(u.name for u in uploads) == ["booking.txt", "hero.jpg", "latency.csv", "q2-plan.pdf", "runbook.txt"]
    lines = [line for conv in plan_lines(tmp_path / "plan").values() for line in conv]
    hero = next(line for line in lines if any(a["name"] == "hero.jpg" for a in line.get("attachments", [])))
    assert not hero.get("hostedContents") and "<attachment id=" in hero["body"]["content"]
    assert_plan_rules(tmp_path / "plan", NOW)


def test_an_image_over_the_cap_in_a_chat_goes_as_other_chat_files_and_is_counted(tmp_path) -> None:
    big = b"\x89PNG\r\n\x1a\n" + bytes(3000)
    picture = {
        "id": "F9BIG",
        "name": "big.png",
        "mimetype": "image/png",
        "size": len(big),
        "url_private": "https://files.slack.com/files-pri/T1-F9BIG/big.png",
    }
    small = dict(picture, id="F9SMALL", name="small.png", size=500)
    export = {
        "dms.json": [{"id": "D1", "created": 1700000000, "members": ["U1", "U2"]}],
        "D1/2023-11-14.json": [message("1700000200.000100", "pictures", files=[picture, small])],
        "__uploads/F9BIG/big.png": big,
        "__uploads/F9SMALL/small.png": big[:500],
    }
    result, lines = transform_export(
        tmp_path, export, edit={"\nteams:\n": "\ndefaults:\n  inline_image_max_bytes: 2000\nteams:\n"}
    )
    files = result.report["files"]
    assert (files["inline_images"], files["in_chat"], files["images_over_cap"]) == (1, 1, 1)
    (chat,) = [conv for key, conv in lines.items() if key.startswith("chats/")]
    assert len(chat[0]["hostedContents"]) == 1  # the small one
    assert [a["name"] for a in chat[0].get("attachments", [])] == ["big.png"]  # as any chat file (sender's OneDrive)
