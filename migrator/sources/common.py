"""What the readers share: the reader base class, times, text formats, JSON lines, and the spool.

`ExportReader` is every reader's set-up. Slack stores a conversation's
messages in day files, which its reader streams as they are. Mattermost,
Discord and Teams exports do not: Mattermost interleaves every channel in one
JSONL file, Teams appends edited versions of a message to the end of its file,
and Discord replies point at a message by id. So those readers derive from
`SpooledExport`: they copy their records once into a `Spool` (SQLite in a
temporary folder) and stream them back per conversation in time order, a day
at a time: memory stays flat however large the export, and the source file is
read once."""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any, Self

from migrator.model import Conversation, Day, File, Ignored, Message, Quarantined, User, Workspace, micros_to_iso
from migrator.sources.archive import DEFAULT_ZIP_LIMITS, ExportTree, ZipLimits, member_of, open_tree

# `Message.extra[TEXT_FORMAT]` says how `Message.text` is written; absent means Slack mrkdwn.
TEXT_FORMAT = "text_format"
MARKDOWN = "markdown"  # Mattermost: CommonMark with @username mentions and :emoji: names
DISCORD_MARKDOWN = "discord-markdown"  # DiscordChatExporter: Discord markdown, mentions already rendered as @name
HTML = "html"  # Teams: the chatMessage body as Teams stored it, to be kept (mentions and images re-pointed)
PLAIN = "plain"  # text shown as written (Teams text bodies, the descriptions readers write for system events)
# `Message.extra[MENTION_NAMES]`: the names a source wrote its mentions as (`@Tim 'mithro' Ansell`), each with the
# person's id, for sources that write names rather than ids (DiscordChatExporter).
MENTION_NAMES = "mention_names"
# `File.extra[PLACEHOLDER_REASON]`: why the bytes are not in the export, in the source's own words (default: Slack's).
PLACEHOLDER_REASON = "placeholder_reason"

__all__ = [
    "DISCORD_MARKDOWN",
    "ExportReader",
    "HTML",
    "LONE_SURROGATE",
    "MARKDOWN",
    "MENTION_NAMES",
    "PLACEHOLDER_REASON",
    "PLAIN",
    "SURROGATE_ESCAPE",
    "TEXT_FORMAT",
    "Refused",
    "Repairs",
    "Spool",
    "SpooledExport",
    "Spooled",
    "describe",
    "dicts",
    "group_days",
    "iso_to_micros",
    "loads_repaired",
    "open_export",
    "micros_to_ts",
    "ms_to_micros",
    "read_json_lines",
    "repair_surrogates",
    "str_or_none",
]

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?", re.IGNORECASE | re.ASCII
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# JSON's escape for a UTF-16 surrogate (\uD800 to \uDFFF), paired or not: text without one cannot decode
# to a lone surrogate.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # any surrogate in a str: json has already joined each whole pair
_replace_surrogates = partial(LONE_SURROGATE.subn, "\ufffd")  # (text with U+FFFD for each surrogate, how many)


class Refused(Exception):
    """One record cannot be used; the reader quarantines it with this message.

    Control flow inside a reader, never seen by the user (the quarantine lists the record instead), so it is not
    a `MigratorError`.
    """


class Repairs(dict[str, int]):
    """Per export file, how many of its strings had broken characters replaced by U+FFFD (`Source.repaired`)."""

    def add(self, file: str, strings: int) -> None:
        if strings:
            self[file] = self.get(file, 0) + strings


def describe(exc: Exception) -> str:
    """One wording for unreadable JSON across readers, for the quarantine."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text (byte {exc.start}: {exc.reason})"
    return f"cannot be read ({exc})"


def str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def dicts(value: Any) -> list[dict[str, Any]]:
    """A list of objects from a field that may be null, missing or malformed."""
    return [v for v in value if isinstance(v, dict)] if value and isinstance(value, list) else []


def repair_surrogates(value: Any) -> tuple[Any, int]:
    """The decoded JSON `value` with every lone UTF-16 surrogate replaced by U+FFFD, and how many strings changed.

    JSON may escape half of a UTF-16 pair on its own (`"\\ud83d"`, an emoji cut in two); Python's json accepts it
    and yields a str that has no UTF-8 form, so every later write of it would fail. A complete pair is one
    character once decoded and stays. Dict keys are repaired too. Containers are changed in place and walked
    with a stack, not recursion: what json could nest, this can walk.
    """
    holder = [value]
    changed = 0
    stack: list[Any] = [holder]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if any(LONE_SURROGATE.search(key) for key in item):
                pairs = list(item.items())
                item.clear()
                for key, child in pairs:
                    fixed, found = _replace_surrogates(key)
                    item[fixed] = child
                    changed += bool(found)
            children: Iterable[tuple[Any, Any]] = item.items()
        else:
            children = enumerate(item)
        for slot, child in children:
            if isinstance(child, str):
                fixed, found = _replace_surrogates(child)
                if found:
                    item[slot] = fixed
                    changed += 1
            elif isinstance(child, (dict, list)):
                stack.append(child)
    return holder[0], changed


def loads_repaired(text: str) -> tuple[Any, int]:
    """`json.loads(text)` with lone surrogates repaired (`repair_surrogates`), and how many strings that changed.

    The walk runs only when the text holds a surrogate escape at all, so ordinary text pays one scan.
    """
    value = json.loads(text)
    return repair_surrogates(value) if SURROGATE_ESCAPE.search(text) else (value, 0)


def micros_to_ts(us: int) -> str:
    """The model's `ts` ("SECONDS.MICROS") for a time the source gives in another form."""
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def ms_to_micros(value: Any) -> int:
    """Epoch milliseconds (Mattermost's `create_at`) as integer microseconds."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Refused(f"time {value!r} is not epoch milliseconds like 1704103200000")
    return value * 1000


def iso_to_micros(value: Any) -> int:
    """Exact UTC microseconds of an ISO-8601 time (Discord's and Graph's), never through a float.

    A zone-less time is UTC, as Graph means it; digits finer than a microsecond
    must be zero (.NET writes seven), otherwise two messages could share a time.
    """
    match = _ISO.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise Refused(f"time {value!r} is not ISO-8601 like 2024-01-01T10:00:00.000+00:00")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    fraction = fraction or ""
    if fraction[6:].strip("0"):
        raise Refused(f"time {value!r} is finer than a microsecond")
    try:
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError as exc:
        raise Refused(f"time {value!r} is not a date ({exc})") from exc
    us = (moment - _EPOCH) // _MICROSECOND + int(fraction[:6].ljust(6, "0"))
    if zone and zone.upper() != "Z":
        digits = zone[1:].replace(":", "")
        offset = (int(digits[:2]) * 60 + int(digits[2:])) * 60_000_000
        us -= offset if zone[0] == "+" else -offset
    return us


def read_json_lines(handle: IO[bytes], name: str, repairs: Repairs) -> Iterator[tuple[int, Any]]:
    """(line number, value) per non-blank line of the file `name`; a line that is not JSON yields its Refused error
    instead. Broken characters are replaced and counted in `repairs`."""
    for number, raw in enumerate(handle, 1):
        if not raw.strip():
            continue
        try:
            value, repaired = loads_repaired(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
            repairs.add(name, repaired)
            yield number, value
        except json.JSONDecodeError as exc:
            yield number, Refused(f"not valid JSON (column {exc.colno}: {exc.msg}); fix the line or export again")
        except (ValueError, UnicodeDecodeError) as exc:
            yield number, Refused(f"{describe(exc)}; fix the line or export again")


@dataclass(frozen=True, slots=True)
class Spooled:
    """One record back from the spool, with what the reader learnt about it while copying."""

    record_id: str
    us: int
    root_us: int | None  # the thread root's time when this record is a reply whose root is in the spool
    origin: str
    item: int
    payload: Any


class Spool:
    """Records per conversation on disk, streamed back in time order.

    A record is keyed by (conversation, id): adding a key again keeps the
    version with the greater `version` string (Graph's lastModifiedDateTime),
    so an archive that appended an edit or a re-fetched page yields each
    message once.
    """

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="migrator-spool-")
        self._db = sqlite3.connect(Path(self._folder.name) / "spool.sqlite")
        self._db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE records (
                conversation TEXT NOT NULL, id TEXT NOT NULL, us INTEGER NOT NULL, seq INTEGER NOT NULL,
                root_id TEXT, version TEXT NOT NULL, origin TEXT NOT NULL, item INTEGER NOT NULL, payload TEXT NOT NULL,
                PRIMARY KEY (conversation, id)
            );
            CREATE INDEX by_time ON records (conversation, us, seq);
            """
        )
        self._seq = 0

    def add(
        self,
        conversation: str,
        record_id: str,
        us: int,
        payload: Any,
        origin: str,
        item: int,
        *,
        root_id: str | None = None,
        version: str = "",
    ) -> None:
        self._seq += 1
        self._db.execute(
            """INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (conversation, id) DO UPDATE SET
                 us = excluded.us, root_id = excluded.root_id, version = excluded.version, origin = excluded.origin,
                 item = excluded.item, payload = excluded.payload
               WHERE excluded.version > records.version""",
            (
                conversation,
                record_id,
                us,
                self._seq,
                root_id,
                version,
                origin,
                item,
                json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            ),
        )

    def root_of(self, conversation: str, record_id: str) -> str | None:
        """The thread root of a stored record (itself when it is a root), or None when it is not stored."""
        row = self._db.execute(
            "SELECT root_id FROM records WHERE conversation = ? AND id = ?", (conversation, record_id)
        ).fetchone()
        return None if row is None else (row[0] or record_id)

    def count(self, conversation: str) -> int:
        return int(
            self._db.execute("SELECT count(*) FROM records WHERE conversation = ?", (conversation,)).fetchone()[0]
        )

    def records(self, conversation: str) -> Iterator[Spooled]:
        """A conversation's records, oldest first (ties in the order they were added)."""
        cursor = self._db.execute(
            """SELECT r.id, r.us, root.us, r.origin, r.item, r.payload FROM records r
               LEFT JOIN records root ON root.conversation = r.conversation AND root.id = r.root_id
               WHERE r.conversation = ? ORDER BY r.us, r.seq""",
            (conversation,),
        )
        while rows := cursor.fetchmany(500):
            for record_id, us, root_us, origin, item, payload in rows:
                yield Spooled(record_id, us, root_us, origin, item, json.loads(payload))

    def close(self) -> None:
        self._db.close()
        self._folder.cleanup()


def group_days(messages: Iterator[tuple[str, Any]]) -> Iterator[Day]:
    """(origin, message) pairs in time order into one `Day` per UTC date, holding one day at a time."""
    current: Day | None = None
    for origin, message in messages:
        date = micros_to_iso(message.us)[:10]
        if current is None or current.date != date:
            if current is not None:
                yield current
            current = Day(file=origin, date=date, messages=[])
        current.messages.append(message)
    if current is not None:
        yield current


class SingleFileTree:
    """One exported file given on its own (a Discord channel's JSON, a Mattermost JSONL), as an `ExportTree`."""

    def __init__(self, path: Path) -> None:
        self.location = str(path)
        self.skipped: list[Ignored] = []
        self._path = path

    def names(self) -> list[str]:
        return [self._path.name]

    def open(self, name: str) -> IO[bytes]:
        if name != self._path.name:
            raise FileNotFoundError(f"{name} is not in the export: only {self._path.name} was given")
        return self._path.open("rb")

    def read(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def close(self) -> None:
        """Nothing to release: the file is opened per read."""


def open_export(path: Path, single_suffix: str, limits: ZipLimits, expected: str) -> ExportTree:
    """A zip or folder through `archive.open_tree` (its safety checks), or one bare file of the format's own kind;
    `expected` says what to give instead of anything else."""
    if path.is_file() and path.suffix.lower() == single_suffix and not zipfile.is_zipfile(path):
        return SingleFileTree(path)
    return open_tree(path, limits, expected)


class ExportReader:
    """The `migrator.model.Source` set-up every reader shares: its lists, the export tree, closing on failure.

    A reader says how its export is opened (`_open_tree`), reads what it needs
    up front (`_load`, which sets `workspace` and fills `users`) and streams a
    conversation's days (`days`); `messages`, files and closing are the same for all.
    """

    kind: str
    workspace: Workspace
    fetched: str | None = None  # only the Slack reader takes a fetch folder

    def __init__(self, path: Path | str, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> None:
        self.location = str(path)
        self.quarantine: list[Quarantined] = []
        self.repaired = Repairs()
        self.ignored: list[Ignored] = []
        self.integration_logs: list[dict[str, Any]] = []
        self.users: dict[str, User] = {}
        self._tree = self._open_tree(Path(path), limits)
        self.ignored.extend(self._tree.skipped)  # what opening the archive passed over (links, unsafe names)
        try:
            self._load()
        except BaseException:
            self._tree.close()
            raise

    def _open_tree(self, path: Path, limits: ZipLimits) -> ExportTree:
        raise NotImplementedError

    def _load(self) -> None:
        raise NotImplementedError

    def conversations(self) -> list[Conversation]:
        raise NotImplementedError

    def days(self, conversation: Conversation) -> Iterator[Day]:
        raise NotImplementedError

    def canvases(self) -> list[File]:
        return []  # only Slack has canvases

    def messages(self, conversation: Conversation) -> Iterator[Message]:
        for day in self.days(conversation):
            yield from day.messages

    def open_file(self, file: File) -> IO[bytes]:
        return self._tree.open(member_of(file))

    def close(self) -> None:
        self._tree.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SpooledExport(ExportReader):
    """A reader that copies its records into a `Spool` once (`_load`) and turns one spooled record into a
    `Message` (`_message`); streaming conversations back a day at a time is the same for all."""

    def __init__(self, path: Path | str, limits: ZipLimits = DEFAULT_ZIP_LIMITS) -> None:
        self._spool = Spool()  # before the base loads: `_load` fills it
        try:
            super().__init__(path, limits)
        except BaseException:
            self._spool.close()  # the base has closed the tree
            raise

    def _message(self, record: Spooled, conversation_id: str) -> Message:
        raise NotImplementedError

    def days(self, conversation: Conversation) -> Iterator[Day]:
        return group_days((r.origin, self._message(r, conversation.id)) for r in self._spool.records(conversation.id))

    def close(self) -> None:
        self._spool.close()
        super().close()
