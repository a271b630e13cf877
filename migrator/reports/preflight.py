"""`preflight.json` and the self-contained `preflight.html`: each step's verdict, why, and what to do."""

from __future__ import annotations

import json
from pathlib import Path

from migrator.reports.html import render
from migrator.stages.preflight.outcome import PreflightOutcome

JSON_FILE = "preflight.json"
HTML_FILE = "preflight.html"


def write(outcome: PreflightOutcome, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / JSON_FILE
    json_path.write_text(json.dumps(outcome.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    html_path = out_dir / HTML_FILE
    html_path.write_text(render("preflight.html.j2", outcome=outcome), encoding="utf-8")
    return json_path, html_path
