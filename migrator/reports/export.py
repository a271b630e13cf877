"""`export-summary.json`: what an export run did, per target and in total (the HTML archive is `export_archive`)."""

from __future__ import annotations

import json
from pathlib import Path

from migrator.stages.export.outcome import ExportOutcome

SUMMARY_FILE = "export-summary.json"


def write_summary(outcome: ExportOutcome, out_dir: Path) -> Path:
    path = out_dir / SUMMARY_FILE
    path.write_text(json.dumps(outcome.as_json(), indent=1) + "\n", encoding="utf-8")
    return path
