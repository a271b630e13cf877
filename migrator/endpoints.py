"""Graph's endpoints this project calls or emulates, and the application permissions each accepts.

One table, two readers that never import each other: the emulator (`emulator/routes.py`) serves each endpoint and
refuses a token that holds none of its permissions, and preflight (`permissions.py`) tells before cutover which of
a stage's calls a token's roles would be refused. Paths are regular expressions without the `/v1.0` or `/beta`
prefix; their named groups are the ids a route reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

ID = r"[^/]+"
TEAM = rf"/teams/(?P<team>{ID})"
CHANNEL = rf"{TEAM}/channels/(?P<channel>(?!getAllMessages$|allMessages$){ID})"
CHAT = rf"/chats/(?P<chat>(?!getAllMessages$){ID})"
ITEM_PATH = rf"/drives/(?P<drive>{ID})/items/(?P<parent>{ID}):/(?P<name>[^/]+):"
USER_DRIVE = rf"/users/(?P<user>{ID})/drive"
DRIVE_PATH = rf"{USER_DRIVE}/root:/(?P<path>[^:]+):?"
ITEM = rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})"

EXPORT_FUNCTION = r"(?P<function>getAllMessages|allMessages)"
MESSAGES = rf"(?:{CHANNEL}|{CHAT})/messages"
MESSAGE = rf"{MESSAGES}/(?P<message>{ID})"
CHANNEL_MESSAGES, CHAT_MESSAGES = rf"{CHANNEL}/messages", rf"{CHAT}/messages"
MESSAGE_ID = rf"/(?P<message>{ID})"
REPLY_ID = rf"{MESSAGE_ID}/replies/(?P<reply>{ID})"
HOSTED_SUFFIX = rf"{MESSAGE_ID}(?:/replies/(?P<reply>{ID}))?/hostedContents"
SHARED = rf"/shares/(?P<share>{ID})/driveItem"

# Application permissions per endpoint, as the Graph reference's permission tables list them (least privileged
# first there; any one suffices). docs/permissions.md lists every route with its set, and a test holds the two
# together; docs/graph-contract.md#permissions-per-endpoint names the page each comes from. Resource-specific
# consent (`*.Group`, `*.Chat`) is granted per team or chat, never in an application's tenant-wide token, so it is
# left out. Where the page was not stored ("assumed" in the contract), the set is the least privileged one it names.
MIGRATE = frozenset({"Teamwork.Migrate.All"})
CREATE_TEAM = frozenset({"Team.Create", "Teamwork.Migrate.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
READ_TEAM = frozenset(
    {
        "Team.ReadBasic.All",
        "TeamSettings.Read.All",
        "TeamSettings.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
READ_GROUPS = frozenset(
    {
        "Group-NestingSupport.ReadWrite.All",
        "GroupMember.Read.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Group.ManageProtection.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
DELETE_GROUP = frozenset({"Group.ReadWrite.All"})
READ_CHANNELS = frozenset(
    {
        "Channel.ReadBasic.All",
        "ChannelSettings.Read.All",
        "ChannelSettings.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    }
)
PRIMARY_CHANNEL = frozenset({"Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All"})
CREATE_CHANNEL = frozenset({"Channel.Create", "Teamwork.Migrate.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
CHANNEL_WRITE = frozenset({"ChannelSettings.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
CHANNEL_DELETE = frozenset({"Channel.Delete.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"})
CHANNEL_MEMBERS_READ = frozenset({"ChannelMember.Read.All", "ChannelMember.ReadWrite.All"})
CHANNEL_MEMBERS_WRITE = frozenset({"ChannelMember.ReadWrite.All"})
FILES_FOLDER = frozenset({"Files.Read.All", "Files.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All"})
READ_CHANNEL_MESSAGES = frozenset({"ChannelMessage.Read.All"})
READ_CHANNEL_MESSAGE = frozenset({"ChannelMessage.Read.All", "Group.Read.All", "Group.ReadWrite.All"})  # one, by id
READ_CHAT_MESSAGES = frozenset({"Chat.Read.All", "Chat.ReadWrite.All"})
CREATE_CHAT = frozenset({"Chat.Create"})
READ_CHAT = frozenset({"Chat.ReadBasic.WhereInstalled", "Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"})
LIST_CHATS = frozenset({"Chat.ReadBasic.All", "Chat.Read.All", "Chat.ReadWrite.All"})
MEMBERS_WRITE = frozenset({"TeamMember.ReadWrite.All"})
MEMBERS_READ = frozenset({"TeamMember.Read.All", "TeamMember.ReadWrite.All"})
USERS = frozenset({"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
READ_FILES = frozenset(
    {
        "Files.Read.All",
        "Files.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Sites.Read.All",
        "Sites.ReadWrite.All",
    }
)
WRITE_FILES = frozenset({"Files.ReadWrite.All", "Sites.ReadWrite.All"})
UPLOAD_SESSION = frozenset({"Sites.ReadWrite.All"})
READ_DRIVE = frozenset(
    {"Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All"}
)  # a drive, sharing
EXPORT_TEAM = frozenset({"ChannelMessage.Read.All"})
EXPORT_CHATS = frozenset({"Chat.Read.All", "Chat.ReadWrite.All"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    pattern: str  # a regular expression over the path, without the version
    roles: frozenset[str]  # any one of these application permissions

    @cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(f"^{self.pattern}$")


ENDPOINTS = (
    Endpoint("POST", "/teams", CREATE_TEAM),
    Endpoint("GET", rf"{TEAM}/operations/(?P<op>{ID})", READ_TEAM),
    Endpoint("GET", TEAM, READ_TEAM),
    Endpoint("POST", rf"{TEAM}/completeMigration", MIGRATE),
    Endpoint("GET", "/groups", READ_GROUPS),
    Endpoint("DELETE", rf"/groups/(?P<group>{ID})", DELETE_GROUP),
    Endpoint("POST", rf"{TEAM}/members", MEMBERS_WRITE),
    Endpoint("POST", rf"{TEAM}/members/add", MEMBERS_WRITE),
    Endpoint("GET", rf"{TEAM}/members", MEMBERS_READ),
    Endpoint("GET", rf"{TEAM}/channels/{EXPORT_FUNCTION}", EXPORT_TEAM),
    Endpoint("GET", rf"/users/(?P<user>{ID})/chats/{EXPORT_FUNCTION}", EXPORT_CHATS),
    Endpoint("GET", rf"{TEAM}/channels", READ_CHANNELS),
    Endpoint("GET", rf"{TEAM}/primaryChannel", PRIMARY_CHANNEL),
    Endpoint("POST", rf"{TEAM}/channels", CREATE_CHANNEL),
    Endpoint("GET", CHANNEL, READ_CHANNELS),
    Endpoint("PATCH", CHANNEL, CHANNEL_WRITE),
    Endpoint("DELETE", CHANNEL, CHANNEL_DELETE),
    Endpoint("GET", rf"{CHANNEL}/members", CHANNEL_MEMBERS_READ),
    Endpoint("POST", rf"{CHANNEL}/members", CHANNEL_MEMBERS_WRITE),
    Endpoint("POST", rf"{CHANNEL}/startMigration", MIGRATE),
    Endpoint("POST", rf"{CHANNEL}/completeMigration", MIGRATE),
    Endpoint("GET", rf"{CHANNEL}/filesFolder", FILES_FOLDER),
    Endpoint("POST", MESSAGES, MIGRATE),
    Endpoint("POST", rf"{MESSAGE}/replies", MIGRATE),
    Endpoint("GET", CHANNEL_MESSAGES, READ_CHANNEL_MESSAGES),
    Endpoint("GET", CHAT_MESSAGES, READ_CHAT_MESSAGES),
    Endpoint("GET", CHANNEL_MESSAGES + MESSAGE_ID, READ_CHANNEL_MESSAGE),  # one, by id: the older Group permissions too
    Endpoint("GET", CHAT_MESSAGES + MESSAGE_ID, READ_CHAT_MESSAGES),
    Endpoint("GET", rf"{CHANNEL_MESSAGES}{MESSAGE_ID}/replies", READ_CHANNEL_MESSAGES),
    Endpoint("GET", CHANNEL_MESSAGES + REPLY_ID, READ_CHANNEL_MESSAGE),
    Endpoint("GET", CHANNEL_MESSAGES + HOSTED_SUFFIX, READ_CHANNEL_MESSAGES),
    Endpoint("GET", CHAT_MESSAGES + HOSTED_SUFFIX, READ_CHAT_MESSAGES),
    Endpoint("GET", rf"{CHANNEL_MESSAGES}{HOSTED_SUFFIX}/(?P<hc>{ID})/\$value", READ_CHANNEL_MESSAGES),
    Endpoint("GET", rf"{CHAT_MESSAGES}{HOSTED_SUFFIX}/(?P<hc>{ID})/\$value", READ_CHAT_MESSAGES),
    Endpoint("POST", "/chats", CREATE_CHAT),
    Endpoint("GET", CHAT, READ_CHAT),
    Endpoint("POST", rf"{CHAT}/startMigration", MIGRATE),
    Endpoint("POST", rf"{CHAT}/completeMigration", MIGRATE),
    Endpoint("GET", rf"/users/(?P<user>{ID})/chats", LIST_CHATS),
    Endpoint("GET", "/users", USERS),
    Endpoint("GET", rf"/users/(?P<user>{ID})", USERS),
    Endpoint("GET", rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})", READ_FILES),
    Endpoint("GET", rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})/children", READ_FILES),
    Endpoint("GET", rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})/content", READ_FILES),
    Endpoint("DELETE", rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})", WRITE_FILES),
    Endpoint("GET", SHARED, WRITE_FILES),  # shares: Files.ReadWrite.All least privileged (Graph reference)
    Endpoint("GET", rf"{SHARED}/content", WRITE_FILES),
    Endpoint("PUT", rf"{ITEM_PATH}/content", WRITE_FILES),
    Endpoint("POST", rf"{ITEM_PATH}/createUploadSession", UPLOAD_SESSION),
    Endpoint("GET", USER_DRIVE, READ_DRIVE),
    Endpoint("GET", DRIVE_PATH, READ_FILES),
    Endpoint("PUT", rf"{DRIVE_PATH}/content", WRITE_FILES),
    Endpoint("POST", rf"{DRIVE_PATH}/createUploadSession", UPLOAD_SESSION),
    Endpoint("POST", rf"{ITEM}/invite", WRITE_FILES),
    Endpoint("GET", rf"{ITEM}/permissions", READ_DRIVE),
)
_BY_PATTERN = {(e.method, e.pattern): e for e in ENDPOINTS}


def endpoint(method: str, pattern: str) -> Endpoint:
    """The table's entry for a route (`emulator/routes.py` registers each handler under one)."""
    found = _BY_PATTERN.get((method, pattern))
    if found is None:
        raise LookupError(f"{method} {pattern}: not in migrator/endpoints.py's table; add it with its permissions")
    return found


def find(method: str, path: str) -> Endpoint | None:
    """The endpoint serving `method` on `path` (a path without the version, ids in place), or None."""
    return next((e for e in ENDPOINTS if e.method == method and e.compiled.match(path)), None)
