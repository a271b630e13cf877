"""Inline images: a message body points at `…/hostedContents/{id}/$value`; the bytes go next to the JSONL.

The URLs are Graph's own (the client refuses any other host, so the token
never leaves Graph), and each download counts against its channel's or
chat's pace like any other call there. An image already on disk is not
fetched again, so a resumed or incremental run only pays for new ones.
"""

from __future__ import annotations

import glob
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

from migrator.graph import GraphClient, GraphError
from migrator.stages.export.archive import Message, TargetArchive, conversation_of, safe_name, save_bytes

HOSTED_URL = re.compile(r"""https?://[^\s"'<>]+?/hostedContents/([^/\s"'<>]+)/\$value""")


@dataclass
class ImageTally:
    downloaded: int = 0
    present: int = 0
    failed: list[str] = field(default_factory=list)  # "message {id}: image {hc}: reason"


def hosted_images(message: Message) -> list[tuple[str, str]]:
    """(URL, hosted content id) of every inline image, in body order."""
    content = ((message.get("body") or {}).get("content")) or ""
    return [(match.group(0).replace("&amp;", "&"), match.group(1)) for match in HOSTED_URL.finditer(content)]


def local_image(image_dir: Path, hosted_id: str) -> Path | None:
    """The downloaded file of one image, whatever its extension, or None."""
    return next(iter(sorted(image_dir.glob(f"{glob.escape(safe_name(hosted_id))}.*"))), None)


def download_images(client: GraphClient, archive: TargetArchive, messages: list[Message], tally: ImageTally) -> None:
    """Every image of a page, not only of its new lines: a page fetched again after a crash gets the ones it missed."""
    for message in messages:
        images = hosted_images(message)
        if not images:
            continue
        folder = archive.image_dir(conversation_of(message), str(message["id"]))
        for url, hosted_id in images:
            if local_image(folder, hosted_id) is not None:
                tally.present += 1
                continue
            try:
                _download(client, url, folder, hosted_id)
            except GraphError as error:
                tally.failed.append(f"message {message['id']}: image {hosted_id}: {error}")
                continue
            tally.downloaded += 1


def _download(client: GraphClient, url: str, folder: Path, hosted_id: str) -> None:
    response = client.request("GET", url, headers={"Accept": "*/*"})
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    extension = mimetypes.guess_extension(content_type) or ".bin"
    save_bytes(folder / f"{safe_name(hosted_id)}{extension}", response.content)
