"""Every non-Slack sample through the unchanged stages: golden plans, then a migration that verifies clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migratekit import DEMO_DIRECTORY, migrate_sample, plan_sample
from migrator.cli import app
from migrator.emulator.runner import EmulatorProcess
from migrator.plan import Manifest, read_lines
from migrator.reports.export_archive import render_archive
from migrator.sources.teams import TeamsExport
from teamskit import write_teams_export
from tests.slackkit import REPO

SAMPLES = REPO / "sample_data"

# Per sample: messages read/planned/archived, inline images/uploads/placeholders, authors mapped/fallback,
# and per target team its channels with (lines, roots, replies).
GOLDEN: dict[str, dict[str, Any]] = {
    "mattermost": {  # nobody has an Entra account: the private channel and the DMs fall back to the archive
        "messages": (33, 23, 10),
        "files": (1, 0, 1),
        "authors": (0, 23),
        "archived": 3,
        "chats": 0,
        "teams": {"Northwind Traders": {"General": (10, 5, 5), "Engineering": (11, 5, 6), "Old Launch": (2, 1, 1)}},
    },
    "discord": {  # likewise: no Discord account has an email
        "messages": (29, 19, 10),
        "files": (1, 1, 1),
        "authors": (0, 19),
        "archived": 3,
        "chats": 0,
        "teams": {"Northwind Gaming": {"dev": (7, 4, 3), "General": (12, 8, 4)}},
    },
    "teams": {  # a team exported with users' chats: its channels are private channels of its people; chats stay chats
        "messages": (353, 353, 0),
        "files": (3, 0, 3),
        "authors": (351, 2),
        "archived": 0,
        "chats": 2,
        "teams": {
            "Northwind Labs": {
                "General-teams": (82, 48, 34),  # a second "General": suffixed with the source kind
                "leadership": (32, 20, 12),
                "announcements": (19, 19, 0),
                "engineering": (106, 64, 42),
                "design": (36, 21, 15),
                "random": (57, 40, 17),
            }
        },
    },
}


@pytest.fixture(scope="module")
def target_process(tmp_path_factory):
    """Another tenant with the demo directory's people but none of its seeded chats, as a migration's target has.

    Migrating back into the tenant an export came from would meet the source's own 1:1 chat (a 1:1 chat is unique
    per pair) holding the very same messages, which Graph refuses as duplicates.
    """
    folder = tmp_path_factory.mktemp("target-tenant")
    directory = json.loads(DEMO_DIRECTORY.read_text(encoding="utf-8"))
    (folder / "directory.json").write_text(json.dumps({**directory, "chats": []}), encoding="utf-8")
    with EmulatorProcess(directory=folder / "directory.json", tls_dir=folder / "tls") as emu:
        yield emu


@pytest.fixture
def target(target_process):
    target_process.operator("reset", {})
    target_process.operator("config", {"reading": "strict"})
    return target_process


def shape(manifest: Manifest) -> dict[str, dict[str, tuple[int, int, int]]]:
    return {
        t.display_name: {c.display_name: (c.messages, c.roots, c.replies) for c in t.channels} for t in manifest.teams
    }


@pytest.mark.parametrize("sample", sorted(GOLDEN))
def test_golden_plan(sample: str, tmp_path: Path) -> None:
    golden = GOLDEN[sample]
    result = plan_sample(SAMPLES / sample, tmp_path)
    report = result.report
    assert result.manifest.source["kind"] == sample
    assert (report["messages"]["read"], report["messages"]["planned"], report["messages"]["archived"]) == golden[
        "messages"
    ]
    assert report["messages"]["balanced"] and report["lines"]["balanced"] and report["quarantined"] == []
    files = report["files"]
    assert (files["inline_images"], files["uploaded"], len(files["placeholders"])) == golden["files"]
    assert (report["authors"]["mapped"], report["authors"]["fallback"]) == golden["authors"]
    assert len(result.manifest.archive) == golden["archived"] and shape(result.manifest) == golden["teams"]
    assert len(result.manifest.chats) == golden["chats"]


def test_teams_plan_keeps_html_and_rehosts_inline_images(tmp_path: Path) -> None:
    result = plan_sample(SAMPLES / "teams", tmp_path)
    lines = [line for _, c in result.manifest.conversations() for line in read_lines(result.plan_dir, c)]
    images = [line for line in lines if line["hostedContents"]]
    assert len(images) == 3
    for line in images:
        content = line["body"]["content"]
        assert '<img src="../hostedContents/1/$value">' in content and "graph.microsoft.com" not in content
        assert "127.0.0.1" not in content  # the source tenant's image URL never reaches the target
    edited = next(line for line in lines if "Edited after the migration" in line["body"]["content"])
    assert "<b>numbers</b>" in edited["body"]["content"] and "(edited)" in edited["body"]["content"]
    assert all(line["from"]["user"]["id"].startswith("a0000000-") for line in lines)  # mapped by email
    runbook = next(line["body"]["content"] for line in lines if "runbook.txt" in line["body"]["content"])
    assert "the source tenant's SharePoint" in runbook and "Slack" not in runbook  # a linked file: its link, in place


@pytest.mark.parametrize("reading", ["strict", "lenient"])
@pytest.mark.parametrize("sample", sorted(GOLDEN))
def test_sample_migrates_and_verifies_clean(sample: str, reading: str, target, tmp_path: Path) -> None:
    """Every sample source, against both of the emulator's readings of Graph (emulator/reading.py)."""
    target.operator("config", {"reading": reading})
    migration = migrate_sample(target, SAMPLES / sample, tmp_path)
    assert migration.loaded.ok
    assert migration.verified.ok, migration.verified.as_json()
    assert migration.verified.total("expected") == migration.verified.total("found") == GOLDEN[sample]["messages"][1]


def test_a_fresh_export_migrates_into_another_tenant(emulator, target, tmp_path: Path) -> None:
    """Our exporter's own output, straight from one tenant, goes through the Teams reader into another, clean."""
    exported = write_teams_export(emulator, tmp_path / "source", tmp_path / "export")
    render_archive(exported)  # as `export --format html` leaves it: pages the reader lists and does not read
    with TeamsExport(exported) as export:
        reasons = {i.reason for i in export.ignored}
    assert (
        "a conversation page of the browsable archive" in reasons
        and "the browsable archive (built from the JSONL files)" in reasons
    )
    migration = migrate_sample(target, exported, tmp_path / "again", source_format="teams")
    assert migration.loaded.ok and migration.verified.ok, migration.verified.as_json()
    report = migration.plan.report
    assert report["messages"]["read"] == GOLDEN["teams"]["messages"][0] and report["quarantined"] == []
    assert (report["authors"]["mapped"], report["authors"]["fallback"]) == GOLDEN["teams"]["authors"]  # emails recorded


def test_cli_transform_takes_the_source_format(tmp_path: Path) -> None:
    plan_sample(SAMPLES / "discord", tmp_path)
    wrong = CliRunner().invoke(
        app,
        [
            "transform",
            str(SAMPLES / "discord"),
            "--mappings",
            str(tmp_path / "mappings"),
            "--out",
            str(tmp_path / "plan2"),
            "--source-format",
            "mattermost",
        ],
    )
    assert wrong.exit_code == 2 and "JSONL" in wrong.output
    right = CliRunner().invoke(
        app,
        [
            "transform",
            str(SAMPLES / "discord"),
            "--mappings",
            str(tmp_path / "mappings"),
            "--out",
            str(tmp_path / "plan2"),
            "--source-format",
            "discord",
        ],
    )
    assert right.exit_code == 0, right.output


def test_cli_migrate_runs_a_mattermost_export_end_to_end(no_credentials: None, tmp_path: Path) -> None:
    """`migrator migrate` with the format named: analyse → transform → load → verify on the embedded emulator."""
    plan_sample(SAMPLES / "mattermost", tmp_path)  # the drafted mappings, matched against the demo directory
    result = CliRunner().invoke(
        app,
        [
            "migrate",
            str(SAMPLES / "mattermost"),
            "--mappings",
            str(tmp_path / "mappings"),
            "--out",
            str(tmp_path / "out"),
            "--directory",
            str(DEMO_DIRECTORY),
            "--source-format",
            "mattermost",
        ],
    )
    assert result.exit_code == 0, result.output
    assert Manifest.read(tmp_path / "out" / "plan").source["kind"] == "mattermost"
