"""Attached files (`--attachments download`): each `reference` attachment's bytes next to the JSONL.

A Teams message attaches a file as a link into SharePoint or OneDrive. The
bytes are read through Graph's shares API, `GET /shares/{u!base64url(link)}/
driveItem/content` (docs/graph-contract.md#chat-files), so the token goes to
Graph only (Graph answers with the bytes or a redirect to a pre-authenticated
download URL, which carries no token). Every download goes through the run's
limiter like any other call, once the target's pages are written. A file
already on disk is not fetched again, and a run with the option also fetches
the files of messages earlier runs archived without it. A file Graph will
not give (another tenant's link, a deleted file, no access) is listed with
its reason and the target still completes.

    .../files/{conversation}/{message}/{file name}
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.graph import GraphClient, GraphError
from migrator.stages.export.archive import Message, TargetArchive, conversation_of, safe_name, save_bytes

FILES_DIR = "files"
MAX_NAME_BYTES = 200  # file systems take 255; room for the id prefix of a name used twice
_UNSAFE = re.compile(r'[\x00-\x1f/\\:*?"<>|]')
MODES = ("links", "download")


@dataclass
class FileTally:
    downloaded: int = 0
    present: int = 0
    failed: list[str] = field(default_factory=list)  # "message {id}: file {name}: reason"


def share_id(url: str) -> str:
    """Graph's id for a sharing link: `u!` and the URL in unpadded base64url."""
    return "u!" + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def linked_files(message: Message) -> dict[str, tuple[str, str]]:
    """Attachment id -> (link, file name on disk) for every file attached by link.

    The name is Graph's, made safe for a file system; two attachments of one message with the same name
    are told apart by their ids, so each has its own file whatever order they come in.
    """
    files = [
        a
        for a in message.get("attachments") or []
        if isinstance(a, dict) and a.get("contentType") == "reference" and _is_web(a.get("contentUrl"))
    ]
    names = Counter(_file_name(a) for a in files)
    return {
        str(a.get("id")): (
            str(a["contentUrl"]),
            _file_name(a) if names[_file_name(a)] == 1 else f"{safe_name(str(a.get('id')))}-{_file_name(a)}",
        )
        for a in files
    }


def file_dir(root: Path, conversation: str, message_id: str) -> Path:
    return root / FILES_DIR / safe_name(conversation) / safe_name(message_id)


def download_files(client: GraphClient, archive: TargetArchive, messages: list[Message], tally: FileTally) -> None:
    """Every file these messages link that is not on disk yet: an interrupted or earlier run's are fetched now."""
    for message in messages:
        files = linked_files(message)
        if not files:
            continue
        folder = file_dir(archive.root, conversation_of(message), str(message["id"]))
        for url, name in files.values():
            target = folder / name
            if target.exists():
                tally.present += 1
                continue
            try:
                response = client.request(
                    "GET", f"/shares/{share_id(url)}/driveItem/content", headers={"Accept": "*/*"}
                )
            except GraphError as error:
                tally.failed.append(f"message {message['id']}: file {name}: {_reason(error)}")
                continue
            save_bytes(target, response.content)
            tally.downloaded += 1


def _file_name(attachment: dict[str, Any]) -> str:
    """Graph's name without what a file system would take as a path or refuse; the id when nothing is left."""
    name = _UNSAFE.sub("_", str(attachment.get("name") or "")).strip()
    if not name.strip(".") or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return safe_name(str(attachment.get("id") or "file")) + Path(name).suffix[:16]
    return name


def _is_web(url: object) -> bool:
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def _reason(error: GraphError) -> str:
    """Graph's answer in a line (the request's URL would only repeat the link), and what it usually means."""
    said = f"{error.status} {error.code}: {error.message}" if error.status else str(error)
    meaning = {
        403: "no access: another tenant's file, or the app lacks Files.ReadWrite.All, which the shares API needs",
        404: "deleted or moved since it was attached",
    }.get(error.status or 0)
    return f"{said} ({meaning})" if meaning else said
