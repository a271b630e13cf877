"""map, map --check and transform on workspaces at and just over Teams' capacity limits (README, "Teams' capacity
limits"): nothing drafted breaks one, every one a hand-edited mapping breaks is reported with the count, the limit
and the line (exit 1), and transform refuses such a mapping before writing a plan (exit 2)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from capacitykit import draft, workspace
from migrator.capacity import TEAMS_DEFAULTS
from migrator.cli import app
from migrator.errors import InputError
from migrator.mapping import (
    UserMapping,
    capacity_problems,
    check_mappings,
    draft_mappings,
    load_mappings,
    resolve_targets,
    run_check,
)
from migrator.model import Conversation, ConversationKind, User, Workspace
from migrator.sources.products import PRODUCTS
from migrator.stages.analyse import run_analyse
from migrator.stages.transform import transform

PREFIXED = [f"eng-{n}" for n in range(60)]  # a prefix group large enough for a team of its own (50 of 1,000)


def routes_of(migration: Path) -> dict[str, tuple[str | None, str | None, str | None]]:
    mappings, problems = load_mappings(migration)
    assert problems == []
    return {r.name: (r.team, r.channel, r.kind) for r in mappings.routes}


def line_of(migration: Path, needle: str) -> int:
    lines = migration.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line and not line.lstrip().startswith("#"))


def everything_into(migration: Path, team: str) -> None:
    """A consultant's edit that puts every channel back into one team."""
    text = migration.read_text(encoding="utf-8")
    keys = {line.split(":")[1].strip() for line in text.splitlines() if line.strip().startswith("team: ")}
    for key in keys - {team}:
        text = text.replace(f"team: {key}\n", f"team: {team}\n")
    migration.write_text(text, encoding="utf-8")


def check(folder: Path) -> list[str]:
    return [str(p) for p in run_check(folder)]


def test_1000_channels_fit_one_team(tmp_path: Path) -> None:
    export = workspace(tmp_path / "export", public=[f"c{n}" for n in range(999)])  # and #general: 1,000
    migration = draft(export, tmp_path / "map")
    mappings, _ = load_mappings(migration)
    assert list(mappings.teams) == ["export"] and mappings.split == ()
    assert "do not fit one team" not in migration.read_text(encoding="utf-8")
    assert check(tmp_path / "map") == []


def test_1001_channels_are_split_by_prefix_archived_and_activity(tmp_path: Path) -> None:
    rest = [f"c{n}" for n in range(938)]
    export = workspace(
        tmp_path / "export",
        public=[*PREFIXED, *rest, "old-a", "old-b"],  # with #general: 1,001
        archived=["old-a", "old-b"],
        messages={"c900": 5, "c7": 2},
    )
    migration = draft(export, tmp_path / "map")
    mappings, _ = load_mappings(migration)
    assert {t.key: t.name for t in mappings.teams.values()} == {
        "export-1": "export (1)",
        "export-eng": "export (eng)",
        "export-archived": "export (archived)",
    }
    routes = routes_of(migration)
    assert routes["general"][:2] == ("export-1", "General")
    assert {routes[n][0] for n in PREFIXED} == {"export-eng"}
    assert routes["old-a"][0] == routes["old-b"][0] == "export-archived"
    in_first = [r.name for r in mappings.routes if r.team == "export-1"]
    assert in_first[:1] == ["general"]  # the file keeps the export's order; activity decides who is in which team
    text = migration.read_text(encoding="utf-8")
    assert "do not fit one team (Teams allows 1,000 channels per team" in text
    assert "#   export (eng): channels named eng-*: 60 channels (0 private) besides General" in text
    assert check(tmp_path / "map") == []
    planned = transform(export, tmp_path / "map", tmp_path / "plan").manifest
    assert sorted(len(t.channels) for t in planned.teams) == [2, 60, 939]  # General of team (1) is planned too
    inventory = run_analyse(export, tmp_path / "analyse")
    split = json.loads((tmp_path / "analyse" / "inventory.json").read_text(encoding="utf-8"))["team_split"]
    assert split[0].startswith("1,000 channels besides General") and len(split) == 4
    assert inventory is not None
    html = (tmp_path / "analyse" / "report.html").read_text(encoding="utf-8")
    assert "Teams needed" in html and "export (eng): channels named eng-*: 60 channels" in html


def test_the_rest_goes_by_activity_most_active_first(tmp_path: Path) -> None:
    rest = [f"c{n:04d}" for n in range(1_000)]  # with #general: 1,001, no prefix group, nothing archived
    export = workspace(tmp_path / "export", public=rest, messages={"c0999": 3, "c0998": 1})
    migration = draft(export, tmp_path / "map")
    routes = routes_of(migration)
    assert routes["c0999"][0] == routes["c0998"][0] == "export-1"  # the most active stay with General
    assert routes["c0997"][0] == "export-2"  # quiet channels, in name order, fill team (1) then team (2)
    assert sum(team == "export-2" for team, _, _ in routes.values()) == 1


def test_check_reports_too_many_channels_with_count_limit_and_line(tmp_path: Path) -> None:
    export = workspace(tmp_path / "export", public=[*PREFIXED, *(f"c{n}" for n in range(941))])  # 1,002
    migration = draft(export, tmp_path / "map")
    everything_into(migration, "export-1")
    (problem,) = check(tmp_path / "map")
    team_line = line_of(migration, "export-1:")
    assert f"migration.yaml:{team_line}: team 'export-1' would hold 1,002 channels (General included)" in problem
    assert "Teams allows 1,000 per team (limit channels_per_team" in problem
    assert "; the 1,001st channel is on line " in problem
    result = CliRunner().invoke(app, ["map", "--check", str(tmp_path / "map")])
    assert result.exit_code == 1 and "1,002 channels" in result.output
    with pytest.raises(InputError, match="1,002 channels") as refused:
        transform(export, tmp_path / "map", tmp_path / "plan")
    assert refused.value.exit_code == 2 and not (tmp_path / "plan").exists()  # refused before any plan is written


def test_private_channels_per_team_30_fit_31_split(tmp_path: Path) -> None:
    at = workspace(tmp_path / "at", private={f"p{n}": 2 for n in range(30)})
    assert len(load_mappings(draft(at, tmp_path / "at-map"))[0].teams) == 1
    over = workspace(tmp_path / "over", private={f"p{n}": 2 for n in range(31)})
    migration = draft(over, tmp_path / "over-map")
    assert sorted(load_mappings(migration)[0].teams) == ["over-1", "over-2"]
    assert check(tmp_path / "over-map") == []
    everything_into(migration, "over-1")
    (problem,) = check(tmp_path / "over-map")
    assert "would hold 31 private channels; Teams allows 30 per team (limit private_channels_per_team)" in problem
    assert f"the 31st private channel is on line {line_of(migration, 'source: G31')}" in problem


def test_a_private_channel_over_200_members_gets_a_team_of_its_own(tmp_path: Path) -> None:
    """Teams allows 250 members per private channel, but Graph creates one with at most 200 (load adds them all in
    that request), so 201 is over."""
    export = workspace(tmp_path / "export", private={"at": 200, "big": 201})
    migration = draft(export, tmp_path / "map")
    routes = routes_of(migration)
    assert routes["at"][2] == "private_channel"
    assert routes["big"] == ("export-big", "General", "own_team")
    text = migration.read_text(encoding="utf-8")
    assert "target: own_team  # 201 members, and Teams creates a private channel with at most 200" in text
    assert check(tmp_path / "map") == []
    at = line_of(migration, "source: G2")
    lines = migration.read_text(encoding="utf-8").splitlines()
    lines[at + 1 : at + 4] = ["    target: private_channel", "    team: export", "    channel: big"]
    migration.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (problem,) = check(tmp_path / "map")
    assert f"migration.yaml:{at}: private channel big would have 201 members; Teams allows 250" in problem
    assert "Graph creates one with at most 200" in problem


def test_members_per_private_channel_250_fit_251_not(tmp_path: Path) -> None:
    """With creation raised for a tenant (defaults.limits), Teams' own 250 members per private channel decides."""
    export = workspace(tmp_path / "export", private={"at": 250, "over": 251})
    migration = draft(export, tmp_path / "map")
    text = migration.read_text(encoding="utf-8")
    for name in ("at", "over"):  # both drafted to a team of their own (over 200); written back as a consultant would
        start = text.index(f"    name: {name}\n")
        end = text.index("    channel: General\n", start) + len("    channel: General\n")
        text = (
            text[:start]
            + f"    name: {name}\n    target: private_channel\n    team: export\n    channel: {name}\n"
            + text[end:]
        )
    raised = "defaults:\n  limits:\n    private_channel_members_per_request: 1000\nteams:\n"
    migration.write_text(text.replace("teams:\n", raised, 1), encoding="utf-8")
    (problem,) = check(tmp_path / "map")
    assert "private channel over would have 251 members; Teams allows 250 per private channel" in problem


def test_a_group_dm_larger_than_a_chat_gets_a_team_of_its_own(tmp_path: Path) -> None:
    export = workspace(tmp_path / "export", group_dms=[200, 201])
    migration = draft(export, tmp_path / "map")
    routes = routes_of(migration)
    assert routes["mpdm-1"][2] == "chat" and routes["mpdm-2"] == ("export-mpdm-2", "General", "own_team")
    assert check(tmp_path / "map") == []
    migration.write_text(
        migration.read_text(encoding="utf-8").replace(
            "    target: own_team  # 201 people, and Teams creates a group chat with at most 200: the General channel "
            "of a team of exactly its members\n    team: export-mpdm-2\n    channel: General\n",
            "    target: chat\n",
        ),
        encoding="utf-8",
    )
    (problem,) = check(tmp_path / "map")
    assert "would be a chat of 201 people; Teams allows 250 in a group chat and 200 added at once" in problem


def test_a_tenant_limit_in_defaults_limits_is_checked(tmp_path: Path) -> None:
    export = workspace(tmp_path / "export", public=["a", "b", "c"], people=4)
    migration = draft(export, tmp_path / "map")
    text = migration.read_text(encoding="utf-8")
    migration.write_text(
        text.replace("teams:\n", "defaults:\n  limits:\n    channels_per_team: 3\n    members_per_team: 3\nteams:\n"),
        encoding="utf-8",
    )
    problems = check(tmp_path / "map")
    assert len(problems) == 2
    at = line_of(migration, "channels_per_team: 3")
    assert f"would hold 4 channels (General included); defaults.limits (line {at}) allows 3 per team" in problems[0]
    assert (
        f"would have 4 members; defaults.limits (line {at + 1}) allows 3 per team (limit members_per_team)"
        in (problems[1])
    )


def test_owners_beyond_the_limit_become_members_and_are_said(tmp_path: Path) -> None:
    export = workspace(tmp_path / "export", public=["a"], people=5, admins=3)
    migration = draft(export, tmp_path / "map")
    text = migration.read_text(encoding="utf-8")
    migration.write_text(text.replace("teams:\n", "defaults:\n  limits:\n    owners_per_team: 2\nteams:\n", 1))
    notes: list = []
    assert run_check(tmp_path / "map", notes=notes) == []
    (note,) = [str(n) for n in notes if "owners" in str(n)]
    assert "team 'export' would have 3 owners; defaults.limits (line " in note
    assert ") allows 2 (limit owners_per_team)" in note
    assert "the other 1 is a member" in note
    result = transform(export, tmp_path / "map", tmp_path / "plan")
    (team,) = result.manifest.teams
    assert [m.display_name for m in team.members if "owner" in m.roles] == ["User 1", "User 2"]
    assert len(team.members) == 5 and any("3 owners" in n for n in result.report["mapping_notes"])


names = st.lists(
    st.tuples(st.sampled_from(["eng-", "eng_", "ops-", "", "x"]), st.integers(0, 999), st.booleans(), st.booleans()),
    max_size=40,
    unique_by=lambda t: (t[0], t[1]),
)


@settings(max_examples=60, deadline=None)
@given(
    channels=names,
    limits=st.tuples(st.integers(2, 12), st.integers(1, 4), st.integers(1, 4)),
    sizes=st.lists(st.integers(2, 6), max_size=4),
)
def test_no_draft_breaks_a_limit(
    channels: list[tuple[str, int, bool, bool]], limits: tuple[int, int, int], sizes: list[int]
) -> None:
    """Whatever the workspace and the limits, the draft passes every rule and capacity limit, and routes every
    conversation exactly once."""
    per_team, private, people = limits
    capacity = TEAMS_DEFAULTS.overridden(
        {
            "channels_per_team": per_team,
            "private_channels_per_team": private,
            "private_channel_members_per_request": people,
            "chat_members_per_request": people,
        }
    )
    users = {f"U{n}": User(id=f"U{n}", name=f"u{n}", email=f"u{n}@example.com") for n in range(8)}
    rows = [UserMapping(u, u, f"{u}@example.com", f"e-{u}", "map") for u in users]
    everyone = tuple(users)
    conversations = [Conversation("C0", "general", ConversationKind.PUBLIC, everyone, is_general=True)]
    for n, (prefix, number, is_private, archived) in enumerate(channels, 1):
        kind = ConversationKind.PRIVATE if is_private else ConversationKind.PUBLIC
        members = everyone[: 2 + n % 5]
        conversations.append(Conversation(f"C{n}", f"{prefix}{number}", kind, members, archived=archived))
    conversations += [
        Conversation(f"M{n}", f"mpdm-{n}", ConversationKind.GROUP_DM, everyone[:size]) for n, size in enumerate(sizes)
    ]
    drafted = draft_mappings(
        Path("m/migration.yaml"),
        Workspace(id="T", name="Acme"),
        conversations,
        None,
        rows,
        users,
        product=PRODUCTS["slack"],
        limits=capacity,
    )
    resolved = resolve_targets(replace(drafted, limits=capacity), conversations)
    assert check_mappings(resolved, conversations, rows, "Slack") == []
    assert capacity_problems(resolved, conversations, rows, users) == []
    assert sorted(r.source for r in drafted.routes) == sorted(c.id for c in conversations)


def test_a_workspace_with_more_people_than_a_team_holds_lists_each_teams_channel_people(tmp_path: Path) -> None:
    users = {f"U{n}": User(id=f"U{n}", name=f"u{n}") for n in range(6)}
    rows = [UserMapping(u, u, "", f"e-{u}", "map") for u in users]
    conversations = [
        Conversation("C0", "general", ConversationKind.PUBLIC, ("U0", "U1"), is_general=True),
        Conversation("C1", "dev", ConversationKind.PUBLIC, ("U1", "U2")),
        Conversation("G1", "secret", ConversationKind.PRIVATE, ("U2", "U3")),
    ]
    capacity = TEAMS_DEFAULTS.overridden({"members_per_team": 4})
    drafted = draft_mappings(
        Path("m/migration.yaml"), Workspace(id="T", name="Acme"), conversations, None, rows, users,
        product=PRODUCTS["slack"], limits=capacity,
    )  # fmt: skip
    (team,) = drafted.teams.values()
    assert team.members == ("U0", "U1", "U2", "U3")  # U4 and U5 are in no channel of it
    assert "the workspace's 6 mapped people are more than the 4 members Teams allows per team" in team.note
    resolved = resolve_targets(replace(drafted, limits=capacity), conversations)
    assert check_mappings(resolved, conversations, rows, "Slack") == []
    assert capacity_problems(resolved, conversations, rows, users) == []
