"""What becomes of each file attached to a message: inline image, upload, or placeholder.

The import API carries only inline images (`hostedContents`, each under the
cap real tenants apply, `defaults.inline_image_max_bytes` of migration.yaml,
all of a request within MAX_REQUEST_BYTES: docs/graph-contract.md#inline-images);
any other file must sit in the channel's SharePoint folder before the message
that links it is posted. So small raster images present in the export go
inline (a larger one is counted in OVER_CAP and treated as any other file),
every other present file is copied into `PLAN_DIR/files/` and listed
as a `PlannedUpload` of its channel with a `reference` attachment (its link
is filled in by load after the upload), and a file whose bytes the export
lacks becomes a placeholder line naming it, its size and its original link.
A chat has no files folder: its files are planned the same way, as uploads to
the sender's OneDrive, shared with the chat (docs/graph-contract.md#chat-files).
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from migrator.limits import MAX_BODY_BYTES, MAX_INLINE_IMAGE_BYTES, MAX_REQUEST_BYTES
from migrator.model import FROM_FETCH, File, FileStatus, Source
from migrator.plan import PlannedUpload
from migrator.sources.common import PLACEHOLDER_REASON
from migrator.stages.transform.markup import Element, Node, el, link, note
from migrator.transform_report import FilePlaceholder

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})  # what Teams draws inline
HOSTED_BUDGET = MAX_REQUEST_BYTES - MAX_BODY_BYTES  # base64 of all inline images of one request
ATTACHMENT_NAMESPACE = uuid.UUID("6f1c3a52-93d7-4c61-9d0e-5b1f7e0a2c48")  # fixed: attachment ids stable across runs
FORBIDDEN_NAME_CHARS = re.compile(r'["*:<>?/\\|\x00-\x1f]')
MAX_NAME = 200
_TOKEN_PARAMS = {"t", "token", "access_token"}
# Why a file's bytes cannot travel. EXTERNAL without the reader's own words (PLACEHOLDER_REASON) and DELETED come
# only from the Slack reader, so those two name Slack.
_PLACEHOLDER = {
    FileStatus.MISSING: "not in the export",
    FileStatus.EXTERNAL: "stored outside Slack",
    FileStatus.DELETED: "deleted in Slack before the export",
}
UNREADABLE = (OSError, zipfile.BadZipFile, EOFError)  # a truncated or corrupt member of the export
OVER_CAP = "images_over_cap"  # images above the inline cap, uploaded (channel) or a placeholder line (chat)
COUNT_KEYS = ("inline_images", "uploaded", "missing", "external", "deleted", "unreadable", "in_chat")
_NOT_UPLOADED = {"unreadable": "could not be read from the export"}


@dataclass(slots=True)
class FileParts:
    """What one message's files add to its request."""

    nodes: list[Element] = field(default_factory=list)
    hosted: list[dict[str, str]] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    by_file: dict[str, Element] = field(default_factory=dict)  # file id -> the node in `nodes` that shows it

    def take(self, file_id: str) -> list[Node]:
        """What shows a file, for a body that places it itself (a Teams inline image or attachment): no longer
        appended after the body. A paragraph is opened up, since the body's own element already holds it."""
        node = self.by_file.pop(file_id, None)
        if node is None:
            return []
        self.nodes = [n for n in self.nodes if n is not node]
        return list(node.children) if node.tag == "p" else [node]


@dataclass
class ChannelUploads:
    """The files of one target channel or chat: one upload per source file, names unique within it.

    A chat's uploads go to OneDrive (`chat`): each names its sender's account as owner and the migration account
    (`fallback`) for a sender without OneDrive; where they land is decided by load (`stages/load/chatfiles.py`)."""

    by_key: dict[str, PlannedUpload] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    chat: bool = False
    fallback: str | None = None

    def add(self, key: str, name: str, stored: PlannedUpload, owner: str | None = None) -> PlannedUpload:
        if key in self.by_key:
            return self.by_key[key]
        unique = unique_name(name, self.names)
        upload = PlannedUpload(
            key=key,
            name=unique,
            path=stored.path,
            size=stored.size,
            sha256=stored.sha256,
            owner=owner if self.chat else None,
            fallback=self.fallback if self.chat else None,
        )
        self.by_key[key] = upload
        return upload


class FileStore:
    """Copies file bytes from the export into a folder of the plan once per file, hashing on the way."""

    def __init__(self, source: Source, plan_dir: Path, folder: str) -> None:
        self.source = source
        self.plan_dir = plan_dir
        self.folder = folder
        self._stored: dict[str, PlannedUpload] = {}

    def store(self, key: str, file: File) -> PlannedUpload:
        """The copy of `file` (its path relative to the plan folder); UNREADABLE when the export cannot give it."""
        if key in self._stored:
            return self._stored[key]
        name = safe_name(file.name)
        relative = f"{self.folder}/{safe_component(key)}/{name}"
        target = self.plan_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with self.source.open_file(file) as reader, open(target, "wb") as writer:
                while chunk := reader.read(1 << 20):
                    digest.update(chunk)
                    writer.write(chunk)
        except UNREADABLE:
            target.unlink(missing_ok=True)  # no half file may look like a planned upload
            raise
        stored = PlannedUpload(key=key, name=name, path=relative, size=target.stat().st_size, sha256=digest.hexdigest())
        self._stored[key] = stored
        return stored


class FilePlanner:
    """Decides per file and keeps the counts and the placeholder list the report shows."""

    def __init__(self, source: Source, store: FileStore, inline_max_bytes: int = MAX_INLINE_IMAGE_BYTES) -> None:
        self.source = source
        self.store = store
        self.inline_max_bytes = inline_max_bytes
        self.counts: Counter[str] = Counter({key: 0 for key in COUNT_KEYS})
        self.placeholders: list[FilePlaceholder] = []

    def for_message(
        self, files: list[File], message_key: str, uploads: ChannelUploads, owner: str | None = None
    ) -> FileParts:
        """`owner` is the Entra id a chat message is posted as: its files go to that person's OneDrive."""
        parts = FileParts()
        hosted_bytes = 0
        for index, file in enumerate(files):
            hosted_bytes = self._one(parts, file, index, message_key, uploads, owner, hosted_bytes)
            parts.by_file[file.id] = parts.nodes[-1]  # each file adds exactly one node
        return parts

    def _one(
        self,
        parts: FileParts,
        file: File,
        index: int,
        message_key: str,
        uploads: ChannelUploads,
        owner: str | None,
        hosted_bytes: int,
    ) -> int:
        """Plan one file; returns the inline image bytes the request carries so far."""
        key = file.id or f"{message_key}/file-{index}"
        if file.status is FileStatus.AVAILABLE and file.mimetype in INLINE_TYPES:
            data = self._inline_bytes(file, HOSTED_BUDGET - hosted_bytes)
            if data is not None:
                self._inline(parts, file, data)
                return hosted_bytes + len(data)
        if file.status is FileStatus.AVAILABLE:
            try:
                stored = self.store.store(key, file)
            except UNREADABLE:
                self._placeholder(parts, file, message_key, "unreadable")
                return hosted_bytes
            self._reference(parts, uploads.add(key, file.name, stored, owner), message_key, index)
            self.counts[FROM_FETCH] += FROM_FETCH in file.extra
            return hosted_bytes
        self._placeholder(parts, file, message_key, file.status.value)
        return hosted_bytes

    def _inline_bytes(self, file: File, budget: int) -> str | None:
        """The image as base64 when it is under the inline cap and fits what is left of the request; one over the
        cap is counted (it then travels as any other file)."""
        if file.size is not None and file.size > self.inline_max_bytes:
            self.counts[OVER_CAP] += 1
            return None
        try:
            with self.source.open_file(file) as reader:
                data = reader.read(self.inline_max_bytes + 1)
        except UNREADABLE:
            return None  # the upload path reports it as unreadable
        if len(data) > self.inline_max_bytes:
            self.counts[OVER_CAP] += 1
            return None
        encoded = base64.b64encode(data).decode("ascii")
        return encoded if len(encoded) <= budget else None

    def _inline(self, parts: FileParts, file: File, data: str) -> None:
        temporary_id = str(len(parts.hosted) + 1)
        parts.hosted.append(
            {"@microsoft.graph.temporaryId": temporary_id, "contentBytes": data, "contentType": file.mimetype}
        )
        parts.nodes.append(el("p", Element("img", [], (("src", f"../hostedContents/{temporary_id}/$value"),))))
        self.counts["inline_images"] += 1
        self.counts[FROM_FETCH] += FROM_FETCH in file.extra

    def _reference(self, parts: FileParts, upload: PlannedUpload, message_key: str, index: int) -> None:
        attachment_id = str(uuid.uuid5(ATTACHMENT_NAMESPACE, f"{message_key}/{index}/{upload.key}"))
        parts.attachments.append(
            {"id": attachment_id, "contentType": "reference", "name": upload.name, "upload": upload.key}
        )
        parts.nodes.append(Element("attachment", [], (("id", attachment_id),)))
        if upload.key not in parts.uploads:
            parts.uploads.append(upload.key)
        self.counts["in_chat" if upload.owner else "uploaded"] += 1

    def _placeholder(self, parts: FileParts, file: File, message_key: str, count_key: str) -> None:
        parts.nodes.append(placeholder(file, count_key))
        self.counts[count_key] += 1
        self.placeholders.append(
            {
                "message": message_key,
                "file": file.id,
                "name": file.name,
                "status": count_key,
                "size": file.size,
                "url": clean_url(file.url) if file.url else None,
            }
        )


def placeholder(file: File, count_key: str) -> Element:
    """The line that stands for a file whose bytes cannot travel: its name, size and original link."""
    url = clean_url(file.url) if file.url else None
    where = file.extra.get(PLACEHOLDER_REASON) if count_key not in _NOT_UPLOADED else None  # the reader's own words
    why = _NOT_UPLOADED.get(count_key) or where or _PLACEHOLDER[file.status]
    described = [f" ({human_size(file.size)})" if file.size is not None else "", f", {why}"]
    tail: list[Any] = [": ", link(url, url)] if url else []
    return note("📎 ", el("b", file.name), *described, *tail)


# --- names, links, sizes ----------------------------------------------------------


def safe_name(name: str) -> str:
    """A file name SharePoint accepts: no `" * : < > ? / \\ |`, no edge spaces, no trailing dot."""
    clean = FORBIDDEN_NAME_CHARS.sub("_", name).strip().rstrip(".").strip()
    if len(clean) > MAX_NAME:
        stem, dot, extension = clean.rpartition(".")
        keep = extension if dot and len(extension) < 16 else ""
        clean = clean[: MAX_NAME - len(keep) - 1].rstrip(". ") + ("." + keep if keep else "")
    return clean or "file"


def unique_name(name: str, taken: set[str]) -> str:
    """`name`, or `stem (2).ext`…: two files of one channel must not overwrite each other in its folder."""
    clean = safe_name(name)
    stem, dot, extension = clean.rpartition(".") if "." in clean.lstrip(".") else (clean, "", "")
    candidate, number = clean, 2
    while candidate.casefold() in taken:
        candidate = f"{stem} ({number}){dot}{extension}"
        number += 1
    taken.add(candidate.casefold())
    return candidate


def safe_component(value: str) -> str:
    """A path component for the plan folder from an id that may hold anything."""
    clean = re.sub(r"[^A-Za-z0-9_.-]+", "_", value).strip("._")
    return clean[:80] or hashlib.sha256(value.encode()).hexdigest()[:16]


def clean_url(url: str) -> str:
    """The original link without access tokens (the reader already masked Slack's xox… tokens), its path
    percent-encoded (Slack writes file names with spaces into it)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "[link removed: not a valid URL]"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TOKEN_PARAMS and "token removed" not in v and "xox" not in v
    ]
    return urlunsplit(parts._replace(path=quote(parts.path, safe="/%:@!$&'()*+,;=~"), query=urlencode(query)))


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
