"""`load-report.csv` and `load-report.html`: per channel and chat planned, posted, already present, failed, rate;
the HTML adds a timeline of the run against its physical limit."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from migrator.earlier import CHANGE_COLUMNS
from migrator.reports.html import Span, duration, render, table, timeline_chart
from migrator.stages.load.outcome import ConversationOutcome, LoadOutcome
from migrator.words import counted

CSV_FILE = "load-report.csv"
HTML_FILE = "load-report.html"
COLUMNS = [
    "team",
    "channel",
    "kind",
    "planned",
    "posted",
    "already_present",
    "failed",
    "uploads",
    "chat_files_in_migration_onedrive",
    "images_moved_to_files",
    "images_left_out_of_chats",
    "mentions_reactions_sent_as_text",
    "completed",
    "seconds",
    "requests_per_s",
    "failure_reasons",
]

TIMELINE_BARS = 60  # the conversations that finished last: the end of a load is decided there
TOTALS = (
    "planned",
    "posted",
    "already",
    "failed",
    "uploads",
    "chat_files_fallback",
    "images_moved",
    "images_left_out",
    "sent_as_text",
)


def rows(outcome: LoadOutcome) -> list[dict[str, object]]:
    return [
        {
            "team": c.team,
            "channel": c.name,
            "kind": c.kind,
            "planned": c.planned,
            "posted": c.posted,
            "already_present": c.already,
            "failed": c.failed,
            "uploads": c.uploads,
            "chat_files_in_migration_onedrive": c.chat_files_fallback,
            "images_moved_to_files": c.images_moved,
            "images_left_out_of_chats": c.images_left_out,
            "mentions_reactions_sent_as_text": c.sent_as_text,
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
    html_path.write_text(render("load.html.j2", **context(outcome, data)), encoding="utf-8")
    return csv_path, html_path


def context(outcome: LoadOutcome, data: list[dict[str, object]] | None = None) -> dict[str, Any]:
    """What the HTML template shows."""
    channels = outcome.count("channel") + outcome.count("private channel")
    return {
        "outcome": outcome,
        "counts": f"{counted(channels, 'channel')} ({outcome.count('private channel'):,} private) · "
        f"{counted(outcome.count('chat'), 'chat')}",
        "channels": table(rows(outcome) if data is None else data, COLUMNS, "channels", sortable=True),
        "totals": {name: outcome.total(name) for name in TOTALS},
        "timeline": timeline(outcome),
        "changes": outcome.changes and table(outcome.changes, CHANGE_COLUMNS, "changes", sortable=True),
        "timeline_shown": min(len(_ran(outcome)), TIMELINE_BARS),
        "ran": len(_ran(outcome)),
    }


def timeline(outcome: LoadOutcome) -> str:
    """One bar per conversation from its first to its last request, the one that finished last (which decided the
    end) marked, and the physical limit (the critical path of what this run had to send) as a line."""
    ran = _ran(outcome)
    if not ran:
        return ""
    last = max(ran, key=lambda c: c.finished)
    shown = sorted(ran, key=lambda c: c.finished)[-TIMELINE_BARS:]
    spans = [
        Span(
            _label(c),
            c.started - outcome.started,
            c.finished - outcome.started,
            marked=c is last,
            note="decided the end" if c is last else "",
        )
        for c in sorted(shown, key=lambda c: c.started)
    ]
    return timeline_chart(
        spans,
        limit=outcome.critical_seconds,
        limit_label=f"physical limit: the critical path, {duration(outcome.critical_seconds)} at 5 requests/s",
        title="Each conversation from its first to its last request",
    )


def _ran(outcome: LoadOutcome) -> list[ConversationOutcome]:
    """The conversations this run posted to (one never created has no requests to show)."""
    return [c for c in outcome.conversations if c.started and c.finished]


def _label(c: ConversationOutcome) -> str:
    name = c.name if c.kind == "chat" else f"{c.team} / {c.name}"
    return name if len(name) <= 40 else name[:39] + "…"
