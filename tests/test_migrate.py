"""`migrator migrate`: the job `make migrate` runs, end to end through the embedded emulator."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from migrator.cli import app
from migrator.plan import Manifest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "slack"
MAPPINGS = ROOT / "mappings"
DIRECTORY = ROOT / "sample_data" / "directory.json"


def migrate(out: Path, *extra: str):
    return CliRunner().invoke(app, ["migrate", str(SAMPLE), "--mappings", str(MAPPINGS), "--out", str(out),
                                    "--directory", str(DIRECTORY), *extra])


def planned_messages(plan: Path) -> int:
    manifest = Manifest.read(plan)
    return sum(conversation.messages for _, conversation in manifest.conversations())


def test_sample_migrates_verifies_clean_and_a_rerun_resumes(no_credentials: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = migrate(out)
    assert first.exit_code == 0, first.output

    planned = planned_messages(out / "plan")
    verified = json.loads((out / "verify" / "verify.json").read_text())
    assert planned > 300
    assert verified["ok"] and verified["expected"] == verified["found"] == planned
    assert verified["missing"] == verified["duplicated"] == verified["mismatched"] == []
    for report in ("analyse/inventory.json", "analyse/report.html", "plan/transform-report.html",
                   "load-report.html", "load-report.csv", "verify/verify.html"):
        assert (out / report).is_file(), report
    assert f"{planned} posted, 0 already present, 0 failed" in first.output

    again = migrate(out)
    assert again.exit_code == 0, again.output
    assert f"0 posted, {planned} already present, 0 failed" in again.output
    assert json.loads((out / "verify" / "verify.json").read_text())["found"] == planned


def test_missing_mappings_are_a_clear_error(no_credentials: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["migrate", str(SAMPLE), "--mappings", str(tmp_path / "none"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert str(tmp_path / "none") in result.output and "migrator map" in result.output
