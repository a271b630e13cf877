"""Our Graph client against the running emulator over real HTTPS: auth, pacing, retries, paging."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from graphkit import ADA, TEMPLATE, message
from migrator.emulator.runner import DEMO_SECRET, EmulatorProcess
from migrator.graph import (
    AuthenticationError,
    ConflictError,
    ConnectionLostError,
    GraphClient,
    RateLimiter,
    team_id_in,
)


def make_client(emulator, **kwargs) -> GraphClient:
    return GraphClient(emulator.graph_config(), backoff_base=0.05, **kwargs)


def new_team(client: GraphClient) -> str:
    body = {
        "@microsoft.graph.teamCreationMode": "migration",
        "template@odata.bind": TEMPLATE,
        "displayName": "Client",
        "createdDateTime": "2020-01-01T00:00:00Z",
    }
    created = client.request("POST", "/teams", json=body)
    operation = client.resolve(created.headers["Location"])
    while client.get_json(operation)["status"] != "succeeded":
        time.sleep(0.02)
    team = team_id_in(created.headers["Content-Location"])
    assert team is not None
    return team


def new_channel(client: GraphClient, team: str, name: str) -> str:
    body = {
        "@microsoft.graph.channelCreationMode": "migration",
        "displayName": name,
        "membershipType": "standard",
        "createdDateTime": "2020-01-02T00:00:00Z",
    }
    return client.post_json(f"/teams/{team}/channels", body)["id"]


def test_paging_follows_next_links(emulator):
    with make_client(emulator) as client:
        users = list(client.paginate("/users", params={"$top": "2"}))
    assert len(users) == 5 and len({u["id"] for u in users}) == 5


def test_channels_in_parallel_never_exceed_five_per_second(emulator):
    """The keyed limiter: each channel at its 5/s, both at once, and the server never sees a sixth."""
    with make_client(emulator) as client:
        team = new_team(client)
        channels = [new_channel(client, team, f"c{i}") for i in range(2)]

        spans: dict[str, tuple[float, float]] = {}

        def post_all(channel: str) -> None:
            answered = []
            for i in range(11):
                client.post_json(f"/teams/{team}/channels/{channel}/messages", message(f"2021-01-01T00:00:00.{i:03d}Z"))
                answered.append(time.monotonic())
            spans[channel] = (answered[0], answered[-1])

        started = time.monotonic()
        workers = [threading.Thread(target=post_all, args=(c,)) for c in channels]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
    stats = emulator.operator("stats")
    assert stats["totals"]["throttled"] == 0
    assert all(stats["conversations"][c]["peak_1s"] <= 5 for c in channels)
    assert elapsed >= 2.0  # 11 requests per channel at 5/s
    # in parallel: each channel had answers while the other was still posting (by overlap, not a wall-clock bound)
    assert max(first for first, _ in spans.values()) < min(last for _, last in spans.values())


def test_retries_honour_retry_after_and_count_throttling(emulator):
    emulator.operator("faults", {"spec": "429:0.3,503:0.1", "seed": 3})
    with make_client(emulator) as client:
        users = [client.get_json(f"/users/{ADA}")["id"] for _ in range(6)]
        assert users == [ADA] * 6
        assert client.stats.snapshot()["throttled"] >= 1 and client.stats.snapshot()["retries"] >= 1


def test_a_lost_answer_to_a_write_is_not_resent(emulator):
    with make_client(emulator) as client:
        team = new_team(client)
        channel = new_channel(client, team, "drop")
        emulator.operator("faults", {"spec": "drop:1"})
        with pytest.raises(ConnectionLostError) as lost:
            client.post_json(f"/teams/{team}/channels/{channel}/messages", message("2021-02-01T00:00:00.000Z"))
        assert "look it up" in str(lost.value)
        emulator.operator("faults", {"spec": ""})
        with pytest.raises(ConflictError):  # it had landed: the 409 tells the caller so
            client.post_json(f"/teams/{team}/channels/{channel}/messages", message("2021-02-01T00:00:00.000Z"))
    landed = [m for c in emulator.operator("dump")["teams"][0]["channels"] for m in c["messages"]]
    assert len(landed) == 1


def test_a_rejected_token_is_refreshed_after_an_emulator_restart(tmp_path):
    state, tls = tmp_path / "state", tmp_path / "tls"
    emu = EmulatorProcess(state=state, tls_dir=tls).start()
    client = GraphClient(emu.graph_config(), backoff_base=0.05)
    try:
        assert client.get_json(f"/users/{ADA}")["id"] == ADA
        emu.stop()
        restarted = EmulatorProcess(state=state, tls_dir=tls, extra_args=["--port", emu.url.rsplit(":", 1)[1]]).start()
        try:  # same URL, new signing key: the cached token is refused once, then replaced
            assert client.get_json(f"/users/{ADA}")["id"] == ADA
        finally:
            restarted.stop()
    finally:
        client.close()
        emu.stop()


def test_a_wrong_secret_never_reaches_errors_or_logs(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    config = emulator.graph_config(secret="s3cret-that-must-not-leak")
    with GraphClient(config) as client, pytest.raises(AuthenticationError) as refused:
        client.get_json("/users")
    assert "AADSTS7000215" in str(refused.value)
    assert "s3cret-that-must-not-leak" not in str(refused.value) + repr(refused.value) + caplog.text
    assert DEMO_SECRET not in caplog.text


def test_export_paging_through_the_client(emulator):
    limiter = RateLimiter(per_key=None, shared=200)
    with make_client(emulator, limiter=limiter) as client:
        messages = list(client.paginate(f"/users/{ADA}/chats/getAllMessages", params={"$top": "2"}))
    assert len(messages) == 6 and len({m["id"] for m in messages}) == 6
