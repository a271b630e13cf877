"""End to end: a standard Slack export (links, no bytes) and a token → `migrate` fetches first and migrates the
files exactly as for an export that held them; verify is clean; placeholders only for what Slack no longer has.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import tenant_env
from fetchkit import EXPORT_TOKEN, TOKEN, every_file_under, files_folder, full_export, slack_emulator, standard_export
from migrator.cli import app
from migrator.emulator.runner import EmulatorProcess
from migrator.stages.transform import transform

ROOT = Path(__file__).resolve().parents[1]
MAPPINGS = ROOT / "mappings"
DIRECTORY = ROOT / "sample_data" / "directory.json"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """The standard export migrated with SLACK_TOKEN set: (the run's folder, the work folder, its output)."""
    root = tmp_path_factory.mktemp("fetch-migrate")
    export = standard_export(root)
    files_folder(root)
    out = root / "out"
    with (
        slack_emulator(root) as slack,
        EmulatorProcess(
            directory=DIRECTORY, tls_dir=root / "graph-tls", extra_args=["--channel-rps", "10000"]
        ) as graph,
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr("migrator.graph.client.CHANNEL_RPS", 10_000.0)  # as `unpaced`: this module is not about pacing
        env = {**tenant_env(graph), **slack.env(TOKEN)}
        result = CliRunner().invoke(
            app, ["migrate", str(export), "--mappings", str(MAPPINGS), "--out", str(out)], env=env
        )
    assert result.exit_code == 0, result.output
    return out, root, result.output


def test_migrate_with_a_token_fetches_first_and_verifies_clean(migrated: tuple[Path, Path, str]) -> None:
    out, _, output = migrated
    assert (out / "fetched" / "fetch-report.html").is_file() and "fetch: 11 files linked: 8 fetched" in output
    assert json.loads((out / "verify" / "verify.json").read_text())["ok"]
    assert f"fetch     {out / 'fetched' / 'fetch-report.html'}" in output
    for path in every_file_under(out):  # reports, plan, journal, logs, the fetched folder: no token anywhere
        data = path.read_bytes()
        assert TOKEN.encode() not in data and EXPORT_TOKEN.encode() not in data, path
    assert TOKEN not in output and EXPORT_TOKEN not in output
    inventory = json.loads((out / "analyse" / "inventory.json").read_text())
    assert inventory["fetched"] == {"folder": str(out / "fetched"), "files": 8, "emails": 2}
    assert inventory["users"]["without_email"] == 0


def test_files_land_exactly_as_from_an_export_that_held_them(migrated: tuple[Path, Path, str], tmp_path: Path) -> None:
    out, root, _ = migrated
    reference = tmp_path / "plan"
    transform(full_export(root, root / "slack-files"), MAPPINGS, reference)
    fetched_plan = out / "plan"
    planned = sorted(p.relative_to(reference) for p in reference.rglob("*") if p.is_file() and "report" not in p.name)
    assert planned == sorted(
        p.relative_to(fetched_plan) for p in fetched_plan.rglob("*") if p.is_file() and "report" not in p.name
    )
    for relative in planned:
        if relative.name not in ("manifest.json", "versions.json"):
            assert (fetched_plan / relative).read_bytes() == (reference / relative).read_bytes(), relative
    ours, theirs = (json.loads((plan / "manifest.json").read_text()) for plan in (fetched_plan, reference))
    assert {k: v for k, v in ours.items() if k != "source"} == {k: v for k, v in theirs.items() if k != "source"}
    ours, theirs = (json.loads((plan / "versions.json").read_text()) for plan in (fetched_plan, reference))
    for versions in (ours, theirs):  # where each plan file's lines are: the same, in files written at other times
        versions["plans"] = {key: [file, size] for key, (file, size, _) in versions["plans"].items()}
    assert ours == theirs

    files = json.loads((fetched_plan / "transform-report.json").read_text())["files"]
    assert (files["inline_images"], files["uploaded"], files["from_fetch"]) == (3, 3, 8)
    left = {(p["file"], p["status"]) for p in files["placeholders"]}
    assert left == {("F04GDOC", "external"), ("F09GONE", "deleted"), ("F10HIDDEN", "deleted")}


def test_map_and_analyse_take_the_fetched_emails(migrated: tuple[Path, Path, str], tmp_path: Path) -> None:
    out, root, _ = migrated
    fetched = out / "fetched"
    result = CliRunner().invoke(
        app,
        [
            "map",
            str(root / "export"),
            "--out",
            str(tmp_path / "m"),
            "--directory",
            str(DIRECTORY),
            "--fetched",
            str(fetched),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"mapped by an email from {fetched}" in result.output
    with open(tmp_path / "m" / "users.csv", newline="") as rows:
        emails = {row["source_id"]: row["email"] for row in csv.DictReader(rows)}
    assert emails["U08SOREN"] == "soren@contoso.example" and emails["U10ZOE"] == "zoe@contoso.example"
    result = CliRunner().invoke(app, ["analyse", str(root / "export"), "--out", str(tmp_path / "a")])
    assert result.exit_code == 0 and "2 people without email" in result.output
    result = CliRunner().invoke(
        app, ["analyse", str(root / "export"), "--out", str(tmp_path / "a"), "--fetched", str(fetched)]
    )
    assert result.exit_code == 0 and "0 people without email" in result.output and "8 files, 2 emails" in result.output


def test_fetched_is_refused_for_other_sources(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["analyse", str(ROOT / "sample_data" / "mattermost"), "--out", str(tmp_path), "--fetched", str(tmp_path)],
    )
    assert result.exit_code == 2 and "--fetched is for Slack exports" in result.output
