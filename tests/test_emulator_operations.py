"""Throttling, fault injection, persistence and the operator endpoints of the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import requests

from graphkit import TEMPLATE, RawGraph, code, message
from migrator.emulator.faults import Faults, FaultSpecError
from migrator.emulator.runner import EmulatorProcess
from migrator.timestamps import parse_ms


def stamp(index: int) -> str:
    return f"2021-03-01T00:00:{index // 1000:02d}.{index % 1000:03d}Z"


def test_more_than_five_requests_per_second_to_a_channel_get_429(emulator):
    graph = RawGraph(emulator)
    team, channel = graph.team_with_channel()
    answers = [
        graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=message(stamp(i))) for i in range(8)
    ]
    throttled = [a for a in answers if a.status_code == 429]
    assert len(throttled) >= 3 and all(a.status_code in (200, 429) for a in answers)
    assert all(int(a.headers["Retry-After"]) >= 1 for a in throttled)
    stats = emulator.operator("stats")["conversations"][channel]
    assert stats["requests"] == 8 and stats["throttled"] == len(throttled) and stats["peak_1s"] == 8


def test_a_paced_client_is_never_throttled(emulator):
    graph = RawGraph(emulator)
    team, channel = graph.team_with_channel()
    other = graph.create_channel(team, "Other")
    for i in range(12):  # two channels in parallel, each at 5/s
        for target in (channel, other):
            assert (
                graph.call("POST", f"/teams/{team}/channels/{target}/messages", json=message(stamp(i))).status_code
                == 200
            )
        time.sleep(0.21)
    stats = emulator.operator("stats")
    assert stats["totals"]["throttled"] == 0
    assert stats["conversations"][channel]["peak_1s"] <= 5 and stats["conversations"][other]["peak_1s"] <= 5


def test_team_creation_is_limited_per_app(emulator):
    graph = RawGraph(emulator)
    body = {"@microsoft.graph.teamCreationMode": "migration", "template@odata.bind": TEMPLATE, "displayName": "T"}
    statuses = [graph.call("POST", "/teams", json=body).status_code for _ in range(8)]
    assert statuses.count(202) == 6 and statuses.count(429) == 2


@pytest.mark.parametrize("spec, status", [("500:1", 500), ("503:1", 503), ("429:1", 429), ("502:1", 502)])
def test_injected_statuses_use_the_error_envelope(emulator, spec, status):
    graph = RawGraph(emulator)
    emulator.operator("faults", {"spec": spec})
    answer = graph.call("GET", "/users")
    assert answer.status_code == status
    assert answer.json()["error"]["innerError"]["request-id"] == answer.headers["request-id"]
    if status == 429:
        assert answer.headers["Retry-After"] == "1"
    assert emulator.operator("faults")["injected"] == {spec.split(":")[0]: 1}


def test_drop_applies_the_request_and_loses_the_answer(emulator):
    graph = RawGraph(emulator)
    team, channel = graph.team_with_channel()
    emulator.operator("faults", {"spec": "drop:1"})
    with pytest.raises(requests.ConnectionError):
        graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2021-04-01T00:00:00.000Z"))
    emulator.operator("faults", {"spec": ""})
    landed = emulator.operator("dump")["teams"][0]["channels"]
    assert [parse_ms(m["createdDateTime"]) for c in landed for m in c["messages"]] == [parse_ms("2021-04-01T00:00:00Z")]
    again = graph.call("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2021-04-01T00:00:00.000Z"))
    assert again.status_code == 409  # how a crash-safe loader recognises a message that already landed


def test_a_refuse_rule_refuses_the_same_requests_every_time_until_lifted(emulator):
    emulator.operator("config", {"channel_rps": 10_000})  # about refusals, not pacing: ~80 posts to one channel
    graph = RawGraph(emulator)
    team, channel = graph.team_with_channel()
    path = f"/teams/{team}/channels/{channel}/messages"
    rule = {"path": "/teams/*/channels/*/messages", "body": "poison", "status": 422, "code": "Poisoned"}
    emulator.operator("faults", {"spec": "", "refuse": [rule, {"path": "/teams/*/channels/*/messages", "share": 0.5}]})
    for _ in range(3):  # a refusal for good: a retry meets it again
        answer = graph.call("POST", path, json=message("2021-04-01T00:00:00.000Z", "poison"))
        assert code(answer) == (422, "Poisoned") and answer.json()["error"]["innerError"]["request-id"]
    times = [f"2021-04-02T00:00:{second:02d}.000Z" for second in range(40)]
    first = [graph.call("POST", path, json=message(t)).status_code for t in times]
    assert 5 < first.count(400) < 35  # about half, chosen by the request itself
    refused = [t for t, status in zip(times, first, strict=True) if status == 400]
    assert [graph.call("POST", path, json=message(t)).status_code for t in refused] == [400] * len(refused)
    assert emulator.operator("faults")["injected"]["refuse"] == 3 + 2 * len(refused)
    emulator.operator("faults", {"spec": ""})  # lifted
    assert graph.call("POST", path, json=message(refused[0])).status_code == 200


@pytest.mark.parametrize(
    "rule", [{"body": "x"}, {"path": "/x", "status": 500}, {"path": "/x", "share": 2}, {"path": "/x", "colour": 1}]
)
def test_bad_refuse_rules_are_refused_with_the_rule(rule):
    with pytest.raises(FaultSpecError, match="refuse rule"):
        Faults.parse("", refuse=[rule])


def test_latency(emulator):
    graph = RawGraph(emulator)
    emulator.operator("faults", {"spec": "latency:150ms"})
    started = time.monotonic()
    assert graph.call("GET", "/users").status_code == 200
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize("spec", ["500:2", "teapot:0.1", "latency:fast", "500:0.6,503:0.6", "drop:x"])
def test_bad_fault_specs_are_refused_with_the_item(spec):
    with pytest.raises(FaultSpecError) as error:
        Faults.parse(spec)
    assert spec.split(",")[0].split(":")[0] in str(error.value) or "add up" in str(error.value)


def test_faults_are_reproducible_for_a_seed():
    first, second = Faults.parse("500:0.3,drop:0.2", seed=7), Faults.parse("500:0.3,drop:0.2", seed=7)
    drawn = [first.draw() for _ in range(200)]
    assert drawn == [second.draw() for _ in range(200)]
    assert 40 <= drawn.count("500") <= 80 and 20 <= drawn.count("drop") <= 60 and None in drawn


def test_cli_refuses_a_bad_fault_spec():
    result = subprocess.run(
        [sys.executable, "-m", "migrator", "emulator", "serve", "--faults", "500:7"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "500:7" in result.stderr and "Traceback" not in result.stderr


def test_state_survives_kill_and_restart(tmp_path):
    state, tls_dir = tmp_path / "state.jsonl", tmp_path / "tls"
    with EmulatorProcess(state=state, tls_dir=tls_dir) as emu:
        graph = RawGraph(emu)
        team, channel = graph.team_with_channel()
        graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2021-05-01T00:00:00.000Z"))
        ca = emu.ca.read_bytes()
        emu.kill()  # kill -9: no chance to compact
    with EmulatorProcess(state=state, tls_dir=tls_dir) as emu:
        assert emu.ca.read_bytes() == ca  # running clients keep trusting a restarted emulator
        graph = RawGraph(emu)
        again = graph.call(
            "POST", f"/teams/{team}/channels/{channel}/messages", json=message("2021-05-01T00:00:00.000Z")
        )
        assert again.status_code == 409
        graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2021-05-02T00:00:00.000Z"))
    with EmulatorProcess(state=state, tls_dir=tls_dir) as emu:  # after a graceful stop too
        messages = emu.operator("dump")["teams"][0]["channels"]
        assert sorted(parse_ms(m["createdDateTime"]) for c in messages for m in c["messages"]) == [
            parse_ms("2021-05-01T00:00:00Z"),
            parse_ms("2021-05-02T00:00:00Z"),
        ]


def test_operator_dump_stats_config_and_cli(emulator):
    graph = RawGraph(emulator)
    team, channel = graph.team_with_channel()
    graph.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=message("2021-06-01T00:00:00.000Z"))
    dumped = subprocess.run(
        [sys.executable, "-m", "migrator", "emulator", "dump", "--url", emulator.url, "--ca", str(emulator.ca)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    teams = json.loads(dumped.stdout)["teams"]
    assert teams[0]["id"] == team and {c["displayName"] for c in teams[0]["channels"]} == {"General", "Imported"}
    assert (
        emulator.operator("stats")["totals"]["requests"] >= 4
    )  # team, its operation, channel, message (+ a token unless cached)
    assert emulator.operator("config", {"channel_rps": 7})["channel_rps"] == 7
    with pytest.raises(requests.HTTPError):
        emulator.operator("config", {"no_such_setting": 1})
