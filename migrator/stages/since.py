"""`analyse --since OUT`: the delta pass's dry run, before cutover (issue 27).

A consultant promises the customer a freeze window: how long the delta pass of a newer export will take, at the
physical limit, given what the earlier pass into OUT landed. The newer export is transformed into a scratch copy
of OUT's plan (so the earlier pass's folder, journal and Teams are untouched, and `migrator.earlier` finds what
changed), and the load's estimate is read against OUT's journal: per conversation the lines still to post, the
conversations no earlier pass created, what changed since, and the seconds.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from migrator import limits
from migrator.critical import critical_path
from migrator.earlier import Change
from migrator.errors import InputError
from migrator.journals import journal_exists, open_journal
from migrator.plan import MANIFEST
from migrator.stages.load.delta import open_private
from migrator.stages.load.estimate import estimate
from migrator.stages.load.schedule import concurrency
from migrator.stages.migrate import Layout
from migrator.stages.transform import FILES_DIR, transform
from migrator.stages.transform.archive import ARCHIVE_DIR

SCRATCH = "delta-plan"  # under analyse's --out: the newer export's plan, never loaded
DELTA_FILE = "delta.json"


@dataclass
class DeltaRow:
    """One conversation of the newer export's plan: what the delta pass sends to it."""

    key: str
    team: str
    name: str
    kind: str
    planned: int
    new: int  # lines the journal does not record as landed
    new_conversation: bool  # no earlier pass created it
    requests: int
    seconds: float  # its own requests at 5 a second


@dataclass
class DeltaDryRun:
    plan: str
    rows: list[DeltaRow] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    seconds: float = 0.0  # the load's estimate (as `load --dry-run` gives it)
    limit_seconds: float = 0.0  # the physical limit: the longest chain of conversations at 5 requests a second

    @property
    def new_messages(self) -> int:
        return sum(row.new for row in self.rows)


def dry_run_since(
    source: Path,
    mappings: Path,
    earlier: Path,
    out: Path,
    *,
    source_format: str | None = None,
    fetched: Path | None = None,
    journal: str | Path | None = None,
) -> DeltaDryRun:
    """The delta pass of `source` after the earlier pass written under `earlier` (a `migrate --out` folder), whose
    journal is `journal` (default: its journal.sqlite; a PostgreSQL URL for workers)."""
    layout = Layout(earlier)
    journal = layout.journal if journal is None else journal
    if not (layout.plan / MANIFEST).is_file() or not journal_exists(journal):
        raise InputError(
            f"--since {earlier}: no earlier pass there (it needs plan/{MANIFEST} and the journal {journal}, as "
            "`migrator migrate --out` leaves them)"
        )
    scratch = out / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(layout.plan, scratch, ignore=shutil.ignore_patterns(FILES_DIR, ARCHIVE_DIR, "*.tmp"))
    planned = transform(source, mappings, scratch, source_format=source_format, fetched=fetched, journal=journal)
    manifest = planned.manifest
    with open_journal(journal, readonly=True) as opened:
        rows, seconds, _ = estimate(scratch, manifest, manifest.teams, opened, concurrency(None))
        created = {conv.key for _, conv in manifest.conversations() if opened.conversation_id(conv.key)}
        early = open_private(opened, manifest.teams)
    result = DeltaDryRun(str(scratch), changes=planned.report["changes"], seconds=seconds)
    for row in rows:
        new = row.messages - row.already
        seconds_alone = row.requests / limits.CHANNEL_RPS
        result.rows.append(
            DeltaRow(
                row.key,
                row.team,
                row.channel,
                row.kind,
                row.messages,
                new,
                row.key not in created,
                row.requests,
                seconds_alone,
            )
        )
    requests = {row.key: row.requests for row in rows}
    result.limit_seconds = critical_path(
        manifest.teams, manifest.chats, lambda conv: requests[conv.key], open_private=early
    ).seconds
    (out / DELTA_FILE).write_text(json.dumps(asdict(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result
