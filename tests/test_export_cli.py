"""The `export` commands end to end: output files, summary line, exit codes, and no secret anywhere."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
import responses
from typer.testing import CliRunner

from graphkit import ADA, GRACE, KATHERINE
from migrator.cli import app
from migrator.cli.progress import ExportBars
from migrator.emulator.runner import DEMO_SECRET
from migrator.graph.stats import GraphStats
from migrator.stages.export import directory_users
from migrator.stages.export.outcome import DONE, Target, TargetOutcome
from test_export import SampleTeam, graph_fixture, team_fixture  # noqa: F401  (fixtures by name)
from test_graph_client import GRAPH, client_fixture, rsps_fixture, sleeps_fixture  # noqa: F401  (fixtures: a mocked Graph)


def invoke(*args: str):
    return CliRunner().invoke(app, ["export", *args])


def test_export_team_as_html_writes_the_archive_and_a_summary(tenant, team, tmp_path):
    result = invoke("team", team.id, "--out", str(tmp_path), "--format", "html")
    assert result.exit_code == 0, result.output
    summary_line = next(line for line in result.output.splitlines() if line.startswith("export: 1 target ("))
    assert f"{len(team.posted)} messages ({len(team.posted)} new" in summary_line
    for words in ("pages", "requests", "throttled", "errors", "requests/s"):
        assert words in summary_line
    summary = json.loads((tmp_path / "export-summary.json").read_text())
    assert summary["totals"]["messages"] == len(team.posted) and summary["requests"] >= summary["totals"]["pages"]
    assert (tmp_path / "index.html").is_file() and (tmp_path / "state.json").is_file()
    everything = "".join(
        p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".png"
    )
    assert DEMO_SECRET not in everything and "eyJ" not in everything and "Bearer" not in everything


def test_a_dated_export_says_what_it_covers_and_how_to_fill_the_rest(tenant, tmp_path):
    result = invoke("user", ADA, "--out", str(tmp_path), "--since", "2024-01-10", "--until", "2024-02-01")
    assert result.exit_code == 0, result.output
    assert (
        "covers messages changed from 2024-01-10T00:00:00.001Z to 2024-01-31T23:59:59.999Z only; "
        "a run without --since and --until fetches the rest"
    ) in result.output
    assert "requests/s; coverage has gaps in 1 of 1 target" in result.output
    summary = json.loads((tmp_path / "export-summary.json").read_text())["targets"][0]
    assert summary["gaps"] and summary["fetched"] == [summary["covered"]]
    again = invoke("user", ADA, "--out", str(tmp_path))
    assert again.exit_code == 0 and "covers messages" not in again.output


def test_an_evaluation_402_is_explained_once_for_the_whole_run(tenant, emulator, tmp_path):
    emulator.operator("config", {"evaluation_capacity": 0})
    result = invoke("users", "--all", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.count("402 Payment Required") == 1 and "export: the run stopped: 402" in result.output
    assert result.output.count("stopped with the run") == 5  # one short line per user
    assert json.loads((tmp_path / "export-summary.json").read_text())["stopped"].startswith("402 Payment Required")


def test_export_users_all_pages_the_directory(tenant, tmp_path):
    result = invoke("users", "--all", "--out", str(tmp_path), "--system-messages", "exclude")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "export-summary.json").read_text())
    assert len(summary["targets"]) == 5 and {t["status"] for t in summary["targets"]} == {"done"}
    assert summary["targets"][0]["filter"] == "messageType ne 'systemEventMessage'"


def test_every_user_means_every_page_of_the_directory(rsps, client):  # noqa: F811
    url = f"{GRAPH}/users"
    first = {"$select": "id", "$top": "999"}
    rsps.add(
        "GET",
        url,
        match=[responses.matchers.query_param_matcher(first)],
        json={"value": [{"id": "u1"}, {"id": "u2"}], "@odata.nextLink": f"{url}?$select=id&$top=999&$skiptoken=p2"},
    )
    rsps.add(
        "GET",
        url,
        match=[responses.matchers.query_param_matcher({**first, "$skiptoken": "p2"})],
        json={"value": [{"id": "u3"}]},
    )
    assert directory_users(client) == ["u1", "u2", "u3"]


def test_a_402_exits_1_after_the_other_targets_finished(tenant, tmp_path):
    result = invoke("user", KATHERINE, ADA, "--out", str(tmp_path), "--model", "a")
    assert result.exit_code == 1
    assert "payment required" in result.output and "--model B" in result.output
    assert "1 done, 1 payment required" in result.output


@pytest.mark.parametrize(
    "args, says",
    [
        (["users", "--out", "OUT"], "give --all"),
        (["user", ADA, "--out", "OUT", "--from-user", GRACE, "--system-messages", "only"], "cannot be combined"),
        (["user", ADA, "--out", "OUT", "--user-type", "robot"], "--user-type 'robot'"),
        (["user", ADA, "--out", "OUT", "--since", "last week"], "--since 'last week' is not a date"),
        (["user", ADA, "--out", "OUT", "--model", "C"], "--model 'C'"),
        (["user", ADA, "--out", "OUT", "--format", "pdf"], "--format 'pdf'"),
        (["user", ADA, "--out", "OUT", "--attachments", "all"], "--attachments 'all': use links or download"),
    ],
)
def test_bad_options_exit_2_with_one_clear_line(tenant, tmp_path, args, says):
    result = invoke(*[str(tmp_path) if a == "OUT" else a for a in args])
    assert result.exit_code == 2 and says in result.output
    assert "Traceback" not in result.output


def test_a_different_sender_filter_on_an_existing_archive_exits_2(tenant, tmp_path):
    assert invoke("user", ADA, "--out", str(tmp_path), "--from-user", ADA).exit_code == 0
    result = invoke("user", ADA, "--out", str(tmp_path))
    assert result.exit_code == 2 and "keeps its filter" in result.output


def test_without_credentials_the_embedded_emulator_is_used(monkeypatch, tmp_path: Path):
    for name in ("MIGRATOR_TENANT_ID", "MIGRATOR_CLIENT_ID", "MIGRATOR_CLIENT_SECRET", "MIGRATOR_CLIENT_CERT"):
        monkeypatch.delenv(name, raising=False)
    # The embedded emulator serves the default directory (sample_data/directory.json), where Ada has another id.
    result = invoke(
        "user", "ada@contoso.example", "--out", str(tmp_path / "out"), "--emulator-dir", str(tmp_path / "emu")
    )
    assert result.exit_code == 0, result.output
    assert "the embedded Graph emulator" in result.output and (tmp_path / "emu" / "state.jsonl").exists()


def test_progress_without_a_terminal_prints_a_plain_line_with_targets_messages_pages_and_rate():
    stats, stream = GraphStats(), io.StringIO()
    progress = ExportBars(2, stats, every=0.01, stream=stream)
    ada = TargetOutcome(Target("user", ADA), name="Ada Lovelace")
    progress.started(ada)
    ada.messages, ada.pages, ada.status = 120, 3, DONE
    stats.add("requests", 4)
    progress.page(ada)
    progress.finished(ada)
    assert progress.line().startswith("export: 1/2 targets, 120 messages, 3 pages, ")
    assert progress.line().endswith(" requests/s")
    deadline = time.monotonic() + 30
    while "1/2 targets" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    progress.close()
    assert "export: 1/2 targets, 120 messages, 3 pages" in stream.getvalue()
