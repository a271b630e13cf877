"""A message refused for its inline images is posted again with them as files (docs/graph-contract.md#inline-images).

Real tenants refuse inline images far smaller than Microsoft documents, with 400, 403 ("Forbidden/UnknownError")
or 413, and the cap differs between tenants. Transform already keeps images over `defaults.inline_image_max_bytes`
out of the request; an image a tenant still refuses is uploaded to the channel's files folder and linked as a
reference attachment, where its `<img>` stood. A chat has no files folder: there the image goes to its sender's
OneDrive, shared with the chat like the chat's other files (chatfiles.py), and becomes a line naming it only when no
OneDrive can take it. The message itself is never lost.

The rewrite is a pure function of the plan line and of the uploads the journal records, so `verify` compares
Teams with the message exactly as it was posted.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
import uuid
from collections.abc import Mapping
from typing import Any

from migrator.plan import PlannedUpload
from migrator.stages.transform.files import ATTACHMENT_NAMESPACE, human_size, safe_component
from migrator.stages.transform.markup import el, note, render

REFUSED_FOR_IMAGES = frozenset({400, 403, 413})  # what tenants answer a request whose hosted contents they refuse


def moved_key(line: Mapping[str, Any], temp_id: str) -> str:
    """The journal's upload key of one moved image: stable across runs, so a re-run uploads it once."""
    return f"{line['key']}#image-{temp_id}"


def moved_uploads(line: Mapping[str, Any]) -> list[tuple[PlannedUpload, bytes]]:
    """Each inline image of the line as a file for the channel's folder, named after the message."""
    out = []
    for hosted in line.get("hostedContents") or []:
        temp_id = str(hosted["@microsoft.graph.temporaryId"])
        data = base64.b64decode(hosted["contentBytes"])
        extension = mimetypes.guess_extension(str(hosted.get("contentType", ""))) or ".img"
        upload = PlannedUpload(
            key=moved_key(line, temp_id),
            name=f"image-{safe_component(str(line['key']))}-{safe_component(temp_id)}{extension}",
            path="",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        out.append((upload, data))
    return out


def without_images(line: Mapping[str, Any], uploaded: Mapping[str, str]) -> dict[str, Any]:
    """The line as posted again: each inline image whose moved copy is in `uploaded` (upload key → link) becomes
    a reference attachment in place of its `<img>`; any other (a chat's) becomes a line naming it."""
    content = str((line.get("body") or {}).get("content", ""))
    attachments = list(line.get("attachments") or [])
    for upload, _ in moved_uploads(line):
        temp_id = upload.key.rsplit("#image-", 1)[1]
        image = re.compile(rf"""<img\b[^>]*?src=["']\.\./hostedContents/{re.escape(temp_id)}/\$value["'][^>]*>""")
        if upload.key in uploaded:
            attachment_id = str(uuid.uuid5(ATTACHMENT_NAMESPACE, upload.key))
            attachments.append(
                {"id": attachment_id, "contentType": "reference", "name": upload.name, "upload": upload.key}
            )
            shown = f'<attachment id="{attachment_id}"></attachment>'
        else:
            why = ", refused inline by Teams; a chat has no files folder"
            # the note's span only: the image usually sits in a paragraph of its own already
            shown = render(note("📎 ", el("b", upload.name), f" ({human_size(upload.size)})", why).children)
        found = image.search(content)
        content = content[: found.start()] + shown + content[found.end() :] if found else content + shown
    rewritten = {name: value for name, value in line.items() if name != "hostedContents"}
    rewritten["body"] = {**(line.get("body") or {}), "content": content}
    if attachments:
        rewritten["attachments"] = attachments
    return rewritten
