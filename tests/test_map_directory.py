"""map against a real HTTPS Graph: the emulator fixture, the embedded emulator, and MIGRATOR_* credentials."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrator.cli import app
from migrator.graph import GraphClient
from migrator.mapping import graph_lookup, load_mappings, run_check, run_map
from tests.slackkit import SAMPLE, SAMPLE_DIRECTORY

DEMO_ADA = "a0000000-0000-4000-8000-000000000002"


def users_csv(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "users.csv").open(encoding="utf-8") as handle:
        return {row["source_id"]: row for row in csv.DictReader(handle)}


def test_lookup_by_mail_through_graph(emulator) -> None:
    with GraphClient(emulator.graph_config()) as client:
        lookup = graph_lookup(client)
        assert lookup("ada@contoso.example")["id"] == DEMO_ADA
        assert lookup("Ada@Contoso.Example")["id"] == DEMO_ADA  # Graph compares mail case-insensitively
        assert lookup("o'brien@contoso.example") is None  # the quote is escaped, not a broken filter
        assert lookup("nobody@contoso.example") is None


def test_draft_against_the_demo_directory(emulator, tmp_path: Path) -> None:
    with GraphClient(emulator.graph_config()) as client:
        result = run_map(SAMPLE, tmp_path / "m", graph_lookup(client), fallback="migration@contoso.example")
    rows = users_csv(tmp_path / "m")
    assert rows["U01ADA"]["entra_id"] == DEMO_ADA and rows["U04KATHERINE"]["action"] == "map"
    assert rows["U05JOSE"]["action"] == "fallback"  # not in the demo directory
    assert (result.mapped, result.fallback, result.fallback_found) == (4, 8, True)
    assert run_check(tmp_path / "m") == []


def test_cli_without_credentials_uses_the_embedded_emulator_and_sample_directory(
    no_credentials: None, tmp_path: Path
) -> None:
    out = tmp_path / "mappings"
    result = CliRunner().invoke(app, ["map", str(SAMPLE), "--out", str(out), "--fallback", "migration@contoso.example"])
    assert result.exit_code == 0, result.output
    assert f"embedded Graph emulator with {SAMPLE_DIRECTORY}" in result.output
    rows = users_csv(out)
    directory = {u["mail"]: u["id"] for u in json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))["users"]}
    assert rows["U01ADA"]["entra_id"] == directory["ada@contoso.example"]
    assert rows["U06MEI"]["entra_id"] == directory["li.mei@contoso.example"]
    assert rows["U08SOREN"]["action"] == "fallback" and rows["U09LINUS"]["action"] == "fallback"  # absent on purpose
    assert load_mappings(out)[0].fallback_id == directory["migration@contoso.example"]
    check = CliRunner().invoke(app, ["map", "--check", str(out)])
    assert check.exit_code == 0, check.output


def test_cli_directory_option(no_credentials: None, tmp_path: Path) -> None:
    directory = tmp_path / "directory.json"
    directory.write_text(
        json.dumps({"users": [{"id": "soren-id", "displayName": "Søren", "mail": "soren@contoso.example"}]})
    )
    result = CliRunner().invoke(app, ["map", str(SAMPLE), "--out", str(tmp_path / "m"), "--directory", str(directory)])
    assert result.exit_code == 0, result.output
    rows = users_csv(tmp_path / "m")
    assert rows["U08SOREN"]["entra_id"] == "soren-id" and rows["U01ADA"]["action"] == "fallback"
    assert "no fallback account given" in result.output
    check = CliRunner().invoke(app, ["map", "--check", str(tmp_path / "m")])
    assert check.exit_code == 1 and "to the fallback account, but users.fallback/fallback_id is not set" in check.output


def test_cli_with_credentials_asks_that_tenant(emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = emulator.graph_config()
    for name, value in {
        "MIGRATOR_TENANT_ID": config.tenant_id,
        "MIGRATOR_CLIENT_ID": config.client_id,
        "MIGRATOR_CLIENT_SECRET": config.client_secret,
        "MIGRATOR_GRAPH_URL": config.graph_url,
        "MIGRATOR_LOGIN_URL": config.login_url,
        "MIGRATOR_CA_BUNDLE": str(config.ca_bundle),
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["map", str(SAMPLE), "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert f"Microsoft Graph at {config.graph_url}" in result.output
    assert config.client_secret not in result.output
    assert users_csv(tmp_path / "m")["U01ADA"]["entra_id"] == DEMO_ADA  # the tenant's directory, not the sample's
