"""Slack Enterprise Grid: an org-wide export's every workspace and its org level read in one pass (issue #24)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migratekit import FALLBACK, migrate_sample, plan_sample
from migrator.mapping import load_all
from migrator.mapping.stage import run_map
from migrator.mapping.workspaces import belongs_to, home
from migrator.model import IN_WORKSPACES, ConversationKind, Workspace
from migrator.plan import read_lines
from migrator.sources import open_source
from migrator.sources.slack import SlackExport
from migrator.stages.analyse import run_analyse, summary
from tests.slackkit import REPO, message, zip_folder
from tests.test_map import edit, fake_lookup, line_of, problems_of

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
    later = [message("1762530000.000100", "one more day", user="U0MEI", team=SALES)]
    (root / "teams" / "Northwind Sales" / "launch-2026").mkdir()
    (root / "teams" / "Northwind Sales" / "launch-2026" / "2025-11-07.json").write_text(json.dumps(later))
    with SlackExport(root) as export:
        launch = next(c for c in export.conversations() if c.id == "C0LAUNCH")
        days = [day.file for day in export.days(launch)]
    assert days == ["launch-2026/2025-11-06.json", "teams/Northwind Sales/launch-2026/2025-11-07.json"]


@pytest.mark.parametrize("name", ["..\\evil", "a:b", "tab\there"])
def test_an_unsafe_workspace_folder_is_refused_whole(tmp_path: Path, name: str) -> None:
    root = shutil.copytree(GRID, tmp_path / "grid")
    shutil.copytree(root / "teams" / "Northwind Sales", root / "teams" / name)
    with SlackExport(root) as export:
        assert [w.name for w in export.workspaces] == ["Northwind Engineering", "Northwind Sales"]
        refused = [q for q in export.quarantine if q.file == f"teams/{name}/"]
        assert len(refused) == 1 and "refused" in refused[0].error and "path separator" in refused[0].error
        assert "not read: its 4 files" in refused[0].error
        assert len(export.quarantine) == 1 and not export.ignored


def test_a_workspace_folder_without_channels_json_is_quarantined_whole(tmp_path: Path) -> None:
    root = shutil.copytree(GRID, tmp_path / "grid")
    (root / "teams" / "Northwind Sales" / "channels.json").unlink()
    with SlackExport(root) as export:
        assert [w.name for w in export.workspaces] == ["Northwind Engineering"]
        assert [(q.file, q.error[:41]) for q in export.quarantine] == [
            ("teams/Northwind Sales/", "workspace folder without channels.json, s")
        ]
        assert "not read: its 3 files" in export.quarantine[0].error
        assert not export.ignored
        assert {c.workspace for c in export.conversations()} == {"", ENG}


# --- map: one team per workspace ------------------------------------------------


@pytest.fixture
def drafted(tmp_path: Path) -> Path:
    out = tmp_path / "mappings"
    run_map(GRID, out, fake_lookup, fallback="migration@contoso.example")
    return out


def test_map_drafts_one_team_per_workspace_and_org_channels_where_most_was_posted(drafted: Path) -> None:
    files = load_all(drafted)
    teams = files.mappings.teams
    assert {k: t.name for k, t in teams.items()} == {
        "northwind-engineering": "Northwind Engineering",
        "northwind-sales": "Northwind Sales",
    }
    # each team's members: its workspace's people, then the members of the org-level channels drafted into it
    assert teams["northwind-engineering"].members == ("U0ADA", "U0GRACE", "U0MEI", "U0ALAN")
    assert teams["northwind-sales"].members == ("U0MEI", "U0ALAN", "U0ADA")
    routes = {r.source: (r.team, r.channel) for r in files.mappings.routes}
    assert routes["C0ENGGEN"] == ("northwind-engineering", "General")
    assert routes["C0SALGEN"] == ("northwind-sales", "General")
    assert routes["C0SALRND"] == ("northwind-sales", "random") and routes["C0ENGRND"] == (
        "northwind-engineering",
        "random",
    )
    assert routes["C0ALL"] == ("northwind-engineering", "announcements")  # 2 of its 3 posts were made in Engineering
    assert routes["C0LAUNCH"] == ("northwind-sales", "launch-2026")
    text = (drafted / "migration.yaml").read_text(encoding="utf-8")
    assert (
        "team: northwind-engineering  # org-level channel shared by 2 workspaces: drafted into Northwind Engineering, "
        "where 2 of its 3 posts were made" in text
    )
    assert "team: northwind-sales  # org-level channel: 3 posts, all made in Northwind Sales" in text
    assert problems_of(drafted) == []


def test_map_check_reports_a_channel_name_of_two_workspaces_landing_in_one_team(drafted: Path) -> None:
    edit(
        drafted,
        "  - source: C0SALRND\n    name: random\n    team: northwind-sales",
        "  - source: C0SALRND\n    name: random\n    team: northwind-engineering",
    )
    (problem,) = problems_of(drafted)
    assert f":{line_of(drafted, 'source: C0SALRND')}: C0SALRND goes into northwind-engineering/random" in problem
    assert (
        "(#random of Northwind Sales and #random of Northwind Engineering: the channel name of two workspaces "
        "landing in one team)" in problem
    )


def test_analyse_drafts_the_same_teams_as_map(tmp_path: Path) -> None:
    inventory = run_analyse(GRID, tmp_path / "analyse")
    where = {c["id"]: c["destination"] for c in inventory["channels"]}
    assert where["C0ALL"] == "Northwind Engineering / announcements"
    assert where["C0SALGEN"] == "Northwind Sales / General"


# --- analyse: per workspace ------------------------------------------------------


def test_inventory_per_workspace_adds_up_to_the_records_of_the_export(tmp_path: Path) -> None:
    inventory = run_analyse(GRID, tmp_path / "analyse")
    records = fixture_records()
    rows = {row["name"]: row for row in inventory["workspaces"]}
    assert [(r["level"], r["conversations"], r["people"]) for r in rows.values()] == [
        ("workspace", 4, 3),
        ("workspace", 2, 2),
        ("organisation", 4, 4),
    ]
    assert rows["Northwind Engineering"]["messages"] == records["Northwind Engineering"]
    assert rows["Northwind Sales"]["messages"] == records["Northwind Sales"]
    assert rows["Northwind"]["messages"] == records[""]
    assert sum(r["messages"] for r in rows.values()) == inventory["totals"]["messages"] == sum(records.values())
    assert sum(r["conversations"] for r in rows.values()) == inventory["totals"]["conversations"]
    belongs = {c["id"]: c["workspace"] for c in inventory["channels"]}
    assert belongs["C0ALL"] == "organisation: shared by 2 workspaces"
    assert belongs["C0LAUNCH"] == "organisation: Northwind Sales"
    assert belongs["G0LEADS"] == "Northwind Engineering"
    assert "Northwind Sales (workspace): 2 conversations, 2 messages, 2 people" in summary(inventory)
    assert inventory["users"]["external"] == 1 and inventory["user_lists"]["external"] == ["W0PAT of T0ACME"]
    html = (tmp_path / "analyse" / "report.html").read_text(encoding="utf-8")
    assert "<h3>Workspaces</h3>" in html and "organisation: shared by 2 workspaces" in html


# --- transform and migration -------------------------------------------------------


def test_a_slack_connect_guest_posts_through_the_fallback_naming_their_organisation(tmp_path: Path) -> None:
    result = plan_sample(GRID, tmp_path)
    authors = result.report["authors"]
    assert authors["external"] == 1 and authors["fallback_for"]["Pat Rivera (T0ACME)"] == 1
    lines = [line for _, c in result.manifest.conversations() for line in read_lines(result.plan_dir, c)]
    (pat,) = [line for line in lines if line["source_ts"] == "1762592700.000200"]
    assert "Originally posted by <b>Pat Rivera (T0ACME)</b>" in pat["body"]["content"]
    assert pat["from"]["user"]["displayName"] == FALLBACK


def test_the_grid_sample_migrates_per_workspace_and_verifies_clean(emulator, tmp_path: Path) -> None:
    migration = migrate_sample(emulator, GRID, tmp_path)
    assert migration.loaded.ok
    assert migration.verified.ok, migration.verified.as_json()
    report = migration.plan.report
    assert report["messages"]["balanced"] and report["quarantined"] == []
    records = fixture_records()
    assert report["messages"]["read"] == sum(records.values())  # every record of every level, counted apart
    teams = {t.display_name: {c.display_name: c.messages for c in t.channels} for t in migration.plan.manifest.teams}
    assert teams == {
        "Northwind Engineering": {"announcements": 3, "General": 2, "random": 1, "partner-acme": 2, "eng-leads": 1},
        "Northwind Sales": {"launch-2026": 3, "General": 1, "random": 1},
    }
    # each workspace's own channels hold exactly its records; the org's channels, chats and archive hold the rest
    assert (
        sum(teams["Northwind Sales"].values()) - teams["Northwind Sales"]["launch-2026"] == records["Northwind Sales"]
    )
    assert sum(teams["Northwind Engineering"].values()) - 3 == records["Northwind Engineering"]
    assert migration.verified.total("expected") == migration.verified.total("found") == report["messages"]["planned"]


def test_a_workspace_without_users_is_known_by_its_posts_team(tmp_path: Path) -> None:
    root = shutil.copytree(GRID, tmp_path / "grid")
    (root / "teams" / "Northwind Sales" / "users.json").unlink()
    with SlackExport(root) as export:
        assert [w.id for w in export.workspaces] == [ENG, SALES]
        assert not export.quarantine
    (root / "teams" / "Northwind Sales" / "general" / "2025-11-05.json").write_text("[]")
    (root / "teams" / "Northwind Sales" / "random" / "2025-11-06.json").write_text("[]")
    with SlackExport(root) as export:
        assert [w.id for w in export.workspaces] == [ENG, "Northwind Sales"]  # nothing names it: its folder's name


def test_workspaces_whose_names_slug_alike_get_teams_of_their_own(tmp_path: Path) -> None:
    root = shutil.copytree(GRID, tmp_path / "grid")
    other = root / "teams" / "northwind sales!"
    other.mkdir()
    (other / "channels.json").write_text(
        json.dumps([{"id": "C0OTHER", "name": "general", "is_general": True, "members": ["U0ALAN"]}])
    )
    run_map(root, tmp_path / "mappings", fake_lookup, fallback="migration@contoso.example")
    files = load_all(tmp_path / "mappings")
    names = {k: t.name for k, t in files.mappings.teams.items()}
    assert names["northwind-sales"] == "Northwind Sales" and names["northwind-sales-2"] == "northwind sales!"
    routes = {r.source: r.team for r in files.mappings.routes}
    assert routes["C0SALGEN"] == "northwind-sales" and routes["C0OTHER"] == "northwind-sales-2"
    assert files.mappings.teams["northwind-sales-2"].members == ("U0ALAN",)  # nobody listed: its channels' people


@given(st.lists(st.sampled_from(["T1", "T2", "T3", "TX"]), max_size=30))
def test_an_org_level_channel_goes_where_most_was_posted(teams: list[str]) -> None:
    spaces = [Workspace("T1", "One"), Workspace("T2", "Two"), Workspace("T3", "Three")]
    posts = Counter(teams)
    chosen, why = home(posts, spaces)
    assert all(posts[chosen.id] >= posts[w.id] for w in spaces)  # TX (another organisation) never counts
    firsts = [w for w in spaces if posts[w.id] == posts[chosen.id]]
    assert chosen is firsts[0] and chosen.name in why
    shared = sum(posts[w.id] > 0 for w in spaces)
    assert belongs_to(posts, spaces) == (
        chosen.name if shared == 1 else f"shared by {shared} workspaces" if shared else ""
    )


def test_files_of_a_workspace_folder_that_are_not_read_are_listed(tmp_path: Path) -> None:
    root = shutil.copytree(GRID, tmp_path / "grid")
    sales = root / "teams" / "Northwind Sales"
    (sales / "canvases.json").write_text("[]")
    (sales / "__uploads" / "F1").mkdir(parents=True)
    (sales / "__uploads" / "F1" / "a.txt").write_text("x")
    (sales / "notes.txt").write_text("x")
    with SlackExport(root) as export:
        ignored = {i.path: (i.reason, i.entries) for i in export.ignored}
    top_only = "read only at the top of an org-wide export, not in a workspace's folder"
    assert ignored == {
        "teams/Northwind Sales/__uploads/": (top_only, 1),
        "teams/Northwind Sales/canvases.json": (top_only, 1),
        "teams/Northwind Sales/notes.txt": ("not part of the Slack export format", 1),
    }


def test_raw_users_for_fetch_hold_every_list_once() -> None:
    with SlackExport(GRID) as export:
        raw = export.raw_users()
    assert [u["id"] for u in raw] == ["U0ADA", "U0GRACE", "U0MEI", "U0ALAN"]  # org_users.json's, then none again
