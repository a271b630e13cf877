"""The Slack reader: bad inputs give clear errors or quarantine entries, quirks are read, nothing vanishes."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrator.model import ConversationKind, FileStatus, SourceError
from migrator.sources.archive import ZipLimits
from migrator.sources.slack import SlackExport, _decode_json
from tests.slackkit import message, patch_central_directory, write_export, zip_folder, zip_members


def read_all(export: SlackExport) -> dict[str, list]:
    return {c.name: list(export.messages(c)) for c in export.conversations()}


# --- fatal inputs: SourceError naming the file and what to do ---------------


@pytest.mark.parametrize("missing", ["users.json", "channels.json"])
def test_missing_required_file_is_fatal(tmp_path: Path, missing: str) -> None:
    root = write_export(tmp_path / "export", {})
    (root / missing).unlink()
    with pytest.raises(SourceError, match=rf"{missing} is missing.*not a Slack export"):
        SlackExport(root)


def test_nonexistent_path_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        SlackExport(tmp_path / "nope.zip")


def test_a_file_that_is_not_a_zip_is_fatal(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_text("this is not an archive")
    with pytest.raises(SourceError, match="not a zip archive or a folder"):
        SlackExport(path)


def test_corrupt_zip_is_fatal(tmp_path: Path) -> None:
    good = zip_folder(
        write_export(tmp_path / "export", {"general/2024-01-01.json": [message("1.000001")]}), tmp_path / "good.zip"
    )
    data = good.read_bytes()
    bad = tmp_path / "bad.zip"
    # keep the end-of-central-directory record (so it still looks like a zip) but damage what it points at
    bad.write_bytes(data[:20] + b"\x00" * (len(data) - 60) + data[-40:])
    with pytest.raises(SourceError, match=r"bad.zip.*(corrupt zip|not a zip)"):
        SlackExport(bad)


def test_broken_users_json_is_fatal(tmp_path: Path) -> None:
    root = write_export(tmp_path / "export", {"users.json": "[{"})
    with pytest.raises(SourceError, match=r"users.json is not valid JSON \(line 1"):
        SlackExport(root)


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../outside.json", "general/../../x.json", "C:/windows.json", "a\\..\\..\\b"]
)
def test_zip_member_escaping_the_archive_is_refused(tmp_path: Path, name: str) -> None:
    path = zip_members(tmp_path / "evil.zip", {"users.json": b"[]", "channels.json": b"[]", name: b"[]"})
    with pytest.raises(SourceError, match="refused"):
        SlackExport(path)


def test_zip_bomb_ratio_is_refused_before_extraction(tmp_path: Path) -> None:
    path = zip_members(
        tmp_path / "bomb.zip",
        {"users.json": b"[]", "channels.json": b"[]", "general/2024-01-01.json": b"\0" * (8 << 20)},
    )
    with pytest.raises(SourceError, match=r"ratio .* zip bomb"):
        SlackExport(path)


def test_absurd_declared_size_is_refused_before_extraction(tmp_path: Path) -> None:
    path = zip_members(tmp_path / "liar.zip", {"users.json": b"[]" * 1000, "channels.json": b"[]"})
    patch_central_directory(path, file_size=0xFFFF_FFF0)  # "users.json is 4 GiB"
    with pytest.raises(SourceError, match=r"users.json.*declares 4,294,967,280 bytes.*zip bomb"):
        SlackExport(path)


def test_declared_total_over_the_limit_is_refused(tmp_path: Path) -> None:
    root = write_export(tmp_path / "export", {"general/2024-01-01.json": [message("1.000001")]})
    path = zip_folder(root, tmp_path / "export.zip")
    with pytest.raises(SourceError, match="declare .* bytes uncompressed in all"):
        SlackExport(path, ZipLimits(max_total_bytes=100))


def test_encrypted_member_is_refused_with_advice(tmp_path: Path) -> None:
    path = zip_members(tmp_path / "locked.zip", {"users.json": b"[]", "channels.json": b"[]"})
    patch_central_directory(path, flag_bits=0x1)
    with pytest.raises(SourceError, match="encrypted; unpack the export with its password"):
        SlackExport(path)


def test_slackdump_dump_is_recognised_as_not_an_export(tmp_path: Path) -> None:
    dump = {"channel_id": "C1", "name": "everyone", "messages": [message("1.000001")]}
    path = zip_members(tmp_path / "dump.zip", {"C1.json": json.dumps(dump).encode()})
    with pytest.raises(SourceError, match="slackdump 'dump' archive.*slackdump export"):
        SlackExport(path)


# --- per-file and per-item problems: quarantined, the rest continues ---------


def test_invalid_day_file_is_quarantined_and_reading_continues(tmp_path: Path) -> None:
    root = write_export(
        tmp_path / "export",
        {
            "general/2024-01-01.json": '[{"ts": "1.000001", "text": "ok"',
            "general/2024-01-02.json": [message("1704153600.000001")],
            "dev/2024-01-02.json": b"\xff\xfe not utf-8",
        },
    )
    with SlackExport(root) as export:
        messages = read_all(export)
        assert [m.ts for m in messages["general"]] == ["1704153600.000001"]
        assert messages["dev"] == []
        errors = {q.file: q.error for q in export.quarantine}
    assert errors["general/2024-01-01.json"].startswith("not valid JSON (line 1, column")
    assert errors["dev/2024-01-02.json"].startswith("not UTF-8 text")


def test_json_the_fast_parser_refuses_is_still_read(tmp_path: Path) -> None:
    """orjson reads day files; what it refuses but Python's json accepts (a lone surrogate escape from
    broken UTF-16, a UTF-8 byte order mark) is read, not quarantined, the half character as U+FFFD and listed;
    an integer beyond 64 bits (which orjson reads as a float) does not stop its file from being read."""
    root = write_export(
        tmp_path / "export",
        {
            "general/2024-01-01.json": '[{"type": "message", "ts": "1704067200.000001", "text": "half \\ud83d emoji"}]',
            "general/2024-01-02.json": (
                '[{"type": "message", "ts": "1704153600.000001", "text": "big", "n": 123456789012345678901234567890}]'
            ),
            "general/2024-01-03.json": b'\xef\xbb\xbf[{"type": "message", "ts": "1704240000.000001", "text": "bom"}]',
        },
    )
    with SlackExport(root) as export:
        messages = read_all(export)["general"]
        assert export.quarantine == []
        assert export.repaired == {"general/2024-01-01.json": 1}
    assert [m.text for m in messages] == ["half \ufffd emoji", "big", "bom"]


ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates included
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=())


@settings(max_examples=300)
@given(st.text(ANY_CHARACTER | SURROGATE))
@example("cut \ud83d, whole \ud83d\ude00, reversed \ude00\ud83d")
def test_any_string_with_any_surrogates_decodes_to_text_every_file_can_hold(text: str) -> None:
    """Escaped as JSON writes UTF-16 (`ensure_ascii`), a string decodes to what a UTF-16 decoder makes of it: a
    complete pair one character, each lone surrogate U+FFFD; as a value, a key and a list item alike, each counted."""
    value, repaired = _decode_json(json.dumps([{"text": text, "key " + text: [text]}]).encode())
    expected = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    assert value == [{"text": expected, "key " + expected: [expected]}]
    assert repaired == (3 if expected.count("\ufffd") > text.count("\ufffd") else 0)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # every string has a UTF-8 form


def test_message_without_ts_is_quarantined_with_its_position(tmp_path: Path) -> None:
    day = [
        message("1.000001"),
        {"type": "message", "text": "no ts"},
        "not an object",
        message("2.000001"),
        {"type": "message", "ts": 3.5},
        message("not-a-ts"),
    ]
    root = write_export(tmp_path / "export", {"general/2024-01-01.json": day})
    with SlackExport(root) as export:
        assert [m.ts for m in read_all(export)["general"]] == ["1.000001", "2.000001"]
        refused = [(q.item, q.error) for q in export.quarantine]
    assert [item for item, _ in refused] == [1, 2, 4, 5]
    assert "without ts" in refused[0][1]
    assert "a JSON str where a message object belongs" in refused[1][1]
    assert "lost digits" in refused[2][1]
    assert "not a timestamp" in refused[3][1]


def test_day_file_that_is_an_object_without_ts_is_quarantined(tmp_path: Path) -> None:
    root = write_export(tmp_path / "export", {"general/2024-01-01.json": {"messages": []}})
    with SlackExport(root) as export:
        assert read_all(export)["general"] == []
        assert export.quarantine[0].error == "a JSON dict, not a list of messages"


def test_folder_without_a_conversation_entry_is_quarantined(tmp_path: Path) -> None:
    root = write_export(
        tmp_path / "export", {"ghost/2024-01-01.json": [message("1.000001")], "ghost/2024-01-02.json": []}
    )
    with SlackExport(root) as export:
        assert export.quarantine[0].file == "ghost/"
        assert "folder with 2 day files has no entry in channels.json" in export.quarantine[0].error


def test_unread_entries_are_listed_not_dropped(tmp_path: Path) -> None:
    root = write_export(
        tmp_path / "export",
        {"README.txt": "hello", "__MACOSX/._users.json": b"x", "general/notes.txt": "x", "general/2024-01-01.json": []},
    )
    (root / "link.json").symlink_to("/etc/hostname")
    with SlackExport(root) as export:
        ignored = {i.path: (i.reason, i.entries) for i in export.ignored}
    assert ignored["README.txt"] == ("not part of the Slack export format", 1)
    assert ignored["__MACOSX/"] == ("macOS archive metadata", 1)
    assert ignored["general/"] == ("not part of the Slack export format", 1)
    assert "symbolic link" in ignored["link.json"][0]


def test_a_file_whose_name_is_not_utf8_is_listed_not_read(tmp_path: Path) -> None:
    """Python hands such a name over as lone surrogates, which no report or plan could be written with."""
    root = write_export(tmp_path / "export", {"general/2024-01-01.json": [message("1.000001")]})
    try:
        (root / "general" / os.fsdecode(b"2024-01-02-caf\xe9.json")).write_text("[]", encoding="utf-8")
        (root / os.fsdecode(b"caf\xe9-link.json")).symlink_to("/etc/hostname")
        (root / os.fsdecode(b"caf\xe9")).mkdir()
        for day in ("2024-01-01.json", "2024-01-02.json"):
            (root / os.fsdecode(b"caf\xe9") / day).write_text("[]", encoding="utf-8")
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    with SlackExport(root) as export:
        (general, _) = export.conversations()
        assert len(list(export.messages(general))) == 1
        ignored = {i.path: i.reason for i in export.ignored}
    assert ignored["general/2024-01-02-caf\ufffd.json"].startswith("file name is not UTF-8")
    assert "symbolic link" in ignored["caf\ufffd-link.json"]
    assert ignored["caf\ufffd/"].startswith("folder name is not UTF-8")  # once, not once per file inside
    assert not [path for path in ignored if path.startswith("caf\ufffd/2024")]
    assert json.dumps(ignored, ensure_ascii=False).encode("utf-8")


# --- real-world shapes -------------------------------------------------------


def test_quirks_of_real_exports_are_read(tmp_path: Path) -> None:
    users = {
        "ok": True,
        "members": [
            {"id": "U1", "name": "ada", "profile": {"email": "  ada@example.com "}},
            {"id": "U2", "name": "bob", "profile": {"email": "not an email"}},
            {"id": "USLACKBOT", "name": "slackbot", "profile": None},
        ],
    }
    root = write_export(
        tmp_path / "export",
        {
            "users.json": users,
            "groups.json": [
                {"id": "G1", "name": "secret", "members": ["U1"]},
                {"id": "G2", "name": "mpdm-ada--bob-1", "is_mpim": True, "members": ["U1", "U2"]},
            ],
            "dms.json": [{"id": "D1", "created": 1, "members": ["U1", "U1"]}],
            "general/2024-01-01.json": message("1704067200.000001", "single object"),
            "dev/2024-01-01.json": [
                {"type": "message", "user": "U1", "ts": "144139100.000008", "files": [{"id": "F1", "name": "a.png"}]},
                message("1704067200.000002", "dup"),
                message("1704067200.000002", "dup again"),
                message(
                    "1704067201.000001",
                    "broadcast",
                    subtype="thread_broadcast",
                    thread_ts="144139100.000008",
                    root={"ts": "144139100.000008"},
                ),
                message("1704067202.000001", "joined", subtype="channel_join"),
                message("1704067203.000001", "deleted", subtype="tombstone", hidden=True),
                message("1704067204.000001", "new", subtype="brand_new_subtype", sparkle=True, channel_name="dev"),
            ],
            "D1/2024-01-01.json": [message("1704067200.000003", "note to self")],
        },
    )
    with SlackExport(root) as export:
        assert export.users["U1"].email == "ada@example.com"
        assert export.users["U2"].email is None  # kept in extra, counted as without email
        assert export.users["USLACKBOT"].is_bot
        kinds = {c.id: c.kind for c in export.conversations()}
        assert kinds == {
            "C1": ConversationKind.PUBLIC,
            "C2": ConversationKind.PUBLIC,
            "G1": ConversationKind.PRIVATE,
            "G2": ConversationKind.GROUP_DM,
            "D1": ConversationKind.DM,
        }
        convs = {c.id: c for c in export.conversations()}
        assert convs["C2"].created_us == 1700000100_000000  # "created" given as a string
        assert convs["D1"].members == ("U1",)
        messages = read_all(export)
        assert [m.text for m in messages["general"]] == ["single object"]
        dev = messages["dev"]
        assert dev[0].text is None and dev[0].us == 144139100_000008
        assert dev[0].files[0].status is FileStatus.MISSING
        assert [m.ts for m in dev].count("1704067200.000002") == 2  # duplicate ts: both kept
        assert dev[3].is_reply and dev[3].root_ts == "144139100.000008" and "root" in dev[3].extra
        assert dev[4].system and not dev[3].system
        assert dev[5].subtype == "tombstone"
        assert dev[6].subtype == "brand_new_subtype" and dev[6].unknown_fields == ("sparkle", "channel_name")
        assert dev[6].extra["sparkle"] is True
        assert [m.text for m in messages["D1"]] == ["note to self"]
        assert export.quarantine == []


def test_zip_with_one_extra_top_folder_and_uploads(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    root = write_export(
        tmp_path / "export",
        {
            "general/2024-01-01.json": [
                message(
                    "1.000001",
                    files=[
                        {"id": "F1", "name": "pic.png", "mimetype": "image/png"},
                        {"id": "F2", "name": "gone.pdf", "mode": "hosted"},
                        {"id": "F3", "name": "doc", "mode": "external", "is_external": True},
                        {"id": "F4", "mode": "tombstone"},
                        {"id": "F5", "name": "Report: Q1.pdf"},
                    ],
                ),
                message("2.000001", subtype="file_comment", file={"id": "F1", "name": "pic.png"}),
            ],
            "__uploads/F1/pic.png": png,
            "__uploads/F5/Report_ Q1.pdf": b"%PDF-1.4",
        },
    )
    path = zip_folder(root, tmp_path / "Acme Slack export Jan 1 2024 - Feb 1 2024.zip", prefix="Acme export/")
    with SlackExport(path) as export:
        assert export.workspace.name == "Acme"
        first, comment = read_all(export)["general"]
        statuses = [f.status for f in first.files]
        assert statuses == [
            FileStatus.AVAILABLE,
            FileStatus.MISSING,
            FileStatus.EXTERNAL,
            FileStatus.DELETED,
            FileStatus.AVAILABLE,
        ]
        with export.open_file(first.files[0]) as handle:
            assert handle.read() == png
        with export.open_file(first.files[4]) as handle:
            assert handle.read() == b"%PDF-1.4"
        with pytest.raises(FileNotFoundError, match="gone.pdf"):
            export.open_file(first.files[1])
        assert comment.files == [] and comment.commented_file is not None and comment.commented_file.id == "F1"


def test_zip_and_folder_read_the_same(tmp_path: Path) -> None:
    root = write_export(
        tmp_path / "export",
        {
            "general/2024-01-01.json": [message("1.000001"), message("2.000002")],
            "general/2024-01-02.json": [message("86401.000001")],
        },
    )
    path = zip_folder(root, tmp_path / "export.zip")
    with SlackExport(root) as folder, SlackExport(path) as archive:
        assert [[(m.ts, m.origin) for m in d.messages] for c in folder.conversations() for d in folder.days(c)] == [
            [(m.ts, m.origin) for m in d.messages] for c in archive.conversations() for d in archive.days(c)
        ]
        assert [d.date for d in folder.days(folder.conversations()[0])] == ["2024-01-01", "2024-01-02"]


def test_crc_error_in_a_day_file_is_quarantined(tmp_path: Path) -> None:
    path = zip_members(
        tmp_path / "export.zip",
        {
            "users.json": b"[]",
            "channels.json": json.dumps(CHANNEL).encode(),
            "general/2024-01-01.json": json.dumps([message("1.000001")]).encode(),
        },
    )
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("general/2024-01-01.json")
    crc_offset = data.rindex(b"PK\x01\x02") + 16  # the day file's central record is the last one
    data[crc_offset : crc_offset + 4] = (info.CRC ^ 0xFFFFFFFF).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with SlackExport(path) as export:
        assert read_all(export)["general"] == []
        assert "cannot be read" in export.quarantine[0].error and "CRC" in export.quarantine[0].error


CHANNEL = [{"id": "C1", "name": "general", "members": []}]


def test_access_tokens_never_reach_the_model(tmp_path: Path) -> None:
    token = "xoxe-11731706867-321311368407-319706615745-facd2299712e432c2895384f6981646e"
    root = write_export(
        tmp_path / "export",
        {
            "general/2024-01-01.json": [
                message(
                    "1.000001",
                    files=[{"id": "F1", "name": "a.js", "url_private": f"https://files.slack.com/a.js?t={token}"}],
                )
            ]
        },
    )
    with SlackExport(root) as export:
        (msg,) = read_all(export)["general"]
    assert "xoxe-" not in repr(msg)
    assert msg.files[0].url == "https://files.slack.com/a.js?t=[token removed]"


def test_every_modelled_field_lands_in_its_own_slot(tmp_path: Path) -> None:
    """The reader builds Message positionally (for speed); each field must still reach its own attribute."""
    raw = {
        "type": "message",
        "ts": "1704067200.000002",
        "thread_ts": "1704067200.000001",
        "user": "U1",
        "bot_id": "B9",
        "username": "ci",
        "text": "hi",
        "subtype": "thread_broadcast",
        "blocks": [{"type": "rich_text", "elements": []}],
        "attachments": [{"fallback": "card"}],
        "reactions": [{"name": "+1", "count": 2, "users": ["U1", "U2"]}],
        "edited": {"user": "U1", "ts": "1704067300.000000"},
        "files": [{"id": "F1", "name": "a.txt"}],
        "x_new": 1,
    }
    root = write_export(tmp_path / "export", {"general/2024-01-01.json": [raw]})
    with SlackExport(root) as export:
        (m,) = read_all(export)["general"]
    assert (m.ts, m.us, m.conversation_id, m.origin) == (
        "1704067200.000002",
        1704067200000002,
        "C1",
        "general/2024-01-01.json",
    )
    assert (m.user, m.bot_id, m.username, m.text, m.thread_ts, m.subtype, m.system) == (
        "U1",
        "B9",
        "ci",
        "hi",
        "1704067200.000001",
        "thread_broadcast",
        False,
    )
    assert m.blocks == [{"type": "rich_text", "elements": []}] and m.attachments == [{"fallback": "card"}]
    assert [(r.name, r.count, r.users) for r in m.reactions] == [("+1", 2, ("U1", "U2"))]
    assert (m.edited.user, m.edited.ts) == ("U1", "1704067300.000000")
    assert [f.id for f in m.files] == ["F1"] and m.commented_file is None
    assert m.extra == {"type": "message", "x_new": 1} and m.unknown_fields == ("x_new",)
