"""Teams' capacity limits in the emulator (docs/graph-contract.md#capacity-limits): each refused as Graph refuses it,
deleted channels counted for 30 days of the emulator's clock. Teams' own numbers are checked on the model in
process (1,000 channels over HTTPS would only measure the machine); lowered limits are checked over real HTTPS."""

from __future__ import annotations

import pytest
import requests

from graphkit import ADA, ALAN, GRACE, KATHERINE, RawGraph, code, message
from migrator.capacity import TEAMS_DEFAULTS
from migrator.emulator.directory import load_directory
from migrator.emulator.errors import Forbidden
from migrator.emulator.models import DAY_MS, Graph
from migrator.emulator.store import Store
from test_emulator_migration_apis import chat, completed_team, member

APP = "app"


@pytest.fixture
def graph(emulator) -> RawGraph:
    emulator.operator("config", {"channel_rps": 10_000, "channel_writes_per_s": 10_000})
    return RawGraph(emulator)


def limit(graph: RawGraph, **limits: int) -> None:
    graph.emu.operator("config", {"capacity": limits})


def standard(graph: RawGraph, team: str, name: str):
    return graph.call("POST", f"/teams/{team}/channels", json={"displayName": name, "membershipType": "standard"})


def test_the_1001st_channel_of_a_team_is_refused_general_included() -> None:
    model = Graph(load_directory(None), Store(None), provision_delay=0)
    team_id, _ = model.create_team(
        {
            "@microsoft.graph.teamCreationMode": "migration",
            "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
            "displayName": "Big",
            "createdDateTime": "2020-01-01T00:00:00Z",
        },
        APP,
    )
    for n in range(TEAMS_DEFAULTS.channels_per_team - 1):  # General is the 1,000th
        model.create_channel(team_id, {"displayName": f"c{n}", "membershipType": "standard"}, APP)
    assert len(model.list_channels(team_id)) == 1_000
    with pytest.raises(Forbidden, match="exceeded the Max allowed channels"):
        model.create_channel(team_id, {"displayName": "one-too-many", "membershipType": "standard"}, APP)


def test_over_https_the_refusal_is_graphs_403_and_names_nothing_else(graph: RawGraph) -> None:
    limit(graph, channels_per_team=3)
    team = completed_team(graph)
    assert standard(graph, team, "a").status_code == 201
    assert standard(graph, team, "b").status_code == 201
    refused = standard(graph, team, "c")
    assert code(refused) == (403, "Forbidden")
    assert refused.json()["error"]["message"] == "This team has exceeded the Max allowed channels"
    assert graph.emu.operator("config")["capacity"]["channels_per_team"] == 3


def test_a_deleted_channel_counts_until_30_days_later(graph: RawGraph) -> None:
    limit(graph, channels_per_team=2)
    team = completed_team(graph)
    ops = standard(graph, team, "ops").json()["id"]
    assert graph.call("DELETE", f"/teams/{team}/channels/{ops}").status_code == 204
    assert code(standard(graph, team, "ops2")) == (403, "Forbidden")
    graph.emu.operator("config", {"clock_offset_ms": 30 * DAY_MS - 60_000})  # a minute before the 30 days end
    assert code(standard(graph, team, "ops2")) == (403, "Forbidden")
    graph.emu.operator("config", {"clock_offset_ms": 30 * DAY_MS + 60_000})
    assert standard(graph, team, "ops").status_code == 201  # gone for good: its name is free again too


def test_private_channels_per_team_and_members_per_private_channel(graph: RawGraph) -> None:
    limit(graph, private_channels_per_team=1, members_per_private_channel=2)
    team = completed_team(graph, ADA, GRACE, ALAN)
    body = {"displayName": "p1", "membershipType": "private", "members": [member(ADA), member(GRACE, [])]}
    too_many = graph.call(
        "POST", f"/teams/{team}/channels", json={**body, "members": [member(ADA), member(GRACE, []), member(ALAN, [])]}
    )
    assert code(too_many) == (400, "BadRequest") and "at most 2 members" in too_many.json()["error"]["message"]
    first = graph.call("POST", f"/teams/{team}/channels", json=body)
    assert first.status_code == 201
    second = graph.call("POST", f"/teams/{team}/channels", json={**body, "displayName": "p2"})
    assert code(second) == (403, "Forbidden") and "private channels" in second.json()["error"]["message"]
    assert graph.call("DELETE", f"/teams/{team}/channels/{first.json()['id']}").status_code == 204
    assert code(graph.call("POST", f"/teams/{team}/channels", json={**body, "displayName": "p3"})) == (403, "Forbidden")
    assert standard(graph, team, "open").status_code == 201  # the private limit leaves standard channels alone


def test_members_and_owners_per_team(graph: RawGraph) -> None:
    limit(graph, members_per_team=3, owners_per_team=1)
    team = completed_team(graph, ADA)
    assert graph.call("POST", f"/teams/{team}/members", json=member(GRACE)).status_code < 300
    owner = graph.call("POST", f"/teams/{team}/members", json=member(ALAN))
    assert code(owner) == (400, "BadRequest") and "at most 1 owners" in owner.json()["error"]["message"]
    assert graph.call("POST", f"/teams/{team}/members", json=member(ALAN, [])).status_code < 300
    full = graph.call("POST", f"/teams/{team}/members", json=member(KATHERINE, []))
    assert code(full) == (400, "BadRequest") and "at most 3 members" in full.json()["error"]["message"]


def test_people_in_a_group_chat_and_added_at_once(graph: RawGraph) -> None:
    limit(graph, people_per_group_chat=3, chat_members_per_request=2)
    assert code(chat(graph, "group", ADA, GRACE, ALAN)) == (400, "BadRequest")  # 3 in one request
    assert code(chat(graph, "group", ADA, GRACE, ALAN, KATHERINE)) == (400, "BadRequest")
    assert chat(graph, "group", ADA, GRACE).status_code == 201


def test_files_per_message_and_message_size(graph: RawGraph) -> None:
    limit(graph, files_per_message=1, message_bytes=100)
    team, channel = graph.team_with_channel()
    base = f"/teams/{team}/channels/{channel}/messages"
    attachments = [
        {"id": f"a{n}", "contentType": "reference", "contentUrl": f"https://x/{n}", "name": f"{n}.txt"} for n in (1, 2)
    ]
    body = message("2020-06-01T00:00:00Z", '<attachment id="a1"></attachment><attachment id="a2"></attachment>')
    refused = graph.call("POST", base, json={**body, "attachments": attachments})
    assert code(refused) == (400, "BadRequest") and "at most 1 file attachments" in refused.json()["error"]["message"]
    assert code(graph.call("POST", base, json=message("2020-06-01T00:00:01Z", "x" * 101))) == (
        413,
        "RequestEntityTooLarge",
    )
    assert graph.call("POST", base, json=message("2020-06-01T00:00:02Z", "x" * 100)).status_code == 200


def test_reset_restores_teams_limits(graph: RawGraph) -> None:
    limit(graph, channels_per_team=2)
    graph.emu.operator("reset", {})
    assert graph.emu.operator("config")["capacity"] == TEAMS_DEFAULTS.as_dict()
    with pytest.raises(requests.HTTPError, match="400"):
        graph.emu.operator("config", {"capacity": {"channels": 3}})
