"""`load-report.csv` and `load-report.html`: per channel planned, posted, already present, failed, rate."""

from __future__ import annotations

import csv
from pathlib import Path

from migrator.earlier import CHANGE_COLUMNS
from migrator.reports.html import render, table
from migrator.stages.load.outcome import LoadOutcome

CSV_FILE = "load-report.csv"
HTML_FILE = "load-report.html"
COLUMNS = [
    "team",
    "channel",
    "planned",
    "posted",
    "already_present",
    "failed",
    "uploads",
    "chat_files_in_migration_onedrive",
    "images_moved_to_files",
    "images_left_out_of_chats",
    "completed",
    "seconds",
    "requests_per_s",
    "failure_reasons",
]

TOTALS = ("planned", "posted", "already", "failed", "uploads", "chat_files_fallback", "images_moved", "images_left_out")


def rows(outcome: LoadOutcome) -> list[dict[str, object]]:
    return [
        {
            "team": c.team,
            "channel": c.name,
            "planned": c.planned,
            "posted": c.posted,
            "already_present": c.already,
            "failed": c.failed,
            "uploads": c.uploads,
            "chat_files_in_migration_onedrive": c.chat_files_fallback,
            "images_moved_to_files": c.images_moved,
            "images_left_out_of_chats": c.images_left_out,
            "completed": "yes" if c.completed else "no",
            "seconds": round(c.seconds, 1),
            "requests_per_s": round(c.rate, 2),
            "failure_reasons": "; ".join(c.described_reasons()),
        }
        for c in outcome.conversations
    ]


def write(outcome: LoadOutcome, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    data = rows(outcome)
    csv_path = out_dir / CSV_FILE
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(data)
    html_path = out_dir / HTML_FILE
    html_path.write_text(
        render(
            "load.html.j2",
            outcome=outcome,
            channels=table(data, COLUMNS, "channels", sortable=True),
            totals={name: outcome.total(name) for name in TOTALS},
            changes=outcome.changes and table(outcome.changes, CHANGE_COLUMNS, "changes", sortable=True),
        ),
        encoding="utf-8",
    )
    return csv_path, html_path
