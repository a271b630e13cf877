"""One channel's or chat's import: its files, then its messages in plan order, then completeMigration.

A conversation an earlier load completed is left alone when the journal records every line of the plan as
landed, without a request; otherwise (a newer export's plan, issue 27's delta pass) it is reopened with
startMigration, only the lines the journal lacks are posted, and it is completed again. A completed
conversation is no proof that every planned message is in it: "already present" counts only what the journal
recorded as landed or a reconciliation found.

Exactly once: a message already in the journal is skipped; any other is
posted, and Graph's 409 (its millisecond is taken in this channel) means an
earlier attempt landed but its answer was lost (a crash, a kill, a dropped
connection), so the message is looked up instead of being posted again; it is
ours only with the same author and body. In a channel or chat people already
use, a millisecond their own message holds is stepped past, 1 ms at a time.

A message refused for its inline images is posted again with them as files
(`images.py`), one refused for its real mentions or reactions in its text form
(`native.py`), and the journal says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from migrator.bodies import same_body
from migrator.graph import ConflictError, GraphClient, GraphError, object_id
from migrator.journal import COMPLETED, CREATED, IMAGES_MOVED, POSTED, SENT_AS_TEXT, JournalStore
from migrator.plan import PlanError, PlannedConversation, read_lines, to_request
from migrator.stages.load.chatfiles import ChatFiles, NoDriveError
from migrator.stages.load.delta import Landed, read_landed
from migrator.stages.load.images import REFUSED_FOR_IMAGES, moved_uploads, without_images
from migrator.stages.load.native import as_text, refused_for_native
from migrator.stages.load.outcome import ConversationOutcome, Refusal, attempt
from migrator.stages.load.provision import Provisioner
from migrator.stages.load.uploads import UploadError, read_upload, upload
from migrator.timestamps import format_ms, parse_ms

log = logging.getLogger("migrator.load")
LIVE_STEPS = 100  # milliseconds a message may step past live messages holding its planned one (an existing target)
RECONCILED = "reconciled"  # a message's `how` when a 409 found it landed by an earlier attempt
Created = tuple[str | None, bool]  # a posted message's id (None: its millisecond held by another) and if it had landed


class ConversationLoader:
    def __init__(
        self,
        client: GraphClient,
        journal: JournalStore,
        plan_dir: Path,
        complete_with_failures: bool = False,
        on_message: Callable[[str, float], None] | None = None,
    ):
        self.client = client
        self.journal = journal
        self.plan_dir = Path(plan_dir)
        self.provisioner = Provisioner(client, journal)  # reopens a completed conversation (startMigration)
        self.complete_with_failures = complete_with_failures
        self.on_message = on_message or (lambda key, started: None)
        self.chat_files = ChatFiles(client, journal, self.plan_dir, drives={})

    def run(
        self,
        base: str,
        conv: PlannedConversation,
        outcome: ConversationOutcome,
        complete: Callable[[], None] | None,
        landed: Landed | None = None,
    ) -> None:
        """`base` is the channel's or chat's path; `complete` its completeMigration, or None for a team's General
        channel, which its team completes once everything landed (the outcome then says it is `ready`). A refusal that
        stops this conversation (its files folder, its completion) is recorded on it, and the other conversations go
        on. `landed`: what of it had landed, when the caller read it already (load, before it schedules them: the
        plan's keys are scanned once per conversation); else read here."""
        outcome.start()
        try:
            entry = self.journal.conversation(conv.key)
            completed = entry is not None and entry.state == COMPLETED
            if landed is None:
                landed = read_landed(self.plan_dir, conv, self.journal)
            if completed and landed.count == conv.messages:
                if base.startswith("/chats/"):  # files `reset --chat` deleted: OneDrive needs no migration mode
                    self._uploads(base, conv, outcome)
                outcome.already = outcome.planned
                outcome.completed = True
                return
            stopped = attempt(partial(self._load, base, conv, outcome, complete, completed, landed))
            if isinstance(stopped, Refusal):
                outcome.refused("stopped", stopped)
        finally:
            outcome.finish()

    def _load(
        self,
        base: str,
        conv: PlannedConversation,
        outcome: ConversationOutcome,
        complete: Callable[[], None] | None,
        completed: bool,
        landed: Landed,
    ) -> None:
        if completed:
            self._reopen(base, conv)
        urls = self._uploads(base, conv, outcome)
        self._messages(base, conv, urls, outcome, landed)
        self._complete(conv, outcome, complete)

    def _reopen(self, base: str, conv: PlannedConversation) -> None:
        """Back into migration mode for the lines an earlier pass did not post (docs/graph-contract.md, "Existing
        channels and chats"). Recorded after Graph answered: a run stopped in between sends startMigration again,
        and its 400 is recognised as the session already open (Provisioner.start_migration)."""
        self.provisioner.start_migration(base, conv.created)
        self.journal.set_conversation(conv.key, None, CREATED)
        log.info("%s: reopened with startMigration for the lines an earlier pass did not post", conv.key)

    # --------------------------------------------------------------- uploads
    def _uploads(self, base: str, conv: PlannedConversation, outcome: ConversationOutcome) -> dict[str, str]:
        urls = self.journal.uploads(conv.key)
        missing = [u for u in conv.uploads if u.key not in urls]
        if not missing:
            return urls
        if base.startswith("/chats/"):
            return self.chat_files.land(base, conv, outcome)
        folder = self.client.get_json(f"{base}/filesFolder")
        for planned in missing:
            try:
                item = upload(self.client, folder, planned, read_upload(self.plan_dir, planned), _rate_key(base))
            except (GraphError, UploadError) as error:
                outcome.upload_failed(planned.name, error)
                continue
            self.journal.set_upload(conv.key, planned.key, item["id"], item["webUrl"])
            urls[planned.key] = item["webUrl"]
            outcome.uploads += 1
        return urls

    # -------------------------------------------------------------- messages
    def _messages(
        self,
        base: str,
        conv: PlannedConversation,
        urls: dict[str, str],
        outcome: ConversationOutcome,
        landed: Landed,
    ) -> None:
        ids, outcome.already = dict(landed.ids), outcome.already + landed.count  # ids: plan key → Teams id so far
        for line in read_lines(self.plan_dir, conv, skip=landed.ids):
            key = line["key"]
            if line.get("kind") == "reply":
                root_key = line.get("root_key")
                root_id = ids.get(root_key) if root_key is not None else None
                if root_id is None:
                    self._failed(conv, outcome, key, "its thread root was not imported", None)
                    continue
                target = f"{base}/messages/{root_id}/replies"
            else:
                target = f"{base}/messages"
            try:
                request = to_request(line, urls)
            except PlanError as error:
                self._failed(conv, outcome, key, str(error), None)
                continue
            message_id = self._post(target, line, request, conv, outcome, base, urls, ids)
            if message_id is not None:
                ids[key] = message_id
            self.on_message(conv.key, outcome.started)

    def _post(
        self,
        target: str,
        line: dict[str, Any],
        request: dict[str, Any],
        conv: PlannedConversation,
        outcome: ConversationOutcome,
        base: str,
        urls: dict[str, str],
        ids: Mapping[str, str],
    ) -> str | None:
        """Post one message; a duplicate is impossible because Graph refuses a taken millisecond. `ids`: the
        conversation's messages landed so far (plan key → Teams id)."""
        key = line["key"]
        try:
            created = self._create(target, key, request, conv, ids)
        except GraphError as error:
            if refused_for_native(error, line):
                return self._post_as_text(target, line, conv, outcome, urls, ids, error)
            if error.status in REFUSED_FOR_IMAGES and request.get("hostedContents"):
                return self._post_images_as_files(target, line, conv, outcome, base, urls, ids, error)
            self._failed(conv, outcome, key, f"{error.status} {error.code}: {error.message}", error.request_id)
            return None
        return self._landed_as(created, key, conv, outcome, POSTED)

    def _post_images_as_files(
        self,
        target: str,
        line: dict[str, Any],
        conv: PlannedConversation,
        outcome: ConversationOutcome,
        base: str,
        urls: dict[str, str],
        ids: Mapping[str, str],
        refusal: GraphError,
    ) -> str | None:
        """The message again, its inline images uploaded to the channel's files folder (in a chat: to the sender's
        OneDrive, shared with the chat; a line naming each when no OneDrive can take them). If Teams refuses that too,
        the refusal was not about the images: the first answer is reported."""
        key = line["key"]
        try:
            if base.startswith("/teams/"):
                self._upload_images(base, line, conv, urls)
            else:
                self.chat_files.land_images(base, conv, line, urls, outcome)
        except NoDriveError as error:
            log.info("%s: %s: its images become lines naming them: %s", conv.key, key, error)
        except (GraphError, UploadError) as error:
            request_id = error.request_id if isinstance(error, GraphError) else None
            self._failed(conv, outcome, key, f"inline images refused, and moving them failed: {error}", request_id)
            return None
        message_id = self._post_again(
            target, line, without_images(line, urls), conv, outcome, urls, ids, refusal, IMAGES_MOVED
        )
        if message_id is None:
            return None
        images = [upload.key for upload, _ in moved_uploads(line)]
        moved = sum(1 for image in images if image in urls)
        outcome.images_moved += moved
        outcome.images_left_out += len(images) - moved
        log.info("%s: %s posted again with %d of its inline images as files (%s)", conv.key, key, moved, refusal.status)
        return message_id

    def _post_as_text(
        self,
        target: str,
        line: dict[str, Any],
        conv: PlannedConversation,
        outcome: ConversationOutcome,
        urls: dict[str, str],
        ids: Mapping[str, str],
        refusal: GraphError,
    ) -> str | None:
        """The message again in its text form: Teams refused its real mentions or reactions."""
        message_id = self._post_again(target, line, as_text(line), conv, outcome, urls, ids, refusal, SENT_AS_TEXT)
        if message_id is not None:
            outcome.sent_as_text += 1
            log.info("%s: %s posted again in its text form (%s)", conv.key, line["key"], refusal.message)
        return message_id

    def _post_again(
        self,
        target: str,
        line: dict[str, Any],
        rewritten: dict[str, Any],
        conv: PlannedConversation,
        outcome: ConversationOutcome,
        urls: dict[str, str],
        ids: Mapping[str, str],
        refusal: GraphError,
        how: str,
    ) -> str | None:
        """Post `rewritten`, the line in another form after Teams refused it, and journal `how`. If Teams refuses
        that too, the refusal was not about what changed: the first answer is reported."""
        try:
            created = self._create(target, line["key"], to_request(rewritten, urls), conv, ids)
        except GraphError:
            reason = f"{refusal.status} {refusal.code}: {refusal.message}"
            self._failed(conv, outcome, line["key"], reason, refusal.request_id)
            return None
        return self._landed_as(created, line["key"], conv, outcome, how)

    def _upload_images(self, base: str, line: dict[str, Any], conv: PlannedConversation, urls: dict[str, str]) -> None:
        """Each inline image of the line into the channel's folder, once (the journal keeps its link)."""
        missing = [(upload, data) for upload, data in moved_uploads(line) if upload.key not in urls]
        if not missing:
            return
        folder = self.client.get_json(f"{base}/filesFolder")
        for planned, data in missing:
            item = upload(self.client, folder, planned, data, _rate_key(base))
            self.journal.set_upload(conv.key, planned.key, item["id"], item["webUrl"])
            urls[planned.key] = item["webUrl"]

    def _create(
        self, target: str, key: str, request: dict[str, Any], conv: PlannedConversation, ids: Mapping[str, str]
    ) -> Created:
        """Post the message; a duplicate is impossible because Graph refuses a taken millisecond (409).

        A 409 whose millisecond holds this very message (same author and body, not landed for another line of `ids`,
        the conversation's so far) is an earlier attempt whose answer was lost: (its id, True). Any other holder is
        someone else's: in a channel or chat people already use, a live message (or one of ours stepped past it), so
        the message steps 1 ms later and is posted again, each step as deterministic as the plan, which keeps the
        conversation's messages ascending and a re-run finding its own; in one the migration created, the plan changed
        since the last load: (None, False)."""
        wanted = parse_ms(request["createdDateTime"])
        for step in range(LIVE_STEPS if conv.existing else 1):
            stamp = format_ms(wanted + step)
            try:
                return self.client.create(target, {**request, "createdDateTime": stamp}, idempotent=True), False
            except ConflictError:
                found = self._landed(target, stamp)
                if found is not None and _is_ours(found, key, request, ids):
                    return object_id(found), True
        return None, False

    def _landed_as(
        self, created: Created, key: str, conv: PlannedConversation, outcome: ConversationOutcome, how: str
    ) -> str | None:
        """Journal and count what `_create` answered: posted now, landed before, or held by another message."""
        message_id, before = created
        if message_id is None:
            if conv.existing:
                reason = f"409: other messages hold this millisecond and the next {LIVE_STEPS - 1} in the conversation"
            else:
                reason = (
                    "409: another message already uses this millisecond in the channel (was the plan changed since "
                    "the last load?)"
                )
            self._failed(conv, outcome, key, reason, None)
            return None
        if before:
            self.journal.mark_posted(conv.key, key, message_id, how=RECONCILED if how == POSTED else how)
            outcome.already += 1
            log.info("%s: %s had landed before (reconciled after a 409)", conv.key, key)
        else:
            self.journal.mark_posted(conv.key, key, message_id, how=how)
            outcome.posted += 1
        return message_id

    def _landed(self, target: str, created: str) -> dict[str, Any] | None:
        """The message at `created` in this thread or channel, found by listing and comparing parsed times: ids
        are opaque and Graph answers times with varying precision (docs/graph-contract.md#observed-behaviour)."""
        wanted = parse_ms(created)
        return next(
            (m for m in self.client.paginate(target, params={"$top": "50"}) if _at(m) == wanted),
            None,
        )

    def _failed(
        self, conv: PlannedConversation, outcome: ConversationOutcome, key: str, reason: str, request_id: str | None
    ) -> None:
        self.journal.mark_failed(conv.key, key, reason, request_id)
        outcome.fail(reason, request_id)
        log.warning("%s: %s failed: %s (request-id %s)", conv.key, key, reason, request_id or "-")

    # ------------------------------------------------------------ completion
    def _complete(
        self, conv: PlannedConversation, outcome: ConversationOutcome, complete: Callable[[], None] | None
    ) -> None:
        """Close the conversation only when everything landed: after completeMigration nothing more can be imported."""
        incomplete = outcome.failed or len(self.journal.uploads(conv.key)) < len(conv.uploads)
        if incomplete and not self.complete_with_failures:
            return  # left in migration mode, so another load can retry what failed
        if complete is None:  # General: its team completes it (Provisioner.complete_team)
            outcome.ready = True
            return
        refused = attempt(complete)
        if isinstance(refused, Refusal):
            outcome.refused("completeMigration refused", refused)
            return  # still in migration mode: the next load completes it
        self.journal.set_conversation(conv.key, None, COMPLETED)
        outcome.completed = True


def _is_ours(found: dict[str, Any], key: str, request: dict[str, Any], ids: Mapping[str, str]) -> bool:
    """Whether the message holding a millisecond is `request` posted before (its answer lost): the same author and
    body, and not the message another line of the conversation landed as (`ids`: plan key → Teams id)."""
    if _user_id(found) != _user_id(request) or not same_body(request.get("body") or {}, found.get("body") or {}):
        return False
    found_id = found.get("id")
    return not any(message_id == found_id for other, message_id in ids.items() if other != key)


def _user_id(message: dict[str, Any]) -> str | None:
    return ((message.get("from") or {}).get("user") or {}).get("id")


def _rate_key(base: str) -> str:
    """Uploads count against the channel's 5 requests/s, like its messages."""
    return "channel:" + base.removeprefix("/teams/").replace("/channels/", "/")


def _at(message: dict[str, Any]) -> int | None:
    """A listed message's time in ms, or None when Graph gave none that parses."""
    try:
        return parse_ms(str(message.get("createdDateTime")))
    except ValueError:
        return None
