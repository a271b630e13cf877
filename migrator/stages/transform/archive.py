"""Conversations kept aside rather than imported: anything mapped to `archive`, and DMs that cannot be a chat.

The customer keeps them as `archive/{conversation}.jsonl` (one message per
line: time, author, the original text and the same safe HTML a plan would
carry) and `archive/{conversation}.html`, a page that reads like the
conversation did (threads under their first message), with the files the
export holds copied to `archive/files/` and linked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from migrator.ledger import LedgerWriter, line_of
from migrator.model import Conversation, File, FileStatus, Message, Source, micros_to_iso
from migrator.plan import ArchiveEntry, write_lines
from migrator.reports.transform_archive import render_archive_page
from migrator.stages.transform import bodies
from migrator.stages.transform.authors import bot_label
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import UNREADABLE, FileStore, clean_url, placeholder, safe_component
from migrator.stages.transform.markup import Element, el, render
from migrator.stages.transform.planner import keyed_messages

ARCHIVE_DIR = "archive"
FILES_DIR = f"{ARCHIVE_DIR}/files"


class Archiver:
    def __init__(
        self,
        source: Source,
        names: Mapping[str, str],
        channels: Mapping[str, str],
        plan_dir: Path,
        ledger: LedgerWriter,
        elsewhere: Callable[[str], str | None] | None = None,
    ) -> None:
        """`elsewhere`: the name of someone `names` lacks (`Authors.elsewhere`)."""
        self.source = source
        self.ledger = ledger
        self.names = names
        self.ctx = Context(users=names, channels=channels)  # its own: archived content is not counted as imported
        if elsewhere is not None:
            self.ctx.elsewhere = elsewhere
        self.plan_dir = plan_dir
        self.store = FileStore(source, plan_dir, FILES_DIR)

    def archive(self, conversation: Conversation, label: str, reason: str) -> ArchiveEntry:
        """Write the conversation's JSONL and page; returns its manifest entry."""
        stem = f"{ARCHIVE_DIR}/{safe_component(conversation.id)}"
        pins = frozenset(conversation.pins)
        lines = []
        for key, message in keyed_messages(conversation, self.source.messages(conversation)):
            lines.append(self._line(key, message, message.ts in pins))
            archived = line_of(message, "archived")
            archived["page"] = f"{stem}.html"
            self.ledger.add(archived)
        write_lines(self.plan_dir / f"{stem}.jsonl", iter(lines))
        page = render_archive_page(label, conversation.kind.value, reason, lines)
        (self.plan_dir / f"{stem}.html").write_text(page, encoding="utf-8")
        return {
            "conversation": conversation.id,
            "name": label,
            "kind": conversation.kind.value,
            "reason": reason,
            "file": f"{stem}.jsonl",
            "page": f"{stem}.html",
            "messages": len(lines),
            "files": sum(1 for line in lines for f in line["files"] if f["path"]),
            "files_read": sum(len(line["files"]) for line in lines),
        }

    def _line(self, key: str, message: Message, pinned: bool) -> dict[str, Any]:
        self.ctx.begin()
        files = [self._file(file) for file in message.files]
        notes = bodies.notes(message, self.ctx, pinned)
        blocks = bodies.content(message, self.ctx) + [node for _, node in files] + notes
        return {
            "key": key,
            "ts": message.ts,
            "time": micros_to_iso(message.us),
            "thread_ts": message.thread_ts,
            "reply": message.is_reply,
            "user": message.user,
            "author": self.names.get(message.user or "")
            or message.username
            or (message.user and self.ctx.user_name(message.user))
            or (bot_label(message.bot_id) if message.bot_id else ""),
            "subtype": message.subtype,
            "text": message.text,
            "html": render(blocks),
            "files": [entry for entry, _ in files],
        }

    def _file(self, file: File) -> tuple[dict[str, Any], Element]:
        """A copy next to the page when the export has the bytes, otherwise the plan's placeholder line."""
        entry: dict[str, Any] = {
            "name": file.name,
            "status": file.status.value,
            "path": None,
            "url": clean_url(file.url) if file.url else None,
        }
        if file.status is FileStatus.AVAILABLE:
            try:
                stored = self.store.store(file.id or f"{file.name}-{file.created_us}", file)
            except UNREADABLE:
                return {**entry, "status": "unreadable"}, placeholder(file, "unreadable")
            entry["path"] = stored.path
            href = quote(stored.path.removeprefix(f"{ARCHIVE_DIR}/"))
            shown: Element = (
                Element("img", [], (("src", href), ("alt", file.name)))
                if file.is_image
                else el("span", "📎 " + file.name)
            )
            return entry, el("p", Element("a", [shown], (("href", href),)))
        return entry, placeholder(file, file.status.value)
