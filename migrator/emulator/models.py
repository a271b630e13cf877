"""The emulated tenant's state and every Graph rule the migrator depends on.

Nothing here knows about HTTP: routes parse requests into plain arguments and
call these methods, which either return Graph-shaped data or raise a
`GraphFault`. Each rule cites the section of docs/graph-contract.md it implements.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, TypedDict
from urllib.parse import quote, urlsplit

from migrator import limits
from migrator.capacity import DELETED_CHANNELS_COUNT_DAYS, TEAMS_DEFAULTS, CapacityLimits
from migrator.emulator import native, odata
from migrator.emulator.directory import Directory
from migrator.emulator.errors import (
    BadRequest,
    Conflict,
    DriveNotFound,
    Forbidden,
    InvalidRequest,
    NameAlreadyExists,
    NotFound,
    PayloadTooLarge,
    PaymentRequired,
    RangeNotSatisfiable,
    UserNotFound,
)
from migrator.emulator.reading import Reading
from migrator.emulator.store import Record, Store
from migrator.timestamps import format_ms, parse_ms

GRAPH = "https://graph.microsoft.com"  # stored URLs use this prefix; routes rewrite it to the emulator's
MIGRATION = "migration"
IN_PROGRESS, COMPLETED = "inProgress", "completed"
DAY_MS = 86_400_000
TEMPLATE = re.compile(r"teamsTemplates\('standard'\)$")
USER_BIND = re.compile(r"users(?:\('([^']+)'\)|/([^/?]+))$")
HOSTED_REF = re.compile(r"""\.\./hostedContents/([^/"']+)/\$value""")
ATTACHMENT_REF = re.compile(r"""<attachment\s+id=["']([^"']+)["']""", re.IGNORECASE)
CHANNEL_NAME_FORBIDDEN = set("~#%&*{}+/\\:<>?|'\"")
FILE_NAME_FORBIDDEN = set('"*:<>?/\\|')
SHARE_ROLES = {"read", "write"}
IMPORTABLE_FIELDS = {
    "body",
    "createdDateTime",
    "from",
    "hostedContents",
    "attachments",
    "mentions",
    "reactions",
    "subject",
    "summary",
    "importance",
    "locale",
    "messageType",
    "@odata.type",
    "replyToId",
    "channelIdentity",
    "chatId",
}


class Clock:
    """Graph's notion of now; tests move it to check retention windows and future times."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset_ms


MAX_MEMBERS_ADD = 200  # members one POST /teams/{t}/members/add may carry (conversationMember: add)


class Member(TypedDict):
    """A user bound into a team, channel or chat, as stored with it; roles name `owner` or `guest`, or none."""

    userId: str
    roles: list[str]


class HostedImage(NamedTuple):
    """An imported message's inline image once checked, before it is stored under a hostedContents id."""

    temp_id: str  # the @microsoft.graph.temporaryId the body references
    content_type: str
    content_bytes: str  # base64, as posted


def public(record: Record) -> Record:
    """A stored record as Graph shows it: internal `_` fields removed."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _thread_id(suffix: str) -> str:
    return f"19:{uuid.uuid4().hex}@{suffix}"


def _b64decode(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise BadRequest(f"{where}: contentBytes must be a base64 string.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{where}: contentBytes is not valid base64.") from None


class Graph:
    def __init__(
        self,
        directory: Directory,
        store: Store,
        clock: Clock | None = None,
        provision_delay: float = 0.2,
        capacity: CapacityLimits = TEAMS_DEFAULTS,
        reading: Reading | None = None,
    ):
        self.directory = directory
        self.store = store
        self.clock = clock or Clock()
        self.reading = reading or Reading()  # strict unless told (emulator/reading.py)
        self.provision_delay = provision_delay
        self.capacity = capacity  # Teams' capacity limits (docs/graph-contract.md#capacity-limits); tests lower them
        self.evaluation_capacity = directory.evaluation_capacity
        # A chat stuck after a completed import session (docs/graph-contract.md#observed-behaviour): the fault
        # injector decides which chats are (`faults.STUCK_CHAT`).
        self.stuck_chat: Callable[[str], bool] = lambda chat_id: False
        # Seconds a just-added team member stays invisible to private-channel creation (docs/graph-contract.md#
        # private-channels: membership is eventually consistent); 0 keeps `make migrate` fast.
        self.membership_lag = 0.0
        # Graph's (code, message) for one member of a bulk add that fails, set by the fault injector (refuse rules
        # and `faults.MEMBER_ADD_ERROR`); None adds them.
        self.member_refusal: Callable[[str, Mapping[str, Any]], tuple[str, str] | None] = lambda team, entry: None
        self.users_without_drive = 0.0  # the share of users whose OneDrive was never provisioned (#chat-files)
        self._messages: dict[str, dict[str, Record]] = {}
        self._used_ms: dict[str, set[int]] = {}
        self._versions: dict[str, int] = {}
        self._export_cache: dict[tuple[str, ...], tuple[tuple[int, ...], list[Record]]] = {}
        self._reindex()
        if not any(True for _ in store.values("conversations")):
            self._seed_chats()
            self._seed_teams()

    # ------------------------------------------------------------------ state
    def _reindex(self) -> None:
        self._messages.clear()
        self._used_ms.clear()
        for message in self.store.values("messages"):
            self._index_message(message)

    def _index_message(self, message: Record) -> None:
        conv = message["_conv"]
        self._messages.setdefault(conv, {})[message["id"]] = message
        self._used_ms.setdefault(conv, set()).add(message["_created"])
        self._versions[conv] = self._versions.get(conv, 0) + 1

    def reset(self) -> None:
        """An empty tenant with Teams' own capacity limits."""
        self.capacity = TEAMS_DEFAULTS
        self.users_without_drive = 0.0
        self.store.clear()
        self._reindex()
        self._export_cache.clear()
        self._seed_chats()
        self._seed_teams()

    def _seed_chats(self) -> None:
        """Chats from the directory file, with their messages, so chat export can be tested."""
        for chat in self.directory.chats:
            created = parse_ms(chat.get("createdDateTime", "2024-01-01T00:00:00Z"))
            record = self._new_chat_record(
                chat.get("id") or _thread_id("thread.v2"),
                chat.get("chatType", "group"),
                chat.get("topic"),
                list(chat["members"]),
                created,
            )
            for seed in chat.get("messages", []):
                author = self.directory.users.get(seed.get("from", ""))
                sender = (
                    {"application": None, "device": None, "user": self._identity(author["id"])}
                    if author
                    else {"application": seed.get("application"), "device": None, "user": None}
                )
                created = parse_ms(seed["createdDateTime"])
                self._store_message(
                    record,
                    created,
                    sender,
                    {"contentType": seed.get("contentType", "text"), "content": seed["body"]},
                    message_type=seed.get("messageType", "message"),
                    event_detail=seed.get("eventDetail"),
                    attachments=[self._seeded_attachment(a) for a in seed.get("attachments", [])],
                    reactions=[self._reaction(r, created) for r in seed.get("reactions", [])],
                )

    def _seed_teams(self) -> None:
        """Teams people already use, from the directory file: not in migration mode, their members, their channels
        (General first, as every team has it) and live messages, so history can be imported into an existing
        channel with `startMigration` and checked to leave them untouched."""
        for seed in self.directory.teams:
            created = parse_ms(seed.get("createdDateTime", "2024-01-01T00:00:00Z"))
            team_id = seed.get("id") or str(uuid.uuid4())
            team = {
                "id": team_id,
                "displayName": seed["displayName"],
                "description": seed.get("description"),
                "createdDateTime": format_ms(created),
                "isArchived": bool(seed.get("isArchived", False)),
                "webUrl": f"https://teams.microsoft.com/l/team/{team_id}",
                "visibility": seed.get("visibility", "private"),
                "_created": created,
                "_readyAt": 0.0,
                "_ownerApp": None,
                "_migration": None,
            }
            self.store.put("teams", team_id, team)
            owners = set(seed.get("owners", []))
            for user_id in [*seed.get("owners", []), *(m for m in seed.get("members", []) if m not in owners)]:
                self._store_member(team_id, {"userId": user_id, "roles": ["owner"] if user_id in owners else []})
            channels = {c["displayName"]: c for c in seed.get("channels", [])}
            for name, channel_seed in {"General": channels.pop("General", {}), **channels}.items():
                channel = self._create_channel_record(
                    team,
                    name,
                    channel_seed.get("description"),
                    "standard",
                    parse_ms(channel_seed.get("createdDateTime", team["createdDateTime"])),
                    False,
                    "",
                    general=name == "General",
                )
                if channel_seed.get("id"):  # a fixed id, so a test or mapping can name it
                    self.store.delete("conversations", channel["id"])
                    channel["id"] = channel_seed["id"]
                    self.store.put("conversations", channel["id"], channel)
                self.store.patch("conversations", channel["id"], {"_ownerApp": None})
                for message in channel_seed.get("messages", []):
                    root = self._seed_message(channel, message)
                    for reply in message.get("replies", []):
                        self._seed_message(channel, reply, root["id"])

    def _seed_message(self, conv: Record, seed: Mapping[str, Any], reply_to: str | None = None) -> Record:
        """A live message of a seeded channel, posted by a directory user at its own time."""
        return self._store_message(
            self.store.get("conversations", conv["id"]) or conv,
            parse_ms(seed["createdDateTime"]),
            {"application": None, "device": None, "user": self._identity(seed["from"])},
            {"contentType": seed.get("contentType", "html"), "content": seed["body"]},
            reply_to=reply_to,
        )

    def _identity(self, user_id: str) -> Record:
        """An aadUser identity as Graph writes it in `from`, mentions and reactions."""
        user = self.directory.users[user_id]
        return {"id": user["id"], "displayName": user["displayName"], "userIdentityType": "aadUser"}

    @staticmethod
    def _seeded_attachment(seed: Mapping[str, Any]) -> Record:
        """A reference attachment as Graph exports it; a seed may point anywhere (another tenant's file)."""
        return {
            "id": seed["id"],
            "contentType": seed.get("contentType", "reference"),
            "contentUrl": seed.get("contentUrl"),
            "content": seed.get("content"),
            "name": seed.get("name"),
            "thumbnailUrl": None,
            "teamsAppId": None,
        }

    def _reaction(self, seed: Mapping[str, Any], default_ms: int) -> Record:
        """A chatMessageReaction: a reaction type (`like`, `heart`… or an emoji), when, and who (seed 004)."""
        if seed.get("user") not in self.directory.users or not seed.get("reactionType"):
            raise BadRequest(f"A reaction needs a reactionType and a user of the directory: {dict(seed)}.")
        when = parse_ms(seed["createdDateTime"]) if seed.get("createdDateTime") else default_ms
        identity = dict(self._identity(seed["user"]), displayName=None)  # Graph leaves the name out here
        return {
            "reactionType": seed["reactionType"],
            "displayName": seed.get("displayName"),
            "reactionContentUrl": None,
            "createdDateTime": format_ms(when),
            "user": {"application": None, "device": None, "user": identity},
        }

    # ------------------------------------------------------------------ teams
    def create_team(self, body: dict[str, Any], app_id: str) -> tuple[str, str]:
        """POST /teams: 202 with (team id, operation id); the team is usable once the operation succeeds."""
        mode = body.get("@microsoft.graph.teamCreationMode")
        created = self._backdated(body, mode, "teamCreationMode")
        if not TEMPLATE.search(str(body.get("template@odata.bind", ""))):
            raise BadRequest("template@odata.bind must reference teamsTemplates('standard').")
        name = body.get("displayName")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("displayName is required.")
        team_id, op_id = str(uuid.uuid4()), str(uuid.uuid4())
        now = self.clock.now_ms()
        ready = time.time() + self.provision_delay
        team = {
            "id": team_id,
            "displayName": name,
            "description": body.get("description"),
            "createdDateTime": format_ms(created if created is not None else now),
            "isArchived": False,
            "webUrl": f"https://teams.microsoft.com/l/team/{team_id}",
            "visibility": body.get("visibility", "private"),
            "_created": created if created is not None else now,
            "_readyAt": ready,
            "_ownerApp": app_id,
            "_migration": IN_PROGRESS if mode == MIGRATION else None,
        }
        self.store.put("teams", team_id, team)
        self.store.put("operations", op_id, {"id": op_id, "_team": team_id, "_readyAt": ready, "_created": now})
        self._create_channel_record(
            team, "General", "", "standard", team["_created"], mode == MIGRATION, app_id, general=True
        )
        return team_id, op_id

    def operation(self, team_id: str, op_id: str) -> Record:
        op = self.store.get("operations", op_id)
        if op is None or op["_team"] != team_id:
            raise NotFound(f"Operation '{op_id}' was not found.")
        done = time.time() >= op["_readyAt"]
        return {
            "id": op_id,
            "operationType": "createTeam",
            "status": "succeeded" if done else "inProgress",
            "createdDateTime": format_ms(op["_created"]),
            "lastActionDateTime": format_ms(self.clock.now_ms()),
            "attemptsCount": 1,
            "targetResourceId": team_id,
            "targetResourceLocation": f"/teams('{team_id}')",
            "error": None,
        }

    def team(self, team_id: str) -> Record:
        team = self.store.get("teams", team_id)
        if team is None or time.time() < team["_readyAt"]:
            raise NotFound(f"No team found with Group Id {team_id}")
        return team

    def render_team(self, team_id: str) -> Record:
        team = self.team(team_id)
        return {**public(team), "migrationMode": team["_migration"]}

    def groups(self, filter_text: str | None) -> list[Record]:
        """GET /groups: the Microsoft 365 groups behind teams, filtered by displayName.

        A loader whose `POST /teams` lost its answer finds out here whether the team exists.
        """
        groups = [
            {
                "id": t["id"],
                "displayName": t["displayName"],
                "description": t["description"],
                "resourceProvisioningOptions": ["Team"],
            }
            for t in self.store.values("teams")
        ]
        if not filter_text:
            return groups
        # by name, and optionally only teams' groups (all of the emulator's are)
        match = re.fullmatch(
            r"\s*displayName\s+eq\s+'((?:[^']|'')*)'"
            r"(?:\s+and\s+resourceProvisioningOptions/Any\(x:x\s+eq\s+'Team'\))?\s*",
            filter_text,
        )
        if not match:
            raise BadRequest(f"Unsupported filter for /groups: {filter_text}")
        name = match.group(1).replace("''", "'")
        return [g for g in groups if g["displayName"] == name]

    def delete_group(self, group_id: str) -> None:
        """DELETE /groups/{id}: the only way to redo a migrated team (docs/graph-contract.md#redo)."""
        team = self.store.get("teams", group_id)
        if team is None:
            raise NotFound(
                f"Resource '{group_id}' does not exist or one of its queried reference-property objects are not "
                "present."
            )
        for channel in self._team_channels(group_id):
            self._delete_conversation(channel["id"])
        for member in list(self.store.values("members")):
            if member["_team"] == group_id:
                self.store.delete("members", f"{group_id}|{member['userId']}")
        for item in list(self.store.values("items")):
            if item.get("_team") == group_id:
                self.store.delete("items", item["id"])
        for key in [k for k in self.store.collections.get("deleted_channels", {}) if k.startswith(f"{group_id}|")]:
            self.store.delete("deleted_channels", key)
        self.store.delete("teams", group_id)

    def complete_team(self, team_id: str, app_id: str) -> None:
        team = self.team(team_id)
        if team["_migration"] != IN_PROGRESS:
            raise BadRequest("The team is not in migration mode.")
        self._require_owner(team, app_id, completing=True)
        if any(c["_migration"] == IN_PROGRESS for c in self._team_channels(team_id)):
            # Observed wording; General counts (docs/graph-contract.md#team-completion).
            raise BadRequest("All channels must be finalized before team.")
        self.store.patch("teams", team_id, {"_migration": COMPLETED})

    # --------------------------------------------------------------- channels
    def _team_channels(self, team_id: str) -> list[Record]:
        return [c for c in self.store.values("conversations") if c.get("_team") == team_id]

    def create_channel(self, team_id: str, body: dict[str, Any], app_id: str) -> tuple[int, Record]:
        team = self.team(team_id)
        mode = body.get("@microsoft.graph.channelCreationMode")
        created = self._backdated(body, mode, "channelCreationMode")
        name = self._checked_channel_name(body.get("displayName"))
        self._check_name_free(team_id, name)
        if mode == MIGRATION and not self._takes_migration_channels(team):
            raise BadRequest("Migration channels can only be created in a team under migration.")
        if mode == MIGRATION and team.get("_ownerApp") not in (None, app_id):
            # Observed (issue #22, docs/graph-contract.md#observed-behaviour): the team's import session is its
            # creator's.
            raise Forbidden("Only 1 application is allowed to operate within an import session.")
        membership = body.get("membershipType", "standard")
        if membership not in ("standard", "private", "shared"):
            raise BadRequest(f"Invalid membershipType '{membership}'.")
        self._check_channel_room(team_id, membership)
        if mode == MIGRATION and membership != "standard":
            raise BadRequest(
                "Only standard channels can be created in migration mode; create it, then call startMigration."
            )
        members = self._channel_members(team_id, body) if membership != "standard" else []
        channel = self._create_channel_record(
            team,
            name,
            body.get("description"),
            membership,
            created if created is not None else self.clock.now_ms(),
            mode == MIGRATION,
            app_id,
            members=members,
        )
        if mode == MIGRATION:
            rendered: Record = {
                key: None
                for key in (
                    "createdDateTime",
                    "isFavoriteByDefault",
                    "email",
                    "webUrl",
                    "membershipType",
                    "moderationSettings",
                )
            }
            rendered.update({"id": channel["id"], "displayName": name, "description": channel["description"]})
            return 202, rendered
        return 201, public(channel)

    def _takes_migration_channels(self, team: Record) -> bool:
        """A team under migration whose General is still open: once General completed, Graph refuses new migration
        channels in the team (docs/graph-contract.md#team-completion)."""
        return bool(team["_migration"] == IN_PROGRESS and self.primary_channel(team["id"])["_migration"] == IN_PROGRESS)

    def primary_channel(self, team_id: str) -> Record:
        """GET /teams/{t}/primaryChannel: the General channel, which exists from the team's creation."""
        self.team(team_id)
        return next(c for c in self._team_channels(team_id) if c["_general"])

    def _channel_members(self, team_id: str, body: dict[str, Any]) -> list[Member]:
        """A private channel's members are a subset of its team's: Graph refuses anyone else (and the team has
        members only once its completeMigration succeeded)."""
        members = [self._member_from_bind(entry) for entry in body.get("members", [])]
        if not any("owner" in m["roles"] for m in members):
            raise BadRequest("A private or shared channel needs at least one member with the owner role.")
        if len(members) > self.capacity.private_channel_members_per_request:
            raise BadRequest(
                "A private channel can be created with at most "
                f"{self.capacity.private_channel_members_per_request} members."
            )
        if len(members) > self.capacity.members_per_private_channel:
            raise BadRequest(
                f"A private channel can have at most {self.capacity.members_per_private_channel} members; "
                f"{len(members)} were given."
            )
        outsiders = [m["userId"] for m in members if not self._visible_member(team_id, m["userId"])]
        if outsiders:
            raise BadRequest(f"Members of a private channel must be members of the team first: {', '.join(outsiders)}.")
        return members

    def channel_members(self, team_id: str, channel_id: str) -> list[Record]:
        """A private channel's own members; a standard channel's are its team's."""
        channel = self.channel(team_id, channel_id)
        if channel["membershipType"] == "standard":
            return self.list_members(team_id)
        return [self._render_member(m) for m in channel["_members"]]

    def add_channel_member(self, team_id: str, channel_id: str, body: dict[str, Any]) -> Record:
        """POST /teams/{t}/channels/{c}/members: one member of a private or shared channel, who must be a member of
        its team already (as at the channel's creation); someone already in the channel is a 409."""
        channel = self.channel(team_id, channel_id)
        if channel["membershipType"] == "standard":
            raise BadRequest(
                "Members can be added only to private and shared channels; a standard channel's are its team's."
            )
        member = self._member_from_bind(body)
        if any(m["userId"] == member["userId"] for m in channel["_members"]):
            raise Conflict(f"User '{member['userId']}' is already a member of the channel.")
        if not self._visible_member(team_id, member["userId"]):
            raise BadRequest(f"Members of a private channel must be members of the team first: {member['userId']}.")
        if len(channel["_members"]) >= self.capacity.members_per_private_channel:
            raise BadRequest(f"A private channel can have at most {self.capacity.members_per_private_channel} members.")
        self.store.patch("conversations", channel_id, {"_members": [*channel["_members"], member]})
        return self._render_member(member)

    def _create_channel_record(
        self,
        team: Record,
        name: str,
        description: str | None,
        membership: str,
        created: int,
        migration: bool,
        app_id: str,
        general: bool = False,
        members: list[Member] | None = None,
    ) -> Record:
        channel_id = _thread_id("thread.tacv2")
        channel = {
            "id": channel_id,
            "displayName": name,
            "description": description,
            "createdDateTime": format_ms(created),
            "membershipType": membership,
            "isFavoriteByDefault": None,
            "email": "",
            "webUrl": f"https://teams.microsoft.com/l/channel/{channel_id}",
            "_team": team["id"],
            "_kind": "channel",
            "_created": created,
            "_general": general,
            "_migration": IN_PROGRESS if migration else None,
            "_ownerApp": app_id,
            "_members": members or [],
        }
        self.store.put("conversations", channel_id, channel)
        return channel

    def _check_name_free(self, team_id: str, name: str) -> None:
        """Channel names are unique in a team, and (observed) a deleted channel keeps its name while it can be
        restored (30 days)."""
        taken = any(c["displayName"].lower() == name.lower() for c in self._team_channels(team_id))
        deleted = self.store.get("deleted_channels", f"{team_id}|{name.lower()}")
        if taken or (deleted is not None and self._restorable(deleted)):
            raise NameAlreadyExists(f"Channel name already existed, please use other name: {name}")

    def _restorable(self, deleted: Record) -> bool:
        """A channel deleted less than 30 days ago by the emulator's clock can still be restored, so it keeps its
        name and counts against its team's channel limits (docs/graph-contract.md#capacity-limits)."""
        return bool(
            deleted.get("_deleted", self.clock.now_ms()) > self.clock.now_ms() - DELETED_CHANNELS_COUNT_DAYS * DAY_MS
        )

    def _recently_deleted(self, team_id: str) -> list[Record]:
        return [d for d in self.store.values("deleted_channels") if d["_team"] == team_id and self._restorable(d)]

    def _check_channel_room(self, team_id: str, membership: str) -> None:
        """Channels per team (General, private and recently deleted ones included) and private channels per team,
        refused as Graph refuses the channel over the limit (docs/graph-contract.md#capacity-limits)."""
        counted = self._team_channels(team_id) + self._recently_deleted(team_id)
        if len(counted) >= self.capacity.channels_per_team:
            raise Forbidden("This team has exceeded the Max allowed channels")
        private = sum(c.get("membershipType") == "private" for c in counted)
        if membership == "private" and private >= self.capacity.private_channels_per_team:
            raise Forbidden("This team has exceeded the Max allowed private channels")

    def update_channel(self, team_id: str, channel_id: str, body: dict[str, Any]) -> None:
        """PATCH a channel's displayName or description; General keeps its name."""
        channel = self.channel(team_id, channel_id)
        fields: Record = {key: body[key] for key in ("displayName", "description") if key in body}
        if "displayName" in fields and fields["displayName"] != channel["displayName"]:
            if channel["_general"]:
                raise BadRequest("The General channel cannot be renamed.")
            self._check_name_free(team_id, self._checked_channel_name(fields["displayName"]))
        self.store.patch("conversations", channel_id, fields)

    def delete_channel(self, team_id: str, channel_id: str) -> None:
        """DELETE a channel and what was imported into it; its name stays taken in the team."""
        channel = self.channel(team_id, channel_id)
        if channel["_general"]:
            raise BadRequest("The General channel cannot be deleted.")
        self.store.put(
            "deleted_channels",
            f"{team_id}|{channel['displayName'].lower()}",
            {
                "_team": team_id,
                "membershipType": channel["membershipType"],
                "_deleted": self.clock.now_ms(),
            },
        )
        self._delete_conversation(channel_id)

    def channel(self, team_id: str, channel_id: str) -> Record:
        self.team(team_id)
        channel = self.store.get("conversations", channel_id)
        if channel is None or channel.get("_team") != team_id:
            raise NotFound(f"Channel '{channel_id}' was not found in team '{team_id}'.")
        return channel

    def list_channels(self, team_id: str) -> list[Record]:
        self.team(team_id)
        return [self.render_conversation(c) for c in self._team_channels(team_id)]

    def render_conversation(self, conv: Record) -> Record:
        shown = public(conv)
        shown["migrationMode"] = conv["_migration"]
        if conv["_kind"] == "chat":
            shown["members"] = [self._render_member(m) for m in conv["_members"]]
        return shown

    @staticmethod
    def _checked_channel_name(name: object) -> str:
        """`name` when Graph accepts it as a channel's displayName, else 400."""
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("displayName is required.")
        bad = sorted(CHANNEL_NAME_FORBIDDEN & set(name))
        if len(name) > 50 or bad or name[0] in "_." or name.endswith(".") or name.lower() == "general":
            raise BadRequest(
                f"Invalid channel displayName '{name}': at most 50 characters, none of ~ # % & * {{ }} + / \\ : < > ? "
                "| ' \", "
                "not starting with _ or ., not ending with ., and not 'General'."
            )
        return name

    def start_migration(self, conv: Record, body: dict[str, Any], app_id: str) -> None:
        """startMigration on a channel or chat (docs/graph-contract.md#migration-sessions): the timestamp may
        only move the conversation's creation into the past; without one, the session starts now."""
        if conv["_kind"] == "chat" and conv["chatType"] == "meeting":
            raise BadRequest("Meeting chats cannot be put into migration mode.")
        if conv["_migration"] == IN_PROGRESS:
            raise BadRequest("The conversation is already in migration mode.")
        if conv["_kind"] == "chat" and conv["_migration"] == COMPLETED and self.stuck_chat(conv["id"]):
            raise BadRequest(
                "Cannot start migration: a previous import session of this chat has not finished processing."
            )
        stamp = body.get("conversationCreationDateTime")
        if stamp is None:
            # Without the timestamp Graph takes the current time as the earliest a message may carry.
            self.store.patch("conversations", conv["id"], {"_floor": self.clock.now_ms()})
        else:
            created = self._parse_time(stamp, "conversationCreationDateTime")
            if created >= conv["_created"]:
                raise BadRequest(
                    "conversationCreationDateTime must be older than the conversation's current createdDateTime."
                )
            fields = {"_created": created, "createdDateTime": format_ms(created), "_floor": None}
            self.store.patch("conversations", conv["id"], fields)
        self.store.patch("conversations", conv["id"], {"_migration": IN_PROGRESS, "_ownerApp": app_id})

    def complete_migration(self, conv: Record, app_id: str) -> None:
        if conv["_migration"] != IN_PROGRESS:
            raise BadRequest("The channel or chat is not in migration mode.")
        self._require_owner(conv, app_id, completing=True)
        self.store.patch("conversations", conv["id"], {"_migration": COMPLETED})

    @staticmethod
    def _require_owner(resource: Record, app_id: str, completing: bool = False) -> None:
        """Only the app that opened an import session may import into it or complete it, in the words real tenants
        answer (*observed* msteams-docs 14151; docs/graph-contract.md#migration-sessions)."""
        if resource.get("_ownerApp") in (None, app_id):
            return
        if completing:
            raise Forbidden("Request Initiator does not match the import session intiator.")
        raise Forbidden(
            "InvalidRequestProperties-Only 1 application is allowed to operate within an import session. Please check "
            "the import operation initiator/ImportMetadata.ImportedBy."
        )

    # ------------------------------------------------------------------ chats
    def _new_chat_record(
        self, chat_id: str, chat_type: str, topic: str | None, members: list[str], created: int
    ) -> Record:
        chat = {
            "id": chat_id,
            "topic": topic,
            "chatType": chat_type,
            "createdDateTime": format_ms(created),
            "lastUpdatedDateTime": format_ms(created),
            "webUrl": f"https://teams.microsoft.com/l/chat/{chat_id}/0",
            "tenantId": self.directory.tenant_id,
            "_kind": "chat",
            "_created": created,
            "_migration": None,
            "_ownerApp": None,
            "_members": [{"userId": m, "roles": ["owner"]} for m in members],
        }
        return self.store.put("conversations", chat_id, chat)

    def create_chat(self, body: dict[str, Any]) -> tuple[int, Record]:
        chat_type = body.get("chatType")
        if chat_type not in ("oneOnOne", "group"):
            raise BadRequest("chatType must be oneOnOne or group.")
        members = [self._member_from_bind(entry)["userId"] for entry in body.get("members", [])]
        if chat_type == "oneOnOne":
            if len(set(members)) != 2:
                raise BadRequest("A oneOnOne chat needs exactly two distinct members.")
            chat_id = "19:" + "_".join(sorted(members)) + "@unq.gbl.spaces"
            existing = self.store.get("conversations", chat_id)
            if existing is not None:
                return 200, self.render_conversation(existing)
        else:
            if len(set(members)) < 2:
                raise BadRequest("A group chat needs at least two members.")
            self._check_chat_size(len(set(members)))
            chat_id = _thread_id("thread.v2")
        chat = self._new_chat_record(chat_id, chat_type, body.get("topic"), sorted(set(members)), self.clock.now_ms())
        return 201, self.render_conversation(chat)

    def _check_chat_size(self, people: int) -> None:
        """People in a group chat, and people added at once (docs/graph-contract.md#capacity-limits)."""
        if people > self.capacity.people_per_group_chat:
            raise BadRequest(f"A group chat can have at most {self.capacity.people_per_group_chat} members.")
        if people > self.capacity.chat_members_per_request:
            raise BadRequest(
                f"At most {self.capacity.chat_members_per_request} members can be added to a chat at a time."
            )

    def chat(self, chat_id: str) -> Record:
        chat = self.store.get("conversations", chat_id)
        if chat is None or chat["_kind"] != "chat":
            raise NotFound(f"Chat '{chat_id}' was not found.")
        return chat

    def user_chats(self, user_key: str) -> list[Record]:
        """GET /users/{id | userPrincipalName}/chats: Graph takes either key."""
        return [self.render_conversation(c) for c in self._chats_of(self.user(user_key)["id"])]

    def _chats_of(self, user_id: str) -> list[Record]:
        return [
            c
            for c in self.store.values("conversations")
            if c["_kind"] == "chat" and any(m["userId"] == user_id for m in c["_members"])
        ]

    # --------------------------------------------------------------- messages
    def import_message(self, conv: Record, body: dict[str, Any], app_id: str, reply_to: str | None = None) -> Record:
        """POST .../messages or .../replies in migration mode, with every createdDateTime rule."""
        if conv["_migration"] != IN_PROGRESS:
            raise Forbidden(
                "Messages can be imported only while the channel or chat is in migration mode "
                "(created in migration mode or reopened with startMigration, and not yet completed)."
            )
        self._require_owner(conv, app_id)
        unknown = sorted(set(body) - IMPORTABLE_FIELDS)
        if unknown:
            raise BadRequest(
                f"Invalid request: properties {unknown} do not exist on type 'microsoft.graph.chatMessage'."
            )
        content, content_type = self._check_body(body.get("body"))
        sender = self._check_from(body.get("from"))
        if self.reading.refuse_native_elements:
            native.refuse_all(body)
        root = None
        if reply_to is not None:
            root = self._message(conv, reply_to)
            if root.get("replyToId"):
                raise BadRequest("Replies can only be posted to a root message.")
        created = (
            self._parse_time(body["createdDateTime"], "createdDateTime")
            if "createdDateTime" in body
            else self.clock.now_ms()
        )
        if created > self.clock.now_ms():
            raise BadRequest("createdDateTime cannot be in the future.")
        if created <= conv["_created"]:
            raise BadRequest(
                f"createdDateTime {format_ms(created)} must be later than the {conv['_kind']}'s createdDateTime "
                f"{format_ms(conv['_created'])}."
            )
        if created <= (conv.get("_floor") or 0):
            raise BadRequest(
                f"createdDateTime {format_ms(created)} must be later than {format_ms(conv['_floor'])}, when this "
                "migration session started without a conversationCreationDateTime."
            )
        if root is not None and created < root["_created"]:
            raise BadRequest(f"A reply cannot be older than its thread root ({root['createdDateTime']}).")
        hosted = self._check_hosted(body.get("hostedContents") or [], content)
        attachments = self._check_attachments(body.get("attachments") or [], content)
        mentions = native.mentions(body.get("mentions") or [], content, self._known_identity)
        reactions = native.reactions(body.get("reactions") or [], created, self._known_identity)
        if created in self._used_ms.get(conv["id"], ()):
            raise Conflict(
                f"A message with createdDateTime {format_ms(created)} already exists in this {conv['_kind']}."
            )
        return self._store_message(
            conv,
            created,
            sender,
            {"contentType": content_type, "content": content},
            reply_to=reply_to,
            hosted=hosted,
            attachments=attachments,
            subject=body.get("subject"),
            summary=body.get("summary"),
            importance=body.get("importance", "normal"),
            mentions=mentions,
            reactions=reactions,
        )

    def _known_identity(self, user_id: str) -> Record | None:
        """The identity of a directory user, or None: mentions and reactions name only people of the tenant."""
        return self._identity(user_id) if user_id in self.directory.users else None

    def _store_message(
        self,
        conv: Record,
        created: int,
        sender: dict[str, Any],
        body: dict[str, Any],
        *,
        reply_to: str | None = None,
        hosted: Sequence[HostedImage] = (),
        attachments: list[dict[str, Any]] | None = None,
        subject: str | None = None,
        summary: str | None = None,
        importance: str = "normal",
        message_type: str = "message",
        message_id: str | None = None,
        event_detail: Record | None = None,
        reactions: list[Record] | None = None,
        mentions: list[Record] | None = None,
    ) -> Record:
        message_id = message_id or (str(uuid.uuid4().int % 10**19) if self.reading.opaque_message_ids else str(created))
        base = self._message_url(conv, message_id, reply_to)
        hosted_ids = []
        for image in hosted:
            hc_id = base64.urlsafe_b64encode(f"id={uuid.uuid4().hex},type=1".encode()).decode().rstrip("=")
            self.store.put(
                "hosted",
                f"{conv['id']}|{message_id}|{hc_id}",
                {"id": hc_id, "contentType": image.content_type, "contentBytes": image.content_bytes},
            )
            body["content"] = body["content"].replace(
                f"../hostedContents/{image.temp_id}/$value", f"{base}/hostedContents/{hc_id}/$value"
            )
            hosted_ids.append(hc_id)
        stamp = format_ms(created)
        message = {
            "id": message_id,
            "replyToId": reply_to,
            "etag": message_id,
            "messageType": message_type,
            "createdDateTime": _varying_precision(stamp) if self.reading.varying_time_precision else stamp,
            "lastModifiedDateTime": stamp,
            "lastEditedDateTime": None,
            "deletedDateTime": None,
            "subject": subject,
            "summary": summary,
            "chatId": conv["id"] if conv["_kind"] == "chat" else None,
            "importance": importance,
            "locale": "en-us",
            "webUrl": None,
            "policyViolation": None,
            "eventDetail": event_detail,
            "channelIdentity": {"teamId": conv["_team"], "channelId": conv["id"]}
            if conv["_kind"] == "channel"
            else None,
            "from": sender,
            "body": body,
            "attachments": attachments or [],
            "mentions": mentions or [],
            "reactions": reactions or [],
            "_conv": conv["id"],
            "_created": created,
            "_modified": created,
            "_hosted": hosted_ids,
        }
        self.store.put("messages", f"{conv['id']}|{message_id}", message)
        self._index_message(message)
        return message

    def _message_url(self, conv: Record, message_id: str, reply_to: str | None) -> str:
        if conv["_kind"] == "chat":
            return f"{GRAPH}/v1.0/chats/{conv['id']}/messages/{message_id}"
        root = f"{GRAPH}/v1.0/teams/{conv['_team']}/channels/{conv['id']}/messages"
        return f"{root}/{reply_to}/replies/{message_id}" if reply_to else f"{root}/{message_id}"

    def _check_body(self, body: object) -> tuple[str, str]:
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            raise BadRequest("body with a string content is required.")
        content_type = str(body.get("contentType", "text")).lower()
        if content_type not in ("html", "text"):
            raise BadRequest("body.contentType must be html or text.")
        if len(body["content"].encode("utf-8")) > self.capacity.message_bytes:
            raise PayloadTooLarge(f"The message body exceeds the maximum size of {self.capacity.message_bytes} bytes.")
        return body["content"], content_type

    def _check_from(self, sender: object) -> dict[str, Any]:
        user = sender.get("user") if isinstance(sender, dict) else None
        if not isinstance(user, dict) or not user.get("id"):
            raise BadRequest("from.user with an id is required for imported messages.")
        if user.get("userIdentityType", "aadUser") != "aadUser":
            raise BadRequest("from.user.userIdentityType must be aadUser.")
        known = self.directory.users.get(user["id"])
        if known is None:
            raise BadRequest(f"from.user.id '{user['id']}' is not a user of this tenant.")
        return {
            "application": None,
            "device": None,
            "user": {
                "id": known["id"],
                "displayName": user.get("displayName") or known["displayName"],
                "userIdentityType": "aadUser",
            },
        }

    def _check_hosted(self, items: list[Any], content: str) -> list[HostedImage]:
        """Inline images: the only media type in the import schema, each referenced from the body, each under the
        cap real tenants apply (docs/graph-contract.md#inline-images)."""
        referenced = set(HOSTED_REF.findall(content))
        seen: list[HostedImage] = []
        for index, item in enumerate(items):
            where = f"hostedContents[{index}]"
            temp_id = item.get("@microsoft.graph.temporaryId") if isinstance(item, dict) else None
            if not temp_id:
                raise BadRequest(f"{where}: @microsoft.graph.temporaryId is required.")
            content_type = str(item.get("contentType", ""))
            if not content_type.startswith("image/"):
                raise BadRequest(
                    f"{where}: only inline images can be imported (contentType image/*), not '{content_type}'."
                )
            data = _b64decode(item.get("contentBytes"), where)
            cap = self.reading.inline_image_max_bytes
            if len(data) > cap:
                refusal = {"400": BadRequest, "403": Forbidden, "413": PayloadTooLarge}[
                    self.reading.inline_image_refusal
                ]
                raise refusal(
                    f"{where}: the inline image ({len(data)} bytes) is larger than this tenant accepts ({cap} bytes); "
                    "upload it as a file and attach it instead."
                )
            if temp_id not in referenced:
                raise BadRequest(
                    f"{where}: temporaryId '{temp_id}' is not referenced from the body as "
                    f"../hostedContents/{temp_id}/$value."
                )
            seen.append(HostedImage(temp_id, content_type, item["contentBytes"]))
        missing = referenced - {image.temp_id for image in seen}
        if missing:
            raise BadRequest(f"The body references hostedContents that the request does not carry: {sorted(missing)}.")
        return seen

    def _check_attachments(self, items: list[Any], content: str) -> list[dict[str, Any]]:
        """Reference attachments to uploaded files, each matched by an <attachment id> tag in the body."""
        if len(items) > self.capacity.files_per_message:
            raise BadRequest(
                f"A message can carry at most {self.capacity.files_per_message} file attachments; "
                f"{len(items)} were given."
            )
        referenced = set(ATTACHMENT_REF.findall(content))
        known_urls = {item["webUrl"] for item in self.store.values("items") if "file" in item} if items else set()
        out = []
        for index, item in enumerate(items):
            where = f"attachments[{index}]"
            if not isinstance(item, dict) or not item.get("id"):
                raise BadRequest(f"{where}: id is required.")
            if item.get("contentType") != "reference":
                raise BadRequest(
                    f"{where}: only reference attachments (files uploaded to SharePoint or OneDrive) can be imported."
                )
            if item.get("contentUrl") not in known_urls:
                raise BadRequest(f"{where}: contentUrl does not point to an existing file: upload the file first.")
            if item["id"] not in referenced:
                raise BadRequest(f'{where}: the body has no <attachment id="{item["id"]}"></attachment> for it.')
            out.append(
                {
                    "id": item["id"],
                    "contentType": "reference",
                    "contentUrl": item["contentUrl"],
                    "content": None,
                    "name": item.get("name"),
                    "thumbnailUrl": None,
                    "teamsAppId": None,
                }
            )
        missing = referenced - {a["id"] for a in out}
        if missing:
            raise BadRequest(f"The body has <attachment> tags without a matching attachment: {sorted(missing)}.")
        return out

    def _message(self, conv: Record, message_id: str) -> Record:
        message = self._messages.get(conv["id"], {}).get(message_id)
        if message is None:
            raise NotFound(f"Message '{message_id}' was not found.")
        return message

    def get_message(self, conv: Record, message_id: str, reply_to: str | None = None) -> Record:
        message = self._message(conv, message_id)
        if message.get("replyToId") != reply_to:
            raise NotFound(f"Message '{message_id}' was not found.")
        return message

    def list_messages(self, conv: Record, reply_to: str | None = None) -> list[Record]:
        if reply_to is not None:
            self._message(conv, reply_to)
        found = [m for m in self._messages.get(conv["id"], {}).values() if m.get("replyToId") == reply_to]
        return sorted(found, key=lambda m: (m["_created"], m["id"]))

    def hosted_content(self, conv: Record, message_id: str, hc_id: str) -> Record:
        self._message(conv, message_id)
        hosted = self.store.get("hosted", f"{conv['id']}|{message_id}|{hc_id}")
        if hosted is None:
            raise NotFound(f"Hosted content '{hc_id}' was not found.")
        return hosted

    def hosted_contents(self, conv: Record, message_id: str) -> list[Record]:
        message = self._message(conv, message_id)
        return [
            {"id": hc, "contentType": self.hosted_content(conv, message_id, hc)["contentType"]}
            for hc in message["_hosted"]
        ]

    # ------------------------------------------------------------------ files
    def files_folder(self, team_id: str, channel_id: str) -> Record:
        channel = self.channel(team_id, channel_id)
        folder_id = f"folder-{channel_id}"
        folder = self.store.get("items", folder_id)
        if folder is None:
            drive_id = "b!" + hashlib.sha256(team_id.encode()).hexdigest()[:40]
            site = re.sub(r"[^A-Za-z0-9]", "", self.team(team_id)["displayName"]) or "team"
            folder = self.store.put(
                "items",
                folder_id,
                {
                    "id": folder_id,
                    "name": channel["displayName"],
                    "folder": {"childCount": 0},
                    "webUrl": f"https://{self.directory.domain.split('.')[0]}.sharepoint.com/sites/{site}/Shared%20Documents/{channel['displayName']}",
                    "createdDateTime": format_ms(self.clock.now_ms()),
                    "parentReference": {"driveId": drive_id, "driveType": "documentLibrary"},
                    "_team": team_id,
                },
            )
        return public(folder)

    def drive_item(self, drive_id: str, item_id: str) -> Record:
        item = self.store.get("items", item_id)
        if item is None or item["parentReference"]["driveId"] != drive_id:
            raise NotFound(f"Item '{item_id}' was not found in drive '{drive_id}'.")
        return item

    def delete_item(self, drive_id: str, item_id: str) -> None:
        """DELETE /drives/{d}/items/{i}: the file goes (to the recycle bin); links to it answer 404."""
        item = self.drive_item(drive_id, item_id)
        if "file" not in item:
            raise BadRequest("Only files can be deleted here.")
        self.store.delete("items", item_id)

    def shared_item(self, share_id: str) -> Record:
        """GET /shares/{u!base64url(url)}/driveItem (Graph reference `Accessing shared DriveItems`).

        A link into another tenant is refused (403, as Graph refuses an app another tenant never consented
        to); a link to a file that is gone is 404.
        """
        if not share_id.startswith("u!"):
            raise BadRequest("The share id must be 'u!' followed by the sharing URL in unpadded base64url.")
        try:
            url = base64.urlsafe_b64decode(share_id[2:] + "=" * (-len(share_id[2:]) % 4)).decode()
        except (binascii.Error, ValueError):
            raise BadRequest("The share id is not valid base64url.") from None
        tenant = self.directory.domain.split(".")[0]
        if urlsplit(url).netloc.lower() not in {f"{tenant}.sharepoint.com", f"{tenant}-my.sharepoint.com"}:
            raise Forbidden(f"accessDenied: the link points into another tenant ({urlsplit(url).netloc}).")
        item = next((i for i in self.store.values("items") if i.get("webUrl") == url and "file" in i), None)
        if item is None:
            raise NotFound("itemNotFound: the item the link points to does not exist (deleted or moved).")
        return item

    def children(self, drive_id: str, item_id: str) -> list[Record]:
        self.drive_item(drive_id, item_id)
        return [public(i) for i in self.store.values("items") if i.get("_parent") == item_id]

    def put_content(
        self, drive_id: str, parent_id: str, name: str, data: bytes, conflict: str = "replace"
    ) -> tuple[int, Record]:
        """PUT .../{parent}:/{name}:/content, the simple upload (small files only)."""
        if len(data) > limits.SIMPLE_UPLOAD_MAX_BYTES:
            raise PayloadTooLarge(
                f"Simple upload is limited to {limits.SIMPLE_UPLOAD_MAX_BYTES} bytes; use createUploadSession."
            )
        return self._write_file(drive_id, parent_id, name, data, conflict)

    def _write_file(self, drive_id: str, parent_id: str, name: str, data: bytes, conflict: str) -> tuple[int, Record]:
        parent = self.drive_item(drive_id, parent_id)
        self._check_file_name(name)
        existing = self._child(parent_id, name)
        if existing is not None and conflict == "fail":
            raise NameAlreadyExists(f"An item named '{name}' already exists.")
        if existing is not None and conflict == "rename":
            stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
            counter = 1
            taken = {i["name"].lower() for i in self.store.values("items") if i.get("_parent") == parent_id}
            while f"{stem} {counter}{dot}{ext}".lower() in taken:
                counter += 1
            name, existing = f"{stem} {counter}{dot}{ext}", None
        item_id = existing["id"] if existing else "01" + uuid.uuid4().hex.upper()[:32]
        now = format_ms(self.clock.now_ms())
        item = {
            "id": item_id,
            "name": name,
            "size": len(data),
            "webUrl": f"{parent['webUrl']}/{quote(name)}",
            "createdDateTime": existing["createdDateTime"] if existing else now,
            "lastModifiedDateTime": now,
            "file": {"mimeType": _mime(name), "hashes": {"sha256Hash": hashlib.sha256(data).hexdigest().upper()}},
            "parentReference": {**parent["parentReference"], "driveId": drive_id, "id": parent_id},
            "_team": parent.get("_team"),
            "_owner": parent.get("_owner"),
            "_parent": parent_id,
            "_permissions": existing.get("_permissions", []) if existing else [],
            "_content": base64.b64encode(data).decode(),
        }
        self.store.put("items", item_id, item)
        return (200 if existing else 201), public(item)

    def _child(self, parent_id: str, name: str) -> Record | None:
        """The item named `name` (case-insensitive, as SharePoint compares) in a folder."""
        lowered = name.lower()
        return next(
            (i for i in self.store.values("items") if i.get("_parent") == parent_id and i["name"].lower() == lowered),
            None,
        )

    def file_content(self, drive_id: str, item_id: str) -> bytes:
        item = self.drive_item(drive_id, item_id)
        if "_content" not in item:
            raise BadRequest("The item is a folder and has no content.")
        return base64.b64decode(item["_content"])

    def create_upload_session(self, drive_id: str, parent_id: str, name: str, body: dict[str, Any]) -> Record:
        self.drive_item(drive_id, parent_id)
        self._check_file_name(name)
        conflict = ((body or {}).get("item") or {}).get("@microsoft.graph.conflictBehavior", "replace")
        session_id = uuid.uuid4().hex
        expires = self.clock.now_ms() + DAY_MS
        self.store.put(
            "sessions",
            session_id,
            {
                "id": session_id,
                "_drive": drive_id,
                "_parent": parent_id,
                "_name": name,
                "_conflict": conflict,
                "_received": "",
                "_expires": expires,
            },
        )
        return {
            "uploadUrl": f"{GRAPH}/_upload/{session_id}",
            "expirationDateTime": format_ms(expires),
            "nextExpectedRanges": ["0-"],
        }

    def upload_fragment(self, session_id: str, content_range: str | None, data: bytes) -> tuple[int, Record]:
        """PUT to an uploadUrl: fragments in order, each with its Content-Range."""
        session = self.store.get("sessions", session_id)
        if session is None or session["_expires"] < self.clock.now_ms():
            raise NotFound("The upload session was not found or has expired.")
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", (content_range or "").strip())
        if not match:
            raise BadRequest("Content-Range 'bytes start-end/total' is required.")
        start, end, total = map(int, match.groups())
        received = base64.b64decode(session["_received"])
        if start != len(received) or end - start + 1 != len(data) or end >= total:
            raise RangeNotSatisfiable(f"The fragment must start at byte {len(received)} and match its Content-Range.")
        if len(data) > 60 * 1024 * 1024:
            raise PayloadTooLarge("A fragment must be smaller than 60 MiB.")
        received += data
        if len(received) < total:
            self.store.patch("sessions", session_id, {"_received": base64.b64encode(received).decode()})
            return 202, {
                "expirationDateTime": format_ms(session["_expires"]),
                "nextExpectedRanges": [f"{len(received)}-"],
            }
        self.store.delete("sessions", session_id)
        return self._write_file(session["_drive"], session["_parent"], session["_name"], received, session["_conflict"])

    # ----------------------------------------------------------------- drives
    def has_drive(self, user: Mapping[str, Any]) -> bool:
        """Whether the user's OneDrive exists: not when the directory says `"drive": false`, nor for the configured
        share of users (chosen by a hash of the id, so the same users lack one on every run)."""
        point = int(hashlib.sha256(str(user["id"]).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return bool(user.get("drive", True)) and point >= self.users_without_drive

    def user_drive(self, user_key: str) -> Record:
        """GET /users/{id}/drive: the user's OneDrive, or 404 when it was never provisioned
        (docs/graph-contract.md#chat-files)."""
        user = self._directory_user(user_key)
        if not self.has_drive(user):
            raise DriveNotFound("User's mysite not found.")
        drive_id = "b!" + hashlib.sha256(f"drive|{user['id']}".encode()).hexdigest()[:40]
        return {
            "id": drive_id,
            "driveType": "business",
            "name": "OneDrive",
            "owner": {"user": {"id": user["id"], "displayName": user.get("displayName")}},
            "webUrl": self._personal_url(user),
        }

    def _personal_url(self, user: Mapping[str, Any]) -> str:
        site = re.sub(r"[^a-z0-9]", "_", str(user["userPrincipalName"]).lower())
        return f"https://{self.directory.domain.split('.')[0]}-my.sharepoint.com/personal/{site}/Documents"

    def _drive_root(self, user_key: str) -> Record:
        """The drive's root folder, made when first used."""
        drive = self.user_drive(user_key)
        root_id = "01ROOT" + drive["id"][2:28].upper()
        root = self.store.get("items", root_id)
        if root is None:
            root = self.store.put(
                "items",
                root_id,
                {
                    "id": root_id,
                    "name": "root",
                    "folder": {"childCount": 0},
                    "root": {},
                    "webUrl": drive["webUrl"],
                    "createdDateTime": format_ms(self.clock.now_ms()),
                    "parentReference": {"driveId": drive["id"], "driveType": "business"},
                    "_owner": drive["owner"]["user"]["id"],
                },
            )
        return root

    def drive_path(self, user_key: str, path: str, create: bool) -> Record:
        """The item at `path` below the user's drive root; missing folders are created when `create` (an upload
        by path makes its folders, Graph reference `Upload small files`), else 404."""
        item = self._drive_root(user_key)
        for name in [part for part in path.split("/") if part]:
            child = self._child(item["id"], name)
            if child is None and not create:
                raise NotFound(f"itemNotFound: '{path}' does not exist in the drive.")
            item = child if child is not None else self._new_folder(item, name)
        return item

    def _new_folder(self, parent: Record, name: str) -> Record:
        self._check_file_name(name)
        folder_id = "01" + uuid.uuid4().hex.upper()[:32]
        return self.store.put(
            "items",
            folder_id,
            {
                "id": folder_id,
                "name": name,
                "folder": {"childCount": 0},
                "webUrl": f"{parent['webUrl']}/{quote(name)}",
                "createdDateTime": format_ms(self.clock.now_ms()),
                "parentReference": {**parent["parentReference"], "id": parent["id"]},
                "_owner": parent.get("_owner"),
                "_parent": parent["id"],
            },
        )

    def split_drive_path(self, user_key: str, path: str) -> tuple[str, str, str]:
        """(drive id, parent folder id, file name) of an upload to `path`, its folders created."""
        folders, _, name = path.strip("/").rpartition("/")
        parent = self.drive_path(user_key, folders, create=True)
        return parent["parentReference"]["driveId"], parent["id"], name

    def invite(self, drive_id: str, item_id: str, body: dict[str, Any]) -> list[Record]:
        """POST …/items/{id}/invite (Graph reference `Send a sharing invitation`): one permission per recipient;
        inviting someone who already holds one returns it (roles joined), so a repeated grant adds nobody."""
        item = self.drive_item(drive_id, item_id)
        recipients, roles = body.get("recipients"), body.get("roles")
        if not isinstance(recipients, list) or not recipients:
            raise InvalidRequest("recipients must be a non-empty list.")
        if not isinstance(roles, list) or not roles or not set(roles) <= SHARE_ROLES:
            raise InvalidRequest(f"roles must be a non-empty list of {sorted(SHARE_ROLES)}.")
        for flag in ("requireSignIn", "sendInvitation"):
            if not isinstance(body.get(flag, False), bool):
                raise InvalidRequest(f"{flag} must be true or false.")
        users = [self._recipient(entry, index) for index, entry in enumerate(recipients)]
        permissions = {p["grantedToV2"]["user"]["id"]: p for p in item.get("_permissions", [])}
        for user in users:
            held = permissions.get(user["id"])
            joined = sorted(set(held["roles"] if held else []) | set(roles))
            permissions[user["id"]] = {
                "id": held["id"] if held else uuid.uuid4().hex,
                "roles": joined,
                "grantedToV2": {
                    "user": {"id": user["id"], "displayName": user.get("displayName"), "email": user.get("mail")}
                },
                "invitation": {"signInRequired": bool(body.get("requireSignIn", False)), "email": user.get("mail")},
            }
        self.store.patch("items", item_id, {"_permissions": list(permissions.values())})
        return [permissions[user["id"]] for user in users]

    def _recipient(self, entry: object, index: int) -> Mapping[str, Any]:
        key = (entry.get("objectId") or entry.get("email")) if isinstance(entry, dict) else None
        user = self.directory.find_user(str(key)) if key else None
        if user is None and isinstance(entry, dict) and entry.get("email"):
            lowered = str(entry["email"]).lower()
            user = next((u for u in self.directory.users.values() if (u.get("mail") or "").lower() == lowered), None)
        if user is None:
            raise InvalidRequest(f"recipients[{index}]: no user of this tenant with that objectId or email.")
        return user

    def permissions(self, drive_id: str, item_id: str) -> list[Record]:
        """GET …/items/{id}/permissions: the owner's, then every invitation's."""
        item = self.drive_item(drive_id, item_id)
        granted = list(item.get("_permissions", []))
        if not item.get("_owner"):
            return granted
        return [{"id": "owner", "roles": ["owner"], "grantedToV2": {"user": {"id": item["_owner"]}}}, *granted]

    @staticmethod
    def _check_file_name(name: str) -> None:
        if not name or name != name.strip() or FILE_NAME_FORBIDDEN & set(name) or name.endswith("."):
            raise InvalidRequest(
                f"Invalid file name '{name}': no leading/trailing spaces, no \" * : < > ? / \\ |, not ending with '.'."
            )

    # ---------------------------------------------------------------- members
    def _member_from_bind(self, entry: object) -> Member:
        if not isinstance(entry, dict) or entry.get("@odata.type") != "#microsoft.graph.aadUserConversationMember":
            raise BadRequest("Members must be #microsoft.graph.aadUserConversationMember.")
        match = USER_BIND.search(str(entry.get("user@odata.bind", "")))
        if not match:
            raise BadRequest("user@odata.bind must reference users('{id}').")
        user = self.directory.find_user(match.group(1) or match.group(2))
        if user is None:
            raise NotFound(f"User '{match.group(1) or match.group(2)}' was not found.")
        roles = entry.get("roles", [])
        if not isinstance(roles, list) or set(roles) - {"owner", "guest"}:
            raise BadRequest("roles must be [] or ['owner'].")
        return {"userId": user["id"], "roles": roles}

    def add_member(self, team_id: str, body: dict[str, Any]) -> None:
        """POST /teams/{t}/members: only after the team's completeMigration (docs/graph-contract.md#members)."""
        self._open_for_members(team_id)
        member = self._member_from_bind(body)
        key = f"{team_id}|{member['userId']}"
        if self.store.get("members", key) is not None:
            raise Conflict(f"User '{member['userId']}' is already a member of the team.")
        self._check_team_room(team_id, "owner" in member["roles"])
        self._store_member(team_id, member)

    def add_members(self, team_id: str, body: dict[str, Any]) -> tuple[int, list[Record]]:
        """POST /teams/{t}/members/add: up to 200 members, one result each; 200 when all were added, 207 when some
        were not (docs/graph-contract.md#members). Someone already a member counts as added."""
        self._open_for_members(team_id)
        values = body.get("values")
        if not isinstance(values, list) or not 1 <= len(values) <= MAX_MEMBERS_ADD:
            raise BadRequest(f"values must list 1 to {MAX_MEMBERS_ADD} conversationMember objects.")
        results = [self._add_one(team_id, entry) for entry in values]
        return (207 if any(r["error"] for r in results) else 200), results

    def _add_one(self, team_id: str, entry: object) -> Record:
        """One member of a bulk add, as an aadUserConversationMemberResult."""
        bind = dict(entry) if isinstance(entry, dict) else {}
        if bind.get("@odata.type") == "microsoft.graph.aadUserConversationMember":  # the page's examples omit '#'
            bind["@odata.type"] = "#microsoft.graph.aadUserConversationMember"
        match = USER_BIND.search(str(bind.get("user@odata.bind", "")))
        user_id = (match.group(1) or match.group(2)) if match else None
        try:
            member = self._member_from_bind(bind)
        except (BadRequest, NotFound) as refusal:
            return _member_result(user_id, refusal.code, refusal.message)
        refused = self.member_refusal(team_id, bind)
        if refused:
            return _member_result(member["userId"], *refused)
        if self.store.get("members", f"{team_id}|{member['userId']}") is None:
            try:
                self._check_team_room(team_id, "owner" in member["roles"])
            except BadRequest as refusal:
                return _member_result(member["userId"], refusal.code, refusal.message)
            self._store_member(team_id, member)
        return _member_result(member["userId"], None, None)

    def _open_for_members(self, team_id: str) -> None:
        if self.team(team_id)["_migration"] == IN_PROGRESS:
            raise BadRequest("Members can be added only after the team's completeMigration succeeded.")

    def _store_member(self, team_id: str, member: Member) -> None:
        self.store.put("members", f"{team_id}|{member['userId']}", {**member, "_team": team_id, "_added": time.time()})

    def _visible_member(self, team_id: str, user_id: str) -> bool:
        """A team member as private-channel creation sees it: only once the membership lag has passed."""
        member = self.store.get("members", f"{team_id}|{user_id}")
        return member is not None and time.time() >= member.get("_added", 0.0) + self.membership_lag

    def _check_team_room(self, team_id: str, owner: bool) -> None:
        """Members and owners per team (docs/graph-contract.md#capacity-limits)."""
        members = [m for m in self.store.values("members") if m["_team"] == team_id]
        if len(members) >= self.capacity.members_per_team:
            raise BadRequest(f"A team can have at most {self.capacity.members_per_team} members.")
        if owner and sum("owner" in m["roles"] for m in members) >= self.capacity.owners_per_team:
            raise BadRequest(f"A team can have at most {self.capacity.owners_per_team} owners.")

    def list_members(self, team_id: str) -> list[Record]:
        self.team(team_id)
        return [self._render_member(m) for m in self.store.values("members") if m["_team"] == team_id]

    def _render_member(self, member: Mapping[str, Any]) -> Record:
        """A stored member (a `Member`, with its `_team` in a team's list) as Graph lists it."""
        user = self.directory.users.get(member["userId"], {})
        return {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "id": member["userId"],
            "roles": member["roles"],
            "displayName": user.get("displayName"),
            "userId": member["userId"],
            "email": user.get("mail"),
            "tenantId": self.directory.tenant_id,
        }

    # ------------------------------------------------------------------ users
    def user(self, key: str) -> Record:
        return {k: v for k, v in self._directory_user(key).items() if k not in {"licensed", "drive"}}

    def _directory_user(self, key: str) -> dict[str, Any]:
        """The directory's entry for `key`, or Graph's 404 for an unknown user."""
        user = self.directory.find_user(key)
        if user is None:
            raise UserNotFound(
                f"Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            )
        return user

    def users(self, filter_text: str | None) -> list[Record]:
        users = [self.user(uid) for uid in self.directory.users]
        if not filter_text:
            return users
        listed = re.fullmatch(r"\s*id\s+in\s*\((.*)\)\s*", filter_text)
        if listed:
            return self._users_in(users, listed.group(1))
        match = re.fullmatch(r"\s*(mail|userPrincipalName|displayName)\s+eq\s+'((?:[^']|'')*)'\s*", filter_text)
        if not match:
            raise BadRequest(f"Unsupported filter for /users: {filter_text}")
        prop, value = match.group(1), match.group(2).replace("''", "'").lower()
        return [u for u in users if (u.get(prop) or "").lower() == value]

    @staticmethod
    def _users_in(users: list[Record], values: str) -> list[Record]:
        """`id in ('a','b',…)`: at most 15 values, as Graph allows by default (graph-contract.md#directory-look-ups)."""
        ids = re.findall(r"'((?:[^']|'')*)'", values)
        if not ids or len(ids) != values.count(",") + 1:
            raise BadRequest(f"Invalid filter clause: id in ({values})")
        if len(ids) > limits.USERS_IN_FILTER_MAX:
            raise BadRequest(
                f"Too many values in the 'in' operator: {len(ids)}; the maximum is {limits.USERS_IN_FILTER_MAX}."
            )
        wanted = {value.replace("''", "'").lower() for value in ids}
        return [u for u in users if str(u["id"]).lower() in wanted]

    # ----------------------------------------------------------------- export
    def export_scope_team(self, team_id: str, model: str | None) -> list[str]:
        team = self.team(team_id)
        self._bill(
            model,
            self.directory.licensed,
            f"The tenant needs a valid license to access this API (team '{team['displayName']}').",
        )
        return sorted(c["id"] for c in self._team_channels(team_id))

    def export_scope_user(self, user_key: str, model: str | None) -> list[str]:
        user = self.directory.find_user(user_key)
        if user is None:
            raise UserNotFound(f"Resource '{user_key}' does not exist.")
        self._bill(model, user["licensed"], f"User '{user['id']}' needs a valid license to access this API.")
        return sorted(c["id"] for c in self._chats_of(user["id"]))

    def _bill(self, model: str | None, licensed: bool, licence_message: str) -> None:
        """Seed 004: model A needs a licence, evaluation mode (no model) has a monthly capacity."""
        if model not in (None, "A", "B"):
            raise BadRequest(f"Invalid value '{model}' for the model query parameter; use A or B.")
        if model == "A" and not licensed:
            raise PaymentRequired(f"...{licence_message}...")
        if model is None and self._evaluation_used() >= self.evaluation_capacity:
            raise PaymentRequired("...evaluation mode capacity has been exceeded. Use a valid billing model...")

    def _evaluation_key(self) -> str:
        return time.strftime("%Y-%m", time.gmtime(self.clock.now_ms() / 1000))

    def _evaluation_used(self) -> int:
        record = self.store.get("meta", "evaluation") or {}
        return record.get("used", 0) if record.get("month") == self._evaluation_key() else 0

    def export_page(
        self, conv_ids: list[str], filter_text: str | None, top: int | None, skiptoken: str | None, model: str | None
    ) -> tuple[list[Record], str | None]:
        """One page of getAllMessages: (messages, skiptoken of the next page or None)."""
        if top is not None and not 1 <= top <= limits.EXPORT_MAX_TOP:
            raise BadRequest(f"$top must be between 1 and {limits.EXPORT_MAX_TOP}.")
        predicate = odata.compile_filter(filter_text)
        after = odata.decode_skiptoken(skiptoken) if skiptoken else None
        retention = self.clock.now_ms() - limits.DELETED_RETENTION_DAYS * DAY_MS
        page: list[Record] = []
        size = top or 20
        next_token = None
        for message in self._export_sorted(conv_ids):
            if after is not None and _export_key(message) <= after:
                continue
            if message.get("_deleted", retention) < retention:
                continue  # deleted messages stay exportable for 30 days only
            if predicate(message):
                if len(page) == size:
                    next_token = odata.encode_skiptoken(_export_key(page[-1]))
                    break
                page.append(message)
        if model is None and page:
            self._count_evaluation(len(page))
        return page, next_token

    def _count_evaluation(self, count: int) -> None:
        self.store.put("meta", "evaluation", {"month": self._evaluation_key(), "used": self._evaluation_used() + count})

    def _export_sorted(self, conv_ids: list[str]) -> list[Record]:
        """All messages of the scope ordered by (lastModified, conversation, id); cached until one changes."""
        versions = tuple(self._versions.get(c, 0) for c in conv_ids)
        cache_key = tuple(conv_ids)
        cached = self._export_cache.get(cache_key)
        if cached and cached[0] == versions:
            return cached[1]
        merged = [m for c in conv_ids for m in self._messages.get(c, {}).values()]
        merged.sort(key=_export_key)
        if len(self._export_cache) > 256:
            self._export_cache.clear()
        self._export_cache[cache_key] = (versions, merged)
        return merged

    # --------------------------------------------------------------- operator
    def mutate(self, op: dict[str, Any]) -> Record:
        """Operator-only corruption for tests of verify: delete, duplicate or edit a stored message, move a reply
        under another root (`to`: a root of the same channel), as a migration that mis-threads it would leave it, or
        replace the bytes of its first inline image (`image`, with base64 `contentBytes`)."""
        conv = self.store.get("conversations", str(op.get("conversation")))
        if conv is None:
            raise NotFound("conversation not found")
        now = self.clock.now_ms()
        if op.get("op") == "event":
            return public(self._system_event(conv, op.get("eventDetail"), now))
        message = self._message(conv, str(op.get("message")))
        if op.get("op") == "delete":
            fields = {
                "deletedDateTime": format_ms(now),
                "_deleted": now,
                "_modified": now,
                "lastModifiedDateTime": format_ms(now),
            }
        elif op.get("op") == "edit":
            body = dict(message["body"], content=str(op.get("content", "")))
            fields = {
                "body": body,
                "lastEditedDateTime": format_ms(now),
                "_modified": now,
                "lastModifiedDateTime": format_ms(now),
            }
        elif op.get("op") == "react":
            reaction = self._reaction(op, now)
            fields = {
                "reactions": [*message["reactions"], reaction],
                "_modified": now,
                "lastModifiedDateTime": format_ms(now),
            }
        elif op.get("op") == "move":
            root = self._message(conv, str(op.get("to")))
            if not message.get("replyToId") or root.get("replyToId"):
                raise BadRequest("move takes a reply (message) and a root of the same channel (to)")
            fields = {"replyToId": root["id"], "_modified": now, "lastModifiedDateTime": format_ms(now)}
        elif op.get("op") == "image":
            if not message["_hosted"]:
                raise BadRequest("image takes a message with an inline image")
            key = f"{conv['id']}|{message['id']}|{message['_hosted'][0]}"
            self.store.patch("hosted", key, {"contentBytes": str(op.get("contentBytes", ""))})
            fields = {"_modified": now, "lastModifiedDateTime": format_ms(now)}
        elif op.get("op") == "duplicate":
            copy = self._store_message(
                conv,
                message["_created"],
                message["from"],
                dict(message["body"]),
                reply_to=message.get("replyToId"),
                attachments=message["attachments"],
                message_id=f"{message['id']}{uuid.uuid4().int % 1000:03d}",
            )
            return public(copy)
        else:
            raise BadRequest("op must be delete, edit, react, event, duplicate, move or image")
        self.store.patch("messages", f"{conv['id']}|{message['id']}", fields)
        self._versions[conv["id"]] = self._versions.get(conv["id"], 0) + 1
        return public(message)

    def _system_event(self, conv: Record, detail: object, now: int) -> Record:
        """A system event (members added, renamed, call ended…) as Teams itself posts one: no sender, an
        empty `<systemEventMessage/>` body and what happened in `eventDetail` (seed 004)."""
        if not isinstance(detail, dict):
            raise BadRequest("eventDetail must be an object.")
        kind = detail.get("@odata.type")
        if not isinstance(kind, str) or not re.fullmatch(r"#microsoft\.graph\.\w+EventMessageDetail", kind):
            raise BadRequest(
                "eventDetail needs an @odata.type such as #microsoft.graph.membersAddedEventMessageDetail."
            )
        while now in self._used_ms.get(conv["id"], ()):
            now += 1
        return self._store_message(
            conv,
            now,
            {"application": None, "device": None, "user": None},
            {"contentType": "html", "content": "<systemEventMessage/>"},
            message_type="systemEventMessage",
            event_detail=dict(detail),
        )

    def dump(self) -> Record:
        """Every team, channel, message, reply, hosted content, file and member, for tests and operators."""

        def messages(conv: Record) -> list[Record]:
            out = []
            for root in self.list_messages(conv):
                entry = self._dump_message(conv, root)
                entry["replies"] = [self._dump_message(conv, r) for r in self.list_messages(conv, root["id"])]
                out.append(entry)
            return out

        teams = []
        for team in sorted(self.store.values("teams"), key=lambda t: t["_created"]):
            channels = [
                dict(
                    self.render_conversation(c),
                    messages=messages(c),
                    members=[self._render_member(m) for m in c["_members"]],
                )
                for c in sorted(self._team_channels(team["id"]), key=lambda c: c["_created"])
            ]
            teams.append(
                dict(
                    public(team),
                    migrationMode=team["_migration"],
                    channels=channels,
                    members=self.list_members(team["id"]) if time.time() >= team["_readyAt"] else [],
                )
            )
        chats = [
            dict(self.render_conversation(c), messages=messages(c))
            for c in self.store.values("conversations")
            if c["_kind"] == "chat"
        ]
        files = [
            dict(public(i), sha256=hashlib.sha256(base64.b64decode(i["_content"])).hexdigest())
            for i in self.store.values("items")
            if "_content" in i
        ]
        return {"teams": teams, "chats": chats, "files": files}

    def _dump_message(self, conv: Record, message: Record) -> Record:
        entry = public(message)
        entry["hostedContents"] = []
        for hc_id in message["_hosted"]:
            hosted = self.hosted_content(conv, message["id"], hc_id)
            data = base64.b64decode(hosted["contentBytes"])
            entry["hostedContents"].append(
                {
                    "id": hc_id,
                    "contentType": hosted["contentType"],
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
        return entry

    # ---------------------------------------------------------------- helpers
    def _backdated(self, body: dict[str, Any], mode: object, mode_name: str) -> int | None:
        """Contract: a createdDateTime needs the migration creation mode and must not be in the future."""
        if mode is not None and mode != MIGRATION:
            raise BadRequest(f"Invalid value '{mode}' for @microsoft.graph.{mode_name}; the only value is 'migration'.")
        if "createdDateTime" not in body:
            return None
        if mode != MIGRATION:
            raise BadRequest(f"createdDateTime can only be set with @microsoft.graph.{mode_name} 'migration'.")
        created = self._parse_time(body["createdDateTime"], "createdDateTime")
        if created > self.clock.now_ms():
            raise BadRequest("createdDateTime cannot be in the future.")
        return created

    @staticmethod
    def _parse_time(value: Any, name: str) -> int:
        try:
            return parse_ms(value)
        except ValueError:
            raise BadRequest(f"{name} '{value}' is not a valid DateTimeOffset.") from None

    def _delete_conversation(self, conv_id: str) -> None:
        for message_id in list(self._messages.get(conv_id, {})):
            message = self._messages[conv_id][message_id]
            for hc_id in message["_hosted"]:
                self.store.delete("hosted", f"{conv_id}|{message_id}|{hc_id}")
            self.store.delete("messages", f"{conv_id}|{message_id}")
        self._messages.pop(conv_id, None)
        self._used_ms.pop(conv_id, None)
        self._versions[conv_id] = self._versions.get(conv_id, 0) + 1
        self.store.delete("conversations", conv_id)
        self.store.delete("items", f"folder-{conv_id}")


def _member_result(user_id: str | None, code: str | None, message: str | None) -> Record:
    return {
        "@odata.type": "#microsoft.graph.aadUserConversationMemberResult",
        "userId": user_id,
        "error": {"code": code, "message": message} if code else None,
    }


def _varying_precision(stamp: str) -> str:
    """`…SS.fffZ` as Graph answers it (docs/graph-contract.md#observed-behaviour): trailing zeros of the fraction
    dropped (`.580` as `.58`, `.000` as no fraction), else seven digits; the same instant either way."""
    seconds, fraction = stamp[:19], stamp[20:23]
    if fraction.endswith("0"):
        trimmed = fraction.rstrip("0")
        return f"{seconds}.{trimmed}Z" if trimmed else f"{seconds}Z"
    return f"{seconds}.{fraction}0000Z"


def _export_key(message: Record) -> odata.ExportKey:
    return message["_modified"], message["_conv"], message["id"]


def _mime(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
