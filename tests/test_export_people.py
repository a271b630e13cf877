"""The people an export names, with their email: looked up once, and a directory that refuses is a note, not a
failure.
"""

from __future__ import annotations

import json

import responses

from migrator.graph import GraphClient, GraphConfig, RateLimiter
from migrator.graph.testing import mock_login
from migrator.stages.export.people import add_member, look_up, named_in

CONFIG = GraphConfig(
    tenant_id="tenant-1",
    client_id="client-1",
    client_secret="s3cr3t",
    graph_url="https://graph.test",
    login_url="https://login.test",
    ca_bundle="/tmp/emulator-ca.pem",
)
USERS = "https://graph.test/v1.0/users"


def error(status: int, code: str) -> dict:
    return {"status": status, "json": {"error": {"code": code, "message": code}}}


def test_authors_and_mentions_are_named() -> None:
    message = {
        "from": {"user": {"id": "u1", "displayName": "Ada"}},
        "mentions": [{"id": 0, "mentioned": {"user": {"id": "u2", "displayName": "Grace"}}}, "junk"],
    }
    assert named_in(message) == {"u1": "Ada", "u2": "Grace"}
    assert named_in({"from": {"application": {"id": "bot"}}}) == {}


def test_emails_are_looked_up_once_and_a_departed_person_keeps_the_name() -> None:
    people: dict = {}
    add_member(people, {"userId": "u3", "displayName": "Alan", "email": "alan@contoso.example"})
    with responses.RequestsMock() as mock, GraphClient(CONFIG, limiter=RateLimiter.unlimited()) as client:
        mock_login(mock, CONFIG)
        mock.get(f"{USERS}/u1", json={"id": "u1", "displayName": "Ada Lovelace", "mail": "ada@contoso.example"})
        mock.get(f"{USERS}/u2", **error(404, "Request_ResourceNotFound"))
        note = look_up(client, people, {"u1": "Ada", "u2": "Grace", "u3": "Alan"})
        assert [c.request.url.split("?")[0] for c in mock.calls if "/users/" in c.request.url] == [
            f"{USERS}/u1",
            f"{USERS}/u2",
        ]
    assert note is None
    assert people == {
        "u1": {"name": "Ada Lovelace", "email": "ada@contoso.example"},
        "u2": {"name": "Grace", "email": ""},
        "u3": {"name": "Alan", "email": "alan@contoso.example"},
    }


def test_a_directory_that_refuses_leaves_names_and_a_note() -> None:
    people: dict = {}
    with responses.RequestsMock() as mock, GraphClient(CONFIG, limiter=RateLimiter.unlimited()) as client:
        mock_login(mock, CONFIG)
        mock.get(f"{USERS}/u1", **error(403, "Authorization_RequestDenied"))
        note = look_up(client, people, {"u1": "Ada", "u2": "Grace"})
    assert note is not None and "403" in note and "users.csv" in note
    assert people == {"u1": {"name": "Ada", "email": ""}, "u2": {"name": "Grace", "email": ""}}


# ------------------------------------------------- one person, one archive
def test_a_principal_name_and_an_object_id_are_one_archive_fetched_once(emulator, tmp_path) -> None:
    from graphkit import ADA
    from migrator.stages.export import ExportOptions, Target, export
    from test_export import archived

    ada_upn = "Ada@Contoso.example"  # principal names are matched case-insensitively, as Graph does
    with GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        both = export(client, [Target("user", ada_upn), Target("user", ADA)], tmp_path, ExportOptions())
        assert [t.target for t in both.targets] == [Target("user", ADA)] and both.ok
        assert sorted(p.name for p in (tmp_path / "users").iterdir()) == [ADA]
        again = export(client, [Target("user", ada_upn)], tmp_path, ExportOptions()).targets[0]
    assert again.target == Target("user", ADA) and again.new == 0
    meta = json.loads((tmp_path / "users" / ADA / "meta.json").read_text())
    assert meta["conversations"]["19:0f1e2d3c4b5a69788796a5b4c3d2e1f0@thread.v2"]["name"] == "Launch planning"
    assert len(archived(tmp_path, Target("user", ADA))) == both.targets[0].messages


def test_the_emulator_lists_chats_by_principal_name_as_by_id(emulator) -> None:
    from graphkit import ADA, RawGraph

    graph = RawGraph(emulator)
    by_name = graph.ok("GET", "/users/ada@contoso.example/chats")["value"]
    assert by_name and by_name == graph.ok("GET", f"/users/{ADA}/chats")["value"]


def test_an_unknown_principal_name_fails_its_target_by_name(emulator, tmp_path) -> None:
    from migrator.stages.export import ExportOptions, Target, export

    with GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        result = export(client, [Target("user", "nobody@contoso.example")], tmp_path, ExportOptions()).targets[0]
    assert result.status == "failed" and "nobody@contoso.example" in (result.error or "")
