"""`export --format html`: a browsable archive of an export folder, built from its files alone.

`index.html` lists every target and conversation; each conversation gets a
page next to its JSONL file with its threads (roots in time order, replies
under them), authors, times, edits, deletions, inline images from the local
copies and attachment links. Only the newest version of each message is
shown, and bodies pass an allow-list sanitiser, so opening the archive never
runs exported content or calls the network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from migrator.reports.archive_body import ImageResolver, archive_body
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
from migrator.stages.export.images import HOSTED_URL, local_image
from migrator.timestamps import parse_ms

INDEX_FILE = "index.html"
TARGET_FOLDERS = {"teams": "Teams", "users": "Users' chats"}


@dataclass
class Conversation:
    name: str
    kind: str
    page: str  # relative to the export folder, URL-quoted
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


def render_archive(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    targets = []
    try:
        for folder, label in TARGET_FOLDERS.items():
            for root in sorted(p for p in (out_dir / folder).glob("*") if p.is_dir()):
                targets.append(_render_target(out_dir, root, label))
    except ArchiveError as error:  # the export itself is on disk; say which of its files stopped the archive
        raise ArchiveError(f"the HTML archive was not written: {error}") from error
    index = out_dir / INDEX_FILE
    index.write_text(
        render(
            "export_index.html.j2",
            targets=targets,
            totals={
                "conversations": sum(len(t.conversations) for t in targets),
                "messages": sum(c.messages for t in targets for c in t.conversations),
            },
        ),
        encoding="utf-8",
    )
    return index


def _render_target(out_dir: Path, root: Path, label: str) -> TargetIndex:
    meta = TargetArchive(root).read_meta()
    target = TargetIndex(kind=label, name=meta.get("name") or root.name)
    for path in sorted(root.glob("*.jsonl")):
        messages = latest_versions(read_messages(path))
        if not messages:
            continue
        conversation = conversation_of(messages[0])
        info = meta.get("conversations", {}).get(conversation, {})
        page = path.with_suffix(".html")
        page.write_text(_conversation_page(root, conversation, info, target.name, messages), encoding="utf-8")
        times = sorted((m["createdDateTime"] for m in messages), key=parse_ms)  # varying precision: by instant
        target.conversations.append(
            Conversation(
                name=info.get("name") or conversation,
                kind=info.get("kind") or "",
                messages=len(messages),
                deleted=sum(1 for m in messages if m.get("deletedDateTime")),
                page=quote(page.relative_to(out_dir).as_posix()),
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


def threads(messages: list[Message]) -> list[Thread]:
    """Roots in time order with their replies; replies whose root is missing form their own thread."""
    by_id = {m["id"]: Thread(root=m) for m in messages if not m.get("replyToId")}
    orphans: dict[str, Thread] = {}
    for message in messages:
        parent = message.get("replyToId")
        if parent:
            (by_id.get(parent) or orphans.setdefault(parent, Thread(root=None))).replies.append(message)
    return list(by_id.values()) + list(orphans.values())


def _conversation_page(
    root: Path, conversation: str, info: dict[str, Any], target_name: str, messages: list[Message]
) -> str:
    images = root / IMAGES_DIR / safe_name(conversation)

    def view(message: Message) -> dict[str, Any]:
        folder = images / safe_name(str(message["id"]))

        def resolve(src: str) -> str | None:
            match = HOSTED_URL.fullmatch(src.strip())
            found = local_image(folder, match.group(1)) if match else None
            return quote(found.relative_to(root).as_posix()) if found else None

        return {
            "message": message,
            "author": _author(message),
            "body": _body(message, resolve),
            "attachments": message.get("attachments") or [],
        }

    return render(
        "export_conversation.html.j2",
        target=target_name,
        name=info.get("name") or conversation,
        kind=info.get("kind") or "",
        conversation=conversation,
        count=len(messages),
        index=f"../../{INDEX_FILE}",
        threads=[
            {"root": view(t.root) if t.root else None, "replies": [view(r) for r in t.replies]}
            for t in threads(messages)
        ],
    )


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
