"""The Mattermost bulk-export reader: the sample read in full, streamed a day at a time, bad lines quarantined."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from migrator.model import ConversationKind, FileStatus, SourceError
from migrator.sources.mattermost import MattermostExport
from migrator.stages.analyse import run_analyse
from tests.slackkit import REPO, streaming_peak, zip_folder, zip_members

SAMPLE = REPO / "sample_data" / "mattermost"
VERSION = {"type": "version", "version": 1}
TEAM = {"type": "team", "team": {"name": "acme", "display_name": "Acme", "type": "O"}}
CHANNEL = {"type": "channel", "channel": {"team": "acme", "name": "general", "display_name": "General", "type": "O"}}


def post(create_at: int, message: str = "hi", **fields: Any) -> dict[str, Any]:
    return {
        "type": "post",
        "post": {
            "team": "acme",
            "channel": "general",
            "user": "ada",
            "message": message,
            "create_at": create_at,
            **fields,
        },
    }


def write_jsonl(root: Path, lines: list[Any], name: str = "import.jsonl") -> Path:
    """An unpacked export; a str line is written as it is (to make broken lines)."""
    root.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines)
    (root / name).write_text(text, encoding="utf-8")
    return root


def test_sample_inventory_counts(tmp_path: Path) -> None:
    inventory = run_analyse(SAMPLE, tmp_path / "analysis")
    assert inventory["source"]["kind"] == "mattermost"
    assert inventory["workspace"] == {"id": "northwind", "name": "Northwind Traders"}
    assert inventory["totals"] == {"conversations": 6, "messages": 33, "threads": 7, "replies": 14, "files": 3}
    assert inventory["users"] == {"total": 7, "bots": 1, "deleted": 1, "without_email": 0, "external": 0}
    assert inventory["files"] == {"available": 2, "missing": 1, "external": 0, "deleted": 0}
    assert inventory["issues"]["orphan_replies"] == 0 and inventory["issues"]["replies_before_root"] == 0
    assert inventory["conversions"]["reactions"] == 5 and inventory["conversions"]["edits"] == 3
    assert inventory["conversions"]["pins"] == 2 and inventory["conversions"]["system_messages"] == 1
    conversions = inventory["conversions"]  # counted in Markdown, as transform converts them
    assert (conversions["mentions"], conversions["quotes"], conversions["code_blocks"], conversions["inline_code"]) == (
        1,
        1,
        1,
        3,
    )
    assert inventory["quarantined"] == [] and inventory["ignored"] == []
    kinds = {c["id"]: (c["kind"], c["messages"]) for c in inventory["channels"]}
    assert kinds == {
        "northwind.town-square": ("public", 10),
        "northwind.engineering": ("public", 11),
        "northwind.leadership": ("private", 3),
        "northwind.old-launch": ("public", 2),
        "dm:ada,grace": ("dm", 4),
        "dm:ada,alan,zoë": ("group_dm", 3),
    }


def test_sample_messages_carry_threads_files_and_people() -> None:
    with MattermostExport(SAMPLE) as export:
        convs = {c.id: c for c in export.conversations()}
        assert convs["northwind.leadership"].members == ("ada", "grace")
        assert convs["northwind.old-launch"].archived and convs["northwind.town-square"].is_general
        assert export.users["ada"].email == "ada@example.com" and export.users["ci-bot"].is_bot
        assert export.users["guest.gita"].is_guest and export.users["linus"].deleted
        engineering = list(export.messages(convs["northwind.engineering"]))
        diagram = engineering[0]
        assert diagram.files[0].status is FileStatus.AVAILABLE and diagram.files[0].is_image
        with export.open_file(diagram.files[0]) as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
        assert {r.name: r.users for r in diagram.reactions} == {"eyes": ("ada",), "+1": ("alan", "zoë")}
        replies = [m for m in engineering if m.thread_ts == diagram.ts]
        assert [m.user for m in replies] == ["ada", "grace", "alan", "guest.gita"]
        assert replies[2].edited is not None and replies[2].extra["text_format"] == "markdown"
        bot = next(m for m in engineering if m.user == "ci-bot")
        assert bot.attachments[0]["title"] == "Build #1287"
        days = [(d.date, len(d.messages)) for d in export.days(convs["northwind.town-square"])]
        assert days == [("2024-01-05", 8), ("2024-01-06", 2)]


def test_zip_and_folder_read_the_same(tmp_path: Path) -> None:
    archive = zip_folder(SAMPLE, tmp_path / "mattermost_export.zip")
    with MattermostExport(SAMPLE) as folder, MattermostExport(archive) as packed:

        def everything(export: MattermostExport) -> list[tuple[str, str | None, str | None]]:
            return [(m.ts, m.text, m.thread_ts) for c in export.conversations() for m in export.messages(c)]

        assert everything(folder) == everything(packed)
        image = next(f for c in packed.conversations() for m in packed.messages(c) for f in m.files if f.is_image)
        with packed.open_file(image) as handle:
            assert handle.read(4) == b"\x89PNG"


def test_bad_lines_are_quarantined_with_their_line_number(tmp_path: Path) -> None:
    root = write_jsonl(
        tmp_path / "export",
        [
            VERSION,
            TEAM,
            CHANNEL,
            post(1704067200000, "first"),
            '{"type": "post", "post": {"team": "acme"',
            post(1704067201000, "no such channel", channel="ghost"),
            post("yesterday", "bad time"),
            post(
                1704067202000,
                "root",
                replies=[
                    {"user": "grace", "message": "no time"},
                    {"user": "grace", "message": "ok", "create_at": 1704067203000},
                ],
            ),
            {"type": "emoji", "emoji": {"name": "party", "image": "emoji/party.png"}},
            {"type": "hologram", "hologram": {}},
            ["not", "an", "object"],
        ],
    )
    (root / "notes.txt").write_text("x")
    with MattermostExport(root) as export:
        (general,) = export.conversations()
        assert [m.text for m in export.messages(general)] == ["first", "root", "ok"]
        refused = {q.item: q.error for q in export.quarantine}
        ignored = {i.path: (i.reason, i.entries) for i in export.ignored}
    assert set(refused) == {5, 6, 7, 8, 11}
    assert refused[5].startswith("not valid JSON (column ")
    assert "'acme.ghost', which no channel line defines" in refused[6]
    assert "'yesterday' is not epoch milliseconds" in refused[7]
    assert refused[8].startswith("reply 1:")
    assert 'without a "type"' in refused[11]
    assert ignored["import.jsonl (emoji lines)"][1] == 1
    assert ignored["import.jsonl (hologram lines)"] == ("not a line type of the Mattermost bulk export format", 1)
    assert ignored["notes.txt"][0] == "not part of the Mattermost bulk export format"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([TEAM], r"line 1 is not \{\"type\": \"version\""),
        ([], "has no version line"),
    ],
)
def test_not_a_bulk_export_is_fatal(tmp_path: Path, lines: list[Any], message: str) -> None:
    with pytest.raises(SourceError, match=message):
        MattermostExport(write_jsonl(tmp_path / "export", lines))


def test_zero_or_two_jsonl_files_are_fatal(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no JSONL file, so this is not one Mattermost bulk export"):
        MattermostExport(empty)
    two = write_jsonl(write_jsonl(tmp_path / "two", [VERSION]), [VERSION], "other.jsonl")
    with pytest.raises(SourceError, match="2 JSONL files"):
        MattermostExport(two)


def test_unsafe_zip_is_refused_by_the_shared_archive_checks(tmp_path: Path) -> None:
    path = zip_members(tmp_path / "evil.zip", {"import.jsonl": json.dumps(VERSION).encode(), "../escape.png": b"x"})
    with pytest.raises(SourceError, match="refused.*outside the archive"):
        MattermostExport(path)


def test_direct_messages_with_participants_and_a_missing_attachment(tmp_path: Path) -> None:
    root = write_jsonl(
        tmp_path / "export",
        [
            VERSION,
            TEAM,
            CHANNEL,
            {
                "type": "direct_channel",
                "direct_channel": {"participants": [{"username": "grace"}, {"username": "ada"}]},
            },
            {
                "type": "direct_post",
                "direct_post": {
                    "channel_members": ["ada", "grace"],
                    "user": "grace",
                    "message": "hey",
                    "create_at": 1704067200000,
                    "attachments": [{"path": "gone/file.txt"}],
                },
            },
            {
                "type": "direct_post",
                "direct_post": {
                    "channel_members": ["ada"],
                    "user": "ada",
                    "message": "note to self",
                    "create_at": 1704067201000,
                },
            },
        ],
    )
    with MattermostExport(root) as export:
        convs = {c.id: c for c in export.conversations()}
        assert convs["dm:ada,grace"].kind is ConversationKind.DM and convs["dm:ada"].members == ("ada",)
        (hey,) = export.messages(convs["dm:ada,grace"])
        assert hey.files[0].status is FileStatus.MISSING and hey.files[0].name == "file.txt"


def test_broken_characters_are_replaced_and_listed_per_file(tmp_path: Path) -> None:
    """A lone surrogate escape (half an emoji) becomes U+FFFD before the spool or any stage sees it; a whole pair
    stays.
    """
    user = {
        "type": "user",
        "user": {"username": "ada", "email": "ada@example.com", "first_name": "Ada \ud83d", "last_name": "Lovelace"},
    }
    replies = [{"user": "ada", "message": "reply \udc00", "create_at": 1704103202000}]
    lines = [
        VERSION,
        TEAM,
        CHANNEL,
        user,
        post(1704103200000, "cut \ud83d, whole \ud83d\ude00", replies=replies),
        post(1704103201000, "plain"),
    ]
    root = write_jsonl(tmp_path / "export", [json.dumps(line) for line in lines])  # the escapes kept, as written
    with MattermostExport(root) as export:
        (general,) = export.conversations()
        assert [m.text for m in export.messages(general)] == ["cut \ufffd, whole \U0001f600", "plain", "reply \ufffd"]
        assert export.users["ada"].real_name == "Ada \ufffd Lovelace"
        assert export.repaired == {"import.jsonl": 3}


def _peak_while_streaming(root: Path, posts: int) -> int:
    lines: list[Any] = [VERSION, TEAM, CHANNEL]
    start = 1704067200000
    lines += [
        post(
            start + i * 900_000,
            f"message {i} " + "x" * 200,
            replies=[{"user": "grace", "message": "re", "create_at": start + i * 900_000 + 1}],
        )
        for i in range(posts)
    ]  # 96 posts a day
    return streaming_peak(MattermostExport, write_jsonl(root, lines), 2 * posts)


def test_memory_stays_flat_as_the_export_grows(tmp_path: Path) -> None:
    small = _peak_while_streaming(tmp_path / "small", 1_000)
    large = _peak_while_streaming(tmp_path / "large", 8_000)
    assert large < small * 1.5, f"peak grew from {small:,} to {large:,} bytes for 8x the posts"
