"""Preflight's canary: a real migration of a few messages into the tenant, read back, then deleted.

It creates what `load` creates, with load's own provisioning (`stages/load/provision.py`, on a throwaway journal):
a team in migration mode with a back-dated time, one standard channel, a root message, a reply, a message with a
small inline image and one with a file uploaded to the channel's folder as a reference attachment; then channel
and team completion and the migration account as member. The messages are plan lines, posted as load posts them
(`plan.to_request`), so that everything read back through the export API is compared by verify's own comparison
(`stages/verify/compare.py`): each body as sent, the reply under its root, the inline image's bytes, the
attachment's name and link, and the file's bytes. The team is deleted (`DELETE /groups/{id}`) unless asked to keep
it. A failure after the team exists still deletes it; when the delete itself fails, the step names the team's id
and the command that deletes it.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.graph import GraphClient, GraphError
from migrator.journal import Journal
from migrator.plan import PlannedConversation, PlannedMember, PlannedTeam, PlannedUpload, to_request
from migrator.stages.export.archive import ArchiveError, conversation_of
from migrator.stages.load.provision import Provisioner
from migrator.stages.load.uploads import upload
from migrator.stages.preflight.outcome import Step
from migrator.stages.verify.chatfiles import bytes_problems
from migrator.stages.verify.compare import Evidence, Message, check_conversation
from migrator.stages.verify.outcome import PROBLEMS, ConversationCheck
from migrator.timestamps import format_ms, now_ms

DAY_MS = 86_400_000
# The smallest valid PNG (1x1, transparent): Graph stores hosted contents of image types only.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
FILE_TEXT = b"teams-migrator preflight canary file\n"
FILE = PlannedUpload("canary-file", "preflight-canary.txt", "", len(FILE_TEXT), hashlib.sha256(FILE_TEXT).hexdigest())


class CanaryError(Exception):
    """Graph accepted a canary step but did not do it (a member refused, a message not read back); recorded as the
    step's failure, never raised out of preflight."""


class CanaryDifference(CanaryError):
    """What was read back differs from what was sent: one line per message, as verify reports it."""

    def __init__(self, problems: list[str], summary: str) -> None:
        super().__init__(summary)
        self.problems = problems


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
        self.milliseconds = itertools.count()  # each line's own millisecond, after the channel's and the chat's
        self.urls: dict[str, str] = {}  # upload key -> the uploaded file's webUrl
        self.lines: list[Message] = []  # the plan lines of the conversation being sent
        self.posted: dict[str, str] = {}  # plan key -> Teams message id
        self.compared = {"messages": 0, "images": 0, "files": 0}

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
                file = self._messages(team_id, channel_id)
                doing = "complete the channel and the team"
                provision.complete_team(self.team, team_id)
                doing = "add the migration account as member"
                _, refused = provision.add_members(self.team, team_id)
                if refused:
                    raise CanaryError("; ".join(refused))
                doing = "read the messages back"
                exported = self._read_back(f"/teams/{team_id}/channels/getAllMessages", channel_id)
                doing = "compare what was read back"
                self._compare(self.channel, channel_id, exported, {FILE.key: bytes_problems(self.client, file, FILE)})
                if self.chat:
                    doing = "migrate the canary chat"
                    self._chat(provision, step)
            except CanaryDifference as difference:
                step.fail(f"canary: read back differs: {difference}")
                step.details += difference.problems
                step.facts["failed_at"] = doing
            except (GraphError, CanaryError, ArchiveError) as error:  # ArchiveError: not an exported chatMessage
                step.fail(f"canary: could not {doing}: {error}", error if isinstance(error, GraphError) else None)
                step.facts["failed_at"] = doing
            finally:
                step.facts["compared"] = self.compared
                if team_id is not None:
                    self._clean_up(team_id, step)

    def _messages(self, team_id: str, channel_id: str) -> str:
        """Upload the file and post the four messages; returns the file's item path (`/drives/{d}/items/{i}`)."""
        base = f"/teams/{team_id}/channels/{channel_id}/messages"
        folder = self.client.get_json(f"/teams/{team_id}/channels/{channel_id}/filesFolder")
        item = upload(self.client, folder, FILE, FILE_TEXT, f"canary-{channel_id}")
        self.urls = {FILE.key: str(item["webUrl"])}
        hosted = {
            "@microsoft.graph.temporaryId": "1",
            "contentBytes": base64.b64encode(PIXEL).decode(),
            "contentType": "image/png",
        }
        attachment = str(uuid.uuid4())
        reference = {"id": attachment, "contentType": "reference", "upload": FILE.key, "name": FILE.name}
        for line in (
            self._line("root", "<p>preflight canary: root</p>"),
            self._line("reply", "<p>preflight canary: reply</p>", kind="reply", root_key="root"),
            self._line(
                "image",
                '<p>preflight canary: image</p><p><img src="../hostedContents/1/$value"></p>',
                hostedContents=[hosted],
            ),
            self._line(
                "file",
                f'<p>preflight canary: file</p><attachment id="{attachment}"></attachment>',
                attachments=[reference],
            ),
        ):
            root = self.posted.get(str(line.get("root_key")))
            self._post(f"{base}/{root}/replies" if root else base, line)
        return f"/drives/{folder['parentReference']['driveId']}/items/{item['id']}"

    def _line(self, key: str, html: str, kind: str = "root", root_key: str | None = None, **extra: Any) -> Message:
        """A plan line as transform writes one, at a millisecond of its own after the conversation's creation."""
        return {
            "key": key,
            "kind": kind,
            "root_key": root_key,
            "createdDateTime": format_ms(self.created + 2000 + next(self.milliseconds)),
            "from": {
                "user": {"id": self.people.account, "displayName": self.people.name, "userIdentityType": "aadUser"}
            },
            "body": {"contentType": "html", "content": html},
            **extra,
        }

    def _post(self, path: str, line: Message) -> None:
        self.lines.append(line)
        self.posted[line["key"]] = self.client.create(path, to_request(line, self.urls))

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
        self.lines, self.posted = [], {}
        self._post(f"/chats/{chat_id}/messages", self._line("chat", "<p>preflight canary: chat</p>"))
        provision.complete_chat(chat_id)
        self._compare(chat, chat_id, self._read_back(f"/users/{self.people.account}/chats/getAllMessages", chat_id), {})

    def _read_back(self, collection: str, conversation_id: str) -> list[Message]:
        """The conversation's messages as the export API gives them."""
        params = {"model": self.model} if self.model else None
        return [m for m in self.client.paginate(collection, params=params) if conversation_of(m) == conversation_id]

    def _compare(
        self, conversation: PlannedConversation, graph_id: str, exported: list[Message], files: dict[str, list[str]]
    ) -> None:
        """What was sent against what was read back, by verify's comparison: every message at its time, once, with
        its body, author, thread root, inline image bytes and attachments; `files` holds what is wrong with the
        bytes of each uploaded file."""
        check = ConversationCheck(conversation.key, self.team.display_name, conversation.display_name, graph_id, 0)
        evidence = Evidence(posted=dict(self.posted), uploads=self.urls, files=files)
        check_conversation(self.client, check, self.lines, exported, evidence)
        self.compared["messages"] += check.found
        self.compared["images"] += check.images
        self.compared["files"] += len(files)
        if not check.ok:
            wrong = [f"{f.key}: {f.detail}" for name in PROBLEMS for f in getattr(check, name)]
            raise CanaryDifference(check.problems(), "; ".join(wrong))

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
