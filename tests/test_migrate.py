"""`migrator migrate`: the job `make migrate` runs, end to end through the embedded emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrator.cli import app
from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT, EmulatorProcess
from migrator.plan import Manifest
from migrator.stages.migrate import FIRST_LOOK, NEXT_STEP
from plankit import assert_landed_exactly

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "slack"
MAPPINGS = ROOT / "mappings"
DIRECTORY = ROOT / "sample_data" / "directory.json"


def migrate(out: Path, *extra: str):
    return CliRunner().invoke(
        app,
        ["migrate", str(SAMPLE), "--mappings", str(MAPPINGS), "--out", str(out), "--directory", str(DIRECTORY), *extra],
    )


def planned_messages(plan: Path) -> int:
    manifest = Manifest.read(plan)
    return sum(conversation.messages for _, conversation in manifest.conversations())


@pytest.fixture(scope="module")
def sample_tenant(tmp_path_factory):
    """An emulator holding the sample's directory, reached through credentials as a customer's tenant is."""
    with EmulatorProcess(directory=DIRECTORY, tls_dir=tmp_path_factory.mktemp("sample-tenant")) as emu:
        yield emu


def test_the_sample_lands_exactly_as_planned_at_five_per_second(sample_tenant, monkeypatch, tmp_path: Path) -> None:
    env = {
        "MIGRATOR_TENANT_ID": DEMO_TENANT,
        "MIGRATOR_CLIENT_ID": DEMO_CLIENT_ID,
        "MIGRATOR_CLIENT_SECRET": DEMO_SECRET,
        "MIGRATOR_GRAPH_URL": sample_tenant.url,
        "MIGRATOR_LOGIN_URL": sample_tenant.url,
        "MIGRATOR_CA_BUNDLE": str(sample_tenant.ca),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = migrate(tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "tenant " + DEMO_TENANT in result.output and not (tmp_path / "out" / "emulator").exists()
    assert FIRST_LOOK in result.output and NEXT_STEP not in result.output  # a tenant's run is no trial
    dump = sample_tenant.operator("dump")
    assert_landed_exactly(dump, tmp_path / "out" / "plan")  # real mentions and reactions included
    landed = [m for t in dump["teams"] for c in t["channels"] for r in c["messages"] for m in [r, *r["replies"]]]
    assert sum(len(m["mentions"]) for m in landed) > 5 and sum(len(m["reactions"]) for m in landed) > 10
    stats = sample_tenant.operator("stats")
    assert stats["totals"]["throttled"] == 0
    assert max(c["peak_1s"] for c in stats["conversations"].values()) <= 5


def test_sample_migrates_into_the_embedded_emulator_and_a_rerun_resumes(
    no_credentials: None, unpaced_embedded: None, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = migrate(out)
    assert first.exit_code == 0, first.output

    planned = planned_messages(out / "plan")
    verified = json.loads((out / "verify" / "verify.json").read_text())
    assert planned > 300
    assert verified["ok"] and verified["expected"] == verified["found"] == planned
    assert verified["missing"] == verified["duplicated"] == verified["mismatched"] == []
    for report in (
        "analyse/inventory.json",
        "analyse/report.html",
        "plan/transform-report.html",
        "load-report.html",
        "load-report.csv",
        "verify/verify.html",
    ):
        assert (out / report).is_file(), report
    assert f"{planned} posted, 0 already present, 0 failed" in first.output

    again = migrate(out)
    assert again.exit_code == 0, again.output
    assert f"0 posted, {planned} already present, 0 failed" in again.output
    assert json.loads((out / "verify" / "verify.json").read_text())["found"] == planned


def test_missing_mappings_are_a_clear_error(no_credentials: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["migrate", str(SAMPLE), "--mappings", str(tmp_path / "none"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert str(tmp_path / "none") in result.output and "migrator map" in result.output
