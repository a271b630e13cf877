"""Every command into every exit code it can return (README, "Exit codes").

0: done; 1: the run did not complete what it was asked (messages failed, verify found differences, Graph kept
failing); 2: bad input or configuration the user must fix. Commands that talk to Graph run against the test's
emulator through MIGRATOR_* credentials, as against a customer's tenant; "Graph kept failing" is the emulator
answering every Graph call with an injected error.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fetchkit import TOKEN as FETCH_TOKEN
from fetchkit import files_folder, slack_emulator, standard_export
from graphkit import ADA, KATHERINE
from migrator.cli import app
from migrator.journal import Journal
from migrator.plan import read_lines, write_lines
from migrator.sample.generate import FALLBACK_MAIL
from plankit import build_plan

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "slack"
MAPPINGS = ROOT / "mappings"
GRAPH_FAILS = "400:1"  # every Graph call answered 400, which no retry can mend


def run(*args: str | Path, input: str | None = None):
    result = CliRunner().invoke(app, [str(arg) for arg in args], input=input)
    assert "Traceback" not in result.output
    return result


def said(result, code: int, words: str) -> bool:
    """The command ended with `code`, and its output (stdout and stderr) says `words`."""
    print(result.exit_code, result.output)  # shown by pytest when the assertion fails
    return result.exit_code == code and words in result.output


@pytest.fixture
def refused(tenant, monkeypatch) -> None:
    """Credentials the tenant refuses: a setting the user fixes."""
    monkeypatch.setenv("MIGRATOR_CLIENT_SECRET", "not-the-secret")


@pytest.fixture
def graph_fails(emulator) -> None:
    emulator.operator("faults", {"spec": GRAPH_FAILS})


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    build_plan(tmp_path / "plan", channels=1, messages=3)
    return tmp_path / "plan"


@pytest.fixture
def loaded(tenant, plan: Path) -> Path:
    assert run("load", plan).exit_code == 0
    return plan


def test_analyse(tmp_path: Path):
    assert said(run("analyse", SAMPLE, "--out", tmp_path / "a"), 0, "wrote")
    assert said(run("analyse", tmp_path / "none", "--out", tmp_path / "b"), 2, "error: ")
    since = ("--since", tmp_path / "no-earlier-pass")
    assert said(run("analyse", SAMPLE, "--out", tmp_path / "c", *since), 2, "--since needs --mappings")
    assert said(run("analyse", SAMPLE, "--out", tmp_path / "d", "--mappings", MAPPINGS, *since), 2, "no earlier pass")


def test_map_drafts(tenant, emulator, tmp_path: Path):
    assert said(run("map", SAMPLE, "--out", tmp_path / "m", "--fallback", "ada@contoso.example"), 0, "wrote")
    assert said(run("map", SAMPLE), 2, "error: give SOURCE and --out")
    assert said(run("map", SAMPLE, "--out", tmp_path / "m"), 2, "already exist")
    assert said(run("map", SAMPLE, "--out", tmp_path / "m", "--update"), 0, "every entry already there kept")
    assert said(run("map", SAMPLE, "--out", tmp_path / "none", "--update"), 2, "not found")
    emulator.operator("faults", {"spec": GRAPH_FAILS})
    assert said(run("map", SAMPLE, "--out", tmp_path / "n"), 1, "error: GET /v1.0/users → 400")


def test_map_with_refused_credentials_exits_2(refused, tmp_path: Path):
    assert said(run("map", SAMPLE, "--out", tmp_path), 2, "error: sign-in at ")


def test_map_checks(tmp_path: Path):
    assert said(run("map", "--check", MAPPINGS), 0, "no problems")
    shutil.copytree(MAPPINGS, tmp_path / "m")
    yaml = tmp_path / "m" / "migration.yaml"
    yaml.write_text(yaml.read_text().replace("channel: random", "channel: ran/dom"))
    assert said(run("map", "--check", tmp_path / "m", "--source", SAMPLE), 1, "1 problem in")
    assert said(run("map", "--check", tmp_path / "none"), 2, "not found")


def test_transform(tmp_path: Path):
    assert said(run("transform", SAMPLE, "--mappings", MAPPINGS, "--out", tmp_path / "plan"), 0, "wrote the plan")
    assert said(run("transform", SAMPLE, "--mappings", tmp_path / "none", "--out", tmp_path / "p"), 2, "error: ")


def test_load(tenant, plan: Path, emulator, tmp_path: Path):
    assert said(run("load", plan), 0, "3 posted, 0 already present, 0 failed")
    assert said(run("load", tmp_path / "no-plan"), 2, "load: ")
    assert said(run("load", plan, "--only", "Nobody"), 2, "load: --only 'Nobody' names no team")
    build_plan(tmp_path / "other", channels=1, messages=2)
    emulator.operator("faults", {"spec": "", "refuse": [{"path": "/teams"}]})
    refused = run("load", tmp_path / "other")
    assert said(refused, 1, "load: team 'Acme' not completed: not created: POST /v1.0/teams → 400")
    emulator.operator("faults", {"spec": GRAPH_FAILS})
    assert said(run("load", tmp_path / "other"), 1, "load: GET /v1.0/users → 400")  # the accounts check


def test_load_with_a_message_teams_refuses_exits_1_and_leaves_the_team_open(tenant, tmp_path: Path):
    manifest = build_plan(tmp_path, channels=1, messages=3)
    channel = manifest.teams[0].channels[0]
    lines = list(read_lines(tmp_path, channel))
    lines[-1]["createdDateTime"] = "2999-01-01T00:00:00.000Z"  # Graph refuses a time in the future: 400
    write_lines(tmp_path / channel.file, iter(lines))
    result = run("load", tmp_path)
    assert said(result, 1, "2 posted, 0 already present, 1 failed")
    assert "load: team 'Acme' not completed: channels still in migration mode because something failed: General" in (
        result.output
    )


def test_load_with_refused_credentials_exits_2(refused, plan: Path):
    assert said(run("load", plan), 2, "load: sign-in at ")


def test_reset(loaded: Path):
    assert said(run("reset", loaded, "--team", "Acme", input="n\n"), 1, "Delete team 'Acme'")
    assert said(run("reset", loaded, "--team", "Acme", "--chat", "x"), 2, "reset: name exactly one of")
    assert said(run("reset", loaded, "--team", "Acme", "--yes"), 0, "deleted and forgotten")
    assert said(run("reset", loaded, "--team", "Acme", "--yes"), 2, "has no team 'Acme'; nothing to delete")


def test_reset_when_graph_keeps_failing_exits_1(loaded: Path, graph_fails):
    assert said(run("reset", loaded, "--team", "Acme", "--yes"), 1, "reset: DELETE /v1.0/groups/")


def test_verify(loaded: Path, emulator, tmp_path: Path):
    assert said(run("verify", loaded), 0, "0 missing")
    assert said(run("verify", loaded, "--model", "C"), 2, "verify: --model 'C'")
    assert said(run("verify", loaded, "--journal", tmp_path / "none.sqlite"), 2, "no journal here")
    emulator.operator("faults", {"spec": GRAPH_FAILS})
    assert said(run("verify", loaded), 1, "not readable")


def test_export_team(loaded: Path, emulator, tmp_path: Path):
    with Journal(loaded / "journal.sqlite") as journal:
        team_id = journal.team_id("acme")
    assert said(run("export", "team", team_id, "--out", tmp_path / "a"), 0, "1 done")
    assert said(run("export", "team", "no-such-team", "--out", tmp_path / "b"), 1, "failed")
    assert said(run("export", "team", team_id, "--out", tmp_path / "c", "--format", "pdf"), 2, "export: --format")


def test_export_user(tenant, tmp_path: Path):
    assert said(run("export", "user", ADA, "--out", tmp_path / "a"), 0, "1 done")
    assert said(run("export", "user", KATHERINE, ADA, "--out", tmp_path / "b", "--model", "a"), 1, "1 payment required")
    assert said(run("export", "user", ADA, "--out", tmp_path / "c", "--since", "soon"), 2, "--since 'soon'")


def test_export_users(tenant, emulator, tmp_path: Path):
    assert said(run("export", "users", "--all", "--out", tmp_path / "a"), 0, "done")
    assert said(run("export", "users", "--out", tmp_path / "b"), 2, "export users: give --all")
    emulator.operator("faults", {"spec": GRAPH_FAILS})
    assert said(run("export", "users", "--all", "--out", tmp_path / "c"), 1, "export: GET /v1.0/users → 400")


def test_export_with_refused_credentials_exits_2(refused, tmp_path: Path):
    assert said(run("export", "user", ADA, "--out", tmp_path), 2, "export: sign-in at ")


def test_verify_with_refused_credentials_exits_2(loaded: Path, monkeypatch):
    monkeypatch.setenv("MIGRATOR_CLIENT_SECRET", "not-the-secret")
    assert said(run("verify", loaded), 2, "verify: sign-in at ")


def test_sample_generate_and_migrate(no_credentials, tmp_path: Path):
    """The whole job on a tiny generated workspace: migrate ends 0 when clean, 2 on bad input."""
    sample, mappings = tmp_path / "sample", tmp_path / "mappings"
    assert said(run("sample", "generate", "--channels", "1", "--messages", "12", "--plain", "--out", sample), 0, "")
    assert said(run("sample", "generate", "--channels", "0", "--messages", "1", "--out", tmp_path / "x"), 2, "sample:")
    directory = sample / "directory.json"
    drafted = run("map", sample / "slack", "--out", mappings, "--directory", directory, "--fallback", FALLBACK_MAIL)
    assert drafted.exit_code == 0
    migrate = ["migrate", sample / "slack", "--mappings", mappings, "--directory", directory]
    assert said(run(*migrate, "--out", tmp_path / "out"), 0, "migrate: done")
    assert said(run(*migrate[:3], tmp_path / "none", "--out", tmp_path / "out2"), 2, "error: ")


def test_migrate_when_graph_keeps_failing_exits_1(tenant, graph_fails, tmp_path: Path):
    result = run("migrate", SAMPLE, "--mappings", MAPPINGS, "--out", tmp_path)
    assert said(result, 1, "load: GET /v1.0/users → 400")  # the accounts check, before anything is created


def test_emulator_serve(tmp_path: Path):
    """It serves until stopped, and a stop ends it the way the signal ends a process (a shell shows 128 + the
    signal: 143 for SIGTERM, 130 for Ctrl-C); 2 on bad input."""
    server = subprocess.Popen(
        [sys.executable, "-m", "migrator", "emulator", "serve", "--port", "0", "--tls-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdout.readline().startswith("READY https://127.0.0.1:")
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == -signal.SIGTERM
    finally:
        server.kill()
        server.communicate()
    bad = subprocess.run(
        [sys.executable, "-m", "migrator", "emulator", "serve", "--host", "10.0.0.1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("emulator: --host 10.0.0.1 is not a loopback address")


def test_fetch(tmp_path: Path):
    """0: every file fetched or counted apart; 1: a download failed (the sign-in page); 2: a token that cannot."""
    standard_export(tmp_path)
    files_folder(tmp_path)
    with slack_emulator(tmp_path) as slack:
        export, out = tmp_path / "export", tmp_path / "fetched"
        fetch = ["fetch", str(export), "--out", str(out)]
        assert said(CliRunner().invoke(app, fetch, env=slack.env(FETCH_TOKEN)), 0, "8 fetched")
        slack.operator("config", {"signin": ["F06PHOTO"]})
        (out / "__uploads" / "F06PHOTO" / "hero.jpg").unlink()
        assert said(CliRunner().invoke(app, fetch, env=slack.env(FETCH_TOKEN)), 1, "fetch: not complete: 1 file failed")
        assert said(CliRunner().invoke(app, fetch, env=slack.env("xoxb-wrong")), 2, "fetch: SLACK_TOKEN is not a valid")


def test_emulator_slack_refuses_a_files_folder_that_is_not_there(tmp_path: Path):
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "migrator",
            "emulator",
            "slack",
            "--export",
            str(SAMPLE),
            "--files",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("emulator: --files ")


def test_emulator_conform(tmp_path: Path):
    trace = ROOT / "tests" / "traces" / "create-team-location.jsonl"
    assert said(run("emulator", "conform", trace), 0, "0 answered otherwise")
    assert said(run("emulator", "conform", trace, "--reading", "lenient"), 1, "1 answered otherwise")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"method": "POST"}\n', encoding="utf-8")
    assert said(run("emulator", "conform", bad), 2, f"emulator: {bad}:1: path must be")
