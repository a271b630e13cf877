"""The transform report: `transform-report.json` (the record as it is) and `transform-report.html`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from migrator.earlier import CHANGE_COLUMNS
from migrator.ledger import FATES
from migrator.reports.html import render, table
from migrator.transform_report import CONVERSIONS, MESSAGE_KEYS, TransformReport

REPORT_JSON = "transform-report.json"
REPORT_HTML = "transform-report.html"
SHOWN_ROWS = 500  # per table in the HTML page; the JSON lists everything


def write(report: TransformReport, out_dir: Path) -> tuple[Path, Path]:
    json_path, html_path = out_dir / REPORT_JSON, out_dir / REPORT_HTML
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


def render_html(report: TransformReport) -> str:
    """A self-contained page; every table is escaped by `table`, so source names cannot inject markup."""
    adjustments = [{**a, "reasons": ", ".join(a["reasons"])} for a in report["timeline"]["adjustments"]]
    tables: dict[str, tuple[Sequence[Mapping[str, Any]], list[str]]] = {
        "targets": (
            report["targets"],
            ["team", "channel", "membership", "general", "messages", "roots", "replies", "uploads", "created", "file"],
        ),
        "conversations": (
            report["conversations"],
            ["id", "name", "kind", "action", "target", "read", *MESSAGE_KEYS, "files"],
        ),
        "conversions": (
            [{"conversion": text, "messages": report["conversions"][key]} for key, text in CONVERSIONS.items()],
            ["conversion", "messages"],
        ),
        "adjustments": (adjustments[:SHOWN_ROWS], ["target", "key", "original", "planned", "reasons"]),
        "splits": (report["split"][:SHOWN_ROWS], ["key", "parts", "bytes", "files"]),
        "thread_placeholders": (report["thread_placeholders"][:SHOWN_ROWS], ["key", "reason", "replies"]),
        "file_placeholders": (
            report["files"]["placeholders"][:SHOWN_ROWS],
            ["message", "name", "status", "size", "url"],
        ),
        "fallback": (
            [{"author": k, "messages": v} for k, v in report["authors"]["fallback_for"].items()],
            ["author", "messages"],
        ),
        "skipped_authors": (report["authors"]["skipped_list"], ["author", "reason", "messages"]),
        "teams": (
            [{**t, "owners": ", ".join(t["owners"])} for t in report["teams"]],
            ["name", "key", "created", "channels", "members", "owners"],
        ),
        "unsupported": ([{"type": k, "count": v} for k, v in report["unsupported"].items()], ["type", "count"]),
        "mentions_as_text": (
            [{"why": k, "mentions": v} for k, v in report.get("mentions_as_text", {}).items()],
            ["why", "mentions"],
        ),
        "quarantined": (report["quarantined"], ["file", "item", "error"]),
        "repaired": (report["repaired"], ["file", "strings"]),
        "ledger": (report["ledger"]["conversations"], ["conversation", *FATES, "records"]),
    }
    return render(
        "transform.html.j2",
        report=report,
        shown=SHOWN_ROWS,
        tables={name: table(rows, columns, name, sortable=True) for name, (rows, columns) in tables.items()},
        changes=report["changes"] and table(report["changes"][:SHOWN_ROWS], CHANGE_COLUMNS, "changes", sortable=True),
    )
