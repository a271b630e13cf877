"""The emulator's readings of Graph (migrator/emulator/reading.py) and the loader against each.

Where real tenants and Microsoft's pages leave room for doubt the emulator serves the strict reading by default
and the lenient one behind switches; the loader must work against both (docs/graph-contract.md#observed-behaviour).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphkit import RawGraph
from migrator.emulator.reading import Reading, switches
from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient
from migrator.journal import Journal
from migrator.plan import PlannedTeam
from migrator.stages.load.errors import ProvisionError
from migrator.stages.load.provision import Provisioner

README = Path(__file__).resolve().parents[1] / "README.md"


def set_reading(emulator: EmulatorProcess, **switches_: object) -> None:
    emulator.operator("config", {"reading": switches_})


# ------------------------------------------------------------------ the switches themselves
def test_strict_is_the_default_and_lenient_differs_in_every_switch():
    assert all(getattr(Reading(), s.name) == s.strict for s in switches())
    assert all(getattr(Reading.lenient(), s.name) == s.lenient != s.strict for s in switches())


def test_a_switch_is_refused_with_its_name_when_unknown_or_of_the_wrong_type():
    first = next(switches())
    with pytest.raises(ValueError, match="no_such_switch"):
        Reading().with_changes({"no_such_switch": True})
    with pytest.raises(ValueError, match=first.name):
        Reading().with_changes({first.name: object()})


def test_emulator_serve_takes_the_lenient_preset_and_each_switch_as_an_option(tmp_path):
    """`EmulatorProcess(reading=...)` spells the reading as `emulator serve` options; the process serves it."""
    lenient = Reading.lenient()
    first = next(switches())
    with EmulatorProcess(tls_dir=tmp_path / "tls", reading=lenient) as emu:
        assert emu.operator("config")["reading"] == lenient.as_dict()
    with EmulatorProcess(tls_dir=tmp_path / "tls", extra_args=["--lenient", *first.args(first.strict)]) as emu:
        assert emu.operator("config")["reading"] == lenient.with_changes({first.name: first.strict}).as_dict()


def test_the_operator_endpoint_changes_the_reading_and_names_a_bad_switch(emulator):
    set_reading(emulator, location="article")
    assert emulator.operator("config")["reading"]["location"] == "article"
    emulator.operator("config", {"reading": "strict"})
    assert emulator.operator("config")["reading"] == Reading().as_dict()
    with pytest.raises(Exception, match="400"):
        set_reading(emulator, no_such_switch=True)


def test_readme_lists_every_switch_with_its_default_and_source():
    section = README.read_text(encoding="utf-8").split("## The Graph emulator", 1)[1].split("\n## ", 1)[0]
    for s in switches():
        row = next((line for line in section.splitlines() if f"`{s.option}`" in line), None)
        assert row is not None, f"README's 'The Graph emulator' has no row for {s.option}"
        assert f"`{s.strict}`" in row and f"`{s.lenient}`" in row, row
        assert re.search(r"graph-contract\.md#|msteams-docs|microsoft-graph-docs-contrib", row), row


# ------------------------------------------------------------------ item 3: Location of POST /teams
@pytest.mark.parametrize(
    ("form", "pattern"),
    [
        ("reference", r"^/teams\('([^']+)'\)/operations\('([^']+)'\)$"),
        ("article", r"^/teams/([^/]+)/operations/([^/]+)$"),
    ],
)
def test_post_teams_answers_the_location_in_the_form_the_reading_names(emulator, form, pattern):
    set_reading(emulator, location=form)
    raw = RawGraph(emulator)
    response = raw.call("POST", "/teams", json=_team_body())
    assert response.status_code == 202
    team_id, _ = re.fullmatch(pattern, response.headers["Location"]).groups()
    assert response.headers["Content-Location"] == response.headers["Location"].split("/operations")[0]
    assert raw.ok("GET", response.headers["Location"])["targetResourceId"] == team_id


@pytest.mark.parametrize("form", ["reference", "article"])
def test_the_loader_reads_the_team_id_from_either_location_form(emulator, tmp_path, form):
    """The team id the journal keeps while the creation is still running is the team's, in either form."""
    set_reading(emulator, location=form)
    emulator.operator("config", {"provision_delay": 30})
    team = PlannedTeam(key="acme", display_name="Acme", created="2021-01-04T08:00:00.000Z")
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        with pytest.raises(ProvisionError, match="not ready"):
            Provisioner(client, journal, operation_timeout=0.5).team(team)
        entry = journal.team("acme")
    [created] = [t["id"] for t in emulator.operator("dump")["teams"]]
    assert entry is not None and entry.team_id == created


def _team_body() -> dict[str, object]:
    return {
        "@microsoft.graph.teamCreationMode": "migration",
        "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
        "displayName": "Acme",
        "createdDateTime": "2021-01-04T08:00:00.000Z",
    }
