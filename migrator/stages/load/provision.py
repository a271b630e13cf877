"""Teams and channels: create them in migration mode, complete them in order, add members; or reopen the channels and
chats people already use (`action: existing`), which are found, never created, completed as teams or given members.

Creation calls are not idempotent (a second POST makes a second team), so a
call whose answer was lost is reconciled by looking the resource up before
anything is sent again; the journal records the intent before the call.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from migrator.existing import ExistingTargetError, channel_members, find_channel, find_chat, find_team
from migrator.existing_rules import Audience, refusals
from migrator.graph import (
    BadRequestError,
    ConflictError,
    ConnectionLostError,
    GraphClient,
    NotFoundError,
    RateLimiter,
    json_object,
    object_id,
    team_id_in,
)
from migrator.journal import COMPLETED, CREATED, DONE, REQUESTED, ConversationEntry, JournalError, JournalStore
from migrator.limits import CHANNEL_WRITES_PER_S, TEAM_CHANNEL_READS_PER_S, TEAM_CREATES_PER_S
from migrator.plan import PlannedConversation, PlannedMember, PlannedTeam
from migrator.stages.load.errors import ProvisionError, StuckChatError
from migrator.stages.load.outcome import Refusal, attempt
from migrator.timestamps import format_ms, parse_ms

log = logging.getLogger("migrator.load")
LOST_ANSWER_ATTEMPTS = 4  # channel creations sent again after an answer was lost and no channel appeared
MEMBERS_PER_ADD = 200  # the most one `members/add` takes (Graph reference `conversationMember: add`)
MEMBER_ROUNDS = 4  # bulk adds of the members still refused, the pauses between them doubling from:
MEMBER_RETRY_PAUSE = 1.0
PERMANENT = frozenset({"BadRequest", "NotFound", "Forbidden"})  # per-member errors no retry mends
MEMBERSHIP_FIRST_PAUSE, MEMBERSHIP_MAX_PAUSE = 0.5, 15.0  # backoff while new team members become visible
TEMPLATE = "https://graph.microsoft.com/v1.0/teamsTemplates('standard')"
IN_PROGRESS, MIGRATED = "inProgress", "completed"  # Graph's migrationMode values
T = TypeVar("T")


class Provisioner:
    def __init__(
        self,
        client: GraphClient,
        journal: JournalStore,
        operation_timeout: float = 600.0,
        membership_wait: float = 300.0,
    ):
        self.client = client
        self.journal = journal
        self.operation_timeout = operation_timeout
        self.membership_wait = membership_wait  # how long a private channel's members may take to become visible
        # Graph allows 30 channel creations a second per tenant; workers creating channels together would
        # otherwise earn 429s (seen with 50 channels in `make bench`).
        self._channel_writes = RateLimiter(per_key=CHANNEL_WRITES_PER_S)
        # Teams are created concurrently (load creates them on several threads): within Graph's 6 creations a
        # second, and their operations polled within its 60 team reads a second.
        self._team_creates = RateLimiter(per_key=TEAM_CREATES_PER_S)
        self._team_reads = RateLimiter(per_key=TEAM_CHANNEL_READS_PER_S)
        self._known: dict[str, ConversationEntry] = {}  # see known_channels

    # ------------------------------------------------------------------ teams
    def team(self, team: PlannedTeam) -> str:
        """The team's id, creating it in migration mode (backdated) unless the journal has it; an existing team's,
        found by its id or name."""
        entry = self.journal.team(team.key)
        if team.existing:
            return entry.team_id if entry and entry.team_id else self._existing_team(team)
        if entry and entry.team_id and entry.state != REQUESTED:
            self._check_exists(team, entry.team_id)
            return entry.team_id
        if entry and entry.operation:  # created, but we never saw the operation finish
            return self._await(team, entry.operation)
        if entry:  # the POST was sent and its answer lost: look before creating another
            found = self._find_team(team)
            if found:
                self.journal.set_team(team.key, CREATED, team_id=found)
                return found
        self.journal.set_team(team.key, REQUESTED)
        body = {
            "@microsoft.graph.teamCreationMode": "migration",
            "template@odata.bind": TEMPLATE,
            "displayName": team.display_name,
            "description": team.description or None,
            "createdDateTime": team.created,
        }
        try:
            with self._team_creates.slot("team-creates"):
                response = self.client.request("POST", "/teams", json={k: v for k, v in body.items() if v is not None})
        except ConnectionLostError:
            found = self._find_team(team)
            if not found:
                raise
            self.journal.set_team(team.key, CREATED, team_id=found)
            return found
        operation = self.client.resolve(response.headers["Location"])
        # Provisional until the operation names the team; either form Graph writes the path in.
        team_id = team_id_in(response.headers.get("Content-Location") or response.headers["Location"])
        self.journal.set_team(team.key, REQUESTED, team_id=team_id, operation=operation)
        return self._await(team, operation)

    def _existing_team(self, team: PlannedTeam) -> str:
        """The team people already use, found by its id or name, and recorded as there: nothing is created."""
        team_id = object_id(_found(find_team, self.client, team.existing))
        self.journal.set_team(team.key, CREATED, team_id=team_id)
        return team_id

    def _await(self, team: PlannedTeam, operation: str) -> str:
        deadline = time.monotonic() + self.operation_timeout
        delay = 0.2
        while True:
            with self._team_reads.slot("team-reads"):
                status = self.client.get_json(operation)
            if status["status"] == "succeeded":
                team_id = status.get("targetResourceId")
                if not isinstance(team_id, str) or not team_id:
                    raise ProvisionError(
                        f"team {team.display_name!r}: Teams reported the creation succeeded without naming the team "
                        "(no targetResourceId); run load again later"
                    )
                self.journal.set_team(team.key, CREATED, team_id=team_id)
                return team_id
            if status["status"] == "failed":
                raise ProvisionError(
                    f"team {team.display_name!r}: Teams reported the creation failed: {status.get('error')}"
                )
            if time.monotonic() > deadline:
                raise ProvisionError(
                    f"team {team.display_name!r} was not ready after {self.operation_timeout:.0f}s; run load again "
                    "later"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 5.0)

    def _find_team(self, team: PlannedTeam) -> str | None:
        """The team a lost POST created, recognised by its name and its backdated creation time."""
        escaped = team.display_name.replace("'", "''")
        for group in self.client.paginate("/groups", params={"$filter": f"displayName eq '{escaped}'"}):
            group_id = object_id(group)
            try:
                found = self.client.get_json(f"/teams/{group_id}")
            except NotFoundError:
                continue  # still provisioning or not a team
            same_time = found.get("createdDateTime") and parse_ms(found["createdDateTime"]) == parse_ms(team.created)
            if same_time and self.journal.team_key_of(group_id) is None:
                return group_id
        return None

    def _check_exists(self, team: PlannedTeam, team_id: str) -> None:
        try:
            self.client.get_json(f"/teams/{team_id}")
        except NotFoundError:
            raise JournalError(
                f"team {team.display_name!r} ({team_id}) is in the journal but no longer exists in Teams; "
                f"run `migrator reset --team {team.key!r}` to forget it, then load again"
            ) from None

    # --------------------------------------------------------------- channels
    def known_channels(self, teams: list[PlannedTeam]) -> None:
        """The journal's entries of the teams' channels, read in one query per team before any channel posts: each is
        used once, by `channel`, instead of a read per channel while other channels write the journal (50 reads
        behind those writes delayed a delta's last channel by most of a second)."""
        for team in teams:
            self._known.update(self.journal.team_conversations(team.key))

    def channel(self, team_key: str, team_id: str, channel: PlannedConversation) -> str:
        """The channel's id: the team's General channel, a standard channel created in migration mode,
        or a channel created as usual and then put into migration mode: private channels (with their
        members), and any channel of a team already completed (one redone with `reset --channel`) or whose
        General is, since Graph creates migration-mode channels only in a team under migration whose General is
        open (docs/graph-contract.md#team-completion); an existing channel is found by its id or name and opened."""
        entry = self._known.pop(channel.key, None) or self.journal.conversation(channel.key)
        if entry and entry.graph_id and entry.state != REQUESTED:
            return entry.graph_id
        found: str | None
        if channel.existing:
            found = self._open_existing_channel(team_key, team_id, channel, entry.graph_id if entry else None)
        elif channel.general:
            found = self.general_channel(team_id)
        elif channel.membership == "private" or self.team_completed(team_key):
            found = self._open_channel(team_key, team_id, channel, entry.graph_id if entry else None)
        else:
            try:
                found = self._create_channel(team_id, channel)
            except BadRequestError:
                # General completed (a run stopped between it and the team): no more migration channels here.
                if self.migration_mode(f"/teams/{team_id}/channels/{self.general_channel(team_id)}") != MIGRATED:
                    raise
                found = self._open_channel(team_key, team_id, channel, None)
        if found is None:
            raise _not_found(channel, team_id)
        self.journal.set_conversation(channel.key, team_key, CREATED, graph_id=found)
        return found

    def _open_channel(self, team_key: str, team_id: str, channel: PlannedConversation, known: str | None) -> str:
        """A channel created as usual (or `known` from an earlier run), then opened with startMigration."""
        found = known or self._create_open_channel(team_key, team_id, channel)
        if found is None:
            raise _not_found(channel, team_id)
        self.journal.set_conversation(channel.key, team_key, REQUESTED, graph_id=found)
        self.start_migration(f"/teams/{team_id}/channels/{found}", channel.created)
        return found

    def _open_existing_channel(
        self, team_key: str, team_id: str, channel: PlannedConversation, known: str | None
    ) -> str:
        """The channel people already use (`known` from an earlier run, else found by its id or name), opened only
        when Teams imports into it and its readers are still exactly its sources' audiences: load runs whether or not
        `map --check` did, membership may have changed since, and imported history cannot be taken back."""
        team = self.client.get_json(f"/teams/{team_id}")
        if known:
            found = self.client.get_json(f"/teams/{team_id}/channels/{known}")
        else:
            found = _found(find_channel, self.client, team_id, channel.existing)
        audiences = _audiences(channel)
        members = channel_members(self.client, team_id, object_id(found)) if audiences else []
        reasons = refusals(found, audiences, team, members)
        _refuse_unless_open(channel, reasons + self._taken(channel, object_id(found)))
        return self._open_channel(team_key, team_id, channel, object_id(found))

    def _create_channel(self, team_id: str, channel: PlannedConversation) -> str | None:
        body = {
            "@microsoft.graph.channelCreationMode": "migration",
            "displayName": channel.display_name,
            "description": channel.description or None,
            "membershipType": "standard",
            "createdDateTime": channel.created,
        }
        return self._post_channel(team_id, channel, body)

    def _create_open_channel(self, team_key: str, team_id: str, channel: PlannedConversation) -> str | None:
        """A channel outside migration mode (startMigration follows); a private one with its members.

        A team's membership is eventually consistent (docs/graph-contract.md#private-channels): members added a
        moment ago may not be visible yet, and the channel is refused with 400. When the journal has every member
        added to the team, that refusal is retried (`_while_members_settle`); otherwise it is reported at once (a
        member Graph did not add will not appear). A private channel's members are recorded under its key."""
        body: dict[str, Any] = {
            "displayName": channel.display_name,
            "description": channel.description or None,
            "membershipType": channel.membership,
        }
        if channel.membership == "private":
            body["members"] = [_member_bind(m.user_id, m.roles) for m in channel.members]
        if channel.membership != "private":
            return self._post_channel(team_id, channel, body)
        added = self.journal.members(team_key)
        post = partial(self._post_channel, team_id, channel, body)
        if any(m.user_id not in added for m in channel.members):
            found = post()
        else:
            found = self._while_members_settle(f"private channel {channel.display_name!r}", post)
        if found is not None:
            for member in channel.members:
                self.journal.add_member(channel.key, member.user_id)
        return found

    def channel_members(self, team_key: str, team_id: str, channel: PlannedConversation, channel_id: str) -> int:
        """A private channel's planned members that are not in it yet, added one by one once the team has them
        (`POST …/channels/{c}/members`); how many were added. A channel the plan already had keeps its members, so
        only people who joined it in the source since an earlier pass are sent (issue 27). The journal records a
        private channel's members under its conversation key from its creation; to one created before it did, each
        planned member is sent once (a 409 says they were in it)."""
        base = f"/teams/{team_id}/channels/{channel_id}"
        present = self.journal.members(channel.key)
        team_members = self.journal.members(team_key)
        added = 0
        for member in channel.members:
            if member.user_id in present:
                continue
            add = partial(self._add_channel_member, base, member)
            if member.user_id in team_members:
                self._while_members_settle(f"{member.display_name or member.user_id} in {channel.display_name!r}", add)
            else:
                add()
            self.journal.add_member(channel.key, member.user_id)
            added += 1
        return added

    def _add_channel_member(self, base: str, member: PlannedMember) -> None:
        """One member of a private channel; someone already in it (an earlier answer lost) is not an error."""
        with contextlib.suppress(ConflictError):
            self.client.request(
                "POST", f"{base}/members", json=_member_bind(member.user_id, member.roles), idempotent=True
            )

    def _while_members_settle(self, what: str, call: Callable[[], T]) -> T:
        """`call`, whose people the journal records as added to the team, sent again while Graph refuses it with a
        400: a team's membership is eventually consistent (docs/graph-contract.md#private-channels), so members added
        a moment ago may not be visible yet. Backoff for up to `membership_wait` seconds, then reported."""
        deadline, delay = time.monotonic() + self.membership_wait, MEMBERSHIP_FIRST_PAUSE
        while True:
            try:
                return call()
            except BadRequestError as refusal:
                if time.monotonic() + delay > deadline:
                    raise ProvisionError(
                        f"{what}: Teams kept refusing it for {self.membership_wait:.0f}s ({refusal}); its members "
                        "may not be visible in the team yet: load again later"
                    ) from None
                log.warning(
                    "%s refused (%s); members may not be visible yet, retrying in %.1fs", what, refusal.message, delay
                )
                time.sleep(delay)
                delay = min(delay * 2, MEMBERSHIP_MAX_PAUSE)

    def _post_channel(self, team_id: str, channel: PlannedConversation, body: dict[str, Any]) -> str | None:
        """Create the channel. Names are unique in a team, so after a lost answer (a dropped connection,
        a 5xx) or a 409 the channel is looked up by name; a lost answer whose channel is not there was not
        applied, and the POST is sent again (a 409 then still finds one that appears late)."""
        payload = {k: v for k, v in body.items() if v is not None}
        for sent in range(1, LOST_ANSWER_ATTEMPTS + 1):
            try:
                with self._channel_writes.slot("channel-writes"):
                    return self.client.create(f"/teams/{team_id}/channels", payload)
            except ConflictError:
                return self._find_channel(team_id, channel.display_name)
            except ConnectionLostError:
                found = self._find_channel(team_id, channel.display_name)
                if found or sent == LOST_ANSWER_ATTEMPTS:
                    return found
                log.warning(
                    "channel %r: no answer to its creation and not in the team; creating it again (attempt %d)",
                    channel.display_name,
                    sent + 1,
                )
        return None

    def start_migration(self, base: str, created: str) -> None:
        """startMigration backdated to the conversation's planned creation (docs/graph-contract.md#migration-sessions).

        The timestamp is always sent: without it Graph takes the current time as the earliest a message may carry.
        It must be older than the conversation's current creation, so an existing conversation older than the plan
        is opened 1 ms before its own creation. A 400 is an earlier run's session still open only when a read
        shows it in migration mode."""
        existing = self.client.get_json(base).get("createdDateTime")
        stamp = parse_ms(created) if not existing else min(parse_ms(created), parse_ms(existing) - 1)
        body = {"conversationCreationDateTime": format_ms(stamp)}
        try:
            self.client.request("POST", f"{base}/startMigration", json=body, idempotent=True)
        except BadRequestError:
            if self.migration_mode(base) != IN_PROGRESS:
                raise

    def migration_mode(self, base: str) -> str | None:
        """A channel's or chat's `migrationMode`, read on beta: v1.0 does not return it
        (docs/graph-contract.md#observed-behaviour). Only ever used to reconcile a refused call."""
        mode = self.client.get_json(base, version="beta").get("migrationMode")
        return mode if isinstance(mode, str) else None

    # ------------------------------------------------------------------ chats
    def chat(self, chat: PlannedConversation) -> str:
        """A 1:1 or group chat with its members, or the existing chat (as its members are), in migration mode from its
        planned creation time."""
        entry = self.journal.conversation(chat.key)
        if entry and entry.graph_id and entry.state != REQUESTED:
            return entry.graph_id
        if chat.existing:
            chat_id = self._existing_chat(chat, entry.graph_id if entry else None)
        elif entry and entry.graph_id:
            chat_id = entry.graph_id
        else:
            chat_id = self._new_chat(chat, entry is not None)
        self.journal.set_conversation(chat.key, None, REQUESTED, graph_id=chat_id)
        try:
            self.start_migration(f"/chats/{chat_id}", chat.created)
        except BadRequestError as refusal:
            raise StuckChatError(chat.display_name or chat.key, chat_id, refusal) from None
        self.journal.set_conversation(chat.key, None, CREATED, graph_id=chat_id)
        return chat_id

    def _existing_chat(self, chat: PlannedConversation, known: str | None) -> str:
        """The chat people already use, when Teams imports into it and its members are still exactly its sources'
        audiences (as `_open_existing_channel` checks a channel)."""
        found = _found(find_chat, self.client, known or chat.existing)
        _refuse_unless_open(chat, refusals(found, _audiences(chat)) + self._taken(chat, object_id(found)))
        return object_id(found)

    def _taken(self, conversation: PlannedConversation, graph_id: str) -> list[str]:
        """Why another planned conversation already importing into this existing target excludes this one: the
        plan named one channel twice (by id and by name), or sent two conversations into one chat, and the first to
        complete would close the other's session."""
        other = self.journal.conversation_key_of(graph_id)
        if other is None or other == conversation.key:
            return []
        return [
            f"it is also the target of {other!r}, named otherwise in migration.yaml: two imports into one channel or "
            "chat close each other's session; name it the same way in both routes (channels then merge into one "
            "import) or send only one conversation there"
        ]

    def _new_chat(self, chat: PlannedConversation, sent: bool) -> str:
        """Create the chat; when a POST was `sent` before (an entry without an id), it may have landed: look before
        creating another."""
        chat_id = self._find_chat(chat) if sent else None
        if chat_id is None:
            self.journal.set_conversation(chat.key, None, REQUESTED)
            try:
                chat_id = self._create_chat(chat)
            except ConnectionLostError:
                chat_id = self._find_chat(chat)
                if chat_id is None:
                    raise
        return chat_id

    def _create_chat(self, chat: PlannedConversation) -> str:
        body = {"chatType": chat.membership, "members": [_member_bind(m.user_id, ["owner"]) for m in chat.members]}
        if chat.membership == "group" and chat.display_name:
            body["topic"] = chat.display_name
        # A oneOnOne chat is unique per pair, so re-sending after a lost answer returns the same chat;
        # a group chat is not, hence the journal's REQUESTED mark before this call is made again.
        return self.client.create("/chats", body, idempotent=chat.membership == "oneOnOne")

    def _find_chat(self, chat: PlannedConversation) -> str | None:
        """The chat a POST whose answer was lost created: same type, topic and members, never put into
        migration mode (read on beta, where `migrationMode` is served), and not already another conversation's in
        the journal."""
        wanted = sorted(m.user_id for m in chat.members)
        topic = chat.display_name if chat.membership == "group" else None
        chats = self.client.paginate(f"/users/{wanted[0]}/chats", params={"$expand": "members"}, version="beta")
        for found in chats:
            members = sorted(m["userId"] for m in found.get("members", []))
            if (
                (found.get("chatType"), found.get("topic") or None, members) == (chat.membership, topic or None, wanted)
                and found.get("migrationMode") is None
                and self.journal.conversation_key_of(found["id"]) is None
            ):
                return object_id(found)
        return None

    def complete_chat(self, chat_id: str) -> None:
        self._complete(f"/chats/{chat_id}")

    def _find_channel(self, team_id: str, name: str) -> str | None:
        for found in self.client.paginate(f"/teams/{team_id}/channels"):
            if found["displayName"].lower() == name.lower():
                return object_id(found)
        return None

    # ------------------------------------------------------------- completion
    def complete_channel(self, team_id: str, channel_id: str) -> None:
        self._complete(f"/teams/{team_id}/channels/{channel_id}")

    def channel_completion(
        self, team_key: str, team_id: str, channel: PlannedConversation, channel_id: str
    ) -> Callable[[], None] | None:
        """The channel's completeMigration, or None for a General channel its team completes, after every other
        channel (`complete_team`); a General reopened in a team an earlier pass completed (a newer export's lines,
        issue 27) completes itself, as any channel."""
        if channel.general and not self.team_completed(team_key):
            return None
        return partial(self.complete_channel, team_id, channel_id)

    def _complete(self, base: str) -> None:
        """completeMigration; a lost answer is recognised on a re-run by the conversation's mode."""
        try:
            self.client.request("POST", f"{base}/completeMigration", idempotent=True)
        except BadRequestError:
            if self.migration_mode(base) != MIGRATED:
                raise
            log.info("%s was already out of migration mode", base)

    def complete_team(self, team: PlannedTeam, team_id: str) -> None:
        """Every channel of the team the journal knows, then General, then the team
        (docs/graph-contract.md#team-completion).

        Decided from the journal, never from `migrationMode` (v1.0 does not return it). General is completed here,
        last, whether or not a planned conversation maps to it: once it is, Graph refuses new migration channels in
        the team, and the team's completion is refused while it is open. A 400 on the team's completeMigration is
        an error unless the team is proven out of migration mode (an earlier run's lost answer; `_accepts_members`).
        A team people already use was never in migration mode: its channels completed themselves, and it is left as
        it is."""
        if team.existing or self.team_completed(team.key):
            return
        general = self.general_channel(team_id)
        known = self.journal.team_conversations(team.key)
        for key, entry in known.items():
            if entry.graph_id and entry.graph_id != general and entry.state == CREATED:
                self.complete_channel(team_id, entry.graph_id)
                self.journal.set_conversation(key, team.key, COMPLETED)
        self.complete_channel(team_id, general)
        for key, entry in known.items():
            if entry.graph_id == general:
                self.journal.set_conversation(key, team.key, COMPLETED)
        try:
            self.client.request("POST", f"/teams/{team_id}/completeMigration", idempotent=True)
        except BadRequestError:
            if not self._accepts_members(team, team_id):
                raise
            log.info("team %s was already out of migration mode (an earlier answer was lost)", team_id)
        self.journal.set_team(team.key, COMPLETED)

    def general_channel(self, team_id: str) -> str:
        """The team's General channel (`GET /teams/{t}/primaryChannel`), which exists from the team's creation."""
        return object_id(self.client.get_json(f"/teams/{team_id}/primaryChannel"))

    def _accepts_members(self, team: PlannedTeam, team_id: str) -> bool:
        """Whether the team is out of migration mode, after its completion was answered 400: Graph shows a
        team's mode nowhere, but adds members only once the team completed (graph-contract.md#team-completion,
        #members), so its first member is added as the proof; a 400 is never taken as "already done"."""
        if not team.members:
            return False
        try:
            self._add_batch(team, team_id, team.members[:1])  # records the member when added
        except BadRequestError:
            return False
        return True

    def team_completed(self, team_key: str) -> bool:
        """Whether the team is out of migration mode (its completeMigration answered)."""
        entry = self.journal.team(team_key)
        return entry is not None and entry.state in (COMPLETED, DONE)

    def add_members(self, team: PlannedTeam, team_id: str) -> tuple[int, list[str]]:
        """Members and owners, only after the team's completeMigration (Graph refuses them before), in bulk
        (`members/add`, docs/graph-contract.md#members). Each answer says per member whether it was added; only the
        ones that were not are sent again, after a pause, unless Graph refused them for good (PERMANENT).

        Returns how many were added and, for each one still refused, who and why: the others are still added, and
        the team is marked done only when nobody is left, so the next load adds the rest. A team people already use
        keeps its members: the plan lists none for it."""
        done = self.journal.members(team.key)
        waiting = {m.user_id: m for m in team.members if m.user_id not in done}
        added, refused = 0, dict[str, str]()
        for round_ in range(MEMBER_ROUNDS):
            if round_:
                time.sleep(MEMBER_RETRY_PAUSE * 2 ** (round_ - 1))
            for batch in _batches([m for m in waiting.values() if m.user_id not in refused], MEMBERS_PER_ADD):
                answer = attempt(partial(self._add_batch, team, team_id, batch))
                results = {m.user_id: (str(answer), True) for m in batch} if isinstance(answer, Refusal) else answer
                for user_id, (error, permanent) in results.items():
                    if not error:
                        added += waiting.pop(user_id, None) is not None
                    elif permanent:
                        refused[user_id] = error
            if not set(waiting) - set(refused):
                break
            log.warning("team %s: %d members not added yet; trying them again", team_id, len(waiting) - len(refused))
        if not waiting:
            self.journal.set_team(team.key, DONE)
        return added, [
            f"{m.display_name or m.user_id} ({m.user_id}): {refused.get(m.user_id, 'not added after retries')}"
            for m in waiting.values()
        ]

    def _add_batch(self, team: PlannedTeam, team_id: str, batch: list[PlannedMember]) -> dict[str, tuple[str, bool]]:
        """One `members/add`: per user id Graph's error ("" when added) and whether it is for good; each added one
        is recorded in the journal."""
        response = self.client.request(
            "POST",
            f"/teams/{team_id}/members/add",
            json={"values": [_member_bind(m.user_id, m.roles) for m in batch]},
            idempotent=True,  # adding someone who is already a member is not an error
        )
        request_id = response.headers.get("request-id") or "-"
        results: dict[str, tuple[str, bool]] = {}
        for result in json_object(response).get("value", []):
            user_id, error = result.get("userId"), result.get("error")
            if not isinstance(user_id, str):
                continue
            if error:
                code = str(error.get("code"))
                results[user_id] = (f"{code}: {error.get('message')} (request-id {request_id})", code in PERMANENT)
            else:
                results[user_id] = ("", False)
                self.journal.add_member(team.key, user_id)
        return results


def _batches(members: list[PlannedMember], size: int) -> list[list[PlannedMember]]:
    return [members[start : start + size] for start in range(0, len(members), size)]


def _found(find: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """What `find` found of an existing target, or a refusal of the conversation naming what to correct."""
    try:
        return find(*args)
    except ExistingTargetError as error:
        raise ProvisionError(
            f"{error}; correct the existing target in migration.yaml (`migrator map --check` looks it up), transform "
            "and load again"
        ) from None


def _audiences(conversation: PlannedConversation) -> list[Audience]:
    """Who could read each private source going into the existing target, as the plan recorded it."""
    if conversation.audiences is None:
        raise ProvisionError(
            f"existing target {conversation.existing!r}: the plan does not say who could read its sources (an older "
            "transform made it), so nobody can tell whether its history would gain readers; transform again, then load"
        )
    return [
        Audience(a.what, a.made_by, True, {m.user_id: m.display_name for m in a.members})
        for a in conversation.audiences
    ]


def _refuse_unless_open(conversation: PlannedConversation, reasons: list[str]) -> None:
    """Refuse the conversation, before anything is imported into the existing target, for `reasons`."""
    if reasons:
        raise ProvisionError(
            f"existing target {conversation.existing!r} not reopened for import (checked again right before "
            f"startMigration, membership may have changed since `map --check`): {'; '.join(reasons)}"
        )


def _not_found(channel: PlannedConversation, team_id: str) -> ProvisionError:
    return ProvisionError(f"channel {channel.display_name!r}: not found in team {team_id} after creating it")


def _member_bind(user_id: str, roles: list[str]) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": roles,
        "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{user_id}')",
    }
