"""The files that join the stages are exactly the records that define them (`migrator.inventory`, the transform
report): every key declared, none added, in the declared order, with the declared types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

import pytest

from migrator.inventory import Conversions, FileCounts, Inventory
from migrator.reports.analyse import CONVERSIONS, INVENTORY_FILE
from migrator.stages.analyse import run_analyse
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
