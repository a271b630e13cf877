"""The earlier pass: what earlier passes into a plan folder landed, and what changed in the source since.

Consultants pre-stage (issue 27): a first pass weeks before cutover, then at cutover a newer export transformed
into the same folder and loaded with the same journal, which posts only the lines it lacks. The import API cannot
change a message already imported, so what the newer export changed is listed instead, never applied: edited and
deleted messages (matched by plan key, which is the source conversation and the source id), renamed and
archived channels, and people who left.

Each transform leaves `versions.json` (every record it planned: its conversation and checksums of its source text
and files, taken as it plans them) and `source-state.json` (the export's conversations and people). Before the
next transform replaces the plan it folds them into `earlier.json`, where the first version seen of every message,
conversation and person is kept, but only the messages the journal records as landed: what is in Teams, not what
was planned (a line planned and never loaded is posted by the delta as it is now, so it is neither "already
migrated" nor "changed"). That transform gives each record it plans its fate against `earlier.json` as it goes,
and writes `changes.json`, which the transform and load reports list under "Changed since the earlier pass" and
verify reads so that the difference it finds is expected, not a mismatch.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypedDict, cast

import orjson

from migrator.ledger import ALREADY_MIGRATED, CHANGED_IN_SOURCE, DELETED_IN_SOURCE, LedgerLine
from migrator.model import Message, Source
from migrator.plan import MANIFEST, Manifest

EARLIER = "earlier.json"
VERSIONS = "versions.json"
SOURCE_STATE = "source-state.json"
CHANGES = "changes.json"
EDITED, DELETED, RENAMED, ARCHIVED, LEFT = "edited", "deleted", "renamed", "archived", "left"
# A versions.json entry: conversation and 2 checksums (VERSION); a line a later pass may keep adds the footprint of
# its rendering (RENDERED), then where it is in the plan file (KEPT_ENTRY: the line's offset, its request fields'
# offset in the line and their length).
VERSION, RENDERED, KEPT_ENTRY = 3, 4, 7
PART = "/part-"  # a split message's later parts: `{key}/part-2`… (the planner's part keys)
# What earlier.json's message checksums are of: the source's text and files (2). Those of an older folder (the
# rendered plan lines) cannot be compared with: its messages are left out rather than all reported edited.
CHECKSUMS = 2
UNREADABLE = (
    "an earlier pass into this folder was planned by an older migrator, whose message versions this one cannot "
    "compare with: the messages that pass landed are not listed when the source edits or deletes them, now or in "
    "later passes (what load posts is decided by the journal, as always; messages landed from this pass on are "
    "compared)"
)


class Change(TypedDict):
    """One thing the newer export changed that Teams keeps as the earlier pass imported it."""

    kind: str  # EDITED, DELETED, RENAMED, ARCHIVED or LEFT
    conversation: str  # plan key of the channel or chat ("" for a person)
    name: str  # the conversation's or person's name
    id: str  # the message's plan key (source conversation:source id), the conversation's or the person's source id
    what: str  # what changed, in words


@dataclass
class Earlier:
    """The first version seen of each message (base plan key -> [conversation key, text checksum, files checksum]),
    source conversation (id -> [name, archived]) and person (id -> [name, deleted])."""

    messages: dict[str, list[Any]] = field(default_factory=dict)
    conversations: dict[str, list[Any]] = field(default_factory=dict)
    people: dict[str, list[Any]] = field(default_factory=dict)
    unreadable: bool = False  # an earlier pass's message versions were written by an older migrator

    def add(self, other: Earlier) -> None:
        """`other`'s entries this one has not seen yet (the first version seen is the one in Teams)."""
        self.unreadable |= other.unreadable
        for mine, theirs in (
            (self.messages, other.messages),
            (self.conversations, other.conversations),
            (self.people, other.people),
        ):
            for key, value in theirs.items():
                mine.setdefault(key, value)


def base_key(key: str) -> str:
    """The plan key of the record a line is a part of."""
    return key.split(PART, 1)[0]


Landed = Callable[[str], Collection[str]]  # a conversation's plan keys the journal records as posted


class Recorded(Protocol, Hashable):
    """A footprint of rendering as versions.json records it (transform/context.py `Footprint`)."""

    def to_json(self) -> list[Any]: ...


class Where(NamedTuple):
    """Where a one-part line is in its plan file: the line's offset, and its request fields' offset in the line and
    length."""

    line: int
    fields: int
    length: int


@dataclass
class Planned:
    """What the plan now in the folder recorded of its messages (its transform's versions.json): for each message
    its conversation and checksums and, for a one-part message without files, the footprint of its rendering and
    where its request fields lie in its plan file, so that a later transform can keep the line of a message that
    landed unchanged instead of rendering it again (`Versions.kept`); and each plan file's size and modification
    time, to know it is the one those places are in."""

    messages: dict[str, list[Any]] = field(default_factory=dict)
    footprints: list[Any] = field(default_factory=list)  # [features, counted] (transform/context.py `Footprint`)
    plans: dict[str, list[Any]] = field(default_factory=dict)  # conversation key -> [plan file, `plan_stamp`]

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Planned | None:
        """versions.json as read; None when its checksums are of another kind. Footprints and plans that are not a
        list and a mapping are none (the file is people's to edit)."""
        messages = _versions(raw)
        if messages is None:
            return None
        footprints, plans = raw.get("footprints"), raw.get("plans")
        return cls(
            messages, footprints if isinstance(footprints, list) else [], plans if isinstance(plans, dict) else {}
        )


@dataclass
class Folded:
    """What a transform knows of the passes before it, read and written back by `fold`."""

    earlier: Earlier | None  # what every earlier pass landed (None: the folder holds no plan yet)
    planned: Planned | None  # the plan now in the folder, its keepable lines only those the journal records as landed
    journaled: bool = False  # a journal said what landed (without one, nothing is known to be in Teams)


def fold(plan_dir: Path, landed: Landed | None) -> Folded:
    """Before transform writes the plan again: earlier.json with what the plan now in the folder landed (by
    `landed`, the journal; None when no journal was found: what it planned) and the source state that transform
    left, written back; with that plan's record of the lines a transform may keep: one-part lines without files
    of messages the journal records as landed (none without a journal: nothing is known to be in Teams)."""
    earlier = _read(plan_dir / EARLIER)
    if not (plan_dir / MANIFEST).is_file():
        return Folded(earlier, None, landed is not None)
    current = _read(plan_dir / SOURCE_STATE) or Earlier()
    planned = _read_versions(plan_dir / VERSIONS)
    current.messages, keepable = _landed(planned.messages if planned else {}, landed)
    current.unreadable = planned is None
    folded = earlier or Earlier()
    folded.add(current)
    _write(plan_dir / EARLIER, folded)
    if planned is not None:
        planned.messages = keepable
    return Folded(folded, planned, landed is not None)


def _landed(versions: dict[str, list[Any]], landed: Landed | None) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """The entries of messages that landed, as earlier.json keeps them (conversation and checksums), and those of
    them whose line may be kept (by the journal only)."""
    if landed is None:
        return {key: version[:VERSION] for key, version in versions.items()}, {}
    posted: dict[str, Collection[str]] = {}
    found, keepable = {}, {}
    for key, version in versions.items():
        conversation = version[0]
        keys = posted.get(conversation)
        if keys is None:
            keys = posted[conversation] = landed(conversation)
        if key in keys:
            found[key] = version[:VERSION]
            if len(version) == KEPT_ENTRY:
                keepable[key] = version
    return found, keepable


class Versions:
    """This transform's records as it plans them, each given its fate against the earlier pass: `planned` (new, or
    no earlier pass), `already-migrated`, or `changed-in-source` (listed as edited). Checksums (CRC-32) of the
    source's text and files, not of the rendered lines: taken from what the planner holds anyway, they cost little
    next to planning, and a line rendered differently (a person mapped since) is no edit."""

    def __init__(self, earlier: Earlier | None = None, planned: Planned | None = None, journaled: bool = False) -> None:
        self.earlier = earlier.messages if earlier is not None else None
        self.planned = planned or Planned()
        self.journaled = journaled
        self.now: dict[str, list[Any]] = {}
        self.edited: list[Change] = []
        self._footprints: dict[Recorded, int] = {}

    def fate(self, key: str, conversation: str, name: str, message: Message) -> str:
        text = zlib.crc32(message.text.encode()) if message.text else 0
        files = zlib.crc32("".join(f"{f.id}\0{f.name}\1" for f in message.files).encode()) if message.files else 0
        self.now[key] = [conversation, text, files]
        before = self.earlier.get(key) if self.earlier is not None else None
        if before is None:
            return "planned"
        if before[1] == text and before[2] == files:
            return ALREADY_MIGRATED
        what = " and ".join(
            part for part, same in (("text", before[1] == text), ("files", before[2] == files)) if not same
        )
        self.edited.append(_change(EDITED, conversation, name, key, f"{what} changed"))
        return CHANGED_IN_SOURCE

    def kept(self, key: str) -> tuple[int, Where] | None:
        """The footprint (its number in `Planned.footprints`) of `key`'s line in the plan now in the folder, and
        where that line is, when it may stand for `key` again: a line Teams holds, planned into the same
        conversation from the same text and files (`fate` first). Asked once per key: its entry is let go."""
        before, now = self.planned.messages.pop(key, None), self.now[key]
        if before is None or len(before) != KEPT_ENTRY or before[:VERSION] != now:
            return None
        if not all(type(number) is int for number in before[VERSION:]):  # versions.json is a file people can edit
            return None
        return before[VERSION], Where(*before[RENDERED:])

    def lands_as_rendered(self, fate: str) -> bool:
        """Whether a message rendered now with this `fate` lands as rendered: one no journal records in Teams yet.
        The line of one that landed before, rendered anew, is not what Teams holds, and no later pass may keep it."""
        return fate == "planned" or not self.journaled

    def rendered(self, key: str, footprint: Recorded) -> None:
        """`key`'s one-part line without files is what lands (`lands_as_rendered`, or kept): rendered with
        `footprint`, its place follows once the plan file is written (`placed`)."""
        number = self._footprints.get(footprint)
        if number is None:
            number = self._footprints[footprint] = len(self._footprints)
        self.now[key].append(number)

    def placed(self, key: str, line: int, fields: int, length: int) -> None:
        """Where the one-part line of `key` is in the plan file written now (`Where`), when a later pass may keep
        it."""
        entry = self.now.get(key)
        if entry is not None and len(entry) == RENDERED:
            entry += (line, fields, length)

    def write(self, plan_dir: Path, manifest: Manifest) -> None:
        """For the next transform into this folder to fold, with each plan file's `plan_stamp`."""
        plans = {conv.key: [conv.file, *plan_stamp(plan_dir / conv.file)] for _, conv in manifest.conversations()}
        footprints = [footprint.to_json() for footprint in self._footprints]
        _write_json(
            plan_dir / VERSIONS,
            {"checksums": CHECKSUMS, "messages": self.now, "footprints": footprints, "plans": plans},
        )

    def changes(self, manifest: Manifest, source: Source) -> list[Change]:
        """What changed since the earlier pass: edited messages as planned, then deleted ones, conversations,
        people."""
        if self.earlier is None:
            return []
        names = {conv.key: conv.display_name for _, conv in manifest.conversations()}
        changes = list(self.edited)
        for key, (conversation, *_) in self.earlier.items():
            if key not in self.now:
                name = names.get(conversation, conversation)
                changes.append(_change(DELETED, conversation, name, key, "no longer in the export"))
        return changes

    def deleted_lines(self, changes: list[Change]) -> Iterator[LedgerLine]:
        """The ledger's `deleted-in-source` line of each record the export no longer holds."""
        for change in changes:
            if change["kind"] == DELETED:
                conversation, _, source_id = change["id"].rpartition(":")
                fields = {"conversation": conversation, "file": "", "item": None, "id": source_id}
                yield cast(LedgerLine, fields | {"fate": DELETED_IN_SOURCE, "keys": [change["id"]]})


def record_source(plan_dir: Path, source: Source) -> None:
    """This export's conversations and people, for the next transform into this folder to compare with."""
    state = Earlier(
        conversations={c.id: [c.name, c.archived] for c in source.conversations()},
        people={u.id: [u.real_name or u.display_name or u.name, u.deleted] for u in source.users.values()},
    )
    _write(plan_dir / SOURCE_STATE, state)


def source_changes(earlier: Earlier, manifest: Manifest, source: Source) -> list[Change]:
    """Renamed and archived conversations, then people who left, since `earlier`."""
    return [*_conversation_changes(manifest, earlier, source), *_people_changes(earlier, source)]


def _conversation_changes(manifest: Manifest, earlier: Earlier, source: Source) -> Iterator[Change]:
    targets = {sid: conv.key for _, conv in manifest.conversations() for sid in conv.sources}
    for conv in source.conversations():
        before = earlier.conversations.get(conv.id)
        if before is None:
            continue
        target = targets.get(conv.id, "")
        if before[0] != conv.name:
            yield _change(RENAMED, target, conv.name, conv.id, f"renamed from {before[0]!r} to {conv.name!r}")
        if conv.archived and not before[1]:
            yield _change(ARCHIVED, target, conv.name, conv.id, "archived in the source")


def _people_changes(earlier: Earlier, source: Source) -> Iterator[Change]:
    for person_id, (name, deleted) in earlier.people.items():
        user = source.users.get(person_id)
        if deleted:
            continue
        if user is None:
            yield _change(LEFT, "", name, person_id, "no longer in the export's people")
        elif user.deleted:
            yield _change(LEFT, "", name, person_id, "deactivated in the source")


def _change(kind: str, conversation: str, name: str, change_id: str, what: str) -> Change:
    return {"kind": kind, "conversation": conversation, "name": name, "id": change_id, "what": what}


def plan_stamp(path: Path) -> list[int]:
    """What tells a plan file from another one at the same path: its size and modification time (a copy made with
    its times, as `analyse --since` makes, is the same file)."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns]


def _read(path: Path) -> Earlier | None:
    raw = _read_json(path)
    if raw is None:
        return None
    messages = _versions(raw)
    return Earlier(
        messages=messages or {},
        conversations=cast(dict[str, list[Any]], raw.get("conversations") or {}),
        people=cast(dict[str, list[Any]], raw.get("people") or {}),
        unreadable=bool(raw.get("unreadable")) or (messages is None and bool(raw.get("messages"))),
    )


def _read_versions(path: Path) -> Planned | None:
    """The messages a plan's transform recorded; None when it recorded none this migrator can read (no
    versions.json: a plan by an older migrator)."""
    raw = _read_json(path)
    return None if raw is None else Planned.from_json(raw)


def _versions(raw: dict[str, Any]) -> dict[str, list[Any]] | None:
    """The message versions an earlier.json or versions.json holds; None when their checksums are of another kind
    (an older migrator's), which cannot be compared with."""
    if raw.get("checksums") != CHECKSUMS:
        return None
    return cast(dict[str, list[Any]], raw.get("messages") or {})


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return raw if isinstance(raw, dict) else None


def _write(path: Path, earlier: Earlier) -> None:
    _write_json(
        path,
        {
            "checksums": CHECKSUMS,
            "messages": earlier.messages,
            "conversations": earlier.conversations,
            "people": earlier.people,
            "unreadable": earlier.unreadable,
        },
    )


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(value))
    tmp.replace(path)


CHANGE_COLUMNS = ["kind", "name", "conversation", "id", "what"]  # the reports' "Changed since the earlier pass"


def changed_summary(changes: list[Change]) -> str:
    """One line for the command line: how many of each kind, and where the reports list them."""
    counts = Counter(change["kind"] for change in changes)
    kinds = ", ".join(f"{counts[kind]:,} {kind}" for kind in (EDITED, DELETED, RENAMED, ARCHIVED, LEFT) if counts[kind])
    return f"changed since the earlier pass: {kinds} (listed in the reports; Teams keeps the earlier version)"


def write_changes(plan_dir: Path, changes: list[Change]) -> None:
    (plan_dir / CHANGES).write_bytes(orjson.dumps(changes, option=orjson.OPT_INDENT_2))


def read_changes(plan_dir: Path) -> list[Change]:
    """The changes transform found (none for a first pass or a plan written before they were listed)."""
    try:
        raw = orjson.loads((plan_dir / CHANGES).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return []
    return cast(list[Change], raw) if isinstance(raw, list) else []
