"""The DiscordChatExporter reader: replies join their root's thread, media is found, big files stream, bad input is
named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from migrator.model import ConversationKind, FileStatus, SourceError
from migrator.sources.discord import DiscordExport
from migrator.stages.analyse import run_analyse
from tests.slackkit import REPO, streaming_peak, zip_folder, zip_members

SAMPLE = REPO / "sample_data" / "discord"
GUILD = {"id": "1", "name": "Guild"}
AUTHOR = {"id": "10", "name": "ada", "nickname": "Ada", "isBot": False}


def message(n: int, content: str = "hi", **fields: Any) -> dict[str, Any]:
    return {
        "id": str(n),
        "type": "Default",
        "timestamp": f"2024-01-01T10:{n // 60 % 60:02d}:{n % 60:02d}.000+00:00",
        "content": content,
        "author": AUTHOR,
        **fields,
    }


def channel_file(
    root: Path,
    messages: list[Any],
    name: str = "general.json",
    channel_id: str = "100",
    kind: str = "GuildTextChat",
    *,
    ensure_ascii: bool = False,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    document = {
        "guild": GUILD,
        "channel": {"id": channel_id, "type": kind, "name": name.removesuffix(".json")},
        "messages": messages,
        "messageCount": len(messages),
    }
    (root / name).write_text(json.dumps(document, ensure_ascii=ensure_ascii), encoding="utf-8")
    return root


def test_sample_inventory_counts(tmp_path: Path) -> None:
    inventory = run_analyse(SAMPLE, tmp_path / "analysis")
    assert inventory["source"]["kind"] == "discord"
    assert inventory["workspace"] == {"id": "1100000000000000000", "name": "Northwind Gaming"}
    assert inventory["totals"] == {"conversations": 5, "messages": 29, "threads": 6, "replies": 9, "files": 3}
    assert inventory["users"] == {"total": 5, "bots": 1, "deleted": 0, "without_email": 4, "external": 0}
    assert inventory["files"] == {"available": 2, "missing": 1, "external": 0, "deleted": 0}
    assert inventory["issues"]["orphan_replies"] == 0
    assert inventory["conversions"]["pins"] == 2 and inventory["conversions"]["system_messages"] == 3
    # cards: 2 embeds, and the link of a reply whose message is not in the export
    assert inventory["conversions"]["edits"] == 2 and inventory["conversions"]["bot_attachments"] == 3
    conversions = inventory["conversions"]  # counted in Discord Markdown, as transform converts them
    # mentions: "@Ada" written, and Grace pinged by a reply without her name in its text
    assert (conversions["mentions"], conversions["links"], conversions["code_blocks"], conversions["inline_code"]) == (
        2,
        1,
        1,
        1,
    )
    assert inventory["quarantined"] == [] and inventory["ignored"] == []
    kinds = {c["name"]: (c["kind"], c["messages"], c["replies"]) for c in inventory["channels"]}
    assert kinds == {
        "general": ("public", 12, 4),
        "dev": ("public", 7, 3),
        "dev › release-planning": ("private", 3, 1),  # a thread: named with its parent channel
        "gracehopper": ("dm", 3, 1),
        "ada.l, alan_t, zoë": ("group_dm", 4, 0),
    }


def test_a_reply_to_a_reply_joins_the_first_messages_thread() -> None:
    with DiscordExport(SAMPLE) as export:
        general = next(c for c in export.conversations() if c.name == "general")
        messages = list(export.messages(general))
    welcome = messages[0]
    thread = [m.user for m in messages if m.thread_ts == welcome.ts]
    assert thread == ["180000000000000002", "180000000000000003", "180000000000000001"]  # grace, alan (to grace), ada
    pin_notice = next(m for m in messages if m.subtype == "ChannelPinnedMessage")
    assert pin_notice.system and not pin_notice.is_reply
    assert welcome.reactions[0].name == "tada" and welcome.reactions[0].count == 3
    assert welcome.extra["text_format"] == "discord-markdown"


def test_media_files_and_a_reply_whose_message_is_gone() -> None:
    with DiscordExport(SAMPLE) as export:
        by_name = {c.name: c for c in export.conversations()}
        general = list(export.messages(by_name["general"]))
        dev = list(export.messages(by_name["dev"]))
        bracket = next(f for m in general for f in m.files if f.name == "bracket.png")
        clip = next(f for m in general for f in m.files if f.name == "clip.mp4")
        with export.open_file(bracket) as handle:
            assert handle.read(4) == b"\x89PNG"
    assert bracket.status is FileStatus.AVAILABLE and bracket.is_image
    assert (
        clip.status is FileStatus.MISSING
        and clip.url is not None
        and clip.url.startswith("https://cdn.discordapp.com/")
    )
    orphan = dev[-1]
    assert not orphan.is_reply and orphan.extra["reply_to_missing"] == "1100000000000999999"


def test_zip_of_the_export_reads_like_the_folder(tmp_path: Path) -> None:
    packed = zip_folder(SAMPLE, tmp_path / "discord.zip")
    with DiscordExport(SAMPLE) as folder, DiscordExport(packed) as archive:

        def everything(export: DiscordExport) -> list[tuple[str, str | None, int]]:
            return [(m.ts, m.thread_ts, len(m.files)) for c in export.conversations() for m in export.messages(c)]

        assert everything(folder) == everything(archive)
        kinds = {c.name: c.kind for c in archive.conversations()}
    assert kinds["gracehopper"] is ConversationKind.DM


def test_one_channel_file_on_its_own(tmp_path: Path) -> None:
    root = channel_file(tmp_path / "export", [message(1), message(2, type="Reply", reference={"messageId": "1"})])
    with DiscordExport(root / "general.json") as export:
        (conv,) = export.conversations()
        first, reply = export.messages(conv)
    assert reply.thread_ts == first.ts


def test_bad_messages_are_quarantined_by_position(tmp_path: Path) -> None:
    root = channel_file(
        tmp_path / "export",
        [
            message(1),
            {"id": "2", "content": "no time", "author": AUTHOR},
            "text",
            message(4, timestamp="yesterday"),
            {"id": "5", "timestamp": "2024-01-01T10:00:05+00:00", "content": "nobody"},
            message(6),
            message(7, timestampEdited="later"),
        ],
    )
    (root / "notes.txt").write_text("x")
    (root / "other.json").write_text('{"hello": "world"}')
    with DiscordExport(root) as export:
        (conv,) = export.conversations()
        assert [m.text for m in export.messages(conv)] == ["hi", "hi"]
        refused = {q.item: q.error for q in export.quarantine}
        ignored = {i.path: i.reason for i in export.ignored}
    assert set(refused) == {1, 2, 3, 4, 6}
    assert "'later' is not ISO-8601" in refused[6]
    assert "'yesterday' is not ISO-8601" in refused[3] and "not ISO-8601" in refused[1]
    assert "a JSON str where a message object belongs" in refused[2] and "without an author" in refused[4]
    assert (
        ignored["other.json"] == "not a DiscordChatExporter channel: JSON without guild, channel and messages"
        and "not referenced" in ignored["notes.txt"]
    )


def test_broken_characters_are_replaced_and_listed_per_file(tmp_path: Path) -> None:
    """A lone surrogate escape (half an emoji) becomes U+FFFD as each value is decoded; a whole pair stays."""
    author = {**AUTHOR, "nickname": "Ada \ud83d"}
    root = channel_file(
        tmp_path / "export",
        [message(1, "cut \udc00, whole \ud83d\ude00", author=author), message(2)],
        ensure_ascii=True,
    )  # the escapes kept, as written
    with DiscordExport(root) as export:
        (conv,) = export.conversations()
        assert [m.text for m in export.messages(conv)] == ["cut \ufffd, whole \U0001f600", "hi"]
        assert export.users["10"].display_name == "Ada \ufffd"
        assert export.repaired == {"general.json": 2}


def test_a_file_cut_short_keeps_what_came_before(tmp_path: Path) -> None:
    root = channel_file(tmp_path / "export", [message(1), message(2), message(3)])
    text = (root / "general.json").read_text()
    (root / "general.json").write_text(text[: text.index('"id": "3"') + 4])
    with DiscordExport(root) as export:
        (conv,) = export.conversations()
        assert len(list(export.messages(conv))) == 2
        (entry,) = export.quarantine
    assert entry.file == "general.json" and entry.item == 2
    assert "not valid JSON" in entry.error and "after 2 messages; the rest of this file is not read" in entry.error


def test_no_channel_file_is_fatal(tmp_path: Path) -> None:
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "readme.json").write_text("[]")
    with pytest.raises(SourceError, match="no DiscordChatExporter channel file.*--format Json"):
        DiscordExport(tmp_path / "export")


def test_media_path_escaping_the_export_is_refused_by_the_archive(tmp_path: Path) -> None:
    path = zip_members(tmp_path / "evil.zip", {"general.json": b"{}", "../../etc/passwd": b"x"})
    with pytest.raises(SourceError, match="refused"):
        DiscordExport(path)


def test_attachment_url_with_dotdot_is_not_followed(tmp_path: Path) -> None:
    root = channel_file(
        tmp_path / "export" / "inner",
        [
            message(
                1, attachments=[{"id": "9", "url": "../../secret.png", "fileName": "secret.png", "fileSizeBytes": 1}]
            )
        ],
    )
    (tmp_path / "secret.png").write_bytes(b"x")
    with DiscordExport(root) as export:
        (conv,) = export.conversations()
        (msg,) = export.messages(conv)
    assert msg.files[0].status is FileStatus.MISSING and msg.files[0].path is None


def _peak(root: Path, count: int) -> int:
    messages = [
        message(
            i, "x" * 300, timestamp=f"2024-01-{1 + i // 2000:02d}T00:00:00.{i % 1000:03d}+00:00", id=str(10_000 + i)
        )
        for i in range(count)
    ]
    return streaming_peak(DiscordExport, channel_file(root, messages), count)


def test_a_large_channel_file_streams_with_flat_memory(tmp_path: Path) -> None:
    small = _peak(tmp_path / "small", 4_000)
    large = _peak(tmp_path / "large", 24_000)  # ~9 MB of JSON in one file
    assert large < small * 1.5, f"peak grew from {small:,} to {large:,} bytes for 6x the messages"


def test_embeds_stickers_and_commands_are_cards_nothing_dropped(tmp_path: Path) -> None:
    embed = {
        "title": "Build #12",
        "url": "https://ci.example/12",
        "description": "All **green**",
        "author": {"name": "CI"},
        "fields": [{"name": "Branch", "value": "main", "isInline": True}],
        "footer": {"text": "today"},
        "thumbnail": {"url": "https://ci.example/t.png"},
    }
    root = channel_file(
        tmp_path / "export",
        [
            message(
                1,
                "",
                embeds=[embed],
                stickers=[{"id": "9", "name": "wave", "format": "Png", "sourceUrl": "https://cdn.example/9.png"}],
                interaction={"id": "5", "name": "deploy", "user": {"id": "10", "name": "ada", "nickname": "Ada"}},
            )
        ],
    )
    with DiscordExport(root) as export:
        (channel,) = export.conversations()
        (only,) = export.messages(channel)
    card, sticker, command = only.attachments
    assert (card["title"], card["title_link"], card["text"], card["author_name"], card["footer"]) == (
        "Build #12",
        "https://ci.example/12",
        "All **green**",
        "CI",
        "today",
    )
    assert card["fields"] == [{"title": "Branch", "value": "main"}] and card["image_url"] == "https://ci.example/t.png"
    assert sticker["title"] == "Sticker: wave" and command["footer"] == "/deploy used by Ada"


def test_a_reply_ping_becomes_a_mention_first_in_the_reply(tmp_path: Path) -> None:
    """Discord lists the author a reply answers among its mentions without writing their name: Teams pings nobody
    on a reply, so the person is mentioned first; a name the reply writes is not mentioned twice."""
    export = DiscordExport(SAMPLE)
    texts = [m.text for c in export.conversations() for m in export.messages(c) if m.subtype == "Reply"]
    assert "@Grace Same here — where do we post builds?" in texts
    assert "Thanks @Ada! Excited to be here." in texts
