"""Files to a channel's SharePoint folder or a OneDrive: simple PUT up to 4 MB, upload sessions above.

Uploads to a channel's folder replace by name, so re-sending one is harmless; every request counts
against the channel's (or chat's) 5 requests/s, like its messages.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from migrator.errors import IncompleteError
from migrator.graph import GraphClient, json_object
from migrator.limits import SIMPLE_UPLOAD_MAX_BYTES
from migrator.plan import PlanError, PlannedUpload

FRAGMENT = 320 * 1024 * 10  # a multiple of 320 KiB, as Microsoft asks of upload-session fragments


def read_upload(plan_dir: Path, upload: PlannedUpload) -> bytes:
    """The file's bytes from the plan, checked against the size and hash transform recorded."""
    path = Path(plan_dir) / upload.path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanError(f"{path}: planned upload {upload.key!r} is missing ({exc}); transform again") from None
    if len(data) != upload.size or hashlib.sha256(data).hexdigest() != upload.sha256:
        raise PlanError(f"{path}: planned upload {upload.key!r} changed since transform; transform again")
    return data


def upload(
    client: GraphClient, folder: dict[str, Any], upload_: PlannedUpload, data: bytes, rate_key: str
) -> dict[str, Any]:
    """Put one file in the channel's folder and return its driveItem."""
    drive = folder["parentReference"]["driveId"]
    return upload_to(client, f"/drives/{drive}/items/{folder['id']}:/{quote(upload_.name)}:", upload_, data, rate_key)


def upload_to(
    client: GraphClient,
    target: str,
    upload_: PlannedUpload,
    data: bytes,
    rate_key: str,
    conflict: str = "replace",
) -> dict[str, Any]:
    """Put one file at `target` (an item path ending in `:`) and return its driveItem: a simple PUT up to 4 MB, an
    upload session above. `conflict` is Graph's conflictBehavior for a name already taken (replace, rename, fail)."""
    if len(data) <= SIMPLE_UPLOAD_MAX_BYTES:
        return json_object(
            client.request(
                "PUT",
                f"{target}/content",
                data=data,
                params={"@microsoft.graph.conflictBehavior": conflict},
                rate_key=rate_key,
                idempotent=conflict != "rename",  # a renaming PUT sent twice makes two files
                headers={"Content-Type": "application/octet-stream"},
            )
        )
    session = client.post_json(
        f"{target}/createUploadSession",
        {"item": {"@microsoft.graph.conflictBehavior": conflict}},
        rate_key=rate_key,
        idempotent=True,
    )
    return _send_fragments(client, session["uploadUrl"], data, upload_.name)


class UploadError(IncompleteError):
    """An upload session lost or refused the bytes: that file (and its message) failed this run; load again."""


def _send_fragments(client: GraphClient, upload_url: str, data: bytes, name: str) -> dict[str, Any]:
    """PUT the fragments in order.

    The upload URL is pre-authorised: no bearer token goes to it, and it never
    appears in an error or a log, since it grants access by itself.
    """
    answer: Any = None
    for start in range(0, len(data), FRAGMENT):
        chunk = data[start : start + FRAGMENT]
        try:
            response = requests.put(
                upload_url,
                data=chunk,
                verify=client.config.verify,
                timeout=120,
                headers={"Content-Range": f"bytes {start}-{start + len(chunk) - 1}/{len(data)}"},
            )
        except requests.RequestException as exc:
            raise UploadError(
                f"{name}: upload session lost at byte {start} ({type(exc).__name__}); load again"
            ) from None
        if not response.ok:
            raise UploadError(f"{name}: upload session refused the bytes at {start} with HTTP {response.status_code}")
        answer = response.json()
    if not isinstance(answer, dict):  # the last fragment's answer is the file's driveItem
        raise UploadError(f"{name}: the upload session ended without naming the file it made; load again")
    return answer
