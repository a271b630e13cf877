"""The loader's crash-safe journal: what already exists in Teams, keyed by plan keys.

Every state change is committed before the loader moves on, so after a
crash, a kill -9 or a lost response a re-run knows exactly what landed. It
holds Teams ids, states and Graph's error codes and request-ids, never a
token, a secret or a message body.

It is bound to one target (tenant and Graph host): a journal written against
one tenant must not make a run against another believe its teams exist.

`JournalStore` is what load, verify, reset and status use; two stores keep it:
`Journal` here (SQLite in WAL mode, the embedded default: one machine, nothing
to install) and `migrator.pgjournal.PostgresJournal` (several workers on several
machines). `migrator.journals.open_journal` picks one from `--journal`: a path
or a `postgresql://` URL.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from migrator.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS teams (
    team_key TEXT PRIMARY KEY, team_id TEXT, operation TEXT, state TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    conv_key TEXT PRIMARY KEY, team_key TEXT, graph_id TEXT, state TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (
    conv_key TEXT NOT NULL, upload_key TEXT NOT NULL, item_id TEXT NOT NULL, web_url TEXT NOT NULL,
    PRIMARY KEY (conv_key, upload_key));
CREATE TABLE IF NOT EXISTS drive_files (
    conv_key TEXT NOT NULL, upload_key TEXT NOT NULL, state TEXT NOT NULL, owner TEXT NOT NULL, drive_id TEXT,
    item_id TEXT, web_url TEXT, updated REAL NOT NULL, PRIMARY KEY (conv_key, upload_key));
CREATE TABLE IF NOT EXISTS messages (
    conv_key TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, message_id TEXT, how TEXT,
    error TEXT, request_id TEXT, updated REAL NOT NULL, PRIMARY KEY (conv_key, key));
CREATE TABLE IF NOT EXISTS members (
    team_key TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (team_key, user_id));
CREATE TABLE IF NOT EXISTS deleted_channels (
    team_key TEXT NOT NULL, name TEXT NOT NULL, membership TEXT NOT NULL, deleted_ms INTEGER NOT NULL);
"""

# Team states, in order: the POST was sent (outcome maybe unknown), the team exists,
# every channel and the team completed migration, members added.
REQUESTED, CREATED, COMPLETED, DONE = "requested", "created", "completed", "done"
POSTED, FAILED = "posted", "failed"
IMAGES_MOVED = "images-moved"  # a message's `how` when it was posted again with its inline images as files
SENT_AS_TEXT = "sent-as-text"  # … when it was posted again in its text form, its mentions and reactions refused
# A chat file's states (drive_files): the upload was sent (outcome maybe unknown), the file exists, it is shared with
# the chat (and then also in `uploads`, like a channel's file; its row stays, naming the drive `reset` deletes it from),
# or `reset --chat` deleted it (out of `uploads` again: the next load uploads it anew, and verify says it is gone).
UPLOADING, UPLOADED, SHARED, REMOVED = "uploading", "uploaded", "shared", "removed"


class JournalError(InputError):
    """The journal is missing, or it records a migration into another target: exit code 2."""


@dataclass(frozen=True, slots=True)
class TeamEntry:
    """A row of `teams`: how far the team's creation got."""

    team_id: str | None  # known once Teams named it (the POST's answer or its finished operation)
    operation: str | None  # the creation's operation URL, to poll when the run stopped before it finished
    state: str  # REQUESTED, CREATED, COMPLETED or DONE


@dataclass(frozen=True, slots=True)
class ConversationEntry:
    """A row of `conversations`: a channel or chat and how far its migration got."""

    graph_id: str | None  # the channel's or chat's id, once known
    state: str  # REQUESTED, CREATED or COMPLETED


@dataclass(frozen=True, slots=True)
class DriveFileEntry:
    """A row of `drive_files`: how far a chat file's upload to OneDrive got, before it was shared."""

    state: str  # UPLOADING, UPLOADED or SHARED
    owner: str  # whose OneDrive: the sender's, or the migration account's
    drive_id: str | None
    item_id: str | None
    web_url: str | None


@dataclass(frozen=True, slots=True)
class MessageEntry:
    """A row of `messages`: whether one plan line landed."""

    state: str  # POSTED or FAILED
    message_id: str | None
    how: str | None  # "posted" this run or "reconciled" (it had landed before)
    error: str | None


class JournalStore(Protocol):
    """The journal's rows, whichever database keeps them: each call that writes is committed when it returns."""

    @property
    def where(self) -> str:
        """The journal's location for messages: a path, or a URL without its password."""
        ...

    def close(self) -> None: ...
    def __enter__(self) -> JournalStore: ...
    def __exit__(self, *exc: object) -> None: ...
    def bind(self, target: str) -> None: ...
    def team(self, team_key: str) -> TeamEntry | None: ...
    def team_id(self, team_key: str) -> str | None: ...
    def team_key_of(self, team_id: str) -> str | None: ...
    def set_team(self, team_key: str, state: str, team_id: str | None = None, operation: str | None = None) -> None: ...
    def forget_team(self, team_key: str, conv_keys: list[str]) -> None: ...
    def note_deleted_channel(self, team_key: str, name: str, membership: str, deleted_ms: int) -> None: ...
    def deleted_channels(self, team_key: str, since_ms: int) -> list[tuple[str, int]]: ...
    def forget_conversation(self, conv_key: str) -> None: ...
    def conversation(self, conv_key: str) -> ConversationEntry | None: ...
    def team_conversations(self, team_key: str) -> dict[str, ConversationEntry]: ...
    def conversation_key_of(self, graph_id: str) -> str | None: ...
    def conversation_id(self, conv_key: str) -> str | None: ...
    def set_conversation(
        self, conv_key: str, team_key: str | None, state: str, graph_id: str | None = None
    ) -> None: ...
    def uploads(self, conv_key: str) -> dict[str, str]: ...
    def set_upload(self, conv_key: str, upload_key: str, item_id: str, web_url: str) -> None: ...
    def upload_items(self) -> set[str]: ...
    def drive_file(self, conv_key: str, upload_key: str) -> DriveFileEntry | None: ...
    def drive_files(self, conv_key: str) -> dict[str, DriveFileEntry]: ...
    def set_drive_file(
        self, conv_key: str, upload_key: str, state: str, owner: str, item: tuple[str, str, str] | None = None
    ) -> None: ...
    def shared_drive_file(self, conv_key: str, upload_key: str, item_id: str, web_url: str) -> None: ...
    def removed_drive_file(self, conv_key: str, upload_key: str) -> None: ...
    def messages(self, conv_key: str) -> dict[str, MessageEntry]: ...
    def posted(self, conv_key: str) -> dict[str, str]: ...
    def moved(self, conv_key: str) -> set[str]: ...
    def posted_as(self, conv_key: str, how: str) -> set[str]: ...
    def failures(self, conv_key: str) -> dict[str, str]: ...
    def mark_posted(self, conv_key: str, key: str, message_id: str, how: str = POSTED) -> None: ...
    def mark_failed(self, conv_key: str, key: str, error: str, request_id: str | None) -> None: ...
    def members(self, team_key: str) -> set[str]: ...
    def add_member(self, team_key: str, user_id: str) -> None: ...


class Lookups:
    """What both stores derive from their rows the same way (each store defines `team` and `conversation`)."""

    def team(self, team_key: str) -> TeamEntry | None:
        raise NotImplementedError

    def conversation(self, conv_key: str) -> ConversationEntry | None:
        raise NotImplementedError

    def team_id(self, team_key: str) -> str | None:
        entry = self.team(team_key)
        return entry.team_id if entry else None

    def conversation_id(self, conv_key: str) -> str | None:
        entry = self.conversation(conv_key)
        return entry.graph_id if entry else None


def failure_text(error: object, request_id: object) -> str:
    """A failed message's reason as reports show it, with Graph's request-id when Graph answered."""
    return f"{error} (request-id {request_id})" if request_id else str(error)


class Journal(Lookups):
    """The SQLite store: one file, one machine."""

    def __init__(self, path: Path, readonly: bool = False):
        self.path = Path(path)
        if readonly and not self.path.exists():
            raise JournalError(f"{self.path}: no journal here; run `migrator load` first")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        uri = f"file:{self.path}{'?mode=ro' if readonly else ''}"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.Lock()
        if not readonly:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # survives a process crash; fsync at checkpoints
            self._db.executescript(SCHEMA)

    @property
    def where(self) -> str:
        return str(self.path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, *args: object) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
        return row

    def _key(self, sql: str, *args: object) -> str | None:
        """The one text column `sql` selects, or None when no row matches."""
        row = self._one(sql, *args)
        return str(row[0]) if row else None

    # ------------------------------------------------------------- target
    def bind(self, target: str) -> None:
        """Refuse to mix targets: the journal's ids only mean something in one tenant."""
        bound = self._key("SELECT value FROM meta WHERE name = 'target'")
        if bound is None:
            with self._write() as db:
                db.execute("INSERT INTO meta VALUES ('target', ?)", (target,))
        elif bound != target:
            raise JournalError(
                f"{self.where} records a migration into {bound}, not {target}; "
                "use another --journal for this target (or delete this one only if that tenant is gone)"
            )

    # -------------------------------------------------------------- teams
    def team(self, team_key: str) -> TeamEntry | None:
        row = self._one("SELECT team_id, operation, state FROM teams WHERE team_key = ?", team_key)
        return TeamEntry(*row) if row else None

    def team_key_of(self, team_id: str) -> str | None:
        """Which plan team a Teams team already belongs to, so a lookup never adopts it twice."""
        return self._key("SELECT team_key FROM teams WHERE team_id = ?", team_id)

    def set_team(self, team_key: str, state: str, team_id: str | None = None, operation: str | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO teams VALUES (?, ?, ?, ?, ?) ON CONFLICT(team_key) DO UPDATE SET "
                "team_id = COALESCE(excluded.team_id, team_id), operation = COALESCE(excluded.operation, operation), "
                "state = excluded.state, updated = excluded.updated",
                (team_key, team_id, operation, state, time.time()),
            )

    def forget_team(self, team_key: str, conv_keys: list[str]) -> None:
        """After the team was deleted in Teams: its next load starts from scratch."""
        with self._write() as db:
            db.execute("DELETE FROM teams WHERE team_key = ?", (team_key,))
            db.execute("DELETE FROM members WHERE team_key = ?", (team_key,))
            db.execute("DELETE FROM deleted_channels WHERE team_key = ?", (team_key,))
            _forget_conversations(db, conv_keys)

    def note_deleted_channel(self, team_key: str, name: str, membership: str, deleted_ms: int) -> None:
        """A channel `reset --channel` deleted: Teams counts it against its team's channel limits for 30 days, and
        Graph lists no deleted channel, so only the journal can tell load about it."""
        with self._write() as db:
            db.execute(
                "INSERT INTO deleted_channels (team_key, name, membership, deleted_ms) VALUES (?, ?, ?, ?)",
                (team_key, name, membership, deleted_ms),
            )

    def deleted_channels(self, team_key: str, since_ms: int) -> list[tuple[str, int]]:
        """(membership, deleted_ms) of the team's channels deleted at or after `since_ms`, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT membership, deleted_ms FROM deleted_channels WHERE team_key = ? AND deleted_ms >= ? "
                "ORDER BY deleted_ms",
                (team_key, since_ms),
            ).fetchall()
        return [(str(m), int(ms)) for m, ms in rows]

    def forget_conversation(self, conv_key: str) -> None:
        """After the channel was deleted in Teams: its next load creates and fills it again."""
        with self._write() as db:
            _forget_conversations(db, [conv_key])

    # ------------------------------------------------------ conversations
    def conversation(self, conv_key: str) -> ConversationEntry | None:
        row = self._one("SELECT graph_id, state FROM conversations WHERE conv_key = ?", conv_key)
        return ConversationEntry(*row) if row else None

    def team_conversations(self, team_key: str) -> dict[str, ConversationEntry]:
        """Every channel of a team the journal knows, by plan key: what must be completed before the team."""
        with self._lock:
            rows = self._db.execute(
                "SELECT conv_key, graph_id, state FROM conversations WHERE team_key = ? ORDER BY conv_key", (team_key,)
            ).fetchall()
        return {key: ConversationEntry(graph_id, state) for key, graph_id, state in rows}

    def conversation_key_of(self, graph_id: str) -> str | None:
        """Which plan conversation a Teams channel or chat already belongs to, so a lookup never adopts it twice."""
        return self._key("SELECT conv_key FROM conversations WHERE graph_id = ?", graph_id)

    def set_conversation(self, conv_key: str, team_key: str | None, state: str, graph_id: str | None = None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?) ON CONFLICT(conv_key) DO UPDATE SET "
                "graph_id = COALESCE(excluded.graph_id, graph_id), state = excluded.state, updated = excluded.updated",
                (conv_key, team_key, graph_id, state, time.time()),
            )

    # ------------------------------------------------------------ uploads
    def uploads(self, conv_key: str) -> dict[str, str]:
        """Upload key → the file's webUrl, for every file already in the channel's folder."""
        with self._lock:
            rows = self._db.execute(
                "SELECT upload_key, web_url FROM uploads WHERE conv_key = ?", (conv_key,)
            ).fetchall()
        return dict(rows)

    def set_upload(self, conv_key: str, upload_key: str, item_id: str, web_url: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?)", (conv_key, upload_key, item_id, web_url))

    def upload_items(self) -> set[str]:
        """Every driveItem id the journal holds, so a reconciliation never adopts one file for two uploads."""
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id FROM uploads UNION SELECT item_id FROM drive_files WHERE item_id IS NOT NULL"
            ).fetchall()
        return {str(row[0]) for row in rows}

    # -------------------------------------------------------- chat files
    def drive_file(self, conv_key: str, upload_key: str) -> DriveFileEntry | None:
        row = self._one(
            "SELECT state, owner, drive_id, item_id, web_url FROM drive_files WHERE conv_key = ? AND upload_key = ?",
            conv_key,
            upload_key,
        )
        return DriveFileEntry(*row) if row else None

    def drive_files(self, conv_key: str) -> dict[str, DriveFileEntry]:
        """Upload key -> how far each of a chat's files got (verify reads the shared ones back). A journal that a load
        before chat files went to OneDrive wrote, opened read-only, has no such table: none."""
        if self._one("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'drive_files'") is None:
            return {}
        with self._lock:
            rows = self._db.execute(
                "SELECT upload_key, state, owner, drive_id, item_id, web_url FROM drive_files WHERE conv_key = ?",
                (conv_key,),
            ).fetchall()
        return {key: DriveFileEntry(*entry) for key, *entry in rows}

    def set_drive_file(
        self, conv_key: str, upload_key: str, state: str, owner: str, item: tuple[str, str, str] | None = None
    ) -> None:
        """Record a chat file's step; `item` is (drive id, item id, webUrl) once the file exists."""
        drive_id, item_id, web_url = item or (None, None, None)
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO drive_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (conv_key, upload_key, state, owner, drive_id, item_id, web_url, time.time()),
            )

    def shared_drive_file(self, conv_key: str, upload_key: str, item_id: str, web_url: str) -> None:
        """The chat file is shared with its chat: it becomes an upload like a channel's, in one transaction."""
        with self._write() as db:
            db.execute(
                "UPDATE drive_files SET state = ?, updated = ? WHERE conv_key = ? AND upload_key = ?",
                (SHARED, time.time(), conv_key, upload_key),
            )
            db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?)", (conv_key, upload_key, item_id, web_url))

    def removed_drive_file(self, conv_key: str, upload_key: str) -> None:
        """`reset --chat` deleted the file from OneDrive: no longer an upload of the chat, in one transaction."""
        with self._write() as db:
            db.execute(
                "UPDATE drive_files SET state = ?, updated = ? WHERE conv_key = ? AND upload_key = ?",
                (REMOVED, time.time(), conv_key, upload_key),
            )
            db.execute("DELETE FROM uploads WHERE conv_key = ? AND upload_key = ?", (conv_key, upload_key))

    # ----------------------------------------------------------- messages
    def messages(self, conv_key: str) -> dict[str, MessageEntry]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, state, message_id, how, error FROM messages WHERE conv_key = ?", (conv_key,)
            ).fetchall()
        return {key: MessageEntry(*entry) for key, *entry in rows}

    def posted(self, conv_key: str) -> dict[str, str]:
        """Plan key → Teams message id of every message known to have landed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, message_id FROM messages WHERE conv_key = ? AND state = ?", (conv_key, POSTED)
            ).fetchall()
        return dict(rows)

    def moved(self, conv_key: str) -> set[str]:
        """Plan keys of the messages posted again with their inline images as files (`stages/load/images.py`)."""
        return self.posted_as(conv_key, IMAGES_MOVED)

    def posted_as(self, conv_key: str, how: str) -> set[str]:
        """Plan keys of the messages posted in another form than planned: `IMAGES_MOVED` or `SENT_AS_TEXT`."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM messages WHERE conv_key = ? AND state = ? AND how = ?",
                (conv_key, POSTED, how),
            ).fetchall()
        return {key for (key,) in rows}

    def failures(self, conv_key: str) -> dict[str, str]:
        """Plan key → why the last load could not post it, with Graph's request-id when Graph answered."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, error, request_id FROM messages WHERE conv_key = ? AND state = ?", (conv_key, FAILED)
            ).fetchall()
        return {key: failure_text(error, request_id) for key, error, request_id in rows}

    def mark_posted(self, conv_key: str, key: str, message_id: str, how: str = POSTED) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, NULL, NULL, ?)",
                (conv_key, key, POSTED, message_id, how, time.time()),
            )

    def mark_failed(self, conv_key: str, key: str, error: str, request_id: str | None) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, NULL, NULL, ?, ?, ?)",
                (conv_key, key, FAILED, error, request_id, time.time()),
            )

    # ------------------------------------------------------------ members
    def members(self, team_key: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT user_id FROM members WHERE team_key = ?", (team_key,)).fetchall()
        return {row[0] for row in rows}

    def add_member(self, team_key: str, user_id: str) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (team_key, user_id))


def _forget_conversations(db: sqlite3.Connection, conv_keys: list[str]) -> None:
    for conv_key in conv_keys:
        for table in ("conversations", "uploads", "drive_files", "messages"):
            db.execute(f"DELETE FROM {table} WHERE conv_key = ?", (conv_key,))
