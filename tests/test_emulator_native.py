"""@mentions and reactions on imported messages (docs/graph-contract.md, Microsoft's newest import article), each
rule checked over real HTTPS against the emulator: accepted and exported when well formed, 400 naming the field
otherwise, and all refused under the `refuse_native_elements` reading switch."""

from __future__ import annotations

import pytest

from graphkit import ADA, GRACE, RawGraph, code, message

STRANGER = "00000000-0000-0000-0000-00000000dead"
CREATED = "2020-03-01T00:00:00.000Z"


@pytest.fixture
def graph(emulator) -> RawGraph:
    emulator.operator("config", {"channel_rps": 10_000})
    return RawGraph(emulator)


def mention(number: int, user_id: str = GRACE, name: str = "Grace Hopper") -> dict:
    return {
        "id": number,
        "mentionText": name,
        "mentioned": {"user": {"id": user_id, "displayName": name, "userIdentityType": "aadUser"}},
    }


def reaction(emoji: str = "👍", user_id: str = GRACE, when: str | None = CREATED) -> dict:
    entry: dict = {"reactionType": emoji, "user": {"user": {"id": user_id, "userIdentityType": "aadUser"}}}
    if when is not None:
        entry["createdDateTime"] = when
    return entry


def with_native(**extra) -> dict:
    return message(CREATED, '<p>hi <at id="0">Grace Hopper</at> and <at id="1">Ada</at></p>', **extra)


def test_mentions_and_reactions_are_stored_and_exported(graph):
    team, channel = graph.team_with_channel()
    body = with_native(
        mentions=[mention(0), mention(1, ADA, "Ada")],
        reactions=[reaction("👍"), reaction("🎉", ADA, "2020-03-02T00:00:00.000Z"), reaction("❤️", ADA, None)],
    )
    graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=body)
    exported = graph.ok("GET", f"/teams/{team}/channels/getAllMessages", params={"model": "A"})["value"]
    [stored] = exported
    assert [(m["id"], m["mentionText"], m["mentioned"]["user"]["id"]) for m in stored["mentions"]] == [
        (0, "Grace Hopper", GRACE),
        (1, "Ada", ADA),
    ]
    assert [(r["reactionType"], r["user"]["user"]["id"], r["createdDateTime"]) for r in stored["reactions"]] == [
        ("👍", GRACE, CREATED),
        ("🎉", ADA, "2020-03-02T00:00:00.000Z"),
        ("❤️", ADA, CREATED),  # no time of its own: the message's
    ]


@pytest.mark.parametrize(
    "body, field",
    [
        (with_native(mentions=[mention(0)]), "mentions"),  # <at id="1"> has no entry
        (with_native(mentions=[mention(0), mention(1, ADA), mention(2, ADA)]), "mentions"),  # entry 2 has no tag
        (with_native(mentions=[mention(0), mention(1, STRANGER)]), "mentions"),  # not in the directory
        (message(CREATED, "<p>hi</p>", reactions=[reaction(user_id=STRANGER)]), "reactions"),
        (message(CREATED, "<p>hi</p>", reactions=[reaction("")]), "reactions"),
        (message(CREATED, "<p>hi</p>", reactions=[reaction(when="2020-02-29T23:59:59.999Z")]), "reactions"),
        (message(CREATED, "<p>hi</p>", reactions=[reaction()] * 251), "reactions"),
    ],
)
def test_native_element_refusals_name_the_field(graph, body, field):
    team, channel = graph.team_with_channel()
    answer = graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=body)
    assert code(answer) == (400, "BadRequest")
    assert field in answer.json()["error"]["message"]
    assert "innerError" in answer.json()["error"]


def test_250_reactions_are_taken(graph):
    team, channel = graph.team_with_channel()
    body = message(CREATED, "<p>hi</p>", reactions=[reaction()] * 250)
    assert len(graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=body)["reactions"]) == 250


@pytest.mark.parametrize("field", ["mentions", "reactions"])
def test_a_tenant_refusing_native_elements(graph, emulator, field):
    emulator.operator("config", {"reading": {"refuse_native_elements": True}})
    team, channel = graph.team_with_channel()
    body = with_native(mentions=[mention(0), mention(1, ADA)]) if field == "mentions" else None
    body = body or message(CREATED, "<p>hi</p>", reactions=[reaction()])
    answer = graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=body)
    assert code(answer) == (400, "BadRequest") and field in answer.json()["error"]["message"]
    plain = graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=message(CREATED, "<p>hi</p>"))
    assert plain.status_code in (200, 201)
