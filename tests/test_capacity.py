"""Teams' capacity limits: one table (migrator/capacity.py), overridable per tenant in migration.yaml."""

from __future__ import annotations

from pathlib import Path

from migrator.capacity import LIMIT_NAMES, TEAMS_DEFAULTS, from_dict
from migrator.mapping import load_mappings
from migrator.plan import Manifest

MINIMAL = """\
version: 1
defaults:
  limits:
{limits}
teams: {{}}
conversations: []
"""


def write(tmp_path: Path, limits: str) -> Path:
    path = tmp_path / "migration.yaml"
    path.write_text(MINIMAL.format(limits=limits), encoding="utf-8")
    return path


def test_teams_numbers_are_the_defaults() -> None:
    assert TEAMS_DEFAULTS.channels_per_team == 1_000
    assert TEAMS_DEFAULTS.private_channels_per_team == 30
    assert TEAMS_DEFAULTS.members_per_private_channel == 250
    assert TEAMS_DEFAULTS.members_per_team == 25_000
    assert TEAMS_DEFAULTS.owners_per_team == 100
    assert (TEAMS_DEFAULTS.people_per_group_chat, TEAMS_DEFAULTS.chat_members_per_request) == (250, 200)
    assert TEAMS_DEFAULTS.files_per_message == 10


def test_every_limit_is_documented_in_the_contract() -> None:
    contract = (Path(__file__).resolve().parents[1] / "docs" / "graph-contract.md").read_text(encoding="utf-8")
    section = contract.split("\n## Capacity limits", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in LIMIT_NAMES if f"{name}:" not in section]
    assert missing == []


def test_a_tenant_overrides_limits_in_migration_yaml(tmp_path: Path) -> None:
    mappings, problems = load_mappings(
        write(tmp_path, "    channels_per_team: 500\n    private_channels_per_team: 1000")
    )
    assert problems == []
    assert mappings.limits.channels_per_team == 500
    assert mappings.limits.private_channels_per_team == 1000
    assert mappings.limits.members_per_team == TEAMS_DEFAULTS.members_per_team
    assert mappings.limit_lines == {"channels_per_team": 4, "private_channels_per_team": 5}


def test_a_bad_override_is_placed_on_its_line(tmp_path: Path) -> None:
    mappings, problems = load_mappings(
        write(tmp_path, "    channels_per_team: 0\n    channels_per_teem: 5\n    files_per_message: ten")
    )
    assert [(p.line, p.message.split(":")[0]) for p in problems] == [
        (4, "defaults.limits"),
        (5, "defaults.limits"),
        (6, "defaults.limits"),
    ]
    assert "at least 1, not 0" in problems[0].message
    assert "unknown limit 'channels_per_teem'" in problems[1].message
    assert "not 'ten'" in problems[2].message
    assert mappings.limits == TEAMS_DEFAULTS


def test_the_plan_carries_the_limits_and_old_plans_read_teams_defaults(tmp_path: Path) -> None:
    manifest = Manifest(
        source={"path": "x", "kind": "slack", "workspace": "w", "mappings": "m", "transformed_at": "t"},
        limits=TEAMS_DEFAULTS.overridden({"channels_per_team": 7}).as_dict(),
    )
    manifest.write(tmp_path)
    assert Manifest.read(tmp_path).capacity.channels_per_team == 7
    assert from_dict(None) == TEAMS_DEFAULTS
    assert from_dict({"channels_per_team": 3, "bogus": 1, "owners_per_team": True}).channels_per_team == 3
