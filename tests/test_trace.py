"""MIGRATOR_TRACE's format: ids as placeholders that keep their identity, text as filler of the same length, markup
kept, image bytes as a valid image of the same size (the whole-run proof that no content reaches a trace, and that a
trace replays, is tests/test_conform.py)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from migrator.graph.trace import Identities, Scrubber, Trace, fill, fill_html, filler_image, is_filler

GRAPH = "https://graph.example"


def test_paths_keep_graph_words_and_name_each_id_by_one_placeholder() -> None:
    ids = Identities(GRAPH)
    assert ids.url(f"{GRAPH}/v1.0/teams/t1/channels/19:a@thread.tacv2/messages/1/replies", made=False) == (
        "{graph}/v1.0/teams/{team:1}/channels/{channel:1}/messages/{message:1}/replies"
    )
    assert ids.path("/teams('t1')/operations('o1')") == "/teams('{team:1}')/operations('{op:1}')"  # t1 again
    assert ids.path("/users/ada@contoso.example/chats/getAllMessages") == "/users/{mail:1}/chats/getAllMessages"
    assert ids.path("/users/0b6f2a47-1d3c-4c2a-9f0e-3a1b2c3d4e5f") == "/users/{user:1}"
    assert ids.path("/drives/d/items/p:/Payroll 2024.xlsx:/content") == (
        "/drives/{drive:1}/items/{item:1}:/xxxxxxx xxxx.xxxx:/content"
    )
    assert ids.path("/teams/t1/secretWord") == "/teams/{team:1}/xxxxxxxxxx"  # an unknown word is never kept
    assert ids.query({"$filter": "mail eq 'ada@contoso.example'", "$top": "50"}, "/v1.0/users") == {
        "$filter": "mail eq '{mail:1}'",
        "$top": "50",
    }


def test_a_body_keeps_vocabulary_times_and_numbers_and_names_what_the_tenant_made() -> None:
    ids = Identities(GRAPH)
    sent = Scrubber(ids, "/v1.0/teams/{team:1}/channels/{channel:1}/messages", made=False).value(
        {
            "createdDateTime": "2024-03-06T19:18:00.272Z",
            "from": {"user": {"id": "u-1", "displayName": "Ada Lovelace", "userIdentityType": "aadUser"}},
            "body": {"contentType": "html", "content": '<p>Hi <attachment id="f1"></attachment></p>'},
            "attachments": [{"id": "f1", "contentType": "reference", "contentUrl": "https://x.example/Ada.pdf"}],
            "size": 12,
        }
    )
    assert sent == {
        "createdDateTime": "2024-03-06T19:18:00.272Z",
        "from": {"user": {"id": "{user:1}", "displayName": "xxx xxxxxxxx", "userIdentityType": "aadUser"}},
        "body": {"contentType": "html", "content": '<p>xx <attachment id="{ref:1}"></attachment></p>'},
        "attachments": [{"id": "{ref:1}", "contentType": "reference", "contentUrl": "xxxxx://x.xxxxxxx/xxx.xxx"}],
        "size": 12,
    }
    answer = Scrubber(ids, "/v1.0/drives/{drive:1}/items/{item:1}:/xxx.xxx:/content", made=True).value(
        {"id": "i-9", "webUrl": "https://contoso.sharepoint.com/Ada.pdf", "parentReference": {"driveId": "d"}}
    )
    assert answer == {"id": "{item:1}", "webUrl": "{url:1}", "parentReference": {"driveId": "{drive:1}"}}
    later = Scrubber(ids, "/v1.0/chats/{chat:1}/messages", made=False).value(
        {"attachments": [{"contentUrl": "https://contoso.sharepoint.com/Ada.pdf"}]}
    )
    assert later == {"attachments": [{"contentUrl": "{url:1}"}]}  # the file it uploaded, by its placeholder


def test_html_keeps_its_markup_and_loses_its_text() -> None:
    html = (
        '<p>Ask <b>Grace</b> at <a href="https://intranet.example/q">the wiki</a>'
        '<img src="../hostedContents/1/$value" alt="Ada at work"></p>'
    )
    assert fill_html(html, Identities(GRAPH)) == (
        '<p>xxx <b>xxxxx</b> xx <a href="xxxxx://xxxxxxxx.xxxxxxx/x">xxx xxxx</a>'
        '<img src="../hostedContents/1/$value" alt="xxx xx xxxx"></p>'
    )


def test_names_that_fill_alike_stay_apart() -> None:
    ids = Identities(GRAPH)
    names = [ids.text(name) for name in ("Sales", "Legal", "Sales", "legal")]
    assert names[0] == names[2] and len(set(names)) == 3
    assert all(is_filler(name) and len(name) == 5 for name in names)


@given(st.text(st.characters(exclude_categories=()), max_size=200))  # lone surrogates too
def test_filler_is_as_long_in_characters_and_bytes_and_carries_no_letter(text: str) -> None:
    filled = fill(text)
    assert len(filled) == len(text)
    assert len(filled.encode("utf-8", "surrogatepass")) == len(text.encode("utf-8", "surrogatepass"))
    assert is_filler(filled) and fill(filled) == filled
    assert not any(c.isalnum() and c != "x" for c in filled if c.isascii())


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks.append((kind, body))
        at += 12 + length
    return chunks


@given(st.integers(min_value=67, max_value=300_000))
def test_image_bytes_become_a_valid_png_of_the_same_size(size: int) -> None:
    data = filler_image(size)
    assert len(data) == size
    chunks = _png_chunks(data)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    width, height = struct.unpack(">II", chunks[0][1][:8])
    pixels = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(pixels) == height * (width + 1)


def test_a_second_command_appending_to_a_trace_continues_its_numbering(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_text('{"method": "GET", "path": "/v1.0/teams/{team:3}/channels", "app": "{app:1}"}\n', encoding="utf-8")
    later = Trace(path, GRAPH)
    assert later.ids.path("/teams/another") == "/teams/{team:4}"  # never {team:1}: that one names another team
    assert later.ids.name("app", "client") == "{app:2}"


def test_a_second_command_gives_an_object_the_placeholder_the_first_gave_it_and_the_sidecar_holds_no_value(
    tmp_path: Path,
) -> None:
    path = tmp_path / "trace.jsonl"
    team, user, url = "19:real-team-id@thread.tacv2", "c0a80000-0000-4000-8000-000000000002", "https://t.example/f.txt"
    first = Trace(path, GRAPH)
    named = [first.ids.path(f"/teams/{team}/channels"), first.ids.user(user), first.ids.url(url, made=True)]
    first.sidecar.flush()  # as `record` does, after appending its exchange to the trace:
    path.write_text('{"method": "GET", "path": "/v1.0/teams/{team:1}/channels", "status": 200}\n', encoding="utf-8")
    later = Trace(path, GRAPH)  # another process: nothing shared but the files
    assert [later.ids.path(f"/teams/{team}/channels"), later.ids.user(user), later.ids.url(url, made=True)] == named
    assert later.ids.path("/teams/another/channels") == "/teams/{team:2}/channels"
    later.sidecar.flush()
    sidecar = (tmp_path / "trace.jsonl.ids").read_text(encoding="utf-8")
    assert all(value not in sidecar for value in (team, user, url, "real-team-id", "t.example"))
    placeholders = {json.loads(line).get("placeholder") for line in sidecar.splitlines()} - {None}
    assert placeholders == {"{team:1}", "{team:2}", *named[1:]}  # only the mapping, by digest
    path.unlink()
    anew = Trace(path, GRAPH)  # a new trace in its place starts a new sidecar
    assert anew.ids.path("/teams/another/channels") == "/teams/{team:1}/channels"


NAMED = st.lists(st.tuples(st.sampled_from(["team", "channel", "message", "user"]), st.integers(0, 30)), max_size=40)


@given(named=NAMED, split=st.integers(0, 40))
def test_commands_appending_to_one_trace_name_as_one_command_would(tmp_path_factory, named, split: int) -> None:
    """However the objects a run names are split between two commands, each gets the placeholder one command
    naming them all in the same order would give it."""
    values = [(kind, f"{kind}-{number}") for kind, number in named]
    alone = Identities(GRAPH)
    expected = [alone.name(kind, value) for kind, value in values]
    path = tmp_path_factory.mktemp("split") / "trace.jsonl"
    first = Trace(path, GRAPH)
    got = [first.ids.name(kind, value) for kind, value in values[:split]]
    first.sidecar.flush()  # as `record` does, after appending its exchange to the trace:
    path.write_text('{"method": "GET", "path": "/v1.0/teams", "status": 200}\n', encoding="utf-8")
    later = Trace(path, GRAPH)
    got += [later.ids.name(kind, value) for kind, value in values[split:]]
    assert got == expected
