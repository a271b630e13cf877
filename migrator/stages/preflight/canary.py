"""Preflight's canary: a real migration of a few messages into the tenant, read back, then deleted.

It creates what `load` creates, with load's own provisioning (`stages/load/provision.py`, on a throwaway journal):
a team in migration mode with a back-dated time, one standard channel, a root message, a reply, a message with a
small inline image and one with a file uploaded to the channel's folder as a reference attachment; then channel
and team completion and the migration account as member. Everything is read back through the export API and
compared, and the team is deleted (`DELETE /groups/{id}`) unless asked to keep it. A failure after the team exists
still deletes it; when the delete itself fails, the step names the team's id and the command that deletes it.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.graph import GraphClient, GraphError
from migrator.journal import Journal
from migrator.plan import PlannedConversation, PlannedMember, PlannedTeam, PlannedUpload
from migrator.stages.load.provision import Provisioner
from migrator.stages.load.uploads import upload
from migrator.stages.preflight.outcome import Step
from migrator.timestamps import format_ms, now_ms, parse_ms
from migrator.words import counted

DAY_MS = 86_400_000
# The smallest valid PNG (1x1, transparent): Graph stores hosted contents of image types only.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
FILE_TEXT = b"teams-migrator preflight canary file\n"


class CanaryError(Exception):
    """Graph accepted a canary step but did not do it (a member refused, a message not read back); recorded as the
    step's failure, never raised out of preflight."""


@dataclass(frozen=True)
class CanaryPeople:
    account: str  # the migration account: posts, and is added as the team's owner
    name: str
    chat_with: tuple[PlannedMember, ...] = ()  # two mapped people for the canary chat (`--canary-chat`)


class Canary:
    def __init__(self, client: GraphClient, people: CanaryPeople, model: str | None, keep: bool, chat: bool) -> None:
        self.client = client
        self.people = people
        self.model = model
        self.keep = keep
        self.chat = chat
        started = now_ms()
        self.created = started - DAY_MS  # back-dated, as every migrated team is
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(started / 1000))
        self.team = PlannedTeam(
            key="preflight-canary",
            display_name=f"teams-migrator preflight {stamp}",
            created=format_ms(self.created),
            description="Created by migrator preflight; deleted when the check ends.",
            members=[PlannedMember(people.account, people.name, ["owner"])],
        )
        self.channel = PlannedConversation(
            key="preflight-canary/canary", display_name="canary", file="", created=format_ms(self.created + 1000)
        )
        self.sent: dict[str, str] = {}  # message id -> createdDateTime

    def run(self, step: Step) -> None:
        with tempfile.TemporaryDirectory(prefix="preflight-") as scratch, Journal(Path(scratch) / "j.sqlite") as j:
            provision = Provisioner(self.client, j)
            doing = "create the team"
            team_id: str | None = None
            try:
                team_id = provision.team(self.team)
                step.facts["team_id"] = team_id
                doing = "create the channel"
                channel_id = provision.channel(self.team.key, team_id, self.channel)
                doing = "import the messages"
                self._messages(team_id, channel_id)
                doing = "complete the channel and the team"
                provision.complete_team(self.team, team_id)
                doing = "add the migration account as member"
                _, refused = provision.add_members(self.team, team_id)
                if refused:
                    raise CanaryError("; ".join(refused))
                doing = "read the messages back"
                self._read_back(f"/teams/{team_id}/channels/getAllMessages")
                if self.chat:
                    doing = "migrate the canary chat"
                    self._chat(provision, step)
            except (GraphError, CanaryError) as error:
                step.fail(f"canary: could not {doing}: {error}", error if isinstance(error, GraphError) else None)
                step.facts["failed_at"] = doing
            finally:
                if team_id is not None:
                    self._clean_up(team_id, step)

    def _messages(self, team_id: str, channel_id: str) -> None:
        base = f"/teams/{team_id}/channels/{channel_id}/messages"
        folder = self.client.get_json(f"/teams/{team_id}/channels/{channel_id}/filesFolder")
        digest = hashlib.sha256(FILE_TEXT).hexdigest()
        planned = PlannedUpload("canary-file", "preflight-canary.txt", "", len(FILE_TEXT), digest)
        item = upload(self.client, folder, planned, FILE_TEXT, f"canary-{channel_id}")
        attachment = str(uuid.uuid4())
        root = self._post(base, "<p>preflight canary: root</p>")
        self._post(f"{base}/{root}/replies", "<p>preflight canary: reply</p>")
        hosted = {
            "@microsoft.graph.temporaryId": "1",
            "contentBytes": base64.b64encode(PIXEL).decode(),
            "contentType": "image/png",
        }
        self._post(
            base, '<p>preflight canary: image</p><p><img src="../hostedContents/1/$value"></p>', hostedContents=[hosted]
        )
        reference = {"id": attachment, "contentType": "reference", "contentUrl": item["webUrl"], "name": planned.name}
        self._post(
            base, f'<p>preflight canary: file</p><attachment id="{attachment}"></attachment>', attachments=[reference]
        )

    def _post(self, path: str, html: str, **extra: Any) -> str:
        created = format_ms(self.created + 2000 + len(self.sent))  # a millisecond of its own, after the channel
        body = {
            "createdDateTime": created,
            "from": {
                "user": {"id": self.people.account, "displayName": self.people.name, "userIdentityType": "aadUser"}
            },
            "body": {"contentType": "html", "content": html},
            **extra,
        }
        message_id = self.client.create(path, body)
        self.sent[message_id] = created
        return message_id

    def _chat(self, provision: Provisioner, step: Step) -> None:
        """A group chat of the migration account and two mapped people with one message. Graph cannot delete a
        chat, so it stays; the report says so."""
        if len(self.people.chat_with) < 2:
            raise CanaryError("the canary chat needs two mapped people besides the migration account")
        members = [PlannedMember(self.people.account, self.people.name), *self.people.chat_with[:2]]
        chat = PlannedConversation(
            key="preflight-canary/chat",
            display_name=self.team.display_name,
            file="",
            created=format_ms(self.created + 1000),
            membership="group",
            members=members,
        )
        chat_id = provision.chat(chat)
        step.facts["chat_stays"] = f"chat {chat_id} stays: Graph cannot delete a chat"
        self.sent.clear()
        self._post(f"/chats/{chat_id}/messages", "<p>preflight canary: chat</p>")
        provision.complete_chat(chat_id)
        self._read_back(f"/users/{self.people.account}/chats/getAllMessages")

    def _read_back(self, collection: str) -> None:
        """Every message sent is read back through the export API, at its time."""
        params = {"model": self.model} if self.model else None
        read = {str(m.get("id")): m for m in self.client.paginate(collection, params=params)}
        missing = [i for i in self.sent if i not in read]
        moved = [i for i in self.sent if i in read and parse_ms(read[i]["createdDateTime"]) != parse_ms(self.sent[i])]
        if missing or moved:
            raise CanaryError(
                f"read back: {len(missing):,} of {counted(len(self.sent), 'message')} missing, {len(moved):,} with "
                "another time"
            )

    def _clean_up(self, team_id: str, step: Step) -> None:
        if self.keep:
            step.facts["kept"] = f"team {self.team.display_name!r} ({team_id}) kept (--keep)"
            return
        try:
            self.client.request("DELETE", f"/groups/{team_id}")
        except GraphError as error:
            url = f"{self.client.config.graph_url}/v1.0/groups/{team_id}"
            step.fail(
                f"{step.reason + '; ' if step.reason else ''}the canary team {team_id} could not be deleted "
                f"({error.status} {error.code}): delete it with `az rest --method delete --url {url}`",
                error,
            )
            step.facts["left_behind"] = team_id
            return
        step.facts["deleted"] = team_id
