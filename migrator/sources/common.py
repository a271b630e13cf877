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

import emoji

from migrator.model import (
    Conversation,
    Day,
    Displaced,
    File,
    Ignored,
    Message,
    Quarantined,
    User,
    Workspace,
    micros_to_iso,
)
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
    "SNIFF_BYTES",
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
    "emoji_name",
    "group_days",
    "iso_to_micros",
    "loads_repaired",
    "content_format",
    "file_format",
    "member_format",
    "member_head",
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
SNIFF_BYTES = 4096  # enough of a file's start to tell its format
_MICROSECOND = timedelta(microseconds=1)


# JSON's escape for a UTF-16 surrogate (\uD800 to \uDFFF), paired or not: text without one cannot decode
# to a lone surrogate.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # any surrogate in a str: json has already joined each whole pair
_replace_surrogates = partial(LONE_SURROGATE.subn, "\ufffd")  # (text with U+FFFD for each surrogate, how many)


class Refused(Exception):
    """One record cannot be used; the reader quarantines it with this message, in `conversation` when it was
    refused after its conversation was known.

    Control flow inside a reader, never seen by the user (the quarantine lists the record instead), so it is not
    a `MigratorError`.
    """

    def __init__(self, message: str, conversation: str | None = None) -> None:
        super().__init__(message)
        self.conversation = conversation


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


def emoji_name(value: str) -> str:
    """A reaction's emoji as the model names emoji (a shortcode without colons, as Slack does): a Unicode emoji,
    which Teams and Discord give as the character itself, becomes its name; anything else (a custom emoji's
    name) stays."""
    return emoji.demojize(value).strip(":") if emoji.is_emoji(value) else value


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
    root_id: str | None  # and that root's record id
    origin: str
    item: int
    payload: Any


class Spool:
    """Records per conversation on disk, streamed back in time order.

    A record is keyed by (conversation, id): adding a key again keeps the
    version with the greater `version` string (Graph's lastModifiedDateTime),
    so an archive that appended an edit or a re-fetched page yields each
    message once; `add` returns the record not kept (`Displaced`).
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
            CREATE TABLE displaced (
                conversation TEXT NOT NULL, id TEXT NOT NULL, origin TEXT NOT NULL, item INTEGER NOT NULL,
                kept_origin TEXT NOT NULL, kept_item INTEGER NOT NULL, duplicate INTEGER NOT NULL
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
    ) -> Displaced | None:
        self._seq += 1
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        try:  # a repeated id is rare: the plain insert is the fast path
            self._db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation, record_id, us, self._seq, root_id, version, origin, item, text),
            )
            return None
        except sqlite3.IntegrityError:
            pass
        old_version, old_origin, old_item = self._db.execute(
            "SELECT version, origin, item FROM records WHERE conversation = ? AND id = ?", (conversation, record_id)
        ).fetchone()
        if version <= old_version:
            displaced = Displaced(conversation, record_id, origin, item, old_origin, old_item, version == old_version)
        else:
            self._db.execute(
                """UPDATE records SET us = ?, root_id = ?, version = ?, origin = ?, item = ?, payload = ?
                   WHERE conversation = ? AND id = ?""",
                (us, root_id, version, origin, item, text, conversation, record_id),
            )
            displaced = Displaced(conversation, record_id, old_origin, old_item, origin, item, duplicate=False)
        self._db.execute(  # on disk, not in a list: an export of many edits keeps memory flat
            "INSERT INTO displaced VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                conversation,
                record_id,
                displaced.origin,
                displaced.item,
                displaced.kept_origin,
                displaced.kept_item,
                displaced.duplicate,
            ),
        )
        return displaced

    def displaced(self) -> Iterator[Displaced]:
        """Every record `add` did not keep, in the order they were met."""
        cursor = self._db.execute("SELECT * FROM displaced ORDER BY rowid")
        while rows := cursor.fetchmany(500):
            for conversation, record_id, origin, item, kept_origin, kept_item, duplicate in rows:
                yield Displaced(conversation, record_id, origin, item, kept_origin, kept_item, bool(duplicate))

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
            """SELECT r.id, r.us, root.us, root.id, r.origin, r.item, r.payload FROM records r
               LEFT JOIN records root ON root.conversation = r.conversation AND root.id = r.root_id
               WHERE r.conversation = ? ORDER BY r.us, r.seq""",
            (conversation,),
        )
        while rows := cursor.fetchmany(500):
            for record_id, us, root_us, root_id, origin, item, payload in rows:
                yield Spooled(record_id, us, root_us, root_id, origin, item, json.loads(payload))

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


def content_format(head: bytes) -> str | None:
    """The source format the first bytes of one exported file show, whatever the file is called.

    Names cannot decide: Mattermost writes its bulk export under any name it is given (`export.json` as well as
    `import.jsonl`). Its JSONL starts with the version line; a DiscordChatExporter file is an object naming its
    `guild` and `channel`.
    """
    return _format_of(_head_text(head))


def _head_text(head: bytes) -> str:
    return re.sub(r"\s+", "", head.decode("utf-8", errors="replace")).lstrip("\ufeff")


def _format_of(text: str) -> str | None:
    if text.startswith('{"type":"version"'):
        return "mattermost"
    if all(f'"{key}"' in text for key in ("guild", "channel")):
        return "discord"
    return None


def member_head(tree: ExportTree, name: str) -> str:
    """The first bytes of a member as text, whitespace removed, enough to recognise its format; "" when it cannot
    be read."""
    try:
        with tree.open(name) as handle:
            head = handle.read(SNIFF_BYTES)
    except (OSError, zipfile.BadZipFile):
        return ""
    return _head_text(head)


def member_format(tree: ExportTree, name: str) -> str | None:
    """`content_format` of one member of an export; None when it cannot be read."""
    return _format_of(member_head(tree, name))


def file_format(path: Path) -> str | None:
    """`content_format` of one file given on its own (not a zip); None for anything else."""
    if not path.is_file() or zipfile.is_zipfile(path):
        return None
    try:
        with path.open("rb") as handle:
            return content_format(handle.read(SNIFF_BYTES))
    except OSError:
        return None


def open_export(path: Path, kind: str, single_suffix: str, limits: ZipLimits, expected: str) -> ExportTree:
    """A zip or folder through `archive.open_tree` (its safety checks), or one bare file of the format `kind`, told
    by its suffix or its content; `expected` says what to give instead of anything else."""
    if (
        path.is_file()
        and not zipfile.is_zipfile(path)
        and (path.suffix.lower() == single_suffix or file_format(path) == kind)
    ):
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
        self.workspaces: list[Workspace] = []
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

    def naming_messages(self) -> Iterator[Message]:
        return iter(())  # Discord and Teams readers name each author as they spool, Mattermost's by username

    def displaced(self) -> Iterator[Displaced]:
        return iter(())  # only the readers that key records by id (`SpooledExport`) replace one by another

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

    def _quarantine_repeated(self, displaced: Displaced | None) -> None:
        """Given what `Spool.add` did not keep: the same record twice in one file is a broken export and is
        quarantined, so the inventory shows it; an older version of an edit, or a chat's copy in each member's
        folder, is how the export is written, and only the ledger lists it (`displaced`)."""
        if displaced is not None and displaced.in_one_file:
            self.quarantine.append(
                Quarantined(displaced.origin, displaced.reason, displaced.item, displaced.conversation)
            )

    def displaced(self) -> Iterator[Displaced]:
        return self._spool.displaced()

    def days(self, conversation: Conversation) -> Iterator[Day]:
        return group_days((r.origin, self._message(r, conversation.id)) for r in self._spool.records(conversation.id))

    def close(self) -> None:
        self._spool.close()
        super().close()
