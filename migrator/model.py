"""The source-neutral model every stage after the reader works on.

A reader (`migrator.sources`: Slack, Mattermost, Discord, or a Teams export
written by `migrator export`) turns its export into these objects, and
`analyse`, `map`, `transform` and `load` read only them. That is why nothing
here names a Slack file or field: a new source plugs in by implementing
`Source` without touching the stages.

Timestamps stay as the exact source string (`Message.ts`) next to an integer
microsecond value (`Message.us`): the import API keys messages by millisecond
and a float would round two different messages onto the same one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import IO, Any, NotRequired, Protocol, TypedDict

from migrator.errors import InputError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ts_to_micros(ts: str) -> int:
    """Exact UTC microseconds of a source timestamp such as "1736478630.905399".

    Parsed as a string because float(ts) loses the last digits of a 16-digit
    value; a fraction finer than a microsecond is refused rather than rounded,
    since two messages could then silently share a time. Checked with str
    methods rather than a regex: every message of every export passes here.
    """
    seconds, dot, fraction = ts.partition(".") if isinstance(ts, str) else ("", "", "")
    # isascii first: str.isdigit alone also accepts "²" and other scripts' digits.
    if not (isinstance(ts, str) and ts.isascii() and seconds.isdigit() and (fraction.isdigit() or not dot)):
        raise ValueError(f"not a timestamp of the form SECONDS.MICROS: {ts!r}")
    if fraction[6:].strip("0"):
        raise ValueError(f"timestamp {ts!r} is finer than a microsecond")
    return int(seconds) * 1_000_000 + int(fraction[:6].ljust(6, "0"))


def micros_to_datetime(us: int) -> datetime:
    """Aware UTC datetime for integer microseconds, without going through a float."""
    return _EPOCH + timedelta(microseconds=us)


def micros_to_iso(us: int) -> str:
    """ISO-8601 UTC with microseconds and a `Z`, the form reports and inventories use."""
    return micros_to_datetime(us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ConversationKind(StrEnum):
    """Who could read a conversation in the source, which decides where it may go."""

    PUBLIC = "public"
    PRIVATE = "private"
    DM = "dm"
    GROUP_DM = "group_dm"


# In `File.extra` or `User.extra`: this file's bytes or this person's email came from the folder `migrator fetch`
# wrote (given with --fetched), not from the export; reports count them apart.
FROM_FETCH = "from_fetch"
# In `User.extra`: the ids of the workspaces (`Source.workspaces`) whose people list names this person, in an export
# holding several (Slack Enterprise Grid); absent otherwise.
IN_WORKSPACES = "workspaces"
# In `Message.extra`: the id of the workspace a message was posted in, where an export of several workspaces says
# (Slack's `team`, which the Slack reader keeps in `extra` as it is).
POSTED_IN = "team"
# In `Message.extra`: the organisation of an author from outside the export (a Slack Connect guest of another
# company), as the reader can name it; the fallback account posts for them naming it, and reports count them apart.
EXTERNAL_ORG = "external_org"


class FileStatus(StrEnum):
    """Whether a file's bytes can be migrated, so nothing is lost without being counted."""

    AVAILABLE = "available"  # bytes are inside the export
    MISSING = "missing"  # the source hosted the bytes but the export does not carry them
    EXTERNAL = "external"  # lives elsewhere (Google Drive, Box…): only a link exists
    DELETED = "deleted"  # deleted or hidden in the source before the export


# What every report calls a missing file (`missing_files`): the source hosted its bytes and the export does not
# carry them. A file stored outside the source (EXTERNAL) or deleted before the export is counted apart, never
# also as missing; each of them still becomes a placeholder with its link.
MISSING_FILE = FileStatus.MISSING


@dataclass(slots=True)
class Workspace:
    id: str
    name: str
    domain: str | None = None


@dataclass(slots=True)
class User:
    id: str
    name: str
    real_name: str = ""
    display_name: str = ""
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False
    is_guest: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The name a person would recognise: display name, then real name, then handle."""
        return self.display_name or self.real_name or self.name or self.id


@dataclass(slots=True)
class Conversation:
    id: str
    name: str
    kind: ConversationKind
    members: tuple[str, ...] = ()
    created_us: int | None = None
    creator: str | None = None
    topic: str = ""
    purpose: str = ""
    is_general: bool = False
    archived: bool = False
    pins: tuple[str, ...] = ()  # ts of pinned messages
    canvas_id: str | None = None  # the conversation's own canvas, when it has one
    extra: dict[str, Any] = field(default_factory=dict)
    # Where the conversation belongs when its export holds it apart ("a thread of #hardware (category Projects)"):
    # the draft and the channel's description say so.
    belongs_to: str = ""
    # The id of the workspace (`Source.workspaces`) whose export lists the conversation; "" when the export is one
    # workspace, or for an organisation's own conversations (org-wide and multi-workspace channels, DMs).
    workspace: str = ""


@dataclass(slots=True)
class File:
    id: str
    name: str
    title: str = ""
    mimetype: str = ""
    filetype: str = ""
    size: int | None = None
    status: FileStatus = FileStatus.MISSING
    path: str | None = None  # inside the export, when status is AVAILABLE
    url: str | None = None  # original link, with access tokens removed
    user: str | None = None
    created_us: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_image(self) -> bool:
        return self.mimetype.startswith("image/")

    @property
    def is_canvas(self) -> bool:
        return self.filetype in {"quip", "canvas"} or self.mimetype == "application/vnd.slack-docs"


@dataclass(slots=True)
class Reaction:
    name: str
    count: int
    users: tuple[str, ...] = ()
    times: tuple[int | None, ...] = ()  # when each of `users` reacted (epoch ms), where the export says (Mattermost)


@dataclass(slots=True)
class Edit:
    user: str | None
    ts: str


@dataclass(slots=True)
class Message:
    """One message record as the source stored it; nothing is interpreted away.

    `extra` keeps every source field the model has no slot for, and
    `unknown_fields` names those the reader did not recognise at all, so they
    are counted in the inventory instead of vanishing.
    """

    ts: str
    us: int
    conversation_id: str
    origin: str  # the file inside the export this record came from
    user: str | None = None
    bot_id: str | None = None
    username: str | None = None  # the name a bot or integration posted under
    text: str | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    thread_ts: str | None = None
    subtype: str | None = None
    system: bool = False  # joins, leaves, topic changes…: an event, not something a person wrote
    reactions: list[Reaction] = field(default_factory=list)
    edited: Edit | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    commented_file: File | None = None  # the file a legacy file comment talks about
    extra: dict[str, Any] = field(default_factory=dict)
    unknown_fields: tuple[str, ...] = ()
    # The record's own id in its conversation where the source has one besides its time (Discord and Teams message
    # ids, a Mattermost post's place); None for Slack, whose ts is the id. Times can repeat, ids cannot.
    id: str | None = None
    thread_id: str | None = None  # a reply's root `id`, set when the root is in the export; None: by thread_ts
    item: int | None = None  # where in `origin` the record is: its index in a JSON array, its line in JSON lines

    @property
    def is_reply(self) -> bool:
        if self.thread_id is not None:
            return self.thread_id != self.id
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def thread_key(self) -> str:
        """What names this message's thread in its conversation: the root's id where the source has ids, else the
        root's ts. Two roots may share a time (Mattermost and Discord keep milliseconds): their replies must not."""
        if self.is_reply:
            return self.thread_id or self.root_ts
        return self.id or self.ts

    @property
    def root_ts(self) -> str:
        """The ts of the thread this message belongs to (itself when it is a root)."""
        return self.ts if self.thread_ts is None else self.thread_ts  # a root's thread_ts, when set, is its ts


@dataclass(slots=True)
class Day:
    """One day file: the unit the reader streams, so memory stays flat."""

    file: str
    date: str
    messages: list[Message]


class QuarantinedRow(TypedDict):
    """`Quarantined` as the inventory and the transform report list it."""

    file: str
    error: str
    item: NotRequired[int]


class RepairedRow(TypedDict):
    """One export file whose broken characters were replaced, as the inventory and the transform report list it."""

    file: str
    strings: int


@dataclass(slots=True)
class Quarantined:
    """An item the reader could not use, with what went wrong and what to do."""

    file: str
    error: str
    item: int | None = None  # position inside the file, when one record was refused
    # The source conversation it belongs to, when the reader can tell (a Slack day file's folder, a Discord channel
    # file, a Mattermost post's channel); None for one it cannot (a line that is not a record, a record naming no
    # conversation): the ledger counts those apart, in no conversation.
    conversation: str | None = None
    record_id: str | None = None  # the source's id, when the reader can tell it (a Mattermost reply's `LINE.REPLY`)

    def to_dict(self) -> QuarantinedRow:
        entry: QuarantinedRow = {"file": self.file, "error": self.error}
        if self.item is not None:
            entry["item"] = self.item
        return entry


@dataclass(frozen=True, slots=True)
class Displaced:
    """A record the spool did not keep because another has its id: an older version of an edited message, or the
    same record twice (`duplicate`). Each is counted and listed, never dropped silently."""

    conversation: str
    record_id: str
    origin: str  # where the record not kept is
    item: int
    kept_origin: str  # and the one kept instead
    kept_item: int
    duplicate: bool  # the same version again (not an edit)

    @property
    def in_one_file(self) -> bool:
        """The same record twice in one file: a broken export, quarantined (copies in two files are a chat
        exported for each of its members)."""
        return self.duplicate and self.origin == self.kept_origin

    @property
    def reason(self) -> str:
        if self.duplicate:
            return f"the same message (id {self.record_id}) as {self.kept_origin} item {self.kept_item}; kept once"
        return f"an older version of message {self.record_id}, edited at {self.kept_origin} item {self.kept_item}"


@dataclass(slots=True)
class Ignored:
    """Something in the export that no stage reads, listed so the customer sees it."""

    path: str
    reason: str
    entries: int = 1


def repaired_rows(repaired: Mapping[str, int]) -> list[RepairedRow]:
    """`Source.repaired` as the rows the inventory and the transform report list: file, strings changed."""
    return [{"file": file, "strings": strings} for file, strings in repaired.items()]


class SourceError(InputError):
    """The input cannot be read at all; the CLI prints it and exits with code 2."""


class Source(Protocol):
    """What every reader offers the stages.

    Conversations and messages are generators so that a stage holds one day
    file at a time; `quarantine` and `repaired` grow while they are iterated.
    """

    kind: str
    location: str
    workspace: Workspace  # the export's workspace; for an export of several, the organisation holding them
    workspaces: list[Workspace]  # the workspaces an export of several holds (Slack Enterprise Grid); else empty
    users: Mapping[str, User]
    quarantine: list[Quarantined]
    # Per export file, how many strings had broken characters (lone UTF-16 surrogates, which no file can hold)
    # replaced by U+FFFD as the reader decoded it: nothing here ever holds one, and the reports list each file.
    repaired: Mapping[str, int]
    ignored: list[Ignored]
    integration_logs: list[dict[str, Any]]  # apps and webhooks added or removed: reported, not migrated
    fetched: str | None  # the folder of `migrator fetch` read beside the export (--fetched), or None

    def conversations(self) -> list[Conversation]: ...

    def days(self, conversation: Conversation) -> Iterator[Day]: ...

    def messages(self, conversation: Conversation) -> Iterator[Message]: ...

    def canvases(self) -> list[File]: ...

    def naming_messages(self) -> Iterator[Message]:
        """The messages that may name a person the user lists lack (a copy of the author's profile, a system
        message's `<@U…|name>`), read again apart from the stream: nothing is quarantined or counted. Transform
        reads them only when an author would otherwise be shown by id, so a name the export gives after a person's
        first message still reaches it. Empty for readers whose user list names everyone who wrote."""
        ...

    def displaced(self) -> Iterator[Displaced]:
        """Records another with the same id replaced (an older version of an edited message, or the same record
        twice), each with where the one kept is; complete once every conversation has been streamed."""
        ...

    def open_file(self, file: File) -> IO[bytes]: ...

    def close(self) -> None: ...
