"""The ledger: what became of every source record, written by `transform` as PLAN_DIR/ledger.jsonl.

`verify` compares Teams with the plan; the ledger is what lets it compare Teams with the export. One line per
source record, named by its place (`file` and `item`: its index in a JSON array or its line in JSON lines,
since ids can be missing or repeated) and by the source's own id (`id`: Slack's ts, a Discord or Teams message
id, a Mattermost post's place), with its fate:

    planned      keys: the plan keys of its parts; thread: the source thread's key, for a reply
    merged       into: the place of the record kept instead (an older version of an edited message); reason
    archived     page: the archive page of its conversation
    skipped      reason: the mapping option or setting that left it out
    quarantined  reason: why the reader could not use it
    duplicate    of: the place of the record kept (the same record twice)

A newer export transformed into the folder of an earlier pass (`migrator.earlier`, issue 27) marks what that pass
planned: a planned record an earlier transform planned the same is `already-migrated`, one it planned otherwise
`changed-in-source` (both keep `keys` and `thread`: they are in the plan, and Teams holds the earlier version), and
a record an earlier transform planned that the export no longer holds gets a line `deleted-in-source` (`keys`:
its plan keys; `file` empty, `item` null: it is a record of no file of this export, and not counted as one).

A file the reader could not read as records at all gets one `quarantined` line with `item` null and
`records` null: nobody knows how many records it held.

The identity, per conversation and in total: lines with a record = the records the readers parsed (the inventory's
`messages`) + the records quarantined one by one (a record twice in one file among them) + the records another with
the same id replaced (older versions of an edited message merged into the newest, copies of a chat exported for
each of its members). A record the reader refused before it could tell its conversation (a line that is not a
record, a record naming no conversation, an entry of a list of people) has `conversation` null: those lines are
their own bucket, `NO_CONVERSATION`, where the identity is lines = records quarantined there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, NotRequired, TypedDict, cast

import orjson

from migrator.errors import InputError
from migrator.model import Displaced, Message, Quarantined

LEDGER = "ledger.jsonl"
ALREADY_MIGRATED, CHANGED_IN_SOURCE, DELETED_IN_SOURCE = "already-migrated", "changed-in-source", "deleted-in-source"
FATES = (
    "planned",
    "merged",
    "archived",
    "skipped",
    "quarantined",
    "duplicate",
    ALREADY_MIGRATED,
    CHANGED_IN_SOURCE,
    DELETED_IN_SOURCE,
)
# How the reports name the bucket of records without a conversation (their ledger lines: `conversation` null; the
# transform report's ledger row: conversation "").
NO_CONVERSATION = "(no conversation: refused before the reader could place it)"
IN_PLAN = ("planned", ALREADY_MIGRATED, CHANGED_IN_SOURCE)  # records in the plan: verify looks for them in Teams
_BATCH = 1 << 20  # bytes of lines written at once: one write per line would cost more than building it


class LedgerError(InputError):
    """A ledger that cannot be read; names the file and line."""


class Place(TypedDict):
    file: str
    item: int | None


class LedgerLine(TypedDict):
    """One line of the ledger (see the module docstring for each fate's fields)."""

    conversation: str | None  # None for a quarantined record whose conversation the reader could not tell
    file: str
    item: int | None
    id: str | None
    fate: str
    keys: NotRequired[list[str]]
    thread: NotRequired[str]
    into: NotRequired[Place]
    of: NotRequired[Place]
    page: NotRequired[str]
    reason: NotRequired[str]
    records: NotRequired[None]  # only on a whole file quarantined: how many records it held is unknown


class LedgerWriter:
    """Appends ledger lines, encoded at once and written in batches (the ledger has a line per message, so it
    must cost little next to planning the message)."""

    def __init__(self, path: Path) -> None:
        self._out: BinaryIO = open(path, "wb")  # noqa: SIM115  (closed by `close`, the writer lives for a run)
        # One buffer the lines are copied into, not a list of them: orjson's bytes keep the ~4 KB it allocated
        # for each, so a list of 5,000 pending lines held 20 MB (measured: transform's peak RSS 85 MB, not 58 MB).
        self._buffer = bytearray()
        self.fates: Counter[tuple[str | None, str]] = Counter()  # (conversation, fate) -> lines

    def add(self, line: LedgerLine) -> None:
        self._write(orjson.dumps(line), line["conversation"], line["fate"])

    def planned(self, message: Message, key: str, parts: int, thread: str | None, fate: str = "planned") -> None:
        """A planned record: the plan keys of its parts (the planner's part keys) and, for a reply, its source
        thread (`Message.thread_key`); its fate is `planned`, or against an earlier pass `already-migrated` or
        `changed-in-source` (migrator.earlier.Versions). One per message planned, so built without an intermediate
        line."""
        conversation = message.conversation_id
        keys = [key] if parts == 1 else [key, *(f"{key}/part-{n}" for n in range(2, parts + 1))]
        fields = {
            "conversation": conversation,
            "file": message.origin,
            "item": message.item,
            "id": message.id or message.ts,
            "fate": fate,
            "keys": keys,
        }
        if thread is not None:
            fields["thread"] = thread
        self._write(orjson.dumps(fields), conversation, fate)

    def _write(self, data: bytes, conversation: str | None, fate: str) -> None:
        buffer = self._buffer
        buffer += data
        buffer += b"\n"
        self.fates[(conversation, fate)] += 1
        if len(buffer) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        self._out.write(self._buffer)
        self._buffer.clear()

    def close(self) -> None:
        self._flush()
        self._out.close()


def line_of(message: Message, fate: str) -> LedgerLine:
    """The fields every line of a record the reader yielded has; the caller adds its fate's."""
    return {
        "conversation": message.conversation_id,
        "file": message.origin,
        "item": message.item,
        "id": message.id or message.ts,
        "fate": fate,
    }


def reader_lines(quarantine: list[Quarantined], displaced: Iterable[Displaced]) -> Iterator[LedgerLine]:
    """What the reader did not yield: older versions merged into the newer, the same record twice, and what it
    quarantined (a record twice in one file is quarantined too, so the inventory shows it: its line here is
    `duplicate`)."""
    duplicates = set()
    for record in displaced:
        line: LedgerLine = {
            "conversation": record.conversation,
            "file": record.origin,
            "item": record.item,
            "id": record.record_id,
            "fate": "duplicate" if record.duplicate else "merged",
        }
        kept: Place = {"file": record.kept_origin, "item": record.kept_item}
        if record.duplicate:
            line["of"] = kept
            duplicates.add((record.origin, record.item))
        else:
            line["into"] = kept
        line["reason"] = record.reason
        yield line
    for entry in quarantine:
        if (entry.file, entry.item) in duplicates:
            continue
        line = {
            "conversation": entry.conversation,
            "file": entry.file,
            "item": entry.item,
            "id": entry.record_id,
            "fate": "quarantined",
            "reason": entry.error,
        }
        if entry.item is None:
            line["records"] = None
        yield line


def read_ledger(plan_dir: Path) -> Iterator[LedgerLine]:
    path = plan_dir / LEDGER
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise LedgerError(f"{path}: not found; run `migrator transform` again to write it") from exc
    with handle:
        for number, raw in enumerate(handle, 1):
            try:
                value: Any = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise LedgerError(f"{path}:{number}: not valid JSON ({exc}); run `migrator transform` again") from exc
            if not isinstance(value, dict) or value.get("fate") not in FATES:
                raise LedgerError(f"{path}:{number}: not a ledger line; run `migrator transform` again")
            yield cast(LedgerLine, value)


def has_record(line: LedgerLine) -> bool:
    """Every line stands for one record of the export, except a whole file quarantined and a record the export no
    longer holds."""
    return "records" not in line and line["fate"] != DELETED_IN_SOURCE
