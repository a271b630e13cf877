"""Plans of the real exports in ../shared, posted through `load` into the emulator and verified.

The emulator enforces the import rules (docs/graph-contract.md#import-message-rules), so a plan it takes
whole, and that verify then reads back unchanged, is one Teams accepts. The
sample's plan goes the same way in test_verify_sample.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.mapping import run_map
from migrator.stages.analyse import run_analyse
from migrator.stages.export import export_limiter
from migrator.stages.load import LoadOptions, load
from migrator.stages.transform import transform
from migrator.stages.verify import VerifyOptions, verify
from migrator.target import Target as GraphTarget
from migrator.timestamps import parse_ms
from tests.slackkit import shared_fixtures, zulip_export
from tests.transformkit import assert_adds_up, assert_golden, assert_plan_rules, golden_view, plan_lines

NOW = parse_ms("2026-01-01T00:00:00.000Z")
DEMO_FALLBACK = {"migration@contoso.example": "a0000000-0000-4000-8000-000000000001"}  # demo_directory.json


def load_and_verify(emulator, plan: Path, journal: Path) -> tuple[int, int]:
    """Post the whole plan, then read it back; returns (posted, lines planned)."""
    emulator.operator("config", {"channel_rps": 10_000})
    with Journal(journal) as j, GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        j.bind(GraphTarget(emulator.graph_config(), None).fingerprint)
        outcome = load(plan, client, j, LoadOptions(workers=4))
    failures = {c.key: dict(c.reasons) for c in outcome.conversations if c.failed}
    assert outcome.ok, f"the emulator refused planned requests: {failures} {outcome.teams_blocked}"
    with Journal(journal, readonly=True) as j, GraphClient(emulator.graph_config(), limiter=export_limiter()) as client:
        checked = verify(plan, client, j, VerifyOptions())
    assert checked.ok, checked.as_json()
    return outcome.total("posted"), sum(len(lines) for lines in plan_lines(plan).values())


def _demo_lookup(mail: str):
    found = DEMO_FALLBACK.get(mail.lower())
    return {"id": found, "mail": mail} if found else None


@pytest.mark.parametrize("name", ["slack-export-viewer/testarchive.zip", "slackdump/source_export.zip", "zulip"])
def test_real_exports_transform_golden_and_load(name: str, emulator, tmp_path) -> None:
    fixtures = shared_fixtures()
    export = zulip_export(tmp_path) if name == "zulip" else fixtures / name
    mappings = tmp_path / "mappings"
    run_map(export, mappings, _demo_lookup, fallback="migration@contoso.example")
    plan = tmp_path / "plan"
    result = transform(export, mappings, plan, now_ms=NOW)
    assert_plan_rules(plan, NOW)
    assert_adds_up(result.report, run_analyse(export, tmp_path / "analyse"))
    assert_golden("transform-" + name.split("/")[-1].removesuffix(".zip"), golden_view(plan))
    posted, planned = load_and_verify(emulator, plan, tmp_path / "journal.sqlite")
    assert posted == planned == result.report["lines"]["written"] > 0
