"""`export --format html`: a browsable, searchable archive of an export folder, built from its files alone.

`index.html` lists every target and conversation and links `search.html`,
the offline search over every message (a word index written into the page;
filters by person and date). Each conversation gets pages of at most
`PAGE_SIZE` messages next to its JSONL file: a heading per day, threads
(roots in time order, replies under them; chats compact, one line per
message), authors, times, reactions (emoji, count, who), system events as
sentences from their `eventDetail`, inline images and downloaded files from
the local copies, attachment links, and the earlier versions of an edited
message folded under it. Bodies pass an allow-list sanitiser, so opening the
archive never runs exported content or calls the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from migrator.reports.archive_body import ImageResolver, archive_body
from migrator.reports.archive_events import Names, event_text
from migrator.reports.archive_search import SEARCH_FILE, SearchIndex, plain
from migrator.reports.html import render
from migrator.stages.export.archive import (
    IMAGES_DIR,
    ArchiveError,
    Message,
    TargetArchive,
    conversation_of,
    read_messages,
    safe_name,
)
from migrator.stages.export.files import file_dir, linked_files
from migrator.stages.export.images import HOSTED_URL, local_image
from migrator.timestamps import format_ms, parse_ms

INDEX_FILE = "index.html"
TARGET_FOLDERS = {"teams": "Teams", "users": "Users' chats"}
PAGE_SIZE = 1_000  # messages per conversation page: a 6,000-message chat is six pages a browser opens at once
CHAT_KINDS = ("oneOnOne", "group", "meeting", "chat")
REACTIONS = {"like": "👍", "heart": "❤️", "laugh": "😆", "surprised": "😮", "sad": "😢", "angry": "😡"}


@dataclass
class Conversation:
    name: str
    kind: str
    page: str  # the first page, relative to the export folder, URL-quoted
    pages: int
    messages: int
    deleted: int
    first: str
    last: str


@dataclass
class TargetIndex:
    kind: str
    name: str
    conversations: list[Conversation] = field(default_factory=list)


@dataclass
class Thread:
    root: Message | None  # None when the root is not in the export (outside the window or filter)
    replies: list[Message] = field(default_factory=list)


@dataclass
class Block:
    """What a page shows of one thread: its root (unless on an earlier page or not exported) and replies."""

    thread: int
    day: str  # the day heading it falls under
    root: dict[str, Any] | None
    replies: list[dict[str, Any]]
    continued: bool  # the thread began on an earlier page
    heading: bool = False  # the first block of its day on this page


def render_archive(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    targets = []
    search = SearchIndex()
    try:
        for folder, label in TARGET_FOLDERS.items():
            for root in sorted(p for p in (out_dir / folder).glob("*") if p.is_dir()):
                targets.append(_render_target(out_dir, root, label, search))
    except ArchiveError as error:  # the export itself is on disk; say which of its files stopped the archive
        raise ArchiveError(f"the HTML archive was not written: {error}") from error
    (out_dir / SEARCH_FILE).write_text(
        render("export_search.html.j2", index=Markup(search.script_json()), people=search.people, home=INDEX_FILE),
        encoding="utf-8",
    )
    index = out_dir / INDEX_FILE
    index.write_text(
        render(
            "export_index.html.j2",
            targets=targets,
            search=SEARCH_FILE,
            totals={
                "conversations": sum(len(t.conversations) for t in targets),
                "messages": sum(c.messages for t in targets for c in t.conversations),
            },
        ),
        encoding="utf-8",
    )
    return index


def _render_target(out_dir: Path, root: Path, label: str, search: SearchIndex) -> TargetIndex:
    meta = TargetArchive(root).read_meta()
    people: Names = meta.get("people") or {}
    target = TargetIndex(kind=label, name=meta.get("name") or root.name)
    for path in sorted(root.glob("*.jsonl")):
        versions = list(read_messages(path))
        messages = latest_versions(versions)
        if not messages:
            continue
        conversation = conversation_of(messages[0])
        info = meta.get("conversations", {}).get(conversation, {})
        name = info.get("name") or conversation
        page = _Pages(root, conversation, path, people, earlier_versions(versions))
        compact = (info.get("kind") or "") in CHAT_KINDS or bool(messages[0].get("chatId"))
        chunks = list(paged(threads(messages)))
        hrefs = [quote(page.path(n).relative_to(out_dir).as_posix()) for n in range(len(chunks))]
        number = search.conversation(name, target.name, hrefs)
        for n, chunk in enumerate(chunks):
            blocks = page.blocks(chunk)
            for block in blocks:
                for view in ([block.root] if block.root else []) + block.replies:
                    search.add(number, n, view["id"], view["author"], view["created"], view["text"])
            page.path(n).write_text(
                render(
                    "export_conversation.html.j2",
                    target=target.name,
                    name=name,
                    kind=info.get("kind") or "",
                    conversation=conversation,
                    count=len(messages),
                    compact=compact,
                    page_size=PAGE_SIZE,
                    blocks=blocks,
                    page=n + 1,
                    pages=[quote(page.path(i).name) for i in range(len(chunks))],
                    index=f"../../{INDEX_FILE}",
                    search=f"../../{SEARCH_FILE}",
                ),
                encoding="utf-8",
            )
        times = sorted((m["createdDateTime"] for m in messages), key=parse_ms)  # varying precision: by instant
        target.conversations.append(
            Conversation(
                name=name,
                kind=info.get("kind") or "",
                messages=len(messages),
                deleted=sum(1 for m in messages if m.get("deletedDateTime")),
                page=hrefs[0],
                pages=len(chunks),
                first=times[0][:10],
                last=times[-1][:10],
            )
        )
    target.conversations.sort(key=lambda c: c.name.lower())
    return target


def latest_versions(versions: Iterable[Message]) -> list[Message]:
    """The newest version of each message (a later line wins a tie), in time order."""
    newest: dict[str, Message] = {}
    for message in versions:
        known = newest.get(message["id"])
        if known is None or _modified(message) >= _modified(known):
            newest[message["id"]] = message
    return sorted(newest.values(), key=lambda m: (parse_ms(m["createdDateTime"]), m["id"]))


def earlier_versions(versions: Iterable[Message]) -> dict[str, list[Message]]:
    """Per message id, the versions whose body a later version changed, newest first.

    A reaction also makes a new version (Graph moves lastModifiedDateTime); only edits are shown as earlier
    versions.
    """
    by_id: dict[str, list[Message]] = {}
    for message in versions:
        by_id.setdefault(message["id"], []).append(message)
    out = {}
    for message_id, history in by_id.items():
        if len(history) < 2:
            continue
        history.sort(key=_modified)
        changed = [old for old, new in zip(history, history[1:], strict=False) if _content(old) != _content(new)]
        if changed:
            out[message_id] = changed[::-1]
    return out


def threads(messages: list[Message]) -> list[Thread]:
    """Roots in time order with their replies; replies whose root is missing form their own thread."""
    by_id = {m["id"]: Thread(root=m) for m in messages if not m.get("replyToId")}
    orphans: dict[str, Thread] = {}
    for message in messages:
        parent = message.get("replyToId")
        if parent:
            (by_id.get(parent) or orphans.setdefault(parent, Thread(root=None))).replies.append(message)
    return list(by_id.values()) + list(orphans.values())


Entry = tuple[int, Message, bool]  # (thread number, message, is a reply)


def paged(all_threads: list[Thread], size: int = PAGE_SIZE) -> Iterator[list[Entry]]:
    """The threads' messages in reading order, `size` at a time; a long thread goes on over the next page."""
    chunk: list[Entry] = []
    for number, thread in enumerate(all_threads):
        entries = [(number, thread.root, False)] if thread.root else []
        for entry in entries + [(number, reply, True) for reply in thread.replies]:
            chunk.append(entry)
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


class _Pages:
    """One conversation's pages: file names, and each message as the template shows it."""

    def __init__(
        self, root: Path, conversation: str, path: Path, people: Names, earlier: dict[str, list[Message]]
    ) -> None:
        self.root = root
        self.conversation = conversation
        self.jsonl = path
        self.people = people
        self.earlier = earlier
        self.images = root / IMAGES_DIR / safe_name(conversation)
        self.started: set[int] = set()  # threads whose first message is on an earlier page

    def path(self, number: int) -> Path:
        """`{conversation}.html`, then `{conversation}.p2.html`, …"""
        suffix = ".html" if number == 0 else f".p{number + 1}.html"
        return self.jsonl.with_suffix(suffix)

    def blocks(self, chunk: list[Entry]) -> list[Block]:
        """A page's entries grouped back into threads, each marked when it opens a new day."""
        blocks: list[Block] = []
        for number, message, is_reply in chunk:
            view = self.view(message)
            if blocks and blocks[-1].thread == number:
                blocks[-1].replies.append(view)
            else:
                blocks.append(
                    Block(
                        thread=number,
                        day=message["createdDateTime"][:10],
                        root=None if is_reply else view,
                        replies=[view] if is_reply else [],
                        continued=is_reply and number in self.started,
                    )
                )
            self.started.add(number)
        for position, block in enumerate(blocks):
            block.heading = position == 0 or blocks[position - 1].day != block.day
        return blocks

    def view(self, message: Message) -> dict[str, Any]:
        """A message as the template shows it, and the text the search index keeps of it."""
        message_id = str(message["id"])
        folder = self.images / safe_name(message_id)

        def resolve(src: str) -> str | None:
            match = HOSTED_URL.fullmatch(src.strip())
            found = local_image(folder, match.group(1)) if match else None
            return quote(found.relative_to(self.root).as_posix()) if found else None

        event = event_text(message.get("eventDetail"), self.people)
        attachments = self._attachments(message)
        text = " ".join(
            part for part in (event, plain(_content(message)), *(a["name"] or "" for a in attachments)) if part
        )
        return {
            "message": message,
            "id": message_id,
            "author": _author(message),
            "created": format_ms(parse_ms(message["createdDateTime"])),  # one precision, so the index sorts as text
            "body": _body(message, resolve),
            "event": event,
            "attachments": attachments,
            "reactions": self._reactions(message),
            "earlier": [
                {"when": _edited_at(old), "body": _body(old, resolve)} for old in self.earlier.get(message_id, [])
            ],
            "text": text,
        }

    def _attachments(self, message: Message) -> list[dict[str, Any]]:
        """Each attachment with its downloaded copy, relative to the page, when `--attachments download` made one."""
        local = linked_files(message)
        folder = file_dir(self.root, self.conversation, str(message["id"]))
        out = []
        for attachment in message.get("attachments") or []:
            name = local.get(str(attachment.get("id")), ("", ""))[1]
            copy = folder / name if name else None
            out.append(
                {
                    "name": attachment.get("name") or "",
                    "id": attachment.get("id") or "",
                    "contentType": attachment.get("contentType") or "",
                    "contentUrl": attachment.get("contentUrl") or "",
                    "local": quote(copy.relative_to(self.root).as_posix()) if copy and copy.is_file() else None,
                }
            )
        return out

    def _reactions(self, message: Message) -> list[dict[str, Any]]:
        """Reactions grouped by kind: the emoji, how many, and who (the names the export recorded)."""
        grouped: dict[str, list[str]] = {}
        for reaction in message.get("reactions") or []:
            if not isinstance(reaction, dict):
                continue
            kind = str(reaction.get("reactionType") or "")
            user = ((reaction.get("user") or {}).get("user")) or {}
            known = self.people.get(str(user.get("id") or "")) or {}
            grouped.setdefault(kind, []).append(
                str(known.get("name") or user.get("displayName") or user.get("id") or "someone")
            )
        return [
            {"emoji": REACTIONS.get(kind, kind), "kind": kind, "count": len(who), "who": ", ".join(who)}
            for kind, who in grouped.items()
        ]


def _author(message: Message) -> str:
    sender = message.get("from") or {}
    for kind in ("user", "application", "device"):
        if sender.get(kind):
            return sender[kind].get("displayName") or sender[kind].get("id") or kind
    return "System" if message.get("messageType") == "systemEventMessage" else "Unknown sender"


def _body(message: Message, resolve: ImageResolver) -> Markup:
    body = message.get("body") or {}
    content = body.get("content") or ""
    if str(body.get("contentType", "text")).lower() == "html":
        return Markup(archive_body(content, resolve))
    return Markup('<div class="text">') + escape(content) + Markup("</div>")


def _modified(message: Message) -> int:
    return parse_ms(message.get("lastModifiedDateTime") or message["createdDateTime"])


def _content(message: Message) -> str:
    content = (message.get("body") or {}).get("content") or ""
    return "" if content.strip() == "<systemEventMessage/>" else str(content)


def _edited_at(message: Message) -> str:
    return str(message.get("lastEditedDateTime") or message.get("lastModifiedDateTime") or message["createdDateTime"])
