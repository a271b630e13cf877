"""Export rules (seeds 000-002, 004): getAllMessages, paging, filters, billing, retention, throttling."""

from __future__ import annotations

import base64
import json
import re

import pytest
import requests

from graphkit import ADA, ALAN, GRACE, KATHERINE, OTHER_APP, RawGraph, message

ONE_ON_ONE = "19:a0000000-0000-4000-8000-000000000002_a0000000-0000-4000-8000-000000000003@unq.gbl.spaces"


@pytest.fixture
def graph(emulator) -> RawGraph:
    emulator.operator("config", {"channel_rps": 10_000})
    return RawGraph(emulator)


@pytest.fixture
def team(graph) -> tuple[str, dict[str, dict]]:
    """A team with two channels, seven messages (two are replies) from Ada and Grace."""
    team, first = graph.team_with_channel()
    second = graph.create_channel(team, "Second")
    posted = {}
    for channel, stamp, who in [
        (first, "2021-01-01T10:00:00.000Z", ADA),
        (first, "2021-01-02T10:00:00.000Z", GRACE),
        (second, "2021-01-03T10:00:00.000Z", ADA),
        (second, "2021-01-04T10:00:00.000Z", GRACE),
        (first, "2021-01-05T10:00:00.000Z", ADA),
    ]:
        posted[stamp] = graph.ok(
            "POST", f"/teams/{team}/channels/{channel}/messages", json=message(stamp, f"m {stamp}", who)
        )
    root = posted["2021-01-01T10:00:00.000Z"]["id"]
    for stamp, who in [("2021-01-06T10:00:00.000Z", GRACE), ("2021-01-07T10:00:00.000Z", ADA)]:
        posted[stamp] = graph.ok(
            "POST", f"/teams/{team}/channels/{first}/messages/{root}/replies", json=message(stamp, "re", who)
        )
    return team, posted


def everything(graph: RawGraph, path: str, params: dict | None = None, version: str = "v1.0") -> tuple[list[dict], int]:
    """All pages by following @odata.nextLink; returns the messages and the number of pages."""
    page = graph.ok("GET", path, params=params or {}, version=version)
    found, pages = list(page["value"]), 1
    while page.get("@odata.nextLink"):
        page = graph.ok("GET", page["@odata.nextLink"])
        found += page["value"]
        pages += 1
    return found, pages


def test_team_export_pages_every_message_once(graph, team):
    team_id, posted = team
    found, pages = everything(graph, f"/teams/{team_id}/channels/getAllMessages", {"$top": "2"})
    assert pages == 4
    assert sorted(m["id"] for m in found) == sorted(m["id"] for m in posted.values())
    replies = [m for m in found if m["replyToId"]]
    assert {m["replyToId"] for m in replies} == {posted["2021-01-01T10:00:00.000Z"]["id"]}
    assert all(m["channelIdentity"]["teamId"] == team_id for m in found)
    last = graph.ok("GET", f"/teams/{team_id}/channels/getAllMessages", params={"$top": "50"})
    assert "@odata.nextLink" in last and last["@odata.nextLink"] is None


def test_top_is_at_most_50_and_allmessages_is_beta(graph, team):
    team_id, _ = team
    assert graph.call("GET", f"/teams/{team_id}/channels/getAllMessages", params={"$top": "51"}).status_code == 400
    assert graph.call("GET", f"/teams/{team_id}/channels/allMessages").status_code == 400
    found, _ = everything(graph, f"/teams/{team_id}/channels/allMessages", version="beta")
    assert len(found) == 7


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("lastModifiedDateTime gt 2021-01-02T00:00:00.000Z and lastModifiedDateTime lt 2021-01-05T00:00:00.000Z", 3),
        ("lastModifiedDateTime gt 2021-01-06T10:00:00.000Z", 1),
        (f"from/user/id eq '{GRACE}'", 3),
        (f"from/user/id eq '{GRACE}' or from/user/id eq '{ADA}'", 7),
        ("from/user/userIdentityType eq 'aadUser'", 7),
        ("from/application/applicationIdentityType eq 'bot'", 0),
        ("messageType ne 'systemEventMessage'", 7),
        (
            f"(from/user/id eq '{ADA}' or messageType eq 'systemEventMessage') and lastModifiedDateTime lt "
            "2021-01-04T00:00:00Z",
            2,
        ),
    ],
)
def test_filters(graph, team, expression, expected):
    team_id, _ = team
    found, _ = everything(graph, f"/teams/{team_id}/channels/getAllMessages", {"$filter": expression, "$top": "3"})
    assert len(found) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "lastModifiedDateTime ge 2021-01-01T00:00:00Z",
        "lastModifiedDateTime gt yesterday",
        "createdDateTime gt 2021-01-01T00:00:00Z",
        "from/user/userIdentityType eq 'robot'",
        f"from/user/id eq '{ADA}' and from/user/id eq '{GRACE}'",
        f"lastModifiedDateTime gt 2021-01-01T00:00:00Z or from/user/id eq '{ADA}'",
        "messageType eq 'message'",
        "from/user/id eq",
    ],
)
def test_unsupported_filters_are_refused(graph, team, expression):
    team_id, _ = team
    response = graph.call("GET", f"/teams/{team_id}/channels/getAllMessages", params={"$filter": expression})
    assert response.status_code == 400, expression


@pytest.mark.parametrize("payload", ["1", '"a"', "{}", '["a", "b", "c"]', "[1, 2]"])
def test_a_skiptoken_the_emulator_did_not_make_is_a_bad_request(graph, team, payload):
    """A $skiptoken that decodes to JSON of another shape is refused with 400, never a server error."""
    team_id, _ = team
    token = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    response = graph.call("GET", f"/teams/{team_id}/channels/getAllMessages", params={"$skiptoken": token})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"] == "Invalid $skiptoken."


def test_chat_export_is_per_member(graph):
    ada, _ = everything(graph, f"/users/{ADA}/chats/getAllMessages")
    alan, _ = everything(graph, f"/users/{ALAN}/chats/getAllMessages")
    assert len(ada) == 6 and len(alan) == 3
    assert ONE_ON_ONE in {m["chatId"] for m in ada} and ONE_ON_ONE not in {m["chatId"] for m in alan}
    system, _ = everything(
        graph, f"/users/{GRACE}/chats/getAllMessages", {"$filter": "messageType eq 'systemEventMessage'"}
    )
    assert [m["messageType"] for m in system] == ["systemEventMessage"]
    bots, _ = everything(
        graph, f"/users/{ADA}/chats/getAllMessages", {"$filter": "from/application/applicationIdentityType eq 'bot'"}
    )
    assert [m["from"]["application"]["displayName"] for m in bots] == ["Build bot"]
    assert everything(graph, f"/users/{KATHERINE}/chats/getAllMessages")[0] == []


def test_billing_models_and_licences(graph, emulator):
    refused = graph.call("GET", f"/users/{KATHERINE}/chats/getAllMessages", params={"model": "A"})
    assert refused.status_code == 402 and "needs a valid license" in refused.json()["error"]["message"]
    assert graph.call("GET", f"/users/{KATHERINE}/chats/getAllMessages", params={"model": "B"}).status_code == 200
    assert graph.call("GET", f"/users/{ADA}/chats/getAllMessages", params={"model": "C"}).status_code == 400
    emulator.operator("config", {"evaluation_capacity": 4})
    assert graph.call("GET", f"/users/{ADA}/chats/getAllMessages", params={"$top": "5"}).status_code == 200
    capacity = graph.call("GET", f"/users/{ADA}/chats/getAllMessages")
    assert (
        capacity.status_code == 402
        and "evaluation mode capacity has been exceeded" in capacity.json()["error"]["message"]
    )
    assert graph.call("GET", f"/users/{ADA}/chats/getAllMessages", params={"model": "A"}).status_code == 200


def test_deleted_messages_are_kept_30_days(graph, emulator, team):
    team_id, posted = team
    victim = posted["2021-01-02T10:00:00.000Z"]
    emulator.operator(
        "mutate", {"op": "delete", "conversation": victim["channelIdentity"]["channelId"], "message": victim["id"]}
    )
    found, _ = everything(graph, f"/teams/{team_id}/channels/getAllMessages")
    deleted = [m for m in found if m["id"] == victim["id"]]
    assert len(found) == 7 and deleted[0]["deletedDateTime"] is not None
    emulator.operator("config", {"clock_offset_ms": 31 * 86_400_000})
    found, _ = everything(graph, f"/teams/{team_id}/channels/getAllMessages")
    assert victim["id"] not in {m["id"] for m in found} and len(found) == 6


def test_export_needs_its_permission(graph, emulator, team):
    team_id, _ = team
    other = RawGraph(emulator, *OTHER_APP)
    assert other.call("GET", f"/teams/{team_id}/channels/getAllMessages").status_code == 403
    reader = RawGraph(emulator, "b1f1c0de-0000-4000-8000-000000000002", "reader-secret-not-for-production")
    assert reader.call("GET", f"/teams/{team_id}/channels/getAllMessages").status_code == 200


def test_export_is_throttled_per_tenant(graph, emulator, team):
    team_id, _ = team
    emulator.operator("config", {"tenant_rps": 3})
    statuses = [graph.call("GET", f"/teams/{team_id}/channels/getAllMessages") for _ in range(6)]
    throttled = [r for r in statuses if r.status_code == 429]
    assert throttled and all(int(r.headers["Retry-After"]) >= 1 for r in throttled)
    assert throttled[0].json()["error"]["code"] == "TooManyRequests"


def test_seeded_reactions_and_event_details_come_back(graph):
    ada, _ = everything(graph, f"/users/{ADA}/chats/getAllMessages")
    agenda = next(m for m in ada if m["body"]["content"] == "Agenda for Monday?")
    assert [(r["reactionType"], r["user"]["user"]["id"]) for r in agenda["reactions"]] == [
        ("like", ADA),
        ("heart", GRACE),
        ("like", ALAN),
    ]
    assert agenda["reactions"][0]["user"]["user"]["displayName"] is None  # Graph names nobody here
    call = next(m for m in ada if m["messageType"] == "systemEventMessage")
    assert call["eventDetail"]["@odata.type"] == "#microsoft.graph.callEndedEventMessageDetail"
    assert call["eventDetail"]["callDuration"] == "PT4M12S" and call["from"]["user"] is None


def test_a_reaction_or_a_system_event_on_a_channel_is_a_change_the_export_sees(graph, emulator, team):
    team_id, posted = team
    target = posted["2021-01-03T10:00:00.000Z"]
    channel = target["channelIdentity"]["channelId"]
    reacted = emulator.operator(
        "mutate", {"op": "react", "conversation": channel, "message": target["id"], "reactionType": "😂", "user": GRACE}
    )
    event = emulator.operator(
        "mutate",
        {
            "op": "event",
            "conversation": channel,
            "eventDetail": {
                "@odata.type": "#microsoft.graph.channelRenamedEventMessageDetail",
                "channelDisplayName": "Renamed",
                "initiator": {"user": {"id": ADA, "displayName": None, "userIdentityType": "aadUser"}},
            },
        },
    )
    since = {"$filter": "lastModifiedDateTime gt 2021-02-01T00:00:00Z"}
    changed, _ = everything(graph, f"/teams/{team_id}/channels/getAllMessages", since)
    assert {m["id"] for m in changed} == {reacted["id"], event["id"]}
    by_id = {m["id"]: m for m in changed}
    assert by_id[reacted["id"]]["reactions"][0]["reactionType"] == "😂"
    assert by_id[event["id"]]["messageType"] == "systemEventMessage"
    assert by_id[event["id"]]["eventDetail"]["channelDisplayName"] == "Renamed"
    bad = {"op": "event", "conversation": channel, "eventDetail": {"callId": "x"}}
    with pytest.raises(requests.HTTPError, match="400"):
        emulator.operator("mutate", bad)


@pytest.mark.parametrize(
    "seed, says",
    [
        ({"reactions": [{"reactionType": "like", "user": "nobody"}]}, "reactions[0] needs a reactionType and a user"),
        ({"reactions": [{"user": ADA}]}, "reactions[0] needs a reactionType"),
        ({"attachments": [{"name": "x.docx"}]}, "attachments[0] needs an id"),
    ],
)
def test_a_directory_seed_the_emulator_cannot_use_is_named(tmp_path, seed, says):
    from migrator.emulator.directory import DirectoryError, load_directory

    message = {"from": ADA, "createdDateTime": "2024-01-10T09:01:00.000Z", "body": "hi", **seed}
    chat = {"id": "19:x@thread.v2", "members": [ADA], "messages": [message]}
    path = tmp_path / "directory.json"
    path.write_text(json.dumps({"chats": [chat]}), encoding="utf-8")
    with pytest.raises(DirectoryError, match=rf"chats\[0\]\.messages\[0\]\.{re.escape(says)}"):
        load_directory(path)
