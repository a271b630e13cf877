"""A chat's files: each in its sender's OneDrive, shared read-only with exactly the chat's members
(docs/graph-contract.md#chat-files), before the message that links it is posted.

Exactly once, like every other write: the journal records `uploading` before the upload is sent and the file's
ids once it exists, then `shared` once the chat's members were invited. A re-run after a crash between the
upload's request and its journalled answer looks for the file in the folder (same bytes, the planned name or
Graph's renamed `name N.ext`, not journalled for another upload) before uploading it again; an invitation
repeated after a crash adds nobody (Graph answers the permission a person already holds).

A sender without OneDrive (Graph answers 404 for the drive) gets the file in the migration account's OneDrive,
shared the same way; the message itself is still posted as the sender, so it says who sent it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from migrator.graph import GraphClient, GraphError, NotFoundError, json_object
from migrator.journal import SHARED, UPLOADED, UPLOADING, JournalStore
from migrator.plan import PlannedConversation, PlannedUpload
from migrator.stages.load.images import moved_uploads
from migrator.stages.load.outcome import ConversationOutcome
from migrator.stages.load.uploads import UploadError, read_upload, upload_to

CHAT_FILES_FOLDER = "Microsoft Teams Chat Files"  # where Teams keeps the files a person sends in chats
SHARE = {"requireSignIn": True, "sendInvitation": False, "roles": ["read"]}


class NoDriveError(UploadError):
    """Neither the sender nor the migration account has a OneDrive: the file (and its message) cannot land."""


def onedrive_target(owner: str, name: str) -> str:
    """The path of a chat file in `owner`'s OneDrive, for `uploads.upload_to` (any file that belongs to a chat,
    such as an image too large to travel inline, goes here)."""
    return f"/users/{owner}/drive/root:/{quote(CHAT_FILES_FOLDER)}/{quote(name)}:"


@dataclass
class ChatFiles:
    """Uploads and shares the files of one chat; `drives` caches who has a OneDrive across chats."""

    client: GraphClient
    journal: JournalStore
    plan_dir: Path
    drives: dict[str, str | None]  # user id -> drive id, None when Graph answers 404

    def land(self, base: str, conv: PlannedConversation, outcome: ConversationOutcome) -> dict[str, str]:
        """Every planned file of the chat uploaded and shared; returns upload key -> webUrl of those that are."""
        urls = self.journal.uploads(conv.key)
        for planned in (u for u in conv.uploads if u.key not in urls):
            try:
                self._land(base, conv, planned, urls, outcome)
            except (GraphError, UploadError) as error:
                outcome.upload_failed(planned.name, error)
        return urls

    def land_images(
        self,
        base: str,
        conv: PlannedConversation,
        line: dict[str, Any],
        urls: dict[str, str],
        outcome: ConversationOutcome,
    ) -> None:
        """The inline images of a chat message Teams refused for them, each into its sender's OneDrive and shared
        with the chat like the chat's other files, adding their links to `urls` (images.without_images then links
        them where their `<img>` stood). NoDriveError when neither the sender nor the migration account has one."""
        sender = ((line.get("from") or {}).get("user") or {}).get("id")
        fallback = next((u.fallback for u in conv.uploads if u.fallback), None)  # the migration account
        for moved, data in moved_uploads(line):
            if moved.key not in urls:
                self._land(base, conv, replace(moved, owner=sender, fallback=fallback), urls, outcome, data)

    def _land(
        self,
        base: str,
        conv: PlannedConversation,
        planned: PlannedUpload,
        urls: dict[str, str],
        outcome: ConversationOutcome,
        data: bytes | None = None,
    ) -> None:
        """One file uploaded and shared with the chat's members, then journalled as shared and its link added to
        `urls`; uploads and grants count against the chat's 5 requests/s."""
        rate_key = "chat:" + base.removeprefix("/chats/")
        owner, item = self._uploaded(conv, planned, rate_key, outcome, data)
        outcome.grants += self._share(item, owner, [m.user_id for m in conv.members], rate_key)
        self.journal.shared_drive_file(conv.key, planned.key, item["id"], item["webUrl"])
        urls[planned.key] = item["webUrl"]

    def _uploaded(
        self,
        conv: PlannedConversation,
        planned: PlannedUpload,
        rate_key: str,
        outcome: ConversationOutcome,
        data: bytes | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """(whose OneDrive, the driveItem): from the journal, found after a lost answer, or uploaded now (`data`, or
        the plan's copy of the file)."""
        entry = self.journal.drive_file(conv.key, planned.key)
        if entry is not None and entry.state in (UPLOADED, SHARED) and entry.item_id and entry.web_url:
            return entry.owner, {"id": entry.item_id, "webUrl": entry.web_url, "driveId": entry.drive_id}
        owner = entry.owner if entry is not None else self._owner(planned, outcome)
        found = self._lost_upload(owner, planned, rate_key) if entry is not None else None
        if found is None:
            data = read_upload(self.plan_dir, planned) if data is None else data
            self.journal.set_drive_file(conv.key, planned.key, UPLOADING, owner)
            found = upload_to(self.client, onedrive_target(owner, planned.name), planned, data, rate_key, "rename")
            outcome.uploads += 1
        item = {"id": found["id"], "webUrl": found["webUrl"], "driveId": found["parentReference"]["driveId"]}
        self.journal.set_drive_file(
            conv.key, planned.key, UPLOADED, owner, (item["driveId"], item["id"], item["webUrl"])
        )
        return owner, item

    def _owner(self, planned: PlannedUpload, outcome: ConversationOutcome) -> str:
        """The sender when they have a OneDrive, else the migration account (counted in the load report)."""
        if planned.owner and self._drive(planned.owner):
            return planned.owner
        if planned.fallback and self._drive(planned.fallback):
            outcome.chat_files_fallback += 1
            return planned.fallback
        raise NoDriveError(
            f"{planned.owner or 'its sender'} has no OneDrive, and neither has the migration account "
            f"({planned.fallback or 'none is set in migration.yaml'}); give one a OneDrive licence and load again"
        )

    def _drive(self, user_id: str) -> str | None:
        if user_id not in self.drives:
            try:
                self.drives[user_id] = str(self.client.get_json(f"/users/{user_id}/drive")["id"])
            except NotFoundError:
                self.drives[user_id] = None
        return self.drives[user_id]

    def _lost_upload(self, owner: str, planned: PlannedUpload, rate_key: str) -> dict[str, Any] | None:
        """The file an earlier run uploaded without recording its answer: same bytes, the planned name or Graph's
        renamed one, and no other upload's."""
        try:
            folder = self.client.get_json(f"/users/{owner}/drive/root:/{quote(CHAT_FILES_FOLDER)}", rate_key=rate_key)
        except NotFoundError:
            return None  # the folder was never made: nothing was uploaded
        stem, dot, extension = planned.name.rpartition(".") if "." in planned.name else (planned.name, "", "")
        named = re.compile(rf"{re.escape(stem)}(?: \d+)?{re.escape(dot + extension)}", re.IGNORECASE)
        taken = self.journal.upload_items()
        children = self.client.paginate(
            f"/drives/{folder['parentReference']['driveId']}/items/{folder['id']}/children", rate_key=rate_key
        )
        return next(
            (
                child
                for child in children
                if named.fullmatch(str(child.get("name")))
                and child.get("id") not in taken
                and self._same_bytes(child, planned, rate_key)
            ),
            None,
        )

    def _same_bytes(self, child: dict[str, Any], planned: PlannedUpload, rate_key: str) -> bool:
        """Whether a file holds the planned bytes: by its sha256Hash when Graph gives one, else (OneDrive for
        Business records only a quickXorHash) by its size, then the sha256 of its content."""
        recorded = ((child.get("file") or {}).get("hashes") or {}).get("sha256Hash")
        if recorded:
            return str(recorded).lower() == planned.sha256
        if child.get("size") != planned.size:
            return False
        drive = (child.get("parentReference") or {}).get("driveId")
        data = self.client.request("GET", f"/drives/{drive}/items/{child['id']}/content", rate_key=rate_key).content
        return hashlib.sha256(data).hexdigest() == planned.sha256

    def _share(self, item: dict[str, Any], owner: str, members: list[str], rate_key: str) -> int:
        """Read access for every member of the chat but the file's owner, without an invitation e-mail; returns the
        requests sent (0 or 1)."""
        recipients = [{"objectId": member} for member in members if member != owner]
        if not recipients:
            return 0
        json_object(
            self.client.request(
                "POST",
                f"/drives/{item['driveId']}/items/{item['id']}/invite",
                json={**SHARE, "recipients": recipients},
                rate_key=rate_key,
                idempotent=True,  # a repeated invitation adds nobody
            )
        )
        return 1
