"""One directory for every command, and load's check that the plan's accounts are users of the tenant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphkit import ADA, GRACE, RawGraph, code
from migrator.cli import app
from migrator.emulator.directory import SAMPLE_DIRECTORY, embedded_directory
from migrator.graph import GraphClient
from migrator.stages.load.accounts import missing_accounts

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "slack"
MAPPINGS = ROOT / "mappings"
FALLBACK = "migration@contoso.example"


def run(*args: str | Path):
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert "Traceback" not in result.output, result.output
    return result


def test_users_are_looked_up_fifteen_ids_at_a_time(emulator) -> None:
    graph = RawGraph(emulator)
    answer = graph.call("GET", "/users", params={"$filter": f"id in ('{ADA}','{GRACE}','nobody')"})
    assert sorted(u["id"] for u in answer.json()["value"]) == sorted([ADA, GRACE])
    sixteen = ",".join(f"'{n}'" for n in range(16))
    assert code(graph.call("GET", "/users", params={"$filter": f"id in ({sixteen})"}))[0] == 400
    with GraphClient(emulator.graph_config()) as client:
        ids = [ADA, "o'brien", *(f"missing-{n}" for n in range(20)), GRACE]  # a quote is escaped, not a broken filter
        assert missing_accounts(client, ids) == ids[1:-1]
    assert emulator.operator("stats")["totals"]["requests"] == 2 + 2  # the raw calls, then 23 ids in 2 requests


def test_load_stops_before_sending_anything_naming_the_users_csv_lines(tenant, emulator, tmp_path: Path) -> None:
    """The repository's mappings hold the sample directory's ids; this tenant (the demo directory) has none."""
    mappings = shutil.copytree(MAPPINGS, tmp_path / "mappings")
    assert run("transform", SAMPLE, "--mappings", mappings, "--out", tmp_path / "plan").exit_code == 0
    result = run("load", tmp_path / "plan")
    assert result.exit_code == 2, result.output
    users = (mappings / "users.csv").as_posix()
    assert "load: 8 of 8 accounts the plan posts as or adds are not users of the target tenant" in result.output
    assert f"{users}:2: Ada Lovelace (ada@contoso.example) mapped to c0a80000-0000-4000-8000-000000000002" in (
        result.output
    )
    assert f"{(mappings / 'migration.yaml').as_posix()}:" in result.output
    assert f"the fallback account {FALLBACK} (fallback_id c0a80000-0000-4000-8000-000000000001)" in result.output
    dump = emulator.operator("dump")
    assert dump["teams"] == [] and [c for c in dump["chats"] if c.get("migrationMode")] == []


def test_every_command_that_starts_the_emulator_has_one_default_directory(tmp_path: Path) -> None:
    assert SAMPLE_DIRECTORY.is_file() and embedded_directory(None) == SAMPLE_DIRECTORY
    assert embedded_directory(tmp_path / "mine.json") == tmp_path / "mine.json"


@pytest.mark.usefixtures("no_credentials")
def test_readme_sequence_map_then_migrate_without_directory(tmp_path: Path, unpaced_embedded: None) -> None:
    """README's commands as written: `map … --fallback …`, then `migrate …`, no `--directory` anywhere."""
    mappings, out = tmp_path / "mappings", tmp_path / "out"
    drafted = run("map", SAMPLE, "--out", mappings, "--fallback", FALLBACK)
    assert drafted.exit_code == 0, drafted.output
    migrated = run("migrate", SAMPLE, "--mappings", mappings, "--out", out)
    assert migrated.exit_code == 0, migrated.output
    assert f"with {SAMPLE_DIRECTORY}" in migrated.output and " 0 failed" in migrated.output
    verified = json.loads((out / "verify" / "verify.json").read_text(encoding="utf-8"))
    assert verified["ok"] and verified["expected"] == verified["found"] > 300
