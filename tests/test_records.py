"""The files that join the stages are exactly the records that define them (`migrator.inventory`, the transform
report): every key declared, none added, in the declared order, with the declared types."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TypedDict

import pytest

from migrator.inventory import Conversions, FileCounts, Inventory
from migrator.plan import MANIFEST, PlanSource
from migrator.reports.analyse import CONVERSIONS, INVENTORY_FILE
from migrator.reports.transform import REPORT_JSON
from migrator.stages.analyse import run_analyse
from migrator.stages.transform import transform
from migrator.transform_report import TransformReport
from tests.recordkit import assert_record

REPO = Path(__file__).resolve().parents[1]
SAMPLES = ["slack", "mattermost", "discord", "teams"]


class _Holder(TypedDict):
    files: FileCounts


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_inventory_written_is_the_record(sample: str, tmp_path: Path) -> None:
    inventory = run_analyse(REPO / "sample_data" / sample, tmp_path)
    written = json.loads((tmp_path / INVENTORY_FILE).read_text(encoding="utf-8"))
    assert written == inventory
    assert_record(written, Inventory)
    assert "not_in_directory" not in written["user_lists"]  # no users.csv: nobody was looked up


def test_the_inventory_against_mappings_is_the_record(tmp_path: Path) -> None:
    inventory = run_analyse(REPO / "sample_data" / "slack", tmp_path, REPO / "mappings")
    assert_record(json.loads((tmp_path / INVENTORY_FILE).read_text(encoding="utf-8")), Inventory)
    assert inventory["mappings"] and "not_in_directory" in inventory["user_lists"]


def test_the_report_explains_every_conversion_counted() -> None:
    assert list(CONVERSIONS) == list(Conversions.__annotations__)


def test_a_wrong_record_is_named_by_its_path() -> None:
    with pytest.raises(AssertionError, match=r"\$\.files: keys .* are not FileCounts"):
        assert_record({"files": {"available": 1}}, _Holder)
    with pytest.raises(AssertionError, match=r"\$\.files\.available: 'one' is not an integer"):
        assert_record({"files": {"available": "one", "missing": 0, "external": 0, "deleted": 0}}, _Holder)


def _mappings_archiving_and_skipping(tmp_path: Path) -> Path:
    """The sample's mappings with #random archived and #design skipped, so every row kind is written."""
    folder = shutil.copytree(REPO / "mappings", tmp_path / "mappings")
    yaml = (folder / "migration.yaml").read_text(encoding="utf-8")
    for source in ("C02RANDOM", "C04DESIGN"):
        assert f"  - source: {source}\n" in yaml
    yaml = yaml.replace("  - source: C02RANDOM\n", "  - source: C02RANDOM\n    action: archive\n")
    yaml = yaml.replace("  - source: C04DESIGN\n", "  - source: C04DESIGN\n    action: skip\n")
    (folder / "migration.yaml").write_text(yaml, encoding="utf-8")
    return folder


@pytest.mark.parametrize("edited", [False, True], ids=["as-mapped", "archive-and-skip"])
def test_the_transform_report_written_is_the_record(edited: bool, tmp_path: Path) -> None:
    mappings = _mappings_archiving_and_skipping(tmp_path) if edited else REPO / "mappings"
    result = transform(REPO / "sample_data" / "slack", mappings, tmp_path / "plan")
    written = json.loads((tmp_path / "plan" / REPORT_JSON).read_text(encoding="utf-8"))
    assert written == result.report
    assert_record(written, TransformReport)
    assert_record(json.loads((tmp_path / "plan" / MANIFEST).read_text(encoding="utf-8"))["source"], PlanSource)
    for row_kind in ("split", "conversations", "targets", "teams"):
        assert written[row_kind], f"the sample writes no {row_kind} row to check"
    assert bool(written["archive"]) is edited
    assert written["files"]["placeholders"] and written["timeline"]["adjustments"]
