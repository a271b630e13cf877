"""`fetch-report.json` and `fetch-report.html`: what the fetch did with every file, per conversation and in total."""

from __future__ import annotations

import json
from pathlib import Path

from migrator.fetch_report import STATUSES, FetchReport
from migrator.reports.html import render, table

JSON_FILE = "fetch-report.json"
HTML_FILE = "fetch-report.html"
CONVERSATION_COLUMNS = ["conversation", "files", *STATUSES, "MB", "emails found"]
NOT_FETCHED_COLUMNS = ["file", "name", "conversation", "status", "reason"]


def write(report: FetchReport, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / JSON_FILE
    json_path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    names = {c["id"]: c["name"] for c in report["conversations"]}
    rows = [
        {
            "conversation": c["name"],
            "files": c["files"],
            **{status: c[status] for status in STATUSES},  # type: ignore[literal-required]  # each status is a key
            "MB": f"{c['bytes'] / 1e6:,.2f}",
            "emails found": c["emails_found"],
        }
        for c in report["conversations"]
    ]
    listed = [
        {**row, "conversation": names.get(row["conversation"], row["conversation"])} for row in report["not_fetched"]
    ]
    html_path = out_dir / HTML_FILE
    html_path.write_text(
        render(
            "fetch.html.j2",
            report=report,
            statuses=STATUSES,
            conversations=table(rows, CONVERSATION_COLUMNS, "conversations", sortable=True),
            not_fetched=table(listed, NOT_FETCHED_COLUMNS, "not-fetched", sortable=True),
        ),
        encoding="utf-8",
    )
    return json_path, html_path
