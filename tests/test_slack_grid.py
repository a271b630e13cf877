"""Slack Enterprise Grid: an org-wide export's every workspace and its org level read in one pass (issue #24)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from migrator.model import IN_WORKSPACES, ConversationKind
from migrator.sources import open_source
from migrator.sources.slack import SlackExport
from tests.slackkit import REPO, message, zip_folder

GRID = REPO / "sample_data" / "slack-grid"
ENG, SALES = "T0ENG", "T0SALES"


def fixture_records(root: Path = GRID) -> Counter[str]:
    """Messages per level of the export, counted from its day files directly (not through the reader): the org's
    folders under "", each workspace's under its folder name."""
    counts: Counter[str] = Counter()
    for day in root.rglob("*.json"):
        parts = day.relative_to(root).parts
        if len(parts) == 2:
            counts[""] += len(json.loads(day.read_text()))
        elif len(parts) == 4 and parts[0] == "teams":
            counts[parts[1]] += len(json.loads(day.read_text()))
    return counts


def test_grid_export_reads_every_workspace_and_the_org_level() -> None:
    with open_source(GRID) as export:
        assert export.kind == "slack"
        assert (export.workspace.id, export.workspace.name) == ("E0NORTHWIND", "Northwind")
        assert [(w.id, w.name) for w in export.workspaces] == [
            (ENG, "Northwind Engineering"),
            (SALES, "Northwind Sales"),
        ]
        conversations = export.conversations()
        ids = [c.id for c in conversations]
        assert len(ids) == len(set(ids)) == 10  # launch-2026, listed at the top and by Sales, is one conversation
        where = {c.name if c.kind is not ConversationKind.DM else c.id: c.workspace for c in conversations}
        assert where["announcements"] == where["launch-2026"] == where["D0ADAALAN"] == ""
        assert where["eng-leads"] == where["partner-acme"] == ENG
        read = Counter(c.workspace for c in conversations for _ in export.messages(c))
        assert not export.quarantine and not export.ignored
    records = fixture_records()
    assert read == {"": records[""], ENG: records["Northwind Engineering"], SALES: records["Northwind Sales"]}


def test_people_are_one_set_across_workspaces() -> None:
    with open_source(GRID) as export:
        assert sorted(export.users) == ["U0ADA", "U0ALAN", "U0GRACE", "U0MEI"]
        assert export.users["U0MEI"].extra[IN_WORKSPACES] == [ENG, SALES]
        assert export.users["U0ADA"].extra[IN_WORKSPACES] == [ENG]


def test_zipped_grid_export_reads_the_same(tmp_path: Path) -> None:
    with open_source(zip_folder(GRID, tmp_path / "org.zip", prefix="Northwind Org Export/")) as export:
        assert len(export.workspaces) == 2
        assert sum(1 for c in export.conversations() for _ in export.messages(c)) == sum(fixture_records().values())


def test_a_channel_with_folders_at_two_levels_is_read_from_both(tmp_path: Path) -> None:
    root = shutil.copytree(GRID, tmp_path / "grid")
    later = [message("1767800000.000100", "one more day", user="U0MEI", team=SALES)]
    (root / "teams" / "Northwind Sales" / "launch-2026").mkdir()
    (root / "teams" / "Northwind Sales" / "launch-2026" / "2026-01-07.json").write_text(json.dumps(later))
    with SlackExport(root) as export:
        launch = next(c for c in export.conversations() if c.id == "C0LAUNCH")
        days = [day.file for day in export.days(launch)]
    assert days == ["launch-2026/2026-01-06.json", "teams/Northwind Sales/launch-2026/2026-01-07.json"]


@pytest.mark.parametrize("name", ["..\\evil", "a:b", "tab\there"])
def test_an_unsafe_workspace_folder_is_refused_whole(tmp_path: Path, name: str) -> None:
    root = shutil.copytree(GRID, tmp_path / "grid")
    shutil.copytree(root / "teams" / "Northwind Sales", root / "teams" / name)
    with SlackExport(root) as export:
        assert [w.name for w in export.workspaces] == ["Northwind Engineering", "Northwind Sales"]
        refused = [q for q in export.quarantine if q.file == f"teams/{name}/"]
        assert len(refused) == 1 and "refused" in refused[0].error and "path separator" in refused[0].error
        assert "4 files are not read" in refused[0].error
        assert len(export.quarantine) == 1 and not export.ignored


def test_a_workspace_folder_without_channels_json_is_quarantined_whole(tmp_path: Path) -> None:
    root = shutil.copytree(GRID, tmp_path / "grid")
    (root / "teams" / "Northwind Sales" / "channels.json").unlink()
    with SlackExport(root) as export:
        assert [w.name for w in export.workspaces] == ["Northwind Engineering"]
        assert [(q.file, q.error[:41]) for q in export.quarantine] == [
            ("teams/Northwind Sales/", "workspace folder without channels.json, s")
        ]
        assert "its 3 files are not read" in export.quarantine[0].error
        assert not export.ignored
        assert {c.workspace for c in export.conversations()} == {"", ENG}
