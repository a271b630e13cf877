"""The earlier pass: what earlier transforms planned into a plan folder, and what changed in the source since.

Consultants pre-stage (issue 27): a first pass weeks before cutover, then at cutover a newer export transformed
into the same folder and loaded with the same journal, which posts only the lines it lacks. The import API cannot
change a message already imported, so what the newer export changed is listed instead, never applied: edited and
deleted messages (matched by plan key, which is the source conversation and the source id), renamed and
archived channels, and people who left.

Before transform replaces a plan it folds that plan into `earlier.json`, where the first version seen of every
message, conversation and person is kept: the version that went to Teams when it was loaded after that
transform. Each transform also leaves `source-state.json` (the export's conversations and people) for the next to
fold. After writing the new plan, transform compares it with `earlier.json` and writes `changes.json`, which the
transform and load reports list under "Changed since the earlier pass" and verify reads so that the difference
it finds is expected, not a mismatch.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

import orjson

from migrator.ledger import ALREADY_MIGRATED, CHANGED_IN_SOURCE, DELETED_IN_SOURCE, LedgerLine, mark_earlier
from migrator.model import Source
from migrator.plan import MANIFEST, Manifest, PlanError, PlannedConversation

EARLIER = "earlier.json"
SOURCE_STATE = "source-state.json"
CHANGES = "changes.json"
EDITED, DELETED, RENAMED, ARCHIVED, LEFT = "edited", "deleted", "renamed", "archived", "left"
PART = "/part-"  # a split message's later parts: `{key}/part-2`… (the planner's part keys)


class Change(TypedDict):
    """One thing the newer export changed that Teams keeps as the earlier pass imported it."""

    kind: str  # EDITED, DELETED, RENAMED, ARCHIVED or LEFT
    conversation: str  # plan key of the channel or chat ("" for a person)
    name: str  # the conversation's or person's name
    id: str  # the message's plan key (source conversation:source id), the conversation's or the person's source id
    what: str  # what changed, in words


@dataclass
class Earlier:
    """The first version seen of each message (base plan key -> [conversation key, text digest, files digest]),
    source conversation (id -> [name, archived]) and person (id -> [name, deleted])."""

    messages: dict[str, list[str]] = field(default_factory=dict)
    conversations: dict[str, list[Any]] = field(default_factory=dict)
    people: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, other: Earlier) -> None:
        """`other`'s entries this one has not seen yet (the first version seen is the one in Teams)."""
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


def fold(plan_dir: Path) -> Earlier | None:
    """Before transform writes the plan again: earlier.json with the plan now in the folder added (and the
    source state that transform left), written back; None when the folder holds no plan yet (a first pass)."""
    earlier = _read(plan_dir / EARLIER)
    if not (plan_dir / MANIFEST).is_file():
        return earlier
    try:
        manifest = Manifest.read(plan_dir)
    except PlanError:
        return earlier
    current = Earlier(messages=dict(_versions(plan_dir, manifest)))
    state = _read(plan_dir / SOURCE_STATE)
    if state is not None:
        current.add(state)
    folded = earlier or Earlier()
    folded.add(current)
    _write(plan_dir / EARLIER, folded)
    return folded


def record_source(plan_dir: Path, source: Source) -> None:
    """This export's conversations and people, for the next transform into this folder to compare with."""
    state = Earlier(
        conversations={c.id: [c.name, c.archived] for c in source.conversations()},
        people={u.id: [u.real_name or u.display_name or u.name, u.deleted] for u in source.users.values()},
    )
    _write(plan_dir / SOURCE_STATE, state)


def compare(plan_dir: Path, manifest: Manifest, earlier: Earlier, source: Source) -> list[Change]:
    """What the new plan in `plan_dir` and `source` changed since `earlier`, in plan order, then conversations, then
    people."""
    names = {conv.key: conv.display_name for _, conv in manifest.conversations()}
    now = dict(_versions(plan_dir, manifest))
    changes: list[Change] = []
    for key, (conversation, text, files) in now.items():
        before = earlier.messages.get(key)
        if before is None or before[1:] == [text, files]:
            continue
        what = " and ".join(
            part for part, same in (("text", before[1] == text), ("files", before[2] == files)) if not same
        )
        changes.append(_change(EDITED, conversation, names.get(conversation, ""), key, f"{what} changed"))
    for key, (conversation, *_) in earlier.messages.items():
        if key not in now:
            name = names.get(conversation, conversation)
            changes.append(_change(DELETED, conversation, name, key, "no longer in the export"))
    changes += _conversation_changes(manifest, earlier, source)
    changes += _people_changes(earlier, source)
    return changes


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


def _versions(plan_dir: Path, manifest: Manifest) -> Iterator[tuple[str, list[str]]]:
    """Per record of the plan (a split message's parts together): its conversation and the digests of its text
    (bodies and inline images) and of its files (attachment names and where each comes from)."""
    for _, conv in manifest.conversations():
        yield from _conversation_versions(plan_dir, conv)


def _conversation_versions(plan_dir: Path, conv: PlannedConversation) -> Iterator[tuple[str, list[str]]]:
    """Parsed with orjson and hashed with an 8-byte BLAKE2b as they are read: a delta pass reads a whole plan twice
    (the earlier and the new), so this must cost little next to planning it."""
    try:
        data = (plan_dir / conv.file).read_bytes()
    except OSError:
        return  # an earlier plan whose file is gone: nothing to compare
    records: dict[str, tuple[Any, Any]] = {}
    for raw in data.splitlines():
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # a blank or broken line: transform rewrites the plan, load refuses it with its line
        key = base_key(str(line["key"]))
        text, files = records.get(key) or records.setdefault(key, (_hash(), _hash()))
        text.update(str((line.get("body") or {}).get("content")).encode())
        for hosted in line.get("hostedContents") or []:
            text.update(b"\0" + str(hosted.get("contentBytes")).encode())
        text.update(b"\1")  # the end of one part
        for attachment in line.get("attachments") or []:
            source = attachment.get("upload") or attachment.get("contentUrl")
            files.update(f"{attachment.get('name')}\0{source}\1".encode())
    for key, (text, files) in records.items():
        yield key, [conv.key, text.hexdigest(), files.hexdigest()]


def _hash() -> Any:
    return hashlib.blake2b(digest_size=8)


def _read(path: Path) -> Earlier | None:
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(raw, dict):
        return None
    return Earlier(
        messages=cast(dict[str, list[str]], raw.get("messages") or {}),
        conversations=cast(dict[str, list[Any]], raw.get("conversations") or {}),
        people=cast(dict[str, list[Any]], raw.get("people") or {}),
    )


def _write(path: Path, earlier: Earlier) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(
        orjson.dumps({"messages": earlier.messages, "conversations": earlier.conversations, "people": earlier.people})
    )
    tmp.replace(path)


def mark_ledger(
    plan_dir: Path, earlier: Earlier, changes: list[Change], fates: Counter[tuple[str | None, str]]
) -> None:
    """The ledger's fates for what an earlier pass planned: `already-migrated`, `changed-in-source`, and a line
    `deleted-in-source` for each record the export no longer holds."""
    edited = {c["id"] for c in changes if c["kind"] == EDITED}

    def fate_of(key: str) -> str | None:
        record = base_key(key)
        if record not in earlier.messages:
            return None
        return CHANGED_IN_SOURCE if record in edited else ALREADY_MIGRATED

    deleted: list[LedgerLine] = []
    for change in changes:
        if change["kind"] == DELETED:
            conversation, _, source_id = change["id"].rpartition(":")
            fields = {"conversation": conversation, "file": "", "item": None, "id": source_id}
            deleted.append(cast(LedgerLine, fields | {"fate": DELETED_IN_SOURCE, "keys": [change["id"]]}))
    mark_earlier(plan_dir, fate_of, deleted, fates)


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
