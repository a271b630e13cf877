"""Teams people already use, seeded from the directory file with live messages (issue 21): history is imported into
an existing channel with `startMigration`, the live messages stay untouched and the imported ones interleave by
time (docs/graph-contract.md, Microsoft's newest import article: existing channels and chats)."""

from __future__ import annotations

import json

import pytest

from graphkit import ADA, GRACE, RawGraph, code, message
from migrator.emulator.directory import DEMO_PATH
from migrator.emulator.runner import EmulatorProcess

TEAM, CHANNEL = "e0000000-0000-4000-8000-0000000000aa", "19:incidents0000000000000000000@thread.tacv2"
LIVE = ["2024-06-01T09:00:00.000Z", "2024-06-03T09:00:00.000Z"]


@pytest.fixture(scope="module")
def existing(tmp_path_factory):
    folder = tmp_path_factory.mktemp("existing-team")
    directory = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    directory["teams"] = [
        {
            "id": TEAM,
            "displayName": "Operations",
            "createdDateTime": "2024-05-01T00:00:00Z",
            "owners": [ADA],
            "members": [GRACE],
            "channels": [
                {
                    "id": CHANNEL,
                    "displayName": "incidents",
                    "createdDateTime": "2024-05-15T00:00:00Z",
                    "messages": [
                        {"from": ADA, "createdDateTime": LIVE[0], "body": "<p>live one</p>"},
                        {
                            "from": GRACE,
                            "createdDateTime": LIVE[1],
                            "body": "<p>live two</p>",
                            "replies": [{"from": ADA, "createdDateTime": "2024-06-03T10:00:00.000Z", "body": "ok"}],
                        },
                    ],
                }
            ],
        }
    ]
    (folder / "directory.json").write_text(json.dumps(directory), encoding="utf-8")
    with EmulatorProcess(directory=folder / "directory.json", tls_dir=folder / "tls") as emu:
        emu.operator("config", {"channel_rps": 10_000})
        yield emu


def test_history_goes_into_an_existing_channel_beside_its_live_messages(existing):
    graph = RawGraph(existing)
    assert [c["displayName"] for c in graph.ok("GET", f"/teams/{TEAM}/channels")["value"]] == ["General", "incidents"]
    members = graph.ok("GET", f"/teams/{TEAM}/members")["value"]
    assert sorted((m["id"], m["roles"]) for m in members) == sorted([(ADA, ["owner"]), (GRACE, [])])
    base = f"/teams/{TEAM}/channels/{CHANNEL}"
    before = {m["id"]: m for m in graph.ok("GET", f"{base}/messages")["value"]}
    assert code(graph.call("POST", f"{base}/messages", json=message("2024-06-02T09:00:00.000Z"))) == (403, "Forbidden")
    late = graph.call(  # the channel's createdDateTime can only move into the past
        "POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2024-05-20T00:00:00Z"}
    )
    assert code(late) == (400, "BadRequest")
    started = graph.call(
        "POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2024-04-30T23:59:59.999Z"}
    )
    assert started.status_code == 204
    for stamp in ("2024-04-30T23:59:59.999Z", LIVE[0]):  # at the new creation time, and on a live message's ms
        assert graph.call("POST", f"{base}/messages", json=message(stamp)).status_code in (400, 409)
    for stamp in ("2024-05-10T09:00:00.000Z", "2024-06-02T09:00:00.000Z"):
        graph.ok("POST", f"{base}/messages", json=message(stamp, f"<p>imported {stamp}</p>", GRACE))
    assert graph.call("POST", f"{base}/completeMigration").status_code == 204
    exported = graph.ok("GET", f"/teams/{TEAM}/channels/getAllMessages", params={"model": "A"})["value"]
    roots = sorted((m for m in exported if not m["replyToId"]), key=lambda m: m["createdDateTime"])
    assert [m["body"]["content"] for m in roots] == [
        "<p>imported 2024-05-10T09:00:00.000Z</p>",
        "<p>live one</p>",
        "<p>imported 2024-06-02T09:00:00.000Z</p>",
        "<p>live two</p>",
    ]
    after = {m["id"]: m for m in exported}
    assert set(before) <= set(after) and all(after[key] == before[key] for key in before)  # live ones untouched
    assert len([m for m in exported if m["replyToId"]]) == 1
