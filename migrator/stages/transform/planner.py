"""One target channel's plan file: every message of its source conversations as import requests.

Messages are rendered as they stream in and spooled to disk, already encoded
as the JSON of their requests, while only a small record per message stays
in memory: the timeline needs every
time of the target before any can be fixed (replies arrive in later day
files than their root; merged sources interleave), and a channel of a
million messages must not be held as requests. Once all sources are read,
threads are resolved (a reply whose first message is missing or left out
gets a stand-in root), times are placed (`timeline.place`), and the spool is
written out in time order, which is also a valid posting order: every root
comes before its replies.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from migrator.capacity import TEAMS_DEFAULTS, CapacityLimits
from migrator.earlier import Versions
from migrator.ledger import ALREADY_MIGRATED, LedgerWriter, line_of
from migrator.model import Conversation, Message, Source, ts_to_micros
from migrator.plan import CHAT_TYPES, PlannedConversation, PlannedMember, write_encoded_lines
from migrator.stages.transform import bodies, native
from migrator.stages.transform.authors import Author, Authors
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import ChannelUploads, FileParts, FilePlanner
from migrator.stages.transform.kept import KeptLines
from migrator.stages.transform.markup import Element, note, render
from migrator.stages.transform.outcome import Tally
from migrator.stages.transform.split import size, split_blocks
from migrator.stages.transform.timeline import Placement, place, time_order
from migrator.timestamps import format_ms

_encode = encode_basestring  # a JSON string, exactly as json.dumps(..., ensure_ascii=False) writes it
NO_FILES = FileParts()  # a message without files (never changed)
MISSING_ROOT = "The message that started this thread is not in the export."
SKIPPED_ROOT = "The message that started this thread was not migrated ({reason})."
SKIPPED_SYSTEM = "a system message, skipped by migration.yaml"
SKIPPED_AUTHOR = "its author is not migrated"


def keyed_messages(conversation: Conversation, messages: Iterator[Message]) -> Iterator[tuple[str, Message]]:
    """Each message with its stable key, `conversation:ts`; a repeated ts (Slack ts are not always unique)
    gets `/2`, `/3`… in stream order, which is stable because day files are read in name order."""
    seen: dict[str, int] = {}  # a plain dict: Counter's __missing__ runs Python code for every new ts
    prefix = f"{conversation.id}:"
    for message in messages:
        ts = message.ts
        count = seen[ts] = seen.get(ts, 0) + 1
        yield (prefix + ts if count == 1 else f"{prefix}{ts}/{count}"), message


def thread_reply_note(root_ts: str) -> Element:
    """What a thread reply says in a chat, where Teams has no threads: which thread it answered."""
    try:
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ts_to_micros(root_ts) // 1_000_000))
    except ValueError:
        return note("↪ reply in a thread")
    return note(f"↪ reply in a thread started {started}")


def part_marker(number: int, total: int) -> Element:
    return note(f"(part {number} of {total})")


MARKER_BYTES = size(render([part_marker(9999, 9999)]))


def _files_marker(first: int, last: int, total: int, limit: int) -> Element:
    which = f"file {first}" if first == last else f"files {first}–{last}"
    return note(f"({which} of {total} of the message above: Teams takes at most {limit} on one message)")


SPOOL_BATCH = 1 << 20  # bytes of spooled messages written at once


@dataclass
class Run:
    """What every channel of one transform shares."""

    source: Source
    authors: Authors
    ctx: Context
    files: FilePlanner
    tally: Tally
    keep_system: bool
    now_ms: int
    ledger: LedgerWriter
    limits: CapacityLimits = TEAMS_DEFAULTS  # per message: files_per_message, message_bytes
    # Workspace id -> (real mentions, real reactions) where migration.yaml's `workspaces:` overrides `defaults`
    native_forms: Mapping[str, tuple[bool, bool]] = field(default_factory=dict)
    default_forms: tuple[bool, bool] = (True, True)
    versions: Versions = field(default_factory=Versions)  # each record's fate against an earlier pass
    kept: KeptLines = field(default_factory=KeptLines.none)  # the earlier plan, for lines of what landed unchanged


@dataclass(slots=True)
class _Record:
    """What stays in memory per planned message: enough to place it in time and find it in the spool."""

    key: str
    ts: str
    thread: tuple[str, str]  # (source conversation, `Message.thread_key`); once threads are resolved, (…, root key)
    root: bool
    us: int
    span: int
    offset: int
    length: int
    author: Author  # shared by every message of one person
    note: str | None  # for the reviewer; shared by every message of one fallback author


@dataclass
class Target:
    """A target channel of a team, or a chat, and the source conversations that fill it."""

    key: str  # "team/channel" or "chats/{source id}", stable between runs
    team: str  # "" for a chat
    display_name: str
    file: str  # relative to the plan folder
    general: bool
    description: str
    membership: str = "standard"  # standard | private (channels); oneOnOne | group (chats)
    members: list[PlannedMember] = field(default_factory=list)  # private channels and chats: exactly who may read it
    sources: list[Conversation] = field(default_factory=list)
    existing: str = ""  # `action: existing`: the channel (id or name) or chat (id) people already use
    existing_team: str = ""  # and the team (id or name) holding that channel

    @property
    def is_chat(self) -> bool:
        """Chats have no threads (replies become messages with a note) and no files folder (files go to OneDrive)."""
        return self.membership in CHAT_TYPES


class ChannelPlan:
    def __init__(self, run: Run, target: Target, spool: BinaryIO) -> None:
        self.run = run
        self.target = target
        self.is_chat = target.is_chat  # asked for every message
        self.spool = spool
        self.records: list[_Record] = []
        fallback = run.authors.fallback
        self.uploads = ChannelUploads(chat=self.is_chat, fallback=fallback["user"]["id"] if fallback else None)
        self.skipped_roots: dict[tuple[str, str], tuple[str, str]] = {}  # thread: (why the root is left out, its ts)
        self._end = 0  # where the next spooled message goes
        self._pending: list[bytes] = []  # spooled messages not written yet: one write per batch, not per message
        self._written = 0  # where the pending ones go in the file
        self._fallback_notes: dict[str, str] = {}
        self._pins: frozenset[str] = frozenset()  # ts of the pinned messages of the conversation being read

    # --- reading --------------------------------------------------------------

    def add(self, conversation: Conversation) -> Counter[str]:
        """Render every message of one source conversation; returns its counts for the report."""
        counts: Counter[str] = Counter(
            {"read": 0, "planned": 0, "skipped_system": 0, "skipped_author": 0, "files": 0, "files_left_out": 0}
        )
        keep_system, for_message, ledger = self.run.keep_system, self.run.authors.for_message, self.run.ledger
        versions, target = self.run.versions, self.target
        learn, known = self.run.authors.learn, self.run.authors.names
        self._pins = frozenset(conversation.pins)
        ctx = self.run.ctx
        ctx.native_mentions, ctx.native_reactions = self.run.native_forms.get(
            conversation.workspace, self.run.default_forms
        )
        for key, message in keyed_messages(conversation, self.run.source.messages(conversation)):
            counts["read"] += 1
            counts["files"] += len(message.files)
            if message.system or message.user not in known:  # only what may name someone the user list lacks
                learn(message)
            if message.system and not keep_system:
                counts["skipped_system"] += 1
                self._left_out(conversation, message, SKIPPED_SYSTEM, counts)
                continue
            author = for_message(message)
            if author is None:
                counts["skipped_author"] += 1
                self._left_out(conversation, message, SKIPPED_AUTHOR, counts)
                continue
            fate = versions.fate(key, target.key, target.display_name, message)
            if not (fate == ALREADY_MIGRATED and self._keep(conversation, message, key, author)):
                self._plan(conversation, message, key, author, versions.lands_as_rendered(fate))
            record = self.records[-1]
            ledger.planned(message, key, record.span, None if record.root else record.thread[1], fate)
            counts["planned"] += 1
        return counts

    def _left_out(self, conversation: Conversation, message: Message, reason: str, counts: Counter[str]) -> None:
        line = line_of(message, "skipped")
        line["reason"] = reason
        self.run.ledger.add(line)
        counts["files_left_out"] += len(message.files)
        if not message.is_reply:
            self.skipped_roots.setdefault((conversation.id, message.thread_key), (reason, message.ts))

    def _keep(self, conversation: Conversation, message: Message, key: str, author: Author) -> bool:
        """Plan a message that landed unchanged with the request fields of its line in the earlier plan (`kept.py`),
        counted as that line was when it was rendered; False when there is none to keep, or it was posted as
        someone else (the mappings changed: the message is rendered anew, and the report counts it as mapped now)."""
        if message.files:
            return False
        line = self.run.kept.line(self.run.versions, self.target.key, key, _request_head(author))
        if line is None:
            return False
        fields, footprint = line
        self.run.tally.conversions.update(footprint.features)
        self.run.ctx.replay(footprint)
        self.run.versions.rendered(key, footprint)
        note = self._fallback_note(author.posted_by) if author.posted_by else None
        thread = (conversation.id, message.thread_key)
        self._spool(key, message.ts, thread, not message.is_reply, message.us, author, note, fields, 1)
        return True

    def _plan(self, conversation: Conversation, message: Message, key: str, author: Author, lands: bool) -> None:
        """Render a message into its parts; `lands`: as rendered (`Versions.lands_as_rendered`)."""
        ctx = self.run.ctx
        ctx.begin()
        reply = message.is_reply
        files = (
            self.run.files.for_message(message.files, key, self.uploads, author.sender["user"]["id"])
            if message.files
            else NO_FILES
        )
        body = bodies.content(message, ctx, files)  # may place some files itself (taking them out of files.nodes)
        overflow = self._over_file_limit(files)
        reactions = native.reactions(message, ctx) if message.reactions else native.NO_REACTIONS
        blocks = body + files.nodes + bodies.notes(message, ctx, message.ts in self._pins, reactions=False)
        if not blocks and not reactions.native_note:
            ctx.features.add("empty_messages")
            blocks = [bodies.empty_note()]
        if self.is_chat and reply:
            ctx.features.add("chat_thread_replies")
            blocks.insert(0, thread_reply_note(message.root_ts))
        preamble = render([bodies.posted_by(author.posted_by)]) if author.posted_by else ""
        content = preamble + render(blocks) + reactions.native_note  # the line last: its text form swaps it
        # UTF-8 takes at most 4 bytes a character, so only a body longer than a quarter of the limit in characters
        # is measured. Every body encodes: readers turn lone surrogates into U+FFFD (`Source.repaired`), as
        # html.unescape does. The text form of real reactions may be longer: room is kept for it.
        limit = self.run.limits.message_bytes - reactions.growth
        if len(content) * 4 <= limit or size(content) <= limit:
            parts = [_part(author, content, files, reactions)]
        else:
            rendered = [render([block]) for block in blocks] + (
                [reactions.native_note] if reactions.native_note else []
            )
            parts = self._split(key, author, preamble, rendered, files, reactions)
        if overflow:
            parts += self._file_parts(key, author, preamble, overflow, files, content if len(parts) == 1 else None)
        self.run.tally.conversions.update(ctx.features)
        if lands and len(parts) == 1 and not message.files:  # a line a later pass may keep (`_keep`)
            self.run.versions.rendered(key, ctx.footprint())
        note = self._fallback_note(author.posted_by) if author.posted_by else None
        thread = (conversation.id, message.thread_key)
        self._spool(key, message.ts, thread, not reply, message.us, author, note, _stored(parts), len(parts))

    def _split(
        self,
        key: str,
        author: Author,
        preamble: str,
        rendered: list[str],
        files: FileParts,
        reactions: native.Reactions,
    ) -> list[str]:
        """Numbered parts, each within the body limit, each carrying the images and files it shows; the last one
        carries the real reactions, beside their line."""
        self.run.ctx.features.add("split_messages")
        budget = self.run.limits.message_bytes - reactions.growth - size(preamble) - MARKER_BYTES
        chunks = split_blocks(rendered, budget)
        total = len(chunks)
        parts = [
            _part(
                author,
                preamble + render([part_marker(n, total)]) + "".join(chunk),
                files,
                reactions if n == total else native.NO_REACTIONS,
            )
            for n, chunk in enumerate(chunks, 1)
        ]
        self.run.tally.splits.append(
            {"key": key, "parts": total, "bytes": sum(size(html) for html in rendered), "files": 0}
        )
        return parts

    def _over_file_limit(self, files: FileParts) -> list[list[Element]]:
        """The file attachments beyond Teams' limit per message (docs/graph-contract.md#capacity-limits), taken out of
        the message's own nodes, in groups of the limit: each group is a follow-up part of the message."""
        limit = self.run.limits.files_per_message
        attached = [node for node in files.nodes if node.tag == "attachment"]
        if len(attached) <= limit:
            return []
        moved = attached[limit:]
        files.nodes = [node for node in files.nodes if all(node is not m for m in moved)]
        return [moved[start : start + limit] for start in range(0, len(moved), limit)]

    def _file_parts(
        self,
        key: str,
        author: Author,
        preamble: str,
        groups: list[list[Element]],
        files: FileParts,
        unsplit: str | None,
    ) -> list[str]:
        """Follow-up parts carrying the files one message could not, counted as a split of the message (`unsplit`:
        its body when it is one part; a body split already counted gains the parts)."""
        self.run.ctx.features.add("files_over_limit")
        limit, moved = self.run.limits.files_per_message, sum(len(group) for group in groups)
        parts = []
        for n, group in enumerate(groups, 1):
            marker = _files_marker(limit * n + 1, limit * n + len(group), limit + moved, limit)
            parts.append(_part(author, preamble + render([marker, *group]), files))
        if unsplit is None:
            entry = self.run.tally.splits[-1]
            entry["parts"], entry["files"] = entry["parts"] + len(parts), moved
        else:
            self.run.tally.splits.append({"key": key, "parts": 1 + len(parts), "bytes": size(unsplit), "files": moved})
        return parts

    def _fallback_note(self, name: str) -> str:
        note = self._fallback_notes.get(name)
        if note is None:
            note = self._fallback_notes[name] = f"posted by the fallback account for {name}"
        return note

    def _spool(
        self,
        key: str,
        ts: str,
        thread: tuple[str, str],
        root: bool,
        us: int,
        author: Author,
        note: str | None,
        data: bytes,
        span: int,
    ) -> None:
        """`data` holds the `span` parts of one message as `_stored` encodes them; `note` is for the reviewer."""
        self._pending.append(data)
        self.records.append(_Record(key, ts, thread, root, us, span, self._end, len(data), author, note))
        self._end += len(data)
        if self._end - self._written >= SPOOL_BATCH:
            self._flush()

    def _flush(self) -> None:
        """Write the pending messages where the last batch ended: the spool is only read once all are written."""
        self.spool.write(b"".join(self._pending))
        self._pending.clear()
        self._written = self._end

    # --- writing ---------------------------------------------------------------

    def finish(self, plan_dir: Path) -> PlannedConversation:
        """Resolve threads, place every message in time, and write the plan file in posting order."""
        self._resolve_threads()  # may spool stand-in roots
        self._flush()
        placements = place(self.records, self.run.now_ms)  # a record has what placing reads: thread, us, root, span
        order = time_order(placements)
        counts: Counter[str] = Counter()
        lines = self._lines(order, placements, counts)
        written = write_encoded_lines(plan_dir / self.target.file, lines)
        first = min((p.ms for p in placements), default=None)
        return PlannedConversation(
            key=self.target.key,
            display_name=self.target.display_name,
            file=self.target.file,
            created=format_ms(self._created(first)),
            messages=written,
            roots=counts["root"],
            replies=counts["reply"],
            description=self.target.description,
            general=self.target.general,
            membership=self.target.membership,
            members=self.target.members,
            uploads=list(self.uploads.by_key.values()),
            sources=[c.id for c in self.target.sources],
            existing=self.target.existing,
        )

    def _resolve_threads(self) -> None:
        """Every record's thread becomes (conversation, its root's key): a root's own key, the first root
        with a reply's thread key, or, for replies without one, a stand-in root's."""
        first_root: dict[tuple[str, str], str] = {}
        for record in self.records:
            if record.root:
                first_root.setdefault(record.thread, record.key)
        orphans: dict[tuple[str, str], list[_Record]] = {}
        for record in self.records:
            if record.root:
                record.thread = (record.thread[0], record.key)
            elif record.thread in first_root:
                record.thread = (record.thread[0], first_root[record.thread])
            else:
                orphans.setdefault(record.thread, []).append(record)
        if orphans:
            taken = {record.key for record in self.records}
            for thread, replies in orphans.items():
                key = self._stand_in_root(thread, replies, taken)
                for record in replies:
                    record.thread = (thread[0], key)

    def _stand_in_root(self, thread: tuple[str, str], replies: list[_Record], taken: set[str]) -> str:
        """A first message for replies whose own is missing, so they stay a thread in Teams.

        A root left out is known with its ts; a root not in the export only by the replies' thread_ts (a source
        that keys threads by id names a root by id only when the export holds it).
        """
        conversation = thread[0]
        reason, ts = self.skipped_roots.get(thread, (None, thread[1]))
        key = f"{conversation}:{ts}"
        if key in taken:
            key += "/thread-start"
        taken.add(key)
        text = SKIPPED_ROOT.format(reason=reason) if reason else MISSING_ROOT
        try:
            us = ts_to_micros(ts)
        except ValueError:
            us = min(r.us for r in replies)
        author = self.run.authors.placeholder_author(replies[0].author)
        self._spool(
            key,
            ts,
            (conversation, key),
            True,
            us,
            author,
            f"stand-in for the thread's first message: {reason or 'not in the export'}",
            _stored([_part(author, render([note(text)]), NO_FILES)]),
            1,
        )
        self.run.tally.thread_placeholders.append(
            {"key": key, "reason": reason or "not in the export", "replies": len(replies)}
        )
        return key

    def _read(self, record: _Record) -> list[bytes]:
        """The encoded parts of one spooled message, as the UTF-8 they are written in."""
        self.spool.seek(record.offset)
        data = self.spool.read(record.length)
        return [data] if record.span == 1 else data.split(b"\x00")  # most messages are one part: no scan for NUL

    def _lines(self, order: list[int], placements: list[Placement], counts: Counter[str]) -> Iterator[bytes]:
        """Each plan line as UTF-8 JSON: the plan fields, then the request fields spooled ready-encoded
        (bytes throughout, so the bodies are never decoded and encoded again)."""
        records, is_chat, placed = self.records, self.is_chat, self.run.versions.placed
        position = 0  # where the line starts in the plan file: each is followed by a newline (`write_encoded_lines`)
        for index in order:
            record, placement = records[index], placements[index]
            note, parts = record.note, self._read(record)
            moved = self._moved(record, placement) if placement.moved else None
            root_key = record.thread[1]  # (conversation, root key): a root's is its own
            source_ts = _encode(record.ts)
            for number, part in enumerate(parts):
                is_root = is_chat or (record.root and number == 0)  # a chat has no replies
                key = record.key if number == 0 else f"{record.key}/part-{number + 1}"
                notes = _notes(note, moved if number == 0 else None, number, len(parts))
                counts["root" if is_root else "reply"] += 1
                head = "".join(
                    (
                        '{"key":',
                        _encode(key),
                        ',"kind":"',
                        "root" if is_root else "reply",
                        '","root_key":',
                        "null" if is_root else _encode(root_key),
                        ',"source_ts":',
                        source_ts,
                        ',"createdDateTime":"',
                        format_ms(placement.ms + number),
                        '",',
                    )
                )
                tail = ',"note":' + _encode(notes) + "}" if notes else "}"
                encoded = head.encode()
                line = b"".join((encoded, part, tail.encode()))
                if record.span == 1:
                    placed(record.key, position, len(encoded), len(part))
                position += len(line) + 1
                yield line

    def _moved(self, record: _Record, placement: Placement) -> str:
        self.run.tally.adjust(self.target.key, record.key, placement.original, placement.ms, placement.reasons)
        return f"time moved from {format_ms(placement.original)} ({', '.join(placement.reasons)})"

    def _created(self, first_ms: int | None) -> int:
        """Before the first message (Graph refuses a message at or before its channel's creation), and no later than
        the source conversation's creation for a channel or chat the migration creates. A channel or chat people
        already use keeps its own creation unless the history is older (load takes the earlier, issue 21): the source
        conversation's creation would move someone else's channel back for nothing."""
        sources = [] if self.target.existing else self.target.sources
        known = [c.created_us // 1000 for c in sources if c.created_us is not None]
        return min(known + ([first_ms - 1] if first_ms is not None else []) + [self.run.now_ms - 1])


def _request_head(author: Author) -> bytes:
    """How the request fields of a one-part line without files posted as `author` start (`_part`): who it is from
    and, for the fallback account, whom the body says it was originally posted by."""
    head = '"from":' + author.sender_json
    if author.posted_by:
        preamble = _encode(render([bodies.posted_by(author.posted_by)]))
        head += ',"body":{"contentType":"html","content":' + preamble[:-1]  # the content goes on after it
    return head.encode()


def _stored(parts: list[str]) -> bytes:
    """The encoded request fields of each part (`_part`) as the spool keeps them: the UTF-8 the plan file gets,
    separated by NUL, which JSON text never holds raw (encoders escape it)."""
    return "\x00".join(parts).encode()


def _notes(note: str | None, moved: str | None, number: int, total: int) -> str:
    """The reviewer's note of one part: why it was posted so, whether its time moved, which part it is."""
    if total == 1:  # nearly every message: no list to build
        return f"{note}; {moved}" if note and moved else note or moved or ""
    return "; ".join(n for n in (note, moved, f"part {number + 1} of {total}") if n)


def _part(author: Author, body: str, files: FileParts, reactions: native.Reactions = native.NO_REACTIONS) -> str:
    """The request fields of one part, encoded: `from`, the body, exactly the inline images and attachments it
    references (with the uploads they need), and its real mentions and reactions with its text form (`native.py`)."""
    body, extra = native.part_fields(body, reactions)
    tail = "," + _members(extra) if extra else ""
    if files is NO_FILES:
        return (
            f'"from":{author.sender_json},"body":{{"contentType":"html","content":{_encode(body)}}},'
            '"hostedContents":[],"attachments":[],"uploads":[]' + tail
        )
    hosted = [h for h in files.hosted if f"../hostedContents/{h['@microsoft.graph.temporaryId']}/$value" in body]
    attachments = [a for a in files.attachments if f'id="{a["id"]}"' in body]
    uploads = list(dict.fromkeys(a["upload"] for a in attachments))
    fields = {
        "from": author.sender,
        "body": {"contentType": "html", "content": body},
        "hostedContents": hosted,
        "attachments": attachments,
        "uploads": uploads,
        **extra,
    }
    return _members(fields)


def _members(fields: dict[str, Any]) -> str:
    """`fields` as compact JSON without its braces, as json.dumps(..., ensure_ascii=False) writes them. orjson
    writes the same several times faster (a quarter of the messages carry reactions or files); a lone surrogate,
    which it refuses, takes json's way."""
    try:
        text = orjson.dumps(fields).decode()
    except orjson.JSONEncodeError:
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return text[1:-1]
