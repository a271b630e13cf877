"""`migrator emulator conform TRACE`: a trace recorded against the emulator replays without a difference, an edited
one is reported, every hand-written trace of documented behaviour under tests/traces/ replays without a difference,
and no content, name, address, token or secret reaches a recorded trace."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrator.cli import app
from migrator.emulator.directory import SAMPLE_DIRECTORY
from migrator.emulator.runner import DEMO_SECRET
from migrator.plan import Manifest, read_lines

ROOT = Path(__file__).resolve().parents[1]
TRACES = sorted((ROOT / "tests" / "traces").glob("*.jsonl"))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trace of `migrate` of the sample into its embedded emulator (load and verify), and the run's folder."""
    work = tmp_path_factory.mktemp("traced")
    env = {name: value for name, value in os.environ.items() if not name.startswith("MIGRATOR_")}
    env["MIGRATOR_TRACE"] = str(work / "trace.jsonl")
    command = [sys.executable, "-m", "migrator", "migrate", str(ROOT / "sample_data" / "slack")]
    command += ["--mappings", str(ROOT / "mappings"), "--out", str(work / "run")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return work


def conform(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["emulator", "conform", *args])
    print(result.output)  # shown when an assertion fails
    return result.exit_code, result.output


def test_a_migration_of_the_sample_leaves_no_content_in_its_trace(recorded: Path) -> None:
    text = (recorded / "trace.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    exchanges = [line for line in lines if "method" in line]
    assert {"POST", "GET", "PUT"} <= {line["method"] for line in exchanges}
    assert any(line["path"].endswith("/messages") and line["status"] == 200 for line in exchanges)
    assert any("contentBytes" in json.dumps(line["request"]) for line in exchanges)  # inline images were sent
    plan = next(p.parent for p in (recorded / "run").rglob("manifest.json"))
    forbidden = {DEMO_SECRET, "eyJ"}  # the secret, and any JWT
    for _, conversation in Manifest.read(plan).conversations():
        for line in read_lines(plan, conversation):
            words = re.sub(r"<[^>]+>", " ", line["body"]["content"]).split()
            forbidden.update(" ".join(words[i : i + 3]) for i in range(0, max(len(words) - 2, 1)))
            forbidden.update(image["contentBytes"][:40] for image in line.get("hostedContents", []))
    for user in json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))["users"]:
        forbidden.update({user["displayName"], user["mail"], user["id"]})
    forbidden.update(path.name for path in (ROOT / "sample_data" / "slack" / "__uploads").rglob("*") if path.is_file())
    found = sorted(s for s in forbidden if len(s) > 3 and s in text)
    assert found == []


def test_an_id_keeps_its_placeholder_from_load_to_verify(recorded: Path) -> None:
    exchanges = [json.loads(line) for line in (recorded / "trace.jsonl").read_text(encoding="utf-8").splitlines()]
    posted = {
        e["response"]["json"]["id"]
        for e in exchanges
        if e.get("method") == "POST" and e["path"].endswith(("/messages", "/replies")) and e["status"] == 200
    }
    read = {
        m["id"]
        for e in exchanges
        if e.get("path", "").endswith("/channels/getAllMessages")
        for m in e["response"]["json"]["value"]
    }
    assert read and read <= posted  # verify read back, by the same placeholders, what load posted


def test_a_recorded_migration_replays_without_a_difference(recorded: Path) -> None:
    code, output = conform(str(recorded / "trace.jsonl"))
    assert code == 0
    assert re.search(r"conform: \d{3} exchanges replayed against the strict reading, 0 answered otherwise", output)


def test_a_preflight_trace_replays_without_a_difference(no_credentials, monkeypatch, tmp_path: Path) -> None:
    """README's Before cutover: a consultant's preflight, kept with MIGRATOR_TRACE, held against the emulator."""
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("MIGRATOR_TRACE", str(trace))
    preflight = ["preflight", "--mappings", str(ROOT / "mappings"), "--out", str(tmp_path / "out"), "--canary-chat"]
    result = CliRunner().invoke(app, preflight)
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("MIGRATOR_TRACE")
    code, output = conform(str(trace))
    assert code == 0 and ", 0 answered otherwise" in output


def test_an_edited_status_is_reported(recorded: Path, tmp_path: Path) -> None:
    lines = (recorded / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    first_chat = next(i for i, line in enumerate(lines) if '"path":"/v1.0/chats","query"' in line)
    edited = json.loads(lines[first_chat])
    assert edited["status"] == 201
    edited["status"] = 400
    trace = tmp_path / "edited.jsonl"
    trace.write_text("\n".join([*lines[:first_chat], json.dumps(edited)]) + "\n", encoding="utf-8")
    code, output = conform(str(trace))
    assert code == 1
    assert f"{trace}:{first_chat + 1}: POST /v1.0/chats\n    status 201, recorded 400\n" in output
    assert ", 1 answered otherwise" in output


@pytest.mark.parametrize("trace", TRACES, ids=[t.stem for t in TRACES])
def test_each_hand_written_trace_replays_without_a_difference(trace: Path) -> None:
    sources = [line for line in trace.read_text(encoding="utf-8").splitlines() if line.startswith("# Source:")]
    assert sources, f"{trace.name} names no source (a '# Source:' comment line)"
    code, output = conform(str(trace))
    assert code == 0 and ", 0 answered otherwise" in output


def test_the_hand_written_traces_cover_the_documented_behaviours() -> None:
    assert {t.stem for t in TRACES} >= {
        "create-team-location",
        "complete-team-before-channels",
        "duplicate-millisecond",
        "another-app-in-import-session",
    }


def test_the_article_form_of_the_location_is_a_difference_and_the_team_it_names_still_binds(tmp_path: Path) -> None:
    trace = tmp_path / "location-then-channels.jsonl"
    then = '{"at": 1.0, "method": "GET", "path": "/v1.0/teams/{team:1}/channels", "status": 200}\n'
    trace.write_text((ROOT / "tests" / "traces" / "create-team-location.jsonl").read_text(encoding="utf-8") + then)
    code, output = conform(str(trace), "--reading", "lenient")
    assert code == 1 and ", 1 answered otherwise" in output  # the header, not the listing of the team it names
    assert "header Location: '/teams/{team:" in output
    assert "recorded \"/teams('{team:1}')/operations('{op:1}')\"" in output


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ('# a comment\n{"method": "POST", "path": "/v1.0/teams", "status": 202}\nnot json\n', 3, "not JSON"),
        ('{"method": "POST", "path": "/v1.0/teams", "status": "202"}\n', 1, "status must be an HTTP status"),
        ('\n{"method": "GET", "path": "v1.0/users", "status": 200}\n', 2, "path must be a string starting with /"),
        ('{"app": "{app:1}"}\n', 1, "neither an exchange"),
    ],
)
def test_a_bad_trace_names_its_file_and_line(tmp_path: Path, text: str, line: int, says: str) -> None:
    trace = tmp_path / "bad.jsonl"
    trace.write_text(text, encoding="utf-8")
    code, output = conform(str(trace))
    assert code == 2
    assert f"emulator: {trace}:{line}: {says}" in output


def test_an_id_no_replayed_answer_gave_is_a_difference(tmp_path: Path) -> None:
    trace = tmp_path / "unbound.jsonl"
    trace.write_text(
        '{"method": "GET", "path": "/v1.0/teams/{team:7}/channels", "status": 200}\n'
        '{"method": "GET", "path": "{url:3}", "status": 200}\n',
        encoding="utf-8",
    )
    code, output = conform(str(trace))
    assert code == 1 and output.count("status 404, recorded 200") == 2 and ", 2 answered otherwise" in output


def test_an_operation_found_further_along_than_recorded_is_timing_not_a_difference(tmp_path: Path) -> None:
    create = (ROOT / "tests" / "traces" / "create-team-location.jsonl").read_text(encoding="utf-8")
    poll = '{"at": %s, "method": "GET", "path": "/v1.0/teams(\'{team:1}\')/operations(\'{op:1}\')", "status": 200, '
    poll += '"response": {"json": {"id": "{op:1}", "operationType": "createTeam", "status": "%s"}}, "partial": true}\n'
    trace = tmp_path / "poll.jsonl"
    trace.write_text(create + poll % (0, "succeeded") + poll % (1.5, "inProgress"), encoding="utf-8")
    code, output = conform(str(trace))
    lines = create.count("\n")
    assert code == 1 and ", 1 answered otherwise" in output
    assert f"{trace}:{lines + 1}: GET" in output and "body.status: 'inProgress', recorded 'succeeded'" in output


def test_a_trace_without_an_exchange_is_bad_input(tmp_path: Path) -> None:
    trace = tmp_path / "empty.jsonl"
    trace.write_text("# nothing recorded\n", encoding="utf-8")
    code, output = conform(str(trace))
    assert code == 2 and f"emulator: {trace}: the trace holds no exchange" in output


def test_load_then_verify_as_two_processes_appending_to_one_trace_replay_without_a_difference(tmp_path: Path) -> None:
    """An object verify reads keeps the placeholder load gave it, though verify is another process: the trace's
    sidecar (README: MIGRATOR_TRACE) holds each placeholder by its value's keyed digest, so the replay finds what
    load made, and holds nothing else."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MIGRATOR_")}
    env["MIGRATOR_TRACE"] = str(tmp_path / "trace.jsonl")
    plan = tmp_path / "plan"
    transform = ["transform", str(ROOT / "sample_data" / "slack"), "--mappings", str(ROOT / "mappings")]
    for args in ([*transform, "--out", str(plan)], ["load", str(plan)], ["verify", str(plan)]):
        command = [sys.executable, "-m", "migrator", *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / "trace.jsonl").read_text(encoding="utf-8")
    assert "getAllMessages" in text and "/messages" in text  # both processes appended
    sidecar = [json.loads(line) for line in (tmp_path / "trace.jsonl.ids").read_text(encoding="utf-8").splitlines()]
    assert sidecar[0].keys() == {"key"} and all(entry.keys() == {"digest", "placeholder"} for entry in sidecar[1:])
    assert all(
        re.fullmatch(r"[0-9a-f]{64}", e["digest"]) and re.fullmatch(r"\{[a-z]+:\d+\}", e["placeholder"])
        for e in sidecar[1:]
    )
    code, output = conform(str(tmp_path / "trace.jsonl"))
    assert code == 0 and ", 0 answered otherwise" in output
