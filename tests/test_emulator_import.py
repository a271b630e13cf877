"""Import rules of docs/graph-contract.md (#import-flow, #import-message-rules), each checked over real HTTPS
against the emulator."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import pytest

from graphkit import ADA, GRACE, OTHER_APP, TEMPLATE, RawGraph, code, message
from migrator.graph import team_id_in
from migrator.timestamps import parse_ms

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")).decode()


def future() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def graph(emulator) -> RawGraph:
    """Rule tests post faster than 5/s to one channel; throttling has its own tests."""
    emulator.operator("config", {"channel_rps": 10_000})
    return RawGraph(emulator)


# ---------------------------------------------------------------- teams
def test_team_creation_is_asynchronous(graph, emulator):
    emulator.operator("config", {"provision_delay": 0.5})
    body = {
        "@microsoft.graph.teamCreationMode": "migration",
        "template@odata.bind": TEMPLATE,
        "displayName": "Async",
        "createdDateTime": "2019-03-14T11:22:17.043Z",
    }
    created = graph.call("POST", "/teams", json=body)
    assert created.status_code == 202 and not created.content
    location, team = created.headers["Location"], team_id_in(created.headers["Content-Location"])
    assert location.startswith(f"/teams('{team}')/operations('")  # the reference form (strict reading)
    assert graph.ok("GET", location)["status"] == "inProgress"
    assert graph.call("GET", f"/teams/{team}").status_code == 404
    time.sleep(0.6)
    operation = graph.ok("GET", location)
    assert operation["status"] == "succeeded" and operation["targetResourceId"] == team
    assert graph.ok("GET", f"/teams/{team}")["createdDateTime"] == "2019-03-14T11:22:17.043Z"


@pytest.mark.parametrize(
    "change",
    [
        {"createdDateTime": "FUTURE"},
        {"@microsoft.graph.teamCreationMode": None},
        {"@microsoft.graph.teamCreationMode": "normal"},
        {"template@odata.bind": None},
    ],
)
def test_team_creation_refusals(graph, change):
    body = {
        "@microsoft.graph.teamCreationMode": "migration",
        "template@odata.bind": TEMPLATE,
        "displayName": "T",
        "createdDateTime": "2020-01-01T00:00:00Z",
    }
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = future() if value == "FUTURE" else value
    assert code(graph.call("POST", "/teams", json=body)) == (400, "BadRequest")


# ------------------------------------------------------------- channels
def test_channel_creation_in_migration_mode(graph):
    team = graph.create_team()
    body = {
        "@microsoft.graph.channelCreationMode": "migration",
        "displayName": "Architecture Discussion",
        "description": "d",
        "membershipType": "standard",
        "createdDateTime": "2020-03-14T11:22:17.047Z",
    }
    response = graph.call("POST", f"/teams/{team}/channels", json=body)
    assert response.status_code == 202
    shown = response.json()
    assert shown["createdDateTime"] is None and shown["membershipType"] is None and shown["id"]
    channels = {c["displayName"]: c for c in graph.ok("GET", f"/teams/{team}/channels", version="beta")["value"]}
    assert channels["Architecture Discussion"]["createdDateTime"] == "2020-03-14T11:22:17.047Z"
    assert channels["Architecture Discussion"]["migrationMode"] == "inProgress"
    assert channels["General"]["migrationMode"] == "inProgress"  # a migration team's General is importable too
    again = graph.call("POST", f"/teams/{team}/channels", json=body)
    assert code(again) == (409, "NameAlreadyExists")


@pytest.mark.parametrize(
    "change",
    [
        {"createdDateTime": "FUTURE"},
        {"@microsoft.graph.channelCreationMode": None},
        {"membershipType": "private"},
        {"displayName": "a/b"},
        {"displayName": "x" * 51},
        {"displayName": "_hidden"},
        {"displayName": "ends."},
        {"displayName": "General"},
    ],
)
def test_channel_creation_refusals(graph, change):
    team = graph.create_team()
    body = {
        "@microsoft.graph.channelCreationMode": "migration",
        "displayName": "Ok",
        "membershipType": "standard",
        "createdDateTime": "2020-01-02T00:00:00Z",
    }
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = future() if value == "FUTURE" else value
    assert code(graph.call("POST", f"/teams/{team}/channels", json=body)) == (400, "BadRequest")


# ------------------------------------------------------------- messages
def test_messages_and_replies_keep_backdated_times(graph):
    team, channel = graph.team_with_channel()
    root = graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2020-09-16T05:50:31.0025302Z"))
    assert parse_ms(root["createdDateTime"]) == parse_ms("2020-09-16T05:50:31.002Z")  # truncated to the millisecond
    reply = graph.ok(
        "POST",
        f"/teams/{team}/channels/{channel}/messages/{root['id']}/replies",
        json=message("2020-09-16T05:50:32.000Z", "re"),
    )
    assert reply["replyToId"] == root["id"]
    shown = graph.ok("GET", f"/teams/{team}/channels/{channel}/messages/{root['id']}/replies/{reply['id']}")
    assert shown["body"]["content"] == "re" and shown["from"]["user"]["id"] == ADA


def test_time_rules(graph):
    team, channel = graph.team_with_channel()  # channel created 2020-01-02
    messages = f"/teams/{team}/channels/{channel}/messages"
    assert code(graph.call("POST", messages, json=message(future()))) == (400, "BadRequest")
    assert code(graph.call("POST", messages, json=message("2020-01-01T23:59:59.999Z"))) == (400, "BadRequest")
    assert code(graph.call("POST", messages, json=message("2020-01-02T00:00:00.000Z"))) == (400, "BadRequest")
    root = graph.ok("POST", messages, json=message("2020-02-01T00:00:00.000Z"))
    other = graph.ok("POST", messages, json=message("2020-02-02T00:00:00.000Z"))
    older = graph.call("POST", f"{messages}/{root['id']}/replies", json=message("2020-01-31T00:00:00.000Z"))
    assert code(older) == (400, "BadRequest")
    # the millisecond is unique in the whole channel, across threads: 409
    clash = graph.call("POST", f"{messages}/{root['id']}/replies", json=message(other["createdDateTime"]))
    assert code(clash) == (409, "Conflict")
    same_ms = graph.call("POST", messages, json=message("2020-02-02T00:00:00.0009Z"))
    assert code(same_ms) == (409, "Conflict")
    reply = graph.ok("POST", f"{messages}/{root['id']}/replies", json=message("2020-02-01T00:00:00.001Z"))
    nested = graph.call("POST", f"{messages}/{reply['id']}/replies", json=message("2020-02-03T00:00:00.000Z"))
    assert code(nested) == (400, "BadRequest")


def test_channels_are_independent_for_milliseconds(graph):
    team, first = graph.team_with_channel()
    second = graph.create_channel(team, "Second")
    for channel in (first, second):
        graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2020-05-05T05:05:05.555Z"))


@pytest.mark.parametrize(
    "body, status",
    [
        (message("2020-03-01T00:00:00Z", key="plan-key"), 400),  # plan fields must not leak into requests
        (message("2020-03-01T00:00:00Z", user_id="00000000-0000-0000-0000-00000000dead"), 400),
        ({"createdDateTime": "2020-03-01T00:00:00Z", "body": {"content": "no author"}}, 400),
        (message("2020-03-01T00:00:00Z", "x" * 28_001), 413),
    ],
)
def test_message_schema_refusals(graph, body, status):
    team, channel = graph.team_with_channel()
    assert graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=body).status_code == status


def test_inline_images_are_stored_and_served(graph):
    team, channel = graph.team_with_channel()
    body = message(
        "2020-04-01T00:00:00Z",
        '<p>look</p><img src="../hostedContents/1/$value">',
        hostedContents=[{"@microsoft.graph.temporaryId": "1", "contentBytes": PNG, "contentType": "image/png"}],
    )
    posted = graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=body)
    src = posted["body"]["content"].split('src="')[1].split('"')[0]
    assert src.startswith(
        f"{graph.emu.url}/v1.0/teams/{team}/channels/{channel}/messages/{posted['id']}/hostedContents/"
    )
    image = graph.call("GET", src)
    assert image.status_code == 200 and image.content == base64.b64decode(PNG)
    assert image.headers["content-type"] == "image/png"
    listed = graph.ok("GET", f"/teams/{team}/channels/{channel}/messages/{posted['id']}/hostedContents")["value"]
    assert [h["contentType"] for h in listed] == ["image/png"]


@pytest.mark.parametrize(
    "content, hosted",
    [
        (
            "<p>no reference</p>",
            [{"@microsoft.graph.temporaryId": "1", "contentBytes": PNG, "contentType": "image/png"}],
        ),
        ('<img src="../hostedContents/2/$value">', []),
        (
            '<img src="../hostedContents/1/$value">',
            [{"@microsoft.graph.temporaryId": "1", "contentBytes": PNG, "contentType": "application/pdf"}],
        ),
        (
            '<img src="../hostedContents/1/$value">',
            [{"@microsoft.graph.temporaryId": "1", "contentBytes": "not base64!", "contentType": "image/png"}],
        ),
    ],
)
def test_inline_image_refusals(graph, content, hosted):
    team, channel = graph.team_with_channel()
    body = message("2020-04-01T00:00:00Z", content, hostedContents=hosted)
    assert code(graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=body)) == (400, "BadRequest")


def _image_message(raw: int) -> dict:
    data = base64.b64encode(b"\x89PNG" + b"\0" * (raw - 4)).decode()
    return message(
        "2020-04-01T00:00:00Z",
        '<img src="../hostedContents/1/$value">',
        hostedContents=[{"@microsoft.graph.temporaryId": "1", "contentBytes": data, "contentType": "image/png"}],
    )


def test_inline_image_cap_strict_reading(graph):
    """docs/graph-contract.md#inline-images: real tenants refuse inline images far under 1 MB; the emulator's
    default cap is 262,144 raw bytes, refused with 400."""
    team, channel = graph.team_with_channel()
    target = f"/teams/{team}/channels/{channel}/messages"
    assert code(graph.call("POST", target, json=_image_message(262_145))) == (400, "BadRequest")
    assert graph.call("POST", target, json=_image_message(262_144)).status_code == 200


def test_inline_image_cap_configurable_and_refused_with_403(graph, emulator):
    """The other refusal seen on real tenants (msteams-docs 13994) and a cap of one's own."""
    emulator.operator("config", {"reading": {"inline_image_max_bytes": 1000, "inline_image_refusal": "403"}})
    team, channel = graph.team_with_channel()
    target = f"/teams/{team}/channels/{channel}/messages"
    assert code(graph.call("POST", target, json=_image_message(1001))) == (403, "Forbidden")
    assert graph.call("POST", target, json=_image_message(1000)).status_code == 200


# ---------------------------------------------------------------- files
def upload_target(graph: RawGraph) -> tuple[str, str, dict]:
    team, channel = graph.team_with_channel()
    return team, channel, graph.ok("GET", f"/teams/{team}/channels/{channel}/filesFolder")


def test_files_folder_and_simple_upload_then_reference_attachment(graph):
    team, channel, folder = upload_target(graph)
    drive, parent = folder["parentReference"]["driveId"], folder["id"]
    item = graph.call("PUT", f"/drives/{drive}/items/{parent}:/report.pdf:/content", data=b"%PDF-1.4 demo")
    assert item.status_code == 201
    item = item.json()
    assert item["size"] == 13 and item["webUrl"].endswith("/report.pdf")
    assert graph.call("GET", f"/drives/{drive}/items/{item['id']}/content").content == b"%PDF-1.4 demo"
    attachment = {"id": "3b2c", "contentType": "reference", "contentUrl": item["webUrl"], "name": "report.pdf"}
    posted = graph.ok(
        "POST",
        f"/teams/{team}/channels/{channel}/messages",
        json=message("2020-04-02T00:00:00Z", 'see <attachment id="3b2c"></attachment>', attachments=[attachment]),
    )
    assert posted["attachments"][0]["contentUrl"] == item["webUrl"]
    too_big = graph.call("PUT", f"/drives/{drive}/items/{parent}:/big.bin:/content", data=b"0" * (4 * 1024 * 1024 + 1))
    assert too_big.status_code == 413


@pytest.mark.parametrize(
    "content, url_ok",
    [
        ('<attachment id="3b2c"></attachment>', False),  # the file was never uploaded
        ("no tag in the body", True),
    ],
)
def test_reference_attachment_refusals(graph, content, url_ok):
    team, channel, folder = upload_target(graph)
    drive, parent = folder["parentReference"]["driveId"], folder["id"]
    url = (
        graph.ok("PUT", f"/drives/{drive}/items/{parent}:/a.txt:/content", data=b"a")["webUrl"]
        if url_ok
        else "https://x/y"
    )
    body = message(
        "2020-04-02T00:00:00Z", content, attachments=[{"id": "3b2c", "contentType": "reference", "contentUrl": url}]
    )
    assert code(graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=body)) == (400, "BadRequest")


def test_upload_session_in_fragments(graph):
    _, _, folder = upload_target(graph)
    drive, parent = folder["parentReference"]["driveId"], folder["id"]
    session = graph.ok("POST", f"/drives/{drive}/items/{parent}:/big.bin:/createUploadSession", json={})
    payload = bytes(range(256)) * 4000  # 1,024,000 bytes
    url = session["uploadUrl"]
    assert url.startswith(graph.emu.url)
    import requests

    def put(start: int, end: int):
        return requests.put(
            url,
            data=payload[start : end + 1],
            verify=graph.verify,
            timeout=30,
            headers={"Content-Range": f"bytes {start}-{end}/{len(payload)}"},
        )

    first = put(0, 327_679)
    assert first.status_code == 202 and first.json()["nextExpectedRanges"] == ["327680-"]
    assert put(500_000, 600_000).status_code == 416  # out of order
    last = put(327_680, len(payload) - 1)
    assert last.status_code == 201 and last.json()["size"] == len(payload)
    assert graph.call("GET", f"/drives/{drive}/items/{last.json()['id']}/content").content == payload


# ------------------------------------------------- completion and members
def test_completion_order_and_members(graph):
    team, channel = graph.team_with_channel()
    general = graph.general(team)
    member = {
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": ["owner"],
        "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{GRACE}')",
    }
    assert code(graph.call("POST", f"/teams/{team}/members", json=member)) == (400, "BadRequest")
    assert code(graph.call("POST", f"/teams/{team}/completeMigration")) == (400, "BadRequest")
    assert graph.call("POST", f"/teams/{team}/channels/{channel}/completeMigration").status_code == 204
    assert code(graph.call("POST", f"/teams/{team}/channels/{channel}/completeMigration")) == (400, "BadRequest")
    refused = graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2020-06-01T00:00:00Z"))
    assert refused.status_code == 403
    assert code(graph.call("POST", f"/teams/{team}/completeMigration")) == (400, "BadRequest")  # General still open
    assert graph.call("POST", f"/teams/{team}/channels/{general}/completeMigration").status_code == 204
    assert graph.call("POST", f"/teams/{team}/completeMigration").status_code == 204
    assert code(graph.call("POST", f"/teams/{team}/completeMigration")) == (400, "BadRequest")
    assert graph.call("POST", f"/teams/{team}/members", json=member).status_code == 204
    assert code(graph.call("POST", f"/teams/{team}/members", json=member)) == (409, "Conflict")
    members = graph.ok("GET", f"/teams/{team}/members")["value"]
    assert [(m["userId"], m["roles"]) for m in members] == [(GRACE, ["owner"])]


def test_another_app_cannot_complete_or_import(graph, emulator):
    team, channel = graph.team_with_channel()
    other = RawGraph(emulator, *OTHER_APP)
    assert code(
        other.call("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2020-06-01T00:00:00Z"))
    ) == (403, "Forbidden")
    assert code(other.call("POST", f"/teams/{team}/channels/{channel}/completeMigration")) == (403, "Forbidden")


def test_delete_group_allows_a_clean_redo(graph):
    team, channel = graph.team_with_channel()
    graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2020-06-01T00:00:00Z"))
    assert graph.call("DELETE", f"/groups/{team}").status_code == 204
    assert graph.call("GET", f"/teams/{team}").status_code == 404
    assert graph.call("DELETE", f"/groups/{team}").status_code == 404
    again, channel = graph.team_with_channel()  # same names, same times: nothing of the old team remains
    graph.ok("POST", f"/teams/{again}/channels/{channel}/messages", json=message("2020-06-01T00:00:00Z"))
    assert graph.emu.operator("dump")["teams"][0]["id"] == again


# ------------------------------------------------------------ directory
def test_user_directory(graph):
    everyone = graph.ok("GET", "/users")["value"]
    assert {u["mail"] for u in everyone} >= {"ada@contoso.example", "grace@contoso.example"}
    found = graph.ok("GET", "/users", params={"$filter": "mail eq 'ADA@contoso.example'"})["value"]
    assert [u["id"] for u in found] == [ADA]
    assert graph.ok("GET", "/users/grace@contoso.example")["id"] == GRACE
    assert code(graph.call("GET", "/users/nobody@contoso.example")) == (404, "Request_ResourceNotFound")


def test_beta_serves_the_same_surface(graph):
    team, channel = graph.team_with_channel()
    posted = graph.call(
        "POST", f"/teams/{team}/channels/{channel}/messages", version="beta", json=message("2020-07-01T00:00:00Z")
    )
    assert posted.status_code == 200
    assert graph.call("GET", f"/teams/{team}/channels/{channel}/messages/{posted.json()['id']}").status_code == 200
    assert graph.call("GET", "/nonsense").status_code == 400
