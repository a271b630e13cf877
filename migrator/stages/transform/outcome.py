"""The transform stage's tally while it plans, and the report built from it (`migrator.transform_report`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from migrator.ledger import ALREADY_MIGRATED, CHANGED_IN_SOURCE, DELETED_IN_SOURCE, FATES, LEDGER
from migrator.model import FROM_FETCH, MISSING_FILE, Displaced, Quarantined, QuarantinedRow, RepairedRow
from migrator.plan import ArchiveEntry, PlanSource
from migrator.stages.transform.files import COUNT_KEYS, OVER_CAP
from migrator.stages.transform.timeline import REASONS
from migrator.timestamps import format_ms
from migrator.transform_report import (
    CONVERSIONS,
    MESSAGE_KEYS,
    Adjustment,
    AuthorCounts,
    ConversationRow,
    FileCounts,
    FilePlaceholder,
    LedgerCounts,
    LedgerRow,
    LineCounts,
    MessageCounts,
    Split,
    TargetRow,
    TeamRow,
    ThreadPlaceholder,
    TransformReport,
)


@dataclass
class Tally:
    """Everything counted while planning, shared by every channel and the archive."""

    conversations: list[ConversationRow] = field(default_factory=list)
    conversions: Counter[str] = field(default_factory=Counter)
    splits: list[Split] = field(default_factory=list)
    thread_placeholders: list[ThreadPlaceholder] = field(default_factory=list)
    adjustments: list[Adjustment] = field(default_factory=list)
    by_reason: Counter[str] = field(default_factory=Counter)

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
    source: PlanSource,
    plan: str,
    mapping_notes: list[str],
    lines_written: int,
    file_decisions: Counter[str],
    placeholders: list[FilePlaceholder],
    uploads: tuple[int, int],
    authors: AuthorCounts,
    unsupported: Counter[str],
    mentions_as_text: Counter[str],
    targets: list[TargetRow],
    teams: list[TeamRow],
    archive: list[ArchiveEntry],
    quarantined: list[QuarantinedRow],
    repaired: list[RepairedRow],
    ledger: LedgerCounts,
    fetched: str | None = None,
) -> TransformReport:
    """The report, with the three sums checked. `file_decisions` counts files per `COUNT_KEYS` key;
    `uploads` is (files, bytes) to upload."""
    return {
        "source": source,
        "fetched": fetched,
        "plan": plan,
        "transformed_at": source["transformed_at"],
        "mapping_notes": mapping_notes,
        "messages": _messages(tally.conversations),
        "lines": _lines(tally, lines_written),
        "files": _files(tally.conversations, file_decisions, placeholders, uploads),
        "conversions": {key: tally.conversions[key] for key in CONVERSIONS},
        "unsupported": dict(unsupported.most_common()),
        "mentions_as_text": dict(mentions_as_text.most_common()),
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
        "ledger": ledger,
        "changes": [],
        "earlier_note": None,
    }


def ledger_counts(
    fates: Counter[tuple[str | None, str]],
    rows: list[ConversationRow],
    quarantine: list[Quarantined],
    displaced: Iterable[Displaced],
) -> LedgerCounts:
    """The ledger's sums per conversation ("": records in no conversation) and fate, and its identity, per
    conversation and in total: records = read + quarantined_records + replaced"""
    per: dict[str, Counter[str]] = {}
    for (conversation, fate), lines in fates.items():
        per.setdefault(conversation or "", Counter())[fate] += lines
    for row in rows:
        per.setdefault(row["id"], Counter())["read"] += row["read"]
    for entry in quarantine:  # a whole file has a line but no record; one record quarantined is one
        per.setdefault(entry.conversation or "", Counter())["whole_files" if entry.item is None else "one_by_one"] += 1
    for record in displaced:
        if not record.in_one_file:  # one in one file is quarantined too, and counted so
            per.setdefault(record.conversation, Counter())["replaced"] += 1
    table = [_ledger_row(conversation, per[conversation]) for conversation in sorted(per, key=lambda c: (not c, c))]
    records, read, one_by_one, replaced = (
        sum(row[key] for row in table) for key in ("records", "read", "quarantined_records", "replaced")
    )
    return {
        "file": LEDGER,
        "fates": {fate: sum(counts[fate] for counts in per.values()) for fate in FATES},
        "records": records,
        "whole_files": sum(counts["whole_files"] for counts in per.values()),
        "read": read,
        "quarantined_records": one_by_one,
        "replaced": replaced,
        "no_conversation": per[""]["one_by_one"] if "" in per else 0,
        "equation": "records = read + quarantined_records + replaced, in total and in each conversation",
        "balanced": records == read + one_by_one + replaced and all(row["balanced"] for row in table),
        "conversations": table,
    }


def _ledger_row(conversation: str, counts: Counter[str]) -> LedgerRow:
    records = sum(counts[fate] for fate in FATES if fate != DELETED_IN_SOURCE) - counts["whole_files"]
    return {
        "conversation": conversation,
        "planned": counts["planned"],
        "merged": counts["merged"],
        "archived": counts["archived"],
        "skipped": counts["skipped"],
        "quarantined": counts["quarantined"],
        "duplicate": counts["duplicate"],
        "already-migrated": counts[ALREADY_MIGRATED],
        "changed-in-source": counts[CHANGED_IN_SOURCE],
        "deleted-in-source": counts[DELETED_IN_SOURCE],
        "records": records,
        "read": counts["read"],
        "quarantined_records": counts["one_by_one"],
        "replaced": counts["replaced"],
        "balanced": records == counts["read"] + counts["one_by_one"] + counts["replaced"],
    }


def _messages(rows: list[ConversationRow]) -> MessageCounts:
    """read = planned + archived + skipped_conversations + skipped_system + skipped_authors"""
    read, planned, archived = (sum(c[key] for c in rows) for key in ("read", "planned", "archived"))
    skipped = [sum(c[key] for c in rows) for key in ("skipped_conversations", "skipped_system", "skipped_authors")]
    return {
        "read": read,
        "planned": planned,
        "archived": archived,
        "skipped_conversations": skipped[0],
        "skipped_system": skipped[1],
        "skipped_authors": skipped[2],
        "equation": "read = " + " + ".join(MESSAGE_KEYS),
        "balanced": read == planned + archived + sum(skipped),
    }


def _lines(tally: Tally, written: int) -> LineCounts:
    """written = planned + split_extra + thread_placeholders"""
    planned = sum(c["planned"] for c in tally.conversations)
    split_extra = sum(s["parts"] - 1 for s in tally.splits)
    return {
        "written": written,
        "planned": planned,
        "split_extra": split_extra,
        "thread_placeholders": len(tally.thread_placeholders),
        "equation": "written = planned + split_extra + thread_placeholders",
        "balanced": written == planned + split_extra + len(tally.thread_placeholders),
    }


def _files(
    rows: list[ConversationRow],
    decisions: Counter[str],
    placeholders: list[FilePlaceholder],
    uploads: tuple[int, int],
) -> FileCounts:
    """in_export = every COUNT_KEYS decision + archived + left_out"""
    decided = sum(decisions[k] for k in COUNT_KEYS)
    in_export = sum(c["files"] for c in rows)
    archived, left_out = sum(c["files_archived"] for c in rows), sum(c["files_left_out"] for c in rows)
    return {
        "total": decided,
        "inline_images": decisions["inline_images"],
        "uploaded": decisions["uploaded"],
        "missing": decisions["missing"],
        "external": decisions["external"],
        "deleted": decisions["deleted"],
        "unreadable": decisions["unreadable"],
        "in_chat": decisions["in_chat"],
        "upload_files": uploads[0],
        "upload_bytes": uploads[1],
        "missing_files": sum(p["status"] == MISSING_FILE.value for p in placeholders),
        "placeholders": placeholders,
        "from_fetch": decisions[FROM_FETCH],
        "images_over_cap": decisions[OVER_CAP],
        "in_export": in_export,
        "archived": archived,
        "left_out": left_out,
        "equation": "in_export = " + " + ".join((*COUNT_KEYS, "archived", "left_out")),
        "balanced": in_export == decided + archived + left_out,
    }
