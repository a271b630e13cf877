"""Users' OneDrive in the emulator (docs/graph-contract.md#chat-files), over real HTTPS: drives and their absence,
uploads by path (simple and sessions), name collisions, sharing invitations, permissions, the shares API."""

from __future__ import annotations

import hashlib

import pytest
import requests

from graphkit import ADA, ALAN, GRACE, RawGraph, code
from migrator.stages.export.files import share_id

CHAT_FOLDER = "Microsoft Teams Chat Files"
SHARE = {"requireSignIn": True, "sendInvitation": False, "roles": ["read"]}


@pytest.fixture
def graph(emulator) -> RawGraph:
    return RawGraph(emulator)


def put(graph: RawGraph, user: str, name: str, data: bytes, conflict: str = "fail") -> object:
    return graph.call(
        "PUT",
        f"/users/{user}/drive/root:/{CHAT_FOLDER}/{name}:/content",
        params={"@microsoft.graph.conflictBehavior": conflict},
        data=data,
    )


def test_a_users_drive_and_an_upload_by_path_into_its_chat_files_folder(graph):
    drive = graph.ok("GET", f"/users/{ADA}/drive")
    assert drive["driveType"] == "business" and drive["owner"]["user"]["id"] == ADA
    item = put(graph, ADA, "notes.txt", b"hello")
    assert item.status_code == 201
    item = item.json()
    assert item["parentReference"]["driveId"] == drive["id"]
    assert item["webUrl"].startswith("https://contoso-my.sharepoint.com/personal/")
    assert item["webUrl"].endswith("/Microsoft%20Teams%20Chat%20Files/notes.txt")
    assert item["file"]["hashes"]["sha256Hash"] == hashlib.sha256(b"hello").hexdigest().upper()
    folder = graph.ok("GET", f"/users/{ADA}/drive/root:/{CHAT_FOLDER}")
    listed = graph.ok("GET", f"/drives/{drive['id']}/items/{folder['id']}/children")["value"]
    assert [i["name"] for i in listed] == ["notes.txt"]
    assert graph.call("GET", f"/drives/{drive['id']}/items/{item['id']}/content").content == b"hello"


def test_name_collisions_fail_or_rename_never_overwrite(graph):
    first = put(graph, ADA, "a.txt", b"one").json()
    assert code(put(graph, ADA, "a.txt", b"two")) == (409, "NameAlreadyExists")
    renamed = put(graph, ADA, "a.txt", b"two", conflict="rename").json()
    assert renamed["name"] == "a 1.txt" and renamed["id"] != first["id"]
    drive = first["parentReference"]["driveId"]
    assert graph.call("GET", f"/drives/{drive}/items/{first['id']}/content").content == b"one"


def test_upload_session_by_path_above_the_simple_upload_limit(graph):
    data = bytes(range(256)) * (5 * 4096)  # 5 MiB
    session = graph.ok(
        "POST",
        f"/users/{GRACE}/drive/root:/{CHAT_FOLDER}/big.bin:/createUploadSession",
        json={"item": {"@microsoft.graph.conflictBehavior": "rename"}},
    )
    half = len(data) // 2

    def fragment(start: int, end: int) -> requests.Response:
        return requests.put(
            session["uploadUrl"],
            data=data[start:end],
            verify=graph.verify,
            timeout=60,
            headers={"Content-Range": f"bytes {start}-{end - 1}/{len(data)}"},
        )

    assert fragment(0, half).status_code == 202
    done = fragment(half, len(data))
    assert done.status_code == 201 and done.json()["size"] == len(data)
    assert done.json()["parentReference"]["driveId"] == graph.ok("GET", f"/users/{GRACE}/drive")["id"]
    assert code(put(graph, GRACE, "big.bin", data)) == (413, "RequestEntityTooLarge")


def test_a_user_without_onedrive_has_no_drive(graph, emulator):
    emulator.operator("config", {"users_without_drive": 1})
    assert code(graph.call("GET", f"/users/{ADA}/drive")) == (404, "ResourceNotFound")
    assert code(put(graph, ADA, "a.txt", b"x")) == (404, "ResourceNotFound")
    emulator.operator("config", {"users_without_drive": 0})
    assert graph.call("GET", f"/users/{ADA}/drive").status_code == 200
    assert code(graph.call("GET", "/users/nobody@contoso.example/drive"))[0] == 404


def test_share_of_users_without_drive_is_stable(graph, emulator):
    emulator.operator("config", {"users_without_drive": 0.5})
    ids = [u["id"] for u in graph.ok("GET", "/users")["value"]]
    first = [graph.call("GET", f"/users/{i}/drive").status_code for i in ids]
    assert first == [graph.call("GET", f"/users/{i}/drive").status_code for i in ids]
    with pytest.raises(requests.HTTPError):
        emulator.operator("config", {"users_without_drive": 2})


def test_invite_grants_read_once_per_person_and_permissions_list_them(graph):
    item = put(graph, ADA, "plan.txt", b"p").json()
    base = f"/drives/{item['parentReference']['driveId']}/items/{item['id']}"
    body = {**SHARE, "recipients": [{"objectId": GRACE}, {"email": "alan@contoso.example"}]}
    granted = graph.ok("POST", f"{base}/invite", json=body)["value"]
    assert [p["grantedToV2"]["user"]["id"] for p in granted] == [GRACE, ALAN]
    assert all(p["roles"] == ["read"] and p["invitation"]["signInRequired"] for p in granted)
    again = graph.ok("POST", f"{base}/invite", json={**SHARE, "recipients": [{"objectId": GRACE}]})["value"]
    assert again[0]["id"] == granted[0]["id"]
    listed = graph.ok("GET", f"{base}/permissions")["value"]
    assert [(p["roles"], p["grantedToV2"]["user"]["id"]) for p in listed] == [
        (["owner"], ADA),
        (["read"], GRACE),
        (["read"], ALAN),
    ]


@pytest.mark.parametrize(
    "change",
    [{"recipients": []}, {"roles": ["own"]}, {"recipients": [{"objectId": "nobody"}]}, {"requireSignIn": "yes"}],
)
def test_invite_refusals(graph, change):
    item = put(graph, ADA, "x.txt", b"x").json()
    body = {**SHARE, "recipients": [{"objectId": GRACE}], **change}
    answer = graph.call("POST", f"/drives/{item['parentReference']['driveId']}/items/{item['id']}/invite", json=body)
    assert code(answer) == (400, "invalidRequest")


def test_a_onedrive_file_is_read_through_the_shares_api(graph):
    item = put(graph, ADA, "shared.txt", b"bytes").json()
    assert graph.ok("GET", f"/shares/{share_id(item['webUrl'])}/driveItem")["id"] == item["id"]
    assert graph.call("GET", f"/shares/{share_id(item['webUrl'])}/driveItem/content").content == b"bytes"
