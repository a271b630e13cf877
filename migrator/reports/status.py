"""`migrator status --out FILE.html`: the status of a migration loaded by workers, as one page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migrator.reports.html import duration, render, table
from migrator.workstatus import MigrationStatus, TeamStatus, UnitStatus

TEAM_COLUMNS = ["team", "app", "state", "posted", "planned", "rate/s", "ETA"]
UNIT_COLUMNS = ["team", "unit", "name", "app", "owner worker", "state", "posted", "planned", "rate/s", "ETA", "lease"]


def eta(seconds: float | None) -> str:
    return "—" if seconds is None else duration(seconds)


def team_row(team: TeamStatus) -> dict[str, Any]:
    return {
        "team": team.team,
        "app": team.app,
        "state": team.state,
        "posted": team.posted,
        "planned": team.planned,
        "rate/s": f"{team.rate:.1f}",
        "ETA": eta(team.eta),
    }


def unit_row(unit: UnitStatus) -> dict[str, Any]:
    return {
        "team": unit.team,
        "unit": unit.kind,
        "name": unit.name,
        "app": unit.app,
        "owner worker": unit.owner,
        "state": unit.state if not unit.note else f"{unit.state}: {unit.note}",
        "posted": unit.posted,
        "planned": unit.planned,
        "rate/s": f"{unit.rate:.1f}",
        "ETA": eta(unit.eta),
        "lease": unit.lease,
    }


def write(status: MigrationStatus, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        render(
            "status.html.j2",
            status=status,
            eta=eta(status.eta),
            teams=table([team_row(t) for t in status.teams], TEAM_COLUMNS, "teams", sortable=True),
            units=table([unit_row(u) for u in status.units], UNIT_COLUMNS, "units", sortable=True),
            stuck=table([unit_row(u) for u in status.stuck], UNIT_COLUMNS, "stuck"),
        ),
        encoding="utf-8",
    )
    return path
