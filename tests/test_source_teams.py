"""The Teams reader (archives of `migrator export`): versions folded, images and emails found, bad input named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from migrator.model import ConversationKind, FileStatus, SourceError
from migrator.sources import detect_format
from migrator.sources.teams import TeamsExport
from migrator.stages.analyse import run_analyse
from migrator.timestamps import format_ms
from tests.slackkit import REPO, streaming_peak, zip_folder

SAMPLE = REPO / "sample_data" / "teams"
CHANNEL = "19:general@thread.tacv2"
ADA = {"id": "u-ada", "displayName": "Ada Lovelace", "userIdentityType": "aadUser"}
GRACE = {"id": "u-grace", "displayName": "Grace Hopper", "userIdentityType": "aadUser"}


def chat_message(n: int, content: str = "<p>hi</p>", **fields: Any) -> dict[str, Any]:
    stamp = f"2024-01-01T10:00:{n:02d}.000Z"
    return {
        "id": str(1704103200000 + n * 1000),
        "replyToId": None,
        "messageType": "message",
        "createdDateTime": stamp,
        "lastModifiedDateTime": stamp,
        "channelIdentity": {"teamId": "t1", "channelId": CHANNEL},
        "from": {"user": ADA},
        "body": {"contentType": "html", "content": content},
        "attachments": [],
        "mentions": [],
        "reactions": [],
        **fields,
    }


def archive(
    root: Path,
    lines: list[Any],
    *,
    target: str = "teams/t1",
    name: str = "19%3Ageneral@thread.tacv2.jsonl",
    meta: dict[str, Any] | None = None,
) -> Path:
    """An export folder with one conversation file; a str line is written as it is (to make broken lines)."""
    folder = root / target
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    (folder / name).write_text(text, encoding="utf-8")
    if meta is not None:
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return root


def test_sample_inventory_counts(tmp_path: Path) -> None:
    inventory = run_analyse(SAMPLE, tmp_path / "analysis")
    assert inventory["source"]["kind"] == "teams"
    assert inventory["workspace"]["name"] == "Northwind Labs"
    assert inventory["totals"] == {"conversations": 8, "messages": 353, "threads": 42, "replies": 120, "files": 6}
    assert inventory["users"] == {"total": 5, "bots": 0, "deleted": 0, "without_email": 0, "external": 0}
    assert inventory["files"] == {"available": 3, "missing": 0, "external": 3, "deleted": 0}
    assert inventory["conversions"]["edits"] == 1 and inventory["conversions"]["system_messages"] == 2
    conversions = inventory["conversions"]  # read from the HTML kept, not from Slack's markup
    assert (conversions["links"], conversions["quotes"], conversions["code_blocks"], conversions["inline_code"]) == (
        17,
        16,
        6,
        17,
    )
    assert inventory["issues"]["oversize_messages"] == 0  # HTML is kept, not escaped: no growth to estimate
    assert inventory["issues"]["orphan_replies"] == 0 and inventory["quarantined"] == []
    assert {i["path"] for i in inventory["ignored"]} == {
        "state.json",
        "teams/cd5a94de-5d20-4b51-ab99-b9f527216dff/attachments.csv",
        "users/a0000000-0000-4000-8000-000000000002/attachments.csv",
    }
    kinds = {c["name"]: (c["kind"], c["messages"], c["replies"]) for c in inventory["channels"]}
    # With Ada's chats beside the team, "everyone in the export" is more than the team: its channels are private to it.
    assert kinds == {
        "General": ("private", 82, 34),
        "random": ("private", 57, 17),
        "engineering": ("private", 106, 42),
        "design": ("private", 36, 15),
        "announcements": ("private", 19, 0),
        "leadership": ("private", 32, 12),
        "Launch planning": ("group_dm", 3, 0),
        "Ada Lovelace, Grace Hopper": ("dm", 18, 0),
    }
    standard = {c["members"] for c in inventory["channels"] if c["kind"] == "private" and c["name"] != "leadership"}
    assert standard == {5}  # the people the team's messages name; the private channel keeps its own 3


def test_sample_versions_are_folded_and_images_found() -> None:
    with TeamsExport(SAMPLE) as export:
        conversations = {c.name: c for c in export.conversations()}
        general = list(export.messages(conversations["General"]))
        edited = [m for m in general if m.edited is not None]
        assert len(edited) == 1 and "Edited after the migration" in (edited[0].text or "")
        deleted = next(m for m in general if m.subtype == "deleted")
        assert deleted.system and deleted.is_reply and "deleted in Teams" in (deleted.text or "")
        design = list(export.messages(conversations["design"]))
        image = next(f for m in design for f in m.files)
        assert image.status is FileStatus.AVAILABLE and image.is_image and image.extra["hosted_content"]
        with export.open_file(image) as handle:
            assert handle.read(4) in {b"\x89PNG", b"\xff\xd8\xff\xe0"}
        engineering = list(export.messages(conversations["engineering"]))
        linked = next(f for m in engineering for f in m.files if f.status is FileStatus.EXTERNAL)
        assert linked.name == "runbook.txt" and linked.url and linked.url.startswith("https://")
        chat = list(export.messages(conversations["Launch planning"]))
        assert conversations["Launch planning"].kind is ConversationKind.GROUP_DM
        assert [(m.bot_id is not None, m.username) for m in chat][-1] == (True, "Build bot")
        assert export.users["a0000000-0000-4000-8000-000000000002"].email == "ada@contoso.example"
        assert all(m.extra["text_format"] in {"html", "plain"} for m in general)


def test_zip_and_folder_read_the_same(tmp_path: Path) -> None:
    packed = zip_folder(SAMPLE, tmp_path / "teams-export.zip")
    assert detect_format(SAMPLE) == detect_format(packed) == "teams"
    with TeamsExport(SAMPLE) as folder, TeamsExport(packed) as zipped:

        def everything(export: TeamsExport) -> list[tuple[str, str | None, int]]:
            return [(m.ts, m.text, len(m.files)) for c in export.conversations() for m in export.messages(c)]

        assert everything(folder) == everything(zipped)


def test_bad_lines_are_quarantined_with_their_line_number(tmp_path: Path) -> None:
    root = archive(
        tmp_path / "export",
        [
            chat_message(1),
            '{"id": "broken"',
            {k: v for k, v in chat_message(2).items() if k != "id"},
            {k: v for k, v in chat_message(3).items() if k != "channelIdentity"},
            chat_message(4, createdDateTime="yesterday"),
            ["not", "a", "message"],
            chat_message(5, "<p>fine</p>"),
            chat_message(6, lastEditedDateTime="after lunch"),
        ],
    )
    (root / "teams/t1/meta.json").write_text("{not json", encoding="utf-8")
    (root / "notes.txt").write_text("x")
    (root / "search.html").write_text("<html></html>")
    (root / "teams/t1/files/19%3Ageneral@thread.tacv2/1").mkdir(parents=True)
    (root / "teams/t1/files/19%3Ageneral@thread.tacv2/1/plan.txt").write_text("the plan")
    with TeamsExport(root) as export:
        (general,) = export.conversations()
        assert [m.text for m in export.messages(general)] == ["<p>hi</p>", "<p>fine</p>"]
        assert general.kind is ConversationKind.PRIVATE  # without meta.json nothing says who could read it
        refused = {(q.file.rpartition("/")[2], q.item): q.error for q in export.quarantine}
        ignored = {i.path: i.reason for i in export.ignored}
    name = "19%3Ageneral@thread.tacv2.jsonl"
    assert refused[(name, 2)].startswith("not valid JSON")
    assert refused[(name, 3)] == "chatMessage without an id"
    assert "names neither a channel" in refused[(name, 4)]
    assert "'yesterday' is not ISO-8601" in refused[(name, 5)]
    assert "where a chatMessage object belongs" in refused[(name, 6)]
    assert "'after lunch' is not ISO-8601" in refused[(name, 8)]
    assert "named by id and treated as private" in refused[("meta.json", None)]
    assert ignored["notes.txt"] == "not part of a `migrator export` archive"
    assert ignored["search.html"].startswith("the archive's search page")
    assert ignored["teams/t1/files"].startswith("attached files `export --attachments download` fetched")


def test_a_field_that_is_not_an_object_where_graph_has_one_reads_as_absent(tmp_path: Path) -> None:
    """A body, a reaction's user or a quoted message's sender that is not an object is read as missing, as a
    `from` that is not one already was, rather than stopping the whole read."""
    quoted = {"contentType": "messageReference", "content": json.dumps({"messageSender": {"user": "u-ada"}})}
    root = archive(
        tmp_path / "export",
        [
            chat_message(1, body="<p>hi</p>"),
            chat_message(2, reactions=[{"reactionType": "like", "user": {"user": "u-grace"}}]),
            chat_message(3, attachments=[quoted]),
        ],
    )
    with TeamsExport(root) as export:
        (general,) = export.conversations()
        no_body, reacted, quoting = export.messages(general)
    assert no_body.text == "" and no_body.files == []
    assert [(r.name, r.count, r.users) for r in reacted.reactions] == [("+1", 1, ())]
    assert quoting.attachments[0]["author_name"] == "" and quoting.attachments[0]["fallback"] == "a quoted message"


def test_no_conversation_file_is_fatal(tmp_path: Path) -> None:
    (tmp_path / "teams" / "t1").mkdir(parents=True)
    (tmp_path / "teams" / "t1" / "meta.json").write_text("{}")
    with pytest.raises(SourceError, match="not an archive written by `migrator export`"):
        TeamsExport(tmp_path)


def test_a_chat_exported_for_each_member_is_read_once_in_its_newest_version(tmp_path: Path) -> None:
    first = chat_message(1, channelIdentity=None, chatId="19:chat@thread.v2")
    newer = {
        **first,
        "lastModifiedDateTime": "2024-01-02T00:00:00.000Z",
        "lastEditedDateTime": "2024-01-02T00:00:00.000Z",
        "body": {"contentType": "html", "content": "<p>edited</p>"},
    }
    meta = {
        "kind": "user",
        "conversations": {
            "19:chat@thread.v2": {"name": "Ada, Grace", "kind": "oneOnOne", "members": ["u-ada", "u-grace"]}
        },
        "people": {"u-ada": {"name": "Ada L.", "email": "ada@example.com"}},
    }
    root = archive(tmp_path / "export", [first, newer], target="users/u-ada", name="chat.jsonl", meta=meta)
    archive(root, [newer, first], target="users/u-grace", name="chat.jsonl")
    with TeamsExport(root) as export:
        (chat,) = export.conversations()
        (message,) = export.messages(chat)
        assert chat.kind is ConversationKind.DM and chat.members == ("u-ada", "u-grace")
        assert message.text == "<p>edited</p>" and message.edited is not None
        assert (export.users["u-ada"].name, export.users["u-ada"].email) == ("Ada L.", "ada@example.com")


def test_mentions_reactions_cards_and_replies(tmp_path: Path) -> None:
    root_message = chat_message(
        1,
        '<p>Hi <at id="0">Grace Hopper</at></p>',
        mentions=[{"id": 0, "mentionText": "Grace Hopper", "mentioned": {"user": GRACE}}],
        reactions=[
            {"reactionType": "like", "user": {"user": {"id": "u-grace"}}},
            {"reactionType": "😂", "user": {"user": {"id": "u-ada"}}},
        ],
    )
    reply = chat_message(2, "<p>reply</p>", replyToId=root_message["id"], **{"from": {"user": GRACE}})
    orphan = chat_message(3, "<p>root outside the window</p>", replyToId="1704099600000")
    card = chat_message(
        4,
        '<attachment id="c1"></attachment>',
        attachments=[
            {
                "id": "c1",
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": '{"type": "AdaptiveCard"}',
            },
            {
                "id": "q1",
                "contentType": "messageReference",
                "content": json.dumps({"messagePreview": "earlier words", "messageSender": {"user": ADA}}),
            },
        ],
    )
    event = chat_message(
        5,
        "<systemEventMessage/>",
        messageType="systemEventMessage",
        **{"from": None},
        eventDetail={
            "@odata.type": "#microsoft.graph.membersAddedEventMessageDetail",
            "members": [{"id": "u-grace", "displayName": "Grace Hopper"}],
        },
    )
    root = archive(
        tmp_path / "export",
        [root_message, reply, orphan, card, event],
        meta={"kind": "team", "name": "Acme", "conversations": {CHANNEL: {"name": "General", "kind": "standard"}}},
    )
    with TeamsExport(root) as export:
        (general,) = export.conversations()
        messages = list(export.messages(general))
    assert general.is_general and general.kind is ConversationKind.PUBLIC and general.members == ("u-ada", "u-grace")
    first, answer, stray, cards, added = messages
    assert {r.name: r.users for r in first.reactions} == {"+1": ("u-grace",), "face_with_tears_of_joy": ("u-ada",)}
    assert first.extra["mentions"][0]["mentioned"]["user"]["id"] == "u-grace"
    assert answer.thread_ts == first.ts and answer.is_reply
    assert stray.is_reply and stray.thread_ts == "1704099600.000000"  # Teams ids are the root's epoch ms
    assert [c.get("author_name") for c in cards.attachments] == [None, "Ada Lovelace"]
    assert "cannot import" in cards.attachments[0]["fallback"] and cards.attachments[1]["text"] == "earlier words"
    assert (
        added.system
        and added.text == "members added: Grace Hopper"
        and added.subtype == "membersAddedEventMessageDetail"
    )


def test_broken_characters_are_replaced_and_listed_per_file(tmp_path: Path) -> None:
    """A lone surrogate escape (half an emoji) becomes U+FFFD: in meta.json, in a message, and in a card's JSON, which
    is a string inside the message decoded only when the message is read; a whole pair stays."""
    card = {
        "id": "c1",
        "contentType": "application/vnd.microsoft.card.adaptive",
        "content": json.dumps({"title": "card \ud83d", "text": "whole \ud83d\ude00"}),
    }  # escaped again inside
    root = archive(
        tmp_path / "export",
        [chat_message(1, "<p>cut \udc00</p>", attachments=[card])],
        meta={"kind": "team", "name": "Acme", "conversations": {CHANNEL: {"name": "Gen \ud83d", "kind": "standard"}}},
    )
    with TeamsExport(root) as export:
        (general,) = export.conversations()
        (message,) = export.messages(general)
        assert general.name == "Gen \ufffd" and message.text == "<p>cut \ufffd</p>"
        assert (message.attachments[0]["title"], message.attachments[0]["text"]) == ("card \ufffd", "whole \U0001f600")
        assert export.repaired == {"teams/t1/meta.json": 1, "teams/t1/19%3Ageneral@thread.tacv2.jsonl": 2}


def _peak_while_streaming(root: Path, messages: int) -> int:
    """A channel of `messages` (a quarter of them replies), each also edited once later in the file."""
    start = 1704067200000
    lines = []
    for i in range(messages):
        line = chat_message(
            0,
            "<p>message " + "x" * 200 + "</p>",
            id=str(start + i * 900_000),
            createdDateTime=format_ms(start + i * 900_000),
            lastModifiedDateTime=format_ms(start + i * 900_000),
        )
        if i % 4 == 3:
            line["replyToId"] = str(start + (i - 1) * 900_000)
        lines.append(line)
    lines += [
        {**line, "lastModifiedDateTime": "2025-01-01T00:00:00.000Z", "lastEditedDateTime": "2025-01-01T00:00:00.000Z"}
        for line in lines[::10]
    ]
    return streaming_peak(TeamsExport, archive(root, lines), messages)


def test_memory_stays_flat_as_the_export_grows(tmp_path: Path) -> None:
    small = _peak_while_streaming(tmp_path / "small", 1_000)
    large = _peak_while_streaming(tmp_path / "large", 8_000)
    assert large < small * 1.5, f"peak grew from {small:,} to {large:,} bytes for 8x the messages"
