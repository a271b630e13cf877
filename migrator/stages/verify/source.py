"""Verify from the source: every record of the export has a fate, and every planned one landed where its source
put it.

Comparing Teams with the plan (`compare.py`) cannot see a record transform left out or put in the wrong thread:
the plan itself says so. The ledger (`migrator.ledger`) names every source record and its source thread, so
this compares Teams with the export. Per source conversation a record is **unaccounted** when

- the reader read it but the ledger has no line for it (counted against the transform report's `read`),
- it was planned but a part of it is not in Teams,
- it is a reply that landed under another message than the one its source root became (in a channel: a chat has
  no threads).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.ledger import ALREADY_MIGRATED, CHANGED_IN_SOURCE, IN_PLAN, LedgerLine, has_record
from migrator.reports.transform import REPORT_JSON
from migrator.words import counted

Message = dict[str, Any]
_YIELDED = ("planned", "archived", "skipped", ALREADY_MIGRATED, CHANGED_IN_SOURCE)  # of records the reader yielded


@dataclass
class Unaccounted:
    """A source record verify cannot account for in Teams."""

    conversation: str
    file: str | None
    item: int | None
    id: str | None
    detail: str


@dataclass
class SourceCheck:
    """The ledger's sums for one source conversation ("" for records the reader could not place in one)."""

    conversation: str
    records: int = 0  # ledger lines with a record
    planned: int = 0
    landed: int = 0  # planned records with every part in Teams
    fates: dict[str, int] = field(default_factory=dict)
    unaccounted: list[Unaccounted] = field(default_factory=list)


def read_counts(plan_dir: Path) -> dict[str, int] | None:
    """Records the reader yielded per source conversation, from the transform report; None without one."""
    try:
        report = json.loads((plan_dir / REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(row["id"]): int(row["read"]) for row in report.get("conversations", [])}


def check_sources(
    lines: Iterable[LedgerLine], landed: Mapping[str, Message], read: Mapping[str, int] | None
) -> list[SourceCheck]:
    """Per source conversation, in the ledger's order: its sums and its unaccounted records. `landed` is the
    Teams message each planned plan key matched (compare's evidence); `read` the reader's counts per
    conversation."""
    checks: dict[str, SourceCheck] = {}
    roots: dict[tuple[str, str], LedgerLine] = {}  # (conversation, source id) -> its first planned line
    replies: list[LedgerLine] = []
    for line in lines:
        conversation = line["conversation"] or ""
        check = checks.get(conversation) or checks.setdefault(conversation, SourceCheck(conversation))
        fate = line["fate"]
        check.fates[fate] = check.fates.get(fate, 0) + 1
        check.records += has_record(line)
        if fate not in IN_PLAN:
            continue
        check.planned += 1
        missing = [key for key in line["keys"] if key not in landed]
        if missing:
            check.unaccounted.append(_unaccounted(line, f"planned as {', '.join(missing)}, not in Teams"))
            continue
        check.landed += 1
        if line.get("id") is not None:
            roots.setdefault((conversation, str(line["id"])), line)
        if "thread" in line:
            replies.append(line)
    for reply in replies:
        detail = _misthreaded(reply, roots, landed)
        if detail:
            checks[reply["conversation"] or ""].unaccounted.append(_unaccounted(reply, detail))
    for conversation, count in (read or {}).items():
        check = checks.get(conversation) or checks.setdefault(conversation, SourceCheck(conversation))
        yielded = sum(check.fates.get(fate, 0) for fate in _YIELDED)
        if yielded < count:
            check.unaccounted.append(
                Unaccounted(
                    conversation,
                    None,
                    None,
                    None,
                    f"read but without a line in the ledger: {counted(count - yielded, 'record')}",
                )
            )
    return list(checks.values())


def _misthreaded(
    reply: LedgerLine, roots: Mapping[tuple[str, str], LedgerLine], landed: Mapping[str, Message]
) -> str | None:
    """Why a landed reply is not under the message its source root became; None when it is, or when that root was
    not migrated (the plan's stand-in holds the thread, which the plan comparison checks)."""
    root = roots.get((reply["conversation"] or "", reply["thread"]))
    message = landed[reply["keys"][0]]
    if root is None or message.get("chatId"):  # a chat has no threads: its replies are messages of their own
        return None
    expected = landed[root["keys"][0]]["id"]
    if message.get("replyToId") == expected:
        return None
    return (
        f"landed under {message.get('replyToId') or 'no message (as a thread of its own)'}; its source thread "
        f"{reply['thread']} became {expected}"
    )


def _unaccounted(line: LedgerLine, detail: str) -> Unaccounted:
    return Unaccounted(line["conversation"] or "", line["file"], line["item"], line["id"], detail)
