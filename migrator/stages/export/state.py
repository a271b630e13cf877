"""`DIR/state.json`: per export target what it covers, its sender filter, and where a run stopped.

`covered` lists the spans of `lastModifiedDateTime` whose every message is
on disk (see `coverage`); a span is added only when its last page was
written, so a later run fetches every part of its window no run completed.
The watermark is the newest `lastModifiedDateTime` seen, for the summary. While a run pages through a target,
the next page's link (the cursor) is saved after each page is on disk, so an
interrupted run resumes at the page it had not yet written instead of paying
for every page again. The file is replaced atomically and holds no token:
Graph's paging links carry only the query and a skip token.

The whole file is rewritten on a change, so with thousands of targets writing
it per change would cost more than the export; changes are written at most
once per `flush_seconds` (and always on close). A crash loses at most that
much: the pages after the last written cursor are fetched again and their
lines dropped as repeats, exactly as after a crash between checkpoints.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from migrator.errors import InputError
from migrator.stages.export import coverage
from migrator.stages.export.coverage import Span

STATE_FILE = "state.json"
LOCK_FILE = ".export.lock"
STATE_VERSION = 1


class StateError(InputError):
    """state.json cannot be used for this run; names the file and what to do."""


@dataclass
class Cursor:
    """Where an interrupted run of one target stopped, valid only for the same query."""

    url: str  # the @odata.nextLink of the first page not yet written
    filter: str | None
    model: str | None
    seen_max: str | None  # newest lastModifiedDateTime written by the interrupted run


@dataclass
class TargetState:
    sender_filter: str | None = None  # the identity/messageType group the archive was built with
    watermark: str | None = None
    completed_at: str | None = None
    cursor: Cursor | None = None
    covered: list[Span] = field(default_factory=list)  # absent in files of earlier versions: nothing known


@dataclass
class _File:
    version: int = STATE_VERSION
    targets: dict[str, TargetState] = field(default_factory=dict)


class ExportState:
    """Thread-safe: every target's worker records its progress here.

    Holds an exclusive lock on the folder while open: two runs appending to
    the same files would each write the lines the other just wrote.
    """

    def __init__(self, out_dir: Path, flush_seconds: float = 0.0) -> None:
        self.path = Path(out_dir) / STATE_FILE
        self._flush_seconds = flush_seconds
        self._written_at = float("-inf")
        self._dirty = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._folder_lock = open(self.path.with_name(LOCK_FILE), "a+")  # noqa: SIM115  (held until close())
        try:
            fcntl.flock(self._folder_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._folder_lock.close()
            raise StateError(
                f"{self.path.parent}: another export is writing into this folder; "
                "wait for it to finish or use another --out"
            ) from None
        self._lock = threading.Lock()
        try:
            self._data = self._read()
        except StateError:
            self.close()
            raise

    def close(self) -> None:
        """Write what is pending (even after an error: it only names lines already on disk), then unlock."""
        try:
            with self._lock:
                if self._dirty:
                    self._write()
        finally:
            self._folder_lock.close()  # closing releases the lock

    def __enter__(self) -> ExportState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> _File:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _File()
        except (OSError, ValueError) as exc:
            raise StateError(
                f"{self.path}: unreadable export state ({exc}); restore it from a backup, "
                "or export into a new --out folder"
            ) from None
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            raise StateError(f"{self.path}: not an export state of version {STATE_VERSION}; use a new --out folder")
        try:
            return _File(targets={key: _target(value) for key, value in raw.get("targets", {}).items()})
        except (TypeError, AttributeError, ValueError) as exc:
            raise StateError(f"{self.path}: malformed export state ({exc}); use a new --out folder") from None

    def target(self, key: str) -> TargetState:
        with self._lock:
            return _copy(self._data.targets.get(key, TargetState()))

    def check_filter(self, key: str, sender_filter: str | None) -> None:
        """An archive built with one sender filter must not silently gain another's messages."""
        known = self.target(key)
        if (known.watermark or known.cursor) and known.sender_filter != sender_filter:
            raise StateError(
                f"{self.path}: {key} was exported with the sender filter {known.sender_filter or '(everyone)'!r}, "
                f"this run asks for {sender_filter or '(everyone)'!r}; an incremental export keeps its filter, "
                "so export a different selection into another --out folder"
            )

    def save_cursor(self, key: str, sender_filter: str | None, cursor: Cursor) -> None:
        with self._lock:
            entry = self._data.targets.setdefault(key, TargetState())
            entry.sender_filter, entry.cursor = sender_filter, cursor
            self._changed()

    def cover(self, key: str, sender_filter: str | None, covered: list[Span], watermark: str | None) -> None:
        """A span's last page is on disk: it joins the coverage and the cursor into it is spent."""
        with self._lock:
            entry = self._data.targets.setdefault(key, TargetState())
            entry.sender_filter, entry.cursor = sender_filter, None
            entry.covered, entry.watermark = coverage.merge(covered), watermark
            self._changed()

    def complete(self, key: str, sender_filter: str | None, watermark: str | None, completed_at: str) -> None:
        with self._lock:
            entry = self._data.targets.setdefault(key, TargetState())
            entry.sender_filter, entry.cursor, entry.completed_at = sender_filter, None, completed_at
            entry.watermark = watermark
            self._changed()

    def _changed(self) -> None:
        self._dirty = True
        if time.monotonic() - self._written_at >= self._flush_seconds:
            self._write()

    def _write(self) -> None:
        """Replace the file atomically: a crash leaves the old state or the new one, never half of each."""
        tmp = self.path.with_name(f".{STATE_FILE}.tmp")  # writers hold self._lock
        data = asdict(self._data)
        for key, target in self._data.targets.items():
            data["targets"][key]["covered"] = coverage.to_json(target.covered)
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)
        self._dirty, self._written_at = False, time.monotonic()


def _target(raw: dict[str, Any]) -> TargetState:
    cursor = raw.get("cursor")
    return TargetState(
        sender_filter=raw.get("sender_filter"),
        watermark=raw.get("watermark"),
        completed_at=raw.get("completed_at"),
        cursor=Cursor(**cursor) if cursor else None,
        covered=coverage.from_json(raw.get("covered", [])),
    )


def _copy(state: TargetState) -> TargetState:
    return TargetState(
        state.sender_filter,
        state.watermark,
        state.completed_at,
        Cursor(**asdict(state.cursor)) if state.cursor else None,
        list(state.covered),
    )
