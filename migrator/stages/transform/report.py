"""`transform-report.json` and `transform-report.html`: what was converted, split, moved, archived, left out.

The counts are built so they add up, and the report states the two sums it
rests on, with the numbers filled in:

    read    = planned + archived + skipped_conversations + skipped_system + skipped_authors
    written = planned + split_extra + thread_placeholders
    files   = inline_images + uploaded + missing + external + deleted + unreadable + archived + left_out

`read` is every message record the reader produced (analyse's
`totals.messages`); `written` is every line of the plan files; `files` is
every file of every message read (analyse's `totals.files`).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.reports.html import render, table
from migrator.stages.transform.files import COUNT_KEYS
from migrator.stages.transform.timeline import REASONS
from migrator.timestamps import format_ms

REPORT_JSON = "transform-report.json"
REPORT_HTML = "transform-report.html"
SHOWN_ROWS = 500  # per table in the HTML page; the JSON lists everything
MESSAGE_KEYS = ("planned", "archived", "skipped_conversations", "skipped_system", "skipped_authors")
FILE_ROW_KEYS = ("files", "files_archived", "files_left_out")  # per conversation: read, in the archive, left out
CONVERSIONS = {
    "mentions": "@mentions → the person's name in bold",
    "channel_links": "#channel links → the channel's name in bold",
    "special_mentions": "@here / @channel / groups → bold text, nobody is notified",
    "emoji": ":emoji: codes → Unicode emoji",
    "links": "links",
    "code_blocks": "code blocks → <pre>",
    "inline_code": "inline code → <code>",
    "quotes": "quotes → <blockquote>",
    "edits": "edited → “(edited)” note",
    "reactions": "reactions → one summary line",
    "bot_attachments": "bot attachments and link previews → cards",
    "system_messages": "system messages (joins, topic…) → grey notes",
    "deleted_placeholders": "deleted messages kept for their replies → a note",
    "thread_broadcasts": "replies also sent to the channel → kept as replies, with a note",
    "file_comments": "comments on files → the comment, with the file's name",
    "unsupported_blocks": "messages with interactive or unknown blocks (left out, counted by type below)",
    "chat_thread_replies": "thread replies in DMs → messages of the chat with a note naming the thread (chats have no "
    "threads)",
    "split_messages": "messages longer than the import limit → numbered parts",
    "empty_messages": "messages with nothing to show → a note",
}


@dataclass
class Tally:
    """Everything counted while planning, shared by every channel and the archive."""

    conversations: list[dict[str, Any]] = field(default_factory=list)
    conversions: Counter = field(default_factory=Counter)
    splits: list[dict[str, Any]] = field(default_factory=list)
    thread_placeholders: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    by_reason: Counter = field(default_factory=Counter)

    def adjust(self, target: str, key: str, original: int, planned: int, reasons: list[str]) -> None:
        self.adjustments.append(
            {
                "target": target,
                "key": key,
                "original": format_ms(original),
                "planned": format_ms(planned),
                "reasons": list(reasons),
            }
        )
        self.by_reason.update(reasons)


def build(
    tally: Tally,
    *,
    header: dict[str, Any],
    lines_written: int,
    files: dict[str, Any],
    authors: dict[str, Any],
    unsupported: Counter,
    targets: list[dict[str, Any]],
    teams: list[dict[str, Any]],
    archive: list[dict[str, Any]],
    quarantined: list[dict[str, Any]],
    repaired: list[dict[str, Any]],
) -> dict[str, Any]:
    """The report as plain JSON-able data, with both sums checked."""
    messages = {key: sum(c[key] for c in tally.conversations) for key in ("read", *MESSAGE_KEYS)}
    lines = {
        "written": lines_written,
        "planned": messages["planned"],
        "split_extra": sum(s["parts"] - 1 for s in tally.splits),
        "thread_placeholders": len(tally.thread_placeholders),
    }
    in_export = sum(c["files"] for c in tally.conversations)
    files = {
        **files,
        "in_export": in_export,
        "archived": sum(c["files_archived"] for c in tally.conversations),
        "left_out": sum(c["files_left_out"] for c in tally.conversations),
    }
    files["equation"] = "in_export = " + " + ".join((*COUNT_KEYS, "archived", "left_out"))
    files["balanced"] = in_export == sum(files[k] for k in (*COUNT_KEYS, "archived", "left_out"))
    return {
        **header,
        "messages": {
            **messages,
            "equation": "read = " + " + ".join(MESSAGE_KEYS),
            "balanced": messages["read"] == sum(messages[k] for k in MESSAGE_KEYS),
        },
        "lines": {
            **lines,
            "equation": "written = planned + split_extra + thread_placeholders",
            "balanced": lines["written"] == lines["planned"] + lines["split_extra"] + lines["thread_placeholders"],
        },
        "files": files,
        "conversions": {key: tally.conversions[key] for key in CONVERSIONS},
        "unsupported": dict(unsupported.most_common()),
        "timeline": {
            "moved": len(tally.adjustments),
            "by_reason": {k: tally.by_reason[k] for k in REASONS},
            "reasons": REASONS,
            "adjustments": tally.adjustments,
        },
        "split": tally.splits,
        "thread_placeholders": tally.thread_placeholders,
        "authors": authors,
        "conversations": tally.conversations,
        "targets": targets,
        "teams": teams,
        "archive": archive,
        "quarantined": quarantined,
        "repaired": repaired,
    }


def write(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    json_path, html_path = out_dir / REPORT_JSON, out_dir / REPORT_HTML
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page; every table is escaped by `table`, so source names cannot inject markup."""
    adjustments = [{**a, "reasons": ", ".join(a["reasons"])} for a in report["timeline"]["adjustments"]]
    tables = {
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
        "splits": (report["split"][:SHOWN_ROWS], ["key", "parts", "bytes"]),
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
        "quarantined": (report["quarantined"], ["file", "item", "error"]),
        "repaired": (report["repaired"], ["file", "strings"]),
    }
    return render(
        "transform.html.j2",
        report=report,
        shown=SHOWN_ROWS,
        tables={name: table(rows, columns, name, sortable=True) for name, (rows, columns) in tables.items()},
    )
