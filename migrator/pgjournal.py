"""The journal in PostgreSQL: the SQLite journal's rows and guarantees, shared by workers on several machines.

`--journal postgresql://user@host:5432/db?schema=NAME` (or MIGRATOR_JOURNAL_URL)
selects it. Its tables live in their own PostgreSQL schema (`schema=`, default
`migrator`), so one database can hold several migrations. Every write is
committed before the call returns, as with SQLite: a row is written before a
request is sent and completed after its answer. The rows of posted messages that
a worker's threads write at the same moment share one transaction (group commit,
migrator/groupcommit.py); each caller still returns only once its row is in.

The tool creates the schema and records its version in `meta`; a journal of
another version is upgraded when an upgrade exists (`UPGRADES`) and refused with
the reason otherwise. Creation and upgrade hold an advisory lock, so workers
starting together do it once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from migrator.groupcommit import GroupCommit
from migrator.journal import (
    FAILED,
    IMAGES_MOVED,
    POSTED,
    REMOVED,
    SHARED,
    ConversationEntry,
    DriveFileEntry,
    JournalError,
    Lookups,
    MessageEntry,
    TeamEntry,
    failure_text,
)

SCHEMA_VERSION = 2
DEFAULT_SCHEMA = "migrator"
POOL_SIZE = 16  # connections per process: load's threads share them, each holding one only for one statement
CONNECT_TIMEOUT = 10  # seconds to reach the server before the journal is refused as unreachable
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Version 1: the SQLite journal's tables, with PostgreSQL's types.
TABLES_V1 = [
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE teams (team_key TEXT PRIMARY KEY, team_id TEXT, operation TEXT, state TEXT NOT NULL, "
    "updated DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE conversations (conv_key TEXT PRIMARY KEY, team_key TEXT, graph_id TEXT, state TEXT NOT NULL, "
    "updated DOUBLE PRECISION NOT NULL)",
    "CREATE INDEX conversations_team ON conversations (team_key)",
    "CREATE INDEX conversations_graph_id ON conversations (graph_id)",
    "CREATE TABLE uploads (conv_key TEXT NOT NULL, upload_key TEXT NOT NULL, item_id TEXT NOT NULL, "
    "web_url TEXT NOT NULL, PRIMARY KEY (conv_key, upload_key))",
    "CREATE TABLE drive_files (conv_key TEXT NOT NULL, upload_key TEXT NOT NULL, state TEXT NOT NULL, "
    "owner TEXT NOT NULL, drive_id TEXT, item_id TEXT, web_url TEXT, updated DOUBLE PRECISION NOT NULL, "
    "PRIMARY KEY (conv_key, upload_key))",
    "CREATE TABLE messages (conv_key TEXT NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, message_id TEXT, "
    "how TEXT, error TEXT, request_id TEXT, updated DOUBLE PRECISION NOT NULL, PRIMARY KEY (conv_key, key))",
    "CREATE TABLE members (team_key TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (team_key, user_id))",
    "CREATE TABLE deleted_channels (team_key TEXT NOT NULL, name TEXT NOT NULL, membership TEXT NOT NULL, "
    "deleted_ms BIGINT NOT NULL)",
]
# Version 2: the published plan and the units workers claim (migrator/workqueue.py).
PUBLISHED_V2 = [
    "CREATE TABLE plan_files (path TEXT PRIMARY KEY, content BYTEA NOT NULL, sha256 TEXT NOT NULL)",
    "CREATE TABLE work (unit TEXT PRIMARY KEY, kind TEXT NOT NULL, team_key TEXT, conv_key TEXT, "
    "name TEXT NOT NULL, planned INTEGER NOT NULL, priority DOUBLE PRECISION NOT NULL, depends TEXT[] NOT NULL, "
    "state TEXT NOT NULL, owner TEXT, app TEXT, expires DOUBLE PRECISION, started DOUBLE PRECISION, "
    "finished DOUBLE PRECISION, claims INTEGER NOT NULL DEFAULT 0, note TEXT)",
    "CREATE INDEX work_todo ON work (state, priority DESC)",
]
# version → the statements that bring a journal of that version to the next one.
UPGRADES: dict[int, list[str]] = {1: PUBLISHED_V2}


def split_url(url: str) -> tuple[str, str]:
    """(the URL libpq reads, the schema named by its `schema=` parameter)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((value for name, value in query if name == "schema"), DEFAULT_SCHEMA)
    if not _IDENTIFIER.fullmatch(schema):
        raise JournalError(f"schema={schema!r}: use lower-case letters, digits and _ (a PostgreSQL schema name)")
    rest = urlencode([(name, value) for name, value in query if name != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


def redact(url: str) -> str:
    """The URL without its password, for messages and reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _connect(conninfo: str, schema: str, autocommit: bool = False) -> psycopg.Connection[tuple[Any, ...]]:
    try:
        return psycopg.connect(
            conninfo, connect_timeout=CONNECT_TIMEOUT, options=f"-c search_path={schema}", autocommit=autocommit
        )
    except psycopg.OperationalError as error:
        raise JournalError(f"cannot reach the journal's PostgreSQL: {str(error).strip()}") from None


def postgres_journal_exists(url: str) -> bool:
    conninfo, schema = split_url(url)
    with _connect(conninfo, schema, autocommit=True) as conn:
        return _version(conn, schema) is not None


def _version(conn: psycopg.Connection[tuple[Any, ...]], schema: str) -> int | None:
    """The journal's schema version, or None when the schema holds no journal."""
    row = conn.execute("SELECT to_regclass(%s)", (f"{schema}.meta",)).fetchone()
    if row is None or row[0] is None:
        return None
    found = conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
    return int(found[0]) if found else 0


def prepare(conn: psycopg.Connection[tuple[Any, ...]], schema: str, where: str, readonly: bool) -> None:
    """Create or upgrade the journal's schema (under an advisory lock), or refuse it with the reason."""
    with conn.transaction():
        if not readonly:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"migrator journal {schema}",))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        version = _version(conn, schema)
        if version is None:
            if readonly:
                raise JournalError(f"{where}: no journal here; run `migrator load` first")
            for statement in TABLES_V1:
                conn.execute(statement)
            conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
            version = 1
        while version < SCHEMA_VERSION and not readonly and version in UPGRADES:  # a new journal too: 1, then on
            for statement in UPGRADES[version]:
                conn.execute(statement)
            version += 1
            conn.execute("UPDATE meta SET value = %s WHERE name = 'schema_version'", (str(version),))
        if version != SCHEMA_VERSION:
            raise JournalError(_refusal(where, version))


def _refusal(where: str, version: int) -> str:
    if version in UPGRADES:
        return (
            f"{where}: this journal has schema version {version}, written by an older migrator; a command that "
            f"writes it (`migrator load`) upgrades it to this migrator's version {SCHEMA_VERSION} first"
        )
    if version > SCHEMA_VERSION:
        return (
            f"{where}: this journal has schema version {version}, written by a newer migrator than this one "
            f"(version {SCHEMA_VERSION}); run the newer migrator"
        )
    return (
        f"{where}: this journal has schema version {version}, and this migrator (version {SCHEMA_VERSION}) "
        "has no upgrade from it; finish the migration with the migrator that started it"
    )


class PostgresJournal(Lookups):
    """The PostgreSQL store: thread-safe through a connection pool, shared by processes through transactions."""

    def __init__(self, url: str, readonly: bool = False, pool_size: int = POOL_SIZE):
        conninfo, self.schema = split_url(url)
        self._where = redact(url)
        with _connect(conninfo, self.schema) as conn:
            prepare(conn, self.schema, self._where, readonly)
        self.pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            # autocommit: a one-statement write commits in its own round trip, without a COMMIT after it (a quarter of a
            # worker's CPU per message went to the journal); `transaction` opens one where several statements must be.
            kwargs={"options": f"-c search_path={self.schema}", "connect_timeout": CONNECT_TIMEOUT, "autocommit": True},
            open=False,
        )
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except PoolTimeout:
            raise JournalError(f"{self._where}: the journal's PostgreSQL accepts no more connections") from None
        # A posted message's row: its loader thread waits for the commit, but commits with the others waiting then.
        self._message_rows: GroupCommit[tuple[Any, ...]] = GroupCommit(self._commit_messages)

    @property
    def where(self) -> str:
        return self._where

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> PostgresJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """One connection in one transaction, committed when the block ends (rolled back if it raises)."""
        with self.pool.connection() as conn, conn.transaction():
            yield conn

    def execute(self, statement: str, *args: object) -> None:
        """One statement, committed on its own."""
        with self.pool.connection() as conn:
            conn.execute(statement, args)

    def query(self, statement: str, *args: object) -> list[tuple[Any, ...]]:
        """One statement's rows (a statement that writes is committed on its own)."""
        with self.pool.connection() as conn:
            return conn.execute(statement, args).fetchall()

    def _one(self, statement: str, *args: object) -> tuple[Any, ...] | None:
        rows = self.query(statement, *args)
        return rows[0] if rows else None

    # ------------------------------------------------------------- target
    def bind(self, target: str) -> None:
        """Refuse to mix targets: the journal's ids only mean something in one tenant."""
        with self.transaction() as conn:
            conn.execute("INSERT INTO meta VALUES ('target', %s) ON CONFLICT (name) DO NOTHING", (target,))
            row = conn.execute("SELECT value FROM meta WHERE name = 'target'").fetchone()
        bound = row[0] if row else target
        if bound != target:
            raise JournalError(
                f"{self._where} records a migration into {bound}, not {target}; "
                "use another --journal for this target (or drop its schema only if that tenant is gone)"
            )

    # -------------------------------------------------------------- teams
    def team(self, team_key: str) -> TeamEntry | None:
        row = self._one("SELECT team_id, operation, state FROM teams WHERE team_key = %s", team_key)
        return TeamEntry(*row) if row else None

    def team_key_of(self, team_id: str) -> str | None:
        row = self._one("SELECT team_key FROM teams WHERE team_id = %s", team_id)
        return str(row[0]) if row else None

    def set_team(self, team_key: str, state: str, team_id: str | None = None, operation: str | None = None) -> None:
        self.execute(
            "INSERT INTO teams VALUES (%s, %s, %s, %s, %s) ON CONFLICT (team_key) DO UPDATE SET "
            "team_id = COALESCE(excluded.team_id, teams.team_id), "
            "operation = COALESCE(excluded.operation, teams.operation), "
            "state = excluded.state, updated = excluded.updated",
            team_key,
            team_id,
            operation,
            state,
            time.time(),
        )

    def forget_team(self, team_key: str, conv_keys: list[str]) -> None:
        """After the team was deleted in Teams: its next load starts from scratch."""
        with self.transaction() as conn:
            for table in ("teams", "members", "deleted_channels"):
                conn.execute(sql.SQL("DELETE FROM {} WHERE team_key = %s").format(sql.Identifier(table)), (team_key,))
            _forget_conversations(conn, conv_keys)

    def note_deleted_channel(self, team_key: str, name: str, membership: str, deleted_ms: int) -> None:
        """A channel `reset --channel` deleted: it counts against its team's channel limits for 30 days."""
        self.execute("INSERT INTO deleted_channels VALUES (%s, %s, %s, %s)", team_key, name, membership, deleted_ms)

    def deleted_channels(self, team_key: str, since_ms: int) -> list[tuple[str, int]]:
        rows = self.query(
            "SELECT membership, deleted_ms FROM deleted_channels WHERE team_key = %s AND deleted_ms >= %s "
            "ORDER BY deleted_ms",
            team_key,
            since_ms,
        )
        return [(str(m), int(ms)) for m, ms in rows]

    def forget_conversation(self, conv_key: str) -> None:
        with self.transaction() as conn:
            _forget_conversations(conn, [conv_key])

    # ------------------------------------------------------ conversations
    def conversation(self, conv_key: str) -> ConversationEntry | None:
        row = self._one("SELECT graph_id, state FROM conversations WHERE conv_key = %s", conv_key)
        return ConversationEntry(*row) if row else None

    def team_conversations(self, team_key: str) -> dict[str, ConversationEntry]:
        rows = self.query(
            "SELECT conv_key, graph_id, state FROM conversations WHERE team_key = %s ORDER BY conv_key", team_key
        )
        return {key: ConversationEntry(graph_id, state) for key, graph_id, state in rows}

    def conversation_key_of(self, graph_id: str) -> str | None:
        row = self._one("SELECT conv_key FROM conversations WHERE graph_id = %s", graph_id)
        return str(row[0]) if row else None

    def set_conversation(self, conv_key: str, team_key: str | None, state: str, graph_id: str | None = None) -> None:
        self.execute(
            "INSERT INTO conversations VALUES (%s, %s, %s, %s, %s) ON CONFLICT (conv_key) DO UPDATE SET "
            "graph_id = COALESCE(excluded.graph_id, conversations.graph_id), state = excluded.state, "
            "updated = excluded.updated",
            conv_key,
            team_key,
            graph_id,
            state,
            time.time(),
        )

    # ------------------------------------------------------------ uploads
    def uploads(self, conv_key: str) -> dict[str, str]:
        return dict(self.query("SELECT upload_key, web_url FROM uploads WHERE conv_key = %s", conv_key))

    def set_upload(self, conv_key: str, upload_key: str, item_id: str, web_url: str) -> None:
        with self.transaction() as conn:
            _upsert_upload(conn, conv_key, upload_key, item_id, web_url)

    def upload_items(self) -> set[str]:
        rows = self.query("SELECT item_id FROM uploads UNION SELECT item_id FROM drive_files WHERE item_id IS NOT NULL")
        return {str(row[0]) for row in rows}

    # -------------------------------------------------------- chat files
    def drive_file(self, conv_key: str, upload_key: str) -> DriveFileEntry | None:
        row = self._one(
            "SELECT state, owner, drive_id, item_id, web_url FROM drive_files WHERE conv_key = %s AND upload_key = %s",
            conv_key,
            upload_key,
        )
        return DriveFileEntry(*row) if row else None

    def drive_files(self, conv_key: str) -> dict[str, DriveFileEntry]:
        rows = self.query(
            "SELECT upload_key, state, owner, drive_id, item_id, web_url FROM drive_files WHERE conv_key = %s",
            conv_key,
        )
        return {key: DriveFileEntry(*entry) for key, *entry in rows}

    def set_drive_file(
        self, conv_key: str, upload_key: str, state: str, owner: str, item: tuple[str, str, str] | None = None
    ) -> None:
        drive_id, item_id, web_url = item or (None, None, None)
        self.execute(
            "INSERT INTO drive_files VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (conv_key, upload_key) DO UPDATE SET state = excluded.state, owner = excluded.owner, "
            "drive_id = excluded.drive_id, item_id = excluded.item_id, web_url = excluded.web_url, "
            "updated = excluded.updated",
            conv_key,
            upload_key,
            state,
            owner,
            drive_id,
            item_id,
            web_url,
            time.time(),
        )

    def shared_drive_file(self, conv_key: str, upload_key: str, item_id: str, web_url: str) -> None:
        """The chat file is shared with its chat: it becomes an upload like a channel's, in one transaction."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE drive_files SET state = %s, updated = %s WHERE conv_key = %s AND upload_key = %s",
                (SHARED, time.time(), conv_key, upload_key),
            )
            _upsert_upload(conn, conv_key, upload_key, item_id, web_url)

    def removed_drive_file(self, conv_key: str, upload_key: str) -> None:
        """`reset --chat` deleted the file from OneDrive: no longer an upload of the chat, in one transaction."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE drive_files SET state = %s, updated = %s WHERE conv_key = %s AND upload_key = %s",
                (REMOVED, time.time(), conv_key, upload_key),
            )
            conn.execute("DELETE FROM uploads WHERE conv_key = %s AND upload_key = %s", (conv_key, upload_key))

    # ----------------------------------------------------------- messages
    def messages(self, conv_key: str) -> dict[str, MessageEntry]:
        rows = self.query("SELECT key, state, message_id, how, error FROM messages WHERE conv_key = %s", conv_key)
        return {key: MessageEntry(*entry) for key, *entry in rows}

    def posted(self, conv_key: str) -> dict[str, str]:
        return dict(
            self.query("SELECT key, message_id FROM messages WHERE conv_key = %s AND state = %s", conv_key, POSTED)
        )

    def moved(self, conv_key: str) -> set[str]:
        return self.posted_as(conv_key, IMAGES_MOVED)

    def posted_as(self, conv_key: str, how: str) -> set[str]:
        """Plan keys of the messages posted in another form than planned: `IMAGES_MOVED` or `SENT_AS_TEXT`."""
        rows = self.query(
            "SELECT key FROM messages WHERE conv_key = %s AND state = %s AND how = %s", conv_key, POSTED, how
        )
        return {key for (key,) in rows}

    def failures(self, conv_key: str) -> dict[str, str]:
        rows = self.query(
            "SELECT key, error, request_id FROM messages WHERE conv_key = %s AND state = %s", conv_key, FAILED
        )
        return {key: failure_text(error, request_id) for key, error, request_id in rows}

    def mark_posted(self, conv_key: str, key: str, message_id: str, how: str = POSTED) -> None:
        self._set_message(conv_key, key, POSTED, message_id, how, None, None)

    def mark_failed(self, conv_key: str, key: str, error: str, request_id: str | None) -> None:
        self._set_message(conv_key, key, FAILED, None, None, error, request_id)

    def _set_message(self, conv_key: str, key: str, *row: str | None) -> None:
        self._message_rows.write((conv_key, key, *row, time.time()))

    def _commit_messages(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """One transaction for a group commit's message rows. A key written twice in the batch keeps its last
        row, and the rows go in key order, so two workers' batches never lock the same rows in opposite orders."""
        latest = {(row[0], row[1]): row for row in rows}
        with self.transaction() as conn, conn.cursor() as cursor:
            cursor.executemany(_UPSERT_MESSAGE, [latest[key] for key in sorted(latest)])

    # ------------------------------------------------------------ members
    def members(self, team_key: str) -> set[str]:
        return {str(row[0]) for row in self.query("SELECT user_id FROM members WHERE team_key = %s", team_key)}

    def add_member(self, team_key: str, user_id: str) -> None:
        self.execute("INSERT INTO members VALUES (%s, %s) ON CONFLICT DO NOTHING", team_key, user_id)


_UPSERT_MESSAGE = (
    "INSERT INTO messages VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (conv_key, key) DO UPDATE SET "
    "state = excluded.state, message_id = excluded.message_id, how = excluded.how, error = excluded.error, "
    "request_id = excluded.request_id, updated = excluded.updated"
)


def _upsert_upload(conn: psycopg.Connection[tuple[Any, ...]], *row: str) -> None:
    conn.execute(
        "INSERT INTO uploads VALUES (%s, %s, %s, %s) ON CONFLICT (conv_key, upload_key) DO UPDATE SET "
        "item_id = excluded.item_id, web_url = excluded.web_url",
        row,
    )


def _forget_conversations(conn: psycopg.Connection[tuple[Any, ...]], conv_keys: list[str]) -> None:
    for table in ("conversations", "uploads", "drive_files", "messages"):
        conn.execute(sql.SQL("DELETE FROM {} WHERE conv_key = ANY(%s)").format(sql.Identifier(table)), (conv_keys,))
