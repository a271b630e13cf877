"""One target's folder of the export: a JSONL file per conversation, images, the attachment list.

    DIR/teams/{team}/{channel}.jsonl        chatMessage objects exactly as Graph returned them
    DIR/users/{user}/{chat}.jsonl           the same for a user's chats
    .../hostedContents/{conversation}/{message}/{id}.{ext}   inline images
    .../attachments.csv                     every attachment link, per message
    .../meta.json                           names of the target and its conversations

A line is appended once per (conversation, message id, lastModifiedDateTime):
an edit or a deletion adds the new version, a page fetched again after an
interruption or in an overlapping window adds nothing. `sync()` puts the
lines on disk (fsync) and the run calls it before its cursor or watermark
moves past them, so a crash, even a power cut, can repeat pages (dropped
here) but never skip one. Syncing at checkpoints rather than per page keeps
parallel targets from queueing on the disk.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from migrator.errors import IncompleteError
from migrator.timestamps import parse_ms

ATTACHMENTS_FILE = "attachments.csv"
META_FILE = "meta.json"
IMAGES_DIR = "hostedContents"
ATTACHMENT_COLUMNS = ["conversation", "message", "createdDateTime", "name", "contentType", "contentUrl"]

Message = dict[str, Any]


def safe_name(graph_id: str) -> str:
    """A file name for a Graph id (`19:abc@thread.tacv2`): reversible, so two ids never share a file."""
    return quote(graph_id, safe="@.-_=")


class ArchiveError(IncompleteError):
    """A file of an earlier export is damaged, or Graph sent something that cannot be filed; says which.

    Either way that target (or the HTML archive) was not completed, and the run ends with exit code 1.
    """


def conversation_of(message: Message) -> str:
    """The channel or chat a message belongs to; every exported chatMessage names one."""
    identity = message.get("channelIdentity") or {}
    conversation = identity.get("channelId") or message.get("chatId")
    if not conversation or not isinstance(conversation, str):
        raise ArchiveError(
            f"message {message.get('id')!r} names neither a channel (channelIdentity) nor a chat (chatId); "
            "Graph's answer is not an exported chatMessage"
        )
    return conversation


def version_key(message: Message) -> tuple[str, str, str]:
    return conversation_of(message), str(message.get("id")), str(message.get("lastModifiedDateTime"))


class TargetArchive:
    """Not thread-safe: one worker owns a target at a time."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.seen: set[tuple[str, str, str]] = set()
        self.attachments: list[dict[str, str]] = []
        self.lines: Counter[str] = Counter()  # lines per conversation file
        self.linked: dict[tuple[str, str], Message] = {}  # (conversation, id) -> latest version attaching files
        self._unsynced: set[Path] = set()

    def open(self, since_ms: int | None) -> None:
        """Read what earlier runs wrote; only versions newer than `since_ms` can come back from Graph."""
        for path in sorted(self.root.glob("*.jsonl")):
            for message in _read_repaired(path):
                self.lines[path.name] += 1
                self._note_attachments(message)
                modified = message.get("lastModifiedDateTime")
                if since_ms is None or modified is None or parse_ms(modified) > since_ms:
                    self.seen.add(version_key(message))

    def path_of(self, conversation: str) -> Path:
        return self.root / f"{safe_name(conversation)}.jsonl"

    def write(self, messages: Iterable[Message]) -> list[Message]:
        """Append the versions not yet written; returns them. A killed process loses none; see sync()."""
        fresh: dict[str, list[Message]] = {}
        for message in messages:
            key = version_key(message)
            if key in self.seen:
                continue
            self.seen.add(key)
            fresh.setdefault(key[0], []).append(message)
        if fresh:
            self.root.mkdir(parents=True, exist_ok=True)
        for conversation, batch in fresh.items():
            path = self.path_of(conversation)
            with open(path, "ab") as handle:  # UTF-8, compact, keys in Graph's order: as json.dumps wrote it, 5x faster
                handle.write(b"".join(orjson.dumps(m) + b"\n" for m in batch))
            self._unsynced.add(path)
            self.lines[path.name] += len(batch)
            for message in batch:
                self._note_attachments(message)
        return [m for batch in fresh.values() for m in batch]

    def _note_attachments(self, message: Message) -> None:
        rows = _attachment_rows(message)
        self.attachments.extend(rows)
        if any(row["contentType"] == "reference" for row in rows):
            self.linked[(rows[0]["conversation"], rows[0]["message"])] = message

    def sync(self) -> None:
        """Everything written so far is on disk, even across a power cut."""
        for path in sorted(self._unsynced):
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        self._unsynced.clear()

    def image_dir(self, conversation: str, message_id: str) -> Path:
        return self.root / IMAGES_DIR / safe_name(conversation) / safe_name(message_id)

    def read_meta(self) -> dict[str, Any]:
        """Names recorded by earlier runs, so a channel deleted since keeps its name in the archive."""
        try:
            meta = json.loads((self.root / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None
        if not isinstance(meta, dict):  # missing, unreadable or damaged: the names are looked up again
            meta = {}
        if not isinstance(meta.get("conversations"), dict):
            meta["conversations"] = {}
        return meta

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _replace(self.root / META_FILE, json.dumps(meta, indent=1, ensure_ascii=False) + "\n")

    def finish(self) -> int:
        """Write the attachment list, rebuilt from every version on disk so it never misses one; returns its length."""
        rows = sorted(
            {tuple(r.items()): r for r in self.attachments}.values(),
            # Graph answers times with varying precision: order by the instant, never the text.
            key=lambda r: (r["conversation"], parse_ms(r["createdDateTime"]), r["message"], r["name"]),
        )
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / ATTACHMENTS_FILE
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=ATTACHMENT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
        return len(rows)


def read_messages(path: Path) -> Iterator[Message]:
    """Every version in a conversation file, oldest line first."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith("\n"):
                continue  # cut short by a crash; the next run of its target removes it
            try:
                yield json.loads(line)
            except ValueError:
                raise ArchiveError(
                    f"{path}:{number}: not a JSON chatMessage; restore the file, or delete it and "
                    "export its target again with --full"
                ) from None


def _read_repaired(path: Path) -> Iterator[Message]:
    """Drop a last line a crash cut short (every complete line ends with a newline), then read."""
    with open(path, "rb+") as handle:
        end = handle.seek(0, os.SEEK_END)
        keep = end
        while keep > 0:  # walk back from the end to the last newline, a block at a time
            start = max(0, keep - 65_536)
            handle.seek(start)
            block = handle.read(keep - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            keep = start
        if keep != end:
            handle.truncate(keep)
    yield from read_messages(path)


def _attachment_rows(message: Message) -> list[dict[str, str]]:
    return [
        {
            "conversation": conversation_of(message),
            "message": str(message.get("id")),
            "createdDateTime": str(message.get("createdDateTime")),
            "name": str(a.get("name") or ""),
            "contentType": str(a.get("contentType") or ""),
            "contentUrl": str(a.get("contentUrl") or ""),
        }
        for a in message.get("attachments") or []
    ]


def save_bytes(target: Path, data: bytes) -> None:
    """A downloaded file in place at once: written under a hidden name first, so a crash's leftover never
    counts as the file (an image or attachment is fetched again only when its file is missing)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _replace(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
