"""The newer import APIs (docs/graph-contract.md#migration-sessions, #chats, #private-channels):
chats, private channels, startMigration, each rule checked over real HTTPS against the emulator."""

from __future__ import annotations

import json
import time

import pytest

from graphkit import ADA, ALAN, GRACE, KATHERINE, OTHER_APP, RawGraph, code, message
from migrator.emulator.runner import EmulatorProcess


@pytest.fixture
def graph(emulator) -> RawGraph:
    emulator.operator("config", {"channel_rps": 10_000})
    return RawGraph(emulator)


def member(user: str, roles: list[str] | None = None) -> dict:
    return {
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": ["owner"] if roles is None else roles,
        "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{user}')",
    }


def chat(graph: RawGraph, kind: str, *people: str, topic: str | None = None):
    body = {"chatType": kind, "members": [member(p) for p in people]}
    if topic:
        body["topic"] = topic
    return graph.call("POST", "/chats", json=body)


def completed_team(graph: RawGraph, *people: str) -> str:
    """A team out of migration mode with these members, as private channels need."""
    team = graph.create_team()
    graph.ok("POST", f"/teams/{team}/channels/{graph.general(team)}/completeMigration")
    graph.ok("POST", f"/teams/{team}/completeMigration")
    for person in people:
        graph.ok("POST", f"/teams/{team}/members", json=member(person, []))
    return team


# ------------------------------------------------------------------- chats
def test_one_on_one_chats_are_unique_per_pair_and_group_chats_have_topics(graph):
    first = chat(graph, "oneOnOne", ADA, ALAN)
    assert first.status_code == 201
    again = chat(graph, "oneOnOne", ALAN, ADA)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    group = chat(graph, "group", ADA, GRACE, ALAN, topic="Launch crew")
    assert group.status_code == 201 and group.json()["topic"] == "Launch crew"
    assert chat(graph, "group", ADA, GRACE, ALAN, topic="Launch crew").json()["id"] != group.json()["id"]
    assert code(chat(graph, "oneOnOne", ADA)) == (400, "BadRequest")
    assert code(chat(graph, "meeting", ADA, GRACE)) == (400, "BadRequest")
    assert graph.ok("GET", f"/chats/{first.json()['id']}", version="beta")["migrationMode"] is None


def test_chat_messages_only_in_migration_mode_and_never_as_replies(graph):
    chat_id = chat(graph, "oneOnOne", ADA, ALAN).json()["id"]
    base = f"/chats/{chat_id}"
    created = graph.ok("GET", base)["createdDateTime"]
    assert code(graph.call("POST", f"{base}/messages", json=message("2020-06-01T00:00:00Z"))) == (403, "Forbidden")
    assert code(graph.call("POST", f"{base}/startMigration", json={"conversationCreationDateTime": created})) == (
        400,
        "BadRequest",
    )
    assert (
        graph.call(
            "POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2020-01-01T00:00:00Z"}
        ).status_code
        == 204
    )
    shown = graph.ok("GET", base, version="beta")  # v1.0 does not show migrationMode (strict reading)
    assert shown["migrationMode"] == "inProgress" and shown["createdDateTime"] == "2020-01-01T00:00:00.000Z"
    assert code(graph.call("POST", f"{base}/startMigration", json={})) == (400, "BadRequest")  # already open
    assert code(graph.call("POST", f"{base}/messages", json=message("2019-12-31T00:00:00Z"))) == (400, "BadRequest")
    posted = graph.call("POST", f"{base}/messages", json=message("2020-06-01T00:00:00Z"))
    assert posted.status_code == 201 and posted.json()["chatId"] == chat_id
    assert code(graph.call("POST", f"{base}/messages", json=message("2020-06-01T00:00:00Z"))) == (409, "Conflict")
    reply = graph.call("POST", f"{base}/messages/{posted.json()['id']}/replies", json=message("2020-06-02T00:00:00Z"))
    assert code(reply) == (400, "BadRequest")
    other = RawGraph(graph.emu, *OTHER_APP)
    assert code(other.call("POST", f"{base}/messages", json=message("2020-06-03T00:00:00Z"))) == (403, "Forbidden")
    assert code(other.call("POST", f"{base}/completeMigration")) == (403, "Forbidden")
    assert graph.call("POST", f"{base}/completeMigration").status_code == 204
    assert graph.ok("GET", base, version="beta")["migrationMode"] == "completed"
    assert code(graph.call("POST", f"{base}/messages", json=message("2020-06-04T00:00:00Z"))) == (403, "Forbidden")
    assert code(graph.call("POST", f"{base}/completeMigration")) == (400, "BadRequest")
    # a new session may be opened later, by the same rules
    assert graph.call("POST", f"{base}/startMigration", json={}).status_code == 204


def test_chat_messages_are_exported_for_their_members_only(graph):
    chat_id = chat(graph, "oneOnOne", ADA, ALAN).json()["id"]
    graph.ok("POST", f"/chats/{chat_id}/startMigration", json={"conversationCreationDateTime": "2020-01-01T00:00:00Z"})
    graph.ok("POST", f"/chats/{chat_id}/messages", json=message("2020-06-01T00:00:00Z", "only ada and alan"))
    for user, sees in ((ADA, True), (ALAN, True), (GRACE, False), (KATHERINE, False)):
        page = graph.ok("GET", f"/users/{user}/chats/getAllMessages", params={"model": "B", "$top": "50"})
        assert any("only ada and alan" in m["body"]["content"] for m in page["value"]) is sees, user


def test_meeting_chats_cannot_be_migrated(tmp_path):
    directory = tmp_path / "directory.json"
    directory.write_text(
        json.dumps(
            {
                "chats": [
                    {
                        "id": "19:meeting_demo@thread.v2",
                        "chatType": "meeting",
                        "members": [ADA, GRACE],
                        "createdDateTime": "2024-01-10T09:00:00Z",
                    }
                ]
            }
        )
    )
    with EmulatorProcess(directory=directory, tls_dir=tmp_path / "tls") as emu:
        refused = RawGraph(emu).call("POST", "/chats/19:meeting_demo@thread.v2/startMigration", json={})
        assert code(refused) == (400, "BadRequest") and "Meeting chats" in refused.json()["error"]["message"]


# --------------------------------------------------------- private channels
def test_private_channels_have_team_members_only_and_then_start_migration(graph):
    team = completed_team(graph, ADA, GRACE)
    body = {"displayName": "leadership", "membershipType": "private", "members": [member(ADA), member(GRACE, [])]}
    refused = graph.call("POST", f"/teams/{team}/channels", json={**body, "members": [member(ADA), member(ALAN, [])]})
    assert code(refused) == (400, "BadRequest") and "members of the team" in refused.json()["error"]["message"]
    no_owner = graph.call("POST", f"/teams/{team}/channels", json={**body, "members": [member(ADA, [])]})
    assert code(no_owner) == (400, "BadRequest")
    in_migration = {
        **body,
        "@microsoft.graph.channelCreationMode": "migration",
        "createdDateTime": "2020-01-02T00:00:00Z",
    }
    assert code(graph.call("POST", f"/teams/{team}/channels", json=in_migration)) == (400, "BadRequest")
    created = graph.call("POST", f"/teams/{team}/channels", json=body)
    assert created.status_code == 201 and created.json()["membershipType"] == "private"
    base = f"/teams/{team}/channels/{created.json()['id']}"
    members = graph.ok("GET", f"{base}/members")["value"]
    assert sorted((m["userId"], m["roles"]) for m in members) == sorted([(ADA, ["owner"]), (GRACE, [])])
    assert graph.ok("GET", base, version="beta")["migrationMode"] is None
    assert code(graph.call("POST", f"{base}/messages", json=message("2020-06-01T00:00:00Z"))) == (403, "Forbidden")
    assert (
        graph.call(
            "POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2020-01-01T00:00:00Z"}
        ).status_code
        == 204
    )
    assert graph.ok("GET", base)["createdDateTime"] == "2020-01-01T00:00:00.000Z"
    assert (
        graph.ok("POST", f"{base}/messages", json=message("2020-06-01T00:00:00Z"))["channelIdentity"]["teamId"] == team
    )
    assert graph.call("POST", f"{base}/completeMigration").status_code == 204
    assert graph.ok("GET", base, version="beta")["migrationMode"] == "completed"
    standard = graph.ok("GET", f"/teams/{team}/channels/{graph.general(team)}/members")["value"]
    assert {m["userId"] for m in standard} == {ADA, GRACE}  # a standard channel's members are its team's


def test_migration_channels_only_in_a_team_under_migration(graph):
    team = completed_team(graph)
    body = {
        "@microsoft.graph.channelCreationMode": "migration",
        "displayName": "late",
        "membershipType": "standard",
        "createdDateTime": "2020-01-02T00:00:00Z",
    }
    refused = graph.call("POST", f"/teams/{team}/channels", json=body)
    assert code(refused) == (400, "BadRequest") and "team under migration" in refused.json()["error"]["message"]
    created = graph.call("POST", f"/teams/{team}/channels", json={"displayName": "late", "membershipType": "standard"})
    assert created.status_code == 201
    base = f"/teams/{team}/channels/{created.json()['id']}"
    assert (
        graph.call(
            "POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2020-01-02T00:00:00Z"}
        ).status_code
        == 204
    )


def test_a_deleted_channel_keeps_its_name_so_reset_renames_first(graph):
    team = completed_team(graph)
    first = graph.ok("POST", f"/teams/{team}/channels", json={"displayName": "ops", "membershipType": "standard"})["id"]
    assert graph.call("DELETE", f"/teams/{team}/channels/{first}").status_code == 204
    again = graph.call("POST", f"/teams/{team}/channels", json={"displayName": "ops", "membershipType": "standard"})
    assert code(again) == (409, "NameAlreadyExists")
    second = graph.ok("POST", f"/teams/{team}/channels", json={"displayName": "ops2", "membershipType": "standard"})[
        "id"
    ]
    assert (
        graph.call("PATCH", f"/teams/{team}/channels/{second}", json={"displayName": "ops2 (reset)"}).status_code == 204
    )
    assert graph.call("DELETE", f"/teams/{team}/channels/{second}").status_code == 204
    assert (
        graph.call(
            "POST", f"/teams/{team}/channels", json={"displayName": "ops2", "membershipType": "standard"}
        ).status_code
        == 201
    )
    general = graph.general(team)
    assert code(graph.call("DELETE", f"/teams/{team}/channels/{general}")) == (400, "BadRequest")
    assert code(graph.call("PATCH", f"/teams/{team}/channels/{general}", json={"displayName": "Main"})) == (
        400,
        "BadRequest",
    )


# -------------------------------------------------- faults real tenants show on chats (#observed-behaviour)
def test_stuck_chat_fault_refuses_start_migration_after_a_completed_session(graph, emulator):
    """msteams-docs 14576: a chat whose import session completed cannot be reopened; other chats are unaffected
    and a chat never put into migration mode opens as usual."""
    emulator.operator("faults", {"spec": "stuck-chat:1"})
    chat_id = chat(graph, "oneOnOne", ADA, ALAN).json()["id"]
    base = f"/chats/{chat_id}"
    graph.ok("POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2020-01-01T00:00:00Z"})
    graph.ok("POST", f"{base}/completeMigration")
    refused = graph.call("POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2019-01-01T00:00Z"})
    assert code(refused) == (400, "BadRequest") and refused.json()["error"]["innerError"]["request-id"]
    emulator.operator("faults", {"spec": ""})
    graph.ok("POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2019-01-01T00:00:00Z"})


def test_chat_import_502_fault_applies_the_import_and_answers_502(graph, emulator):
    """msteams-docs 13680: 502 on chat imports; the answer is lost, not the message (a retry meets the 409)."""
    emulator.operator("faults", {"spec": "chat-import-502:1"})
    chat_id = chat(graph, "oneOnOne", ADA, ALAN).json()["id"]
    graph.ok("POST", f"/chats/{chat_id}/startMigration", json={"conversationCreationDateTime": "2020-01-01T00:00:00Z"})
    body = message("2020-06-01T00:00:00Z", "hello")
    assert code(graph.call("POST", f"/chats/{chat_id}/messages", json=body)) == (502, "BadGateway")
    assert code(graph.call("POST", f"/chats/{chat_id}/messages", json=body)) == (409, "Conflict")
    team, channel = graph.team_with_channel()
    assert graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=body).status_code == 200
    assert emulator.operator("faults", None)["injected"] == {"chat-import-502": 1}


def test_a_private_channel_takes_new_members_from_its_team_one_at_a_time(graph):
    """`POST …/channels/{c}/members`: a member of the team joins a private channel; anyone else, someone already in
    it and a standard channel are refused."""
    team = completed_team(graph, ADA, GRACE)
    body = {"displayName": "leadership", "membershipType": "private", "members": [member(ADA)]}
    base = f"/teams/{team}/channels/{graph.ok('POST', f'/teams/{team}/channels', json=body)['id']}"
    joined = graph.call("POST", f"{base}/members", json=member(GRACE, []))
    assert joined.status_code == 201 and joined.json()["userId"] == GRACE
    assert code(graph.call("POST", f"{base}/members", json=member(GRACE, []))) == (409, "Conflict")
    outsider = graph.call("POST", f"{base}/members", json=member(ALAN, []))
    assert code(outsider) == (400, "BadRequest") and "members of the team" in outsider.json()["error"]["message"]
    general = f"/teams/{team}/channels/{graph.general(team)}/members"
    assert code(graph.call("POST", general, json=member(GRACE, []))) == (400, "BadRequest")
    assert sorted(m["userId"] for m in graph.ok("GET", f"{base}/members")["value"]) == sorted([ADA, GRACE])


# ------------------------------------------------------------- members in bulk (#members, #private-channels)
def test_members_add_in_bulk_answers_per_member(graph):
    """`conversationMember: add`: 200 when all were added, 207 with an error for each one that was not; someone
    already a member counts as added; the page's own examples write the type without '#'."""
    team = completed_team(graph)
    plain = dict(member(ADA, []), **{"@odata.type": "microsoft.graph.aadUserConversationMember"})
    all_added = graph.call("POST", f"/teams/{team}/members/add", json={"values": [plain, member(GRACE)]})
    assert all_added.status_code == 200
    assert [(r["userId"], r["error"]) for r in all_added.json()["value"]] == [(ADA, None), (GRACE, None)]
    unknown = "a0000000-0000-4000-8000-00000000dead"
    partial = graph.call("POST", f"/teams/{team}/members/add", json={"values": [member(ADA, []), member(unknown)]})
    assert partial.status_code == 207
    results = {r["userId"]: r["error"] for r in partial.json()["value"]}
    assert results[ADA] is None and results[unknown]["code"] == "NotFound"
    listed = {m["userId"]: m["roles"] for m in graph.ok("GET", f"/teams/{team}/members")["value"]}
    assert listed == {ADA: [], GRACE: ["owner"]}
    too_many = {"values": [member(ADA, [])] * 201}
    assert code(graph.call("POST", f"/teams/{team}/members/add", json=too_many)) == (400, "BadRequest")
    in_migration = graph.create_team(name="Still migrating")
    refused = graph.call("POST", f"/teams/{in_migration}/members/add", json={"values": [member(ADA, [])]})
    assert code(refused) == (400, "BadRequest")


def test_membership_lag_keeps_new_members_out_of_private_channels_for_a_while(graph, emulator):
    """`--membership-lag`: a member added a moment ago is not yet usable for a private channel (400)."""
    emulator.operator("config", {"membership_lag": 1.5})
    team = completed_team(graph)
    graph.ok("POST", f"/teams/{team}/members/add", json={"values": [member(ADA)]})
    body = {"displayName": "leadership", "membershipType": "private", "members": [member(ADA)]}
    assert code(graph.call("POST", f"/teams/{team}/channels", json=body)) == (400, "BadRequest")
    time.sleep(1.6)
    assert graph.call("POST", f"/teams/{team}/channels", json=body).status_code == 201


def test_a_channel_completed_earlier_reopens_by_the_time_rule_for_its_own_app_only(graph):
    """Issue 27's delta pass: a completed channel refuses imports until startMigration reopens it, whose timestamp
    must be older than the channel's current creation; the reopening app owns the session."""
    team, channel = graph.team_with_channel()
    base = f"/teams/{team}/channels/{channel}"
    assert graph.call("POST", f"{base}/messages", json=message("2020-06-01T00:00:00Z")).status_code == 200
    assert graph.call("POST", f"{base}/completeMigration").status_code == 204
    late = message("2020-07-01T00:00:00Z")
    assert code(graph.call("POST", f"{base}/messages", json=late)) == (403, "Forbidden")  # not in migration mode
    created = graph.ok("GET", base)["createdDateTime"]
    assert created == "2020-01-02T00:00:00.000Z"
    for stamp in (created, "2020-03-01T00:00:00Z"):  # not older than the channel's creation
        refused = graph.call("POST", f"{base}/startMigration", json={"conversationCreationDateTime": stamp})
        assert code(refused) == (400, "BadRequest")
    other = RawGraph(graph.emu, *OTHER_APP)
    stamp = {"conversationCreationDateTime": "2020-01-01T23:59:59.999Z"}
    assert graph.call("POST", f"{base}/startMigration", json=stamp).status_code == 204
    assert code(other.call("POST", f"{base}/messages", json=late)) == (403, "Forbidden")
    assert code(graph.call("POST", f"{base}/messages", json=message("2020-06-01T00:00:00Z"))) == (409, "Conflict")
    assert graph.call("POST", f"{base}/messages", json=late).status_code == 200
    assert code(other.call("POST", f"{base}/completeMigration")) == (403, "Forbidden")
    assert graph.call("POST", f"{base}/completeMigration").status_code == 204
