"""What the two mapping files say, as data: the vocabulary of `migration.yaml` and `users.csv`.

`migration.yaml` names the target teams and, per source conversation, a route: migrate it into a
channel or a chat, archive it, or skip it. `users.csv` gives every source person an Entra account,
the fallback account, or nothing. Every item keeps the line it was read from, so a problem found
later can still be placed in the file a consultant edits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from migrator.capacity import TEAMS_DEFAULTS, CapacityLimits
from migrator.errors import InputError
from migrator.limits import MAX_INLINE_IMAGE_BYTES
from migrator.model import Conversation, ConversationKind, User

MIGRATION_FILE = "migration.yaml"
USERS_FILE = "users.csv"
USER_COLUMNS = ("source_id", "source_name", "email", "entra_id", "action")
# users.csv headers written before other sources were supported: still read, with a note saying how to rename them.
OLD_USER_COLUMNS = {"slack_id": "source_id", "slack_name": "source_name"}
USER_ACTIONS = ("map", "fallback", "skip")
# `existing`: into a Teams channel or chat people already use (`existing_team` + `existing_channel`, or
# `existing_chat`), reopened with startMigration; nothing is created and its members stay as they are.
EXISTING = "existing"
ROUTE_ACTIONS = ("migrate", EXISTING, "archive", "skip")
# Where a migrated conversation lands: a standard channel, a private channel of the team with exactly the
# source's mapped members, a channel of a team of its own (whose members the team lists), or a Teams chat.
CHANNEL, PRIVATE_CHANNEL, OWN_TEAM, CHAT = "channel", "private_channel", "own_team", "chat"
TARGETS = (CHANNEL, PRIVATE_CHANNEL, OWN_TEAM, CHAT)
DEFAULT_TARGET = {
    ConversationKind.PUBLIC: CHANNEL,
    ConversationKind.PRIVATE: PRIVATE_CHANNEL,
    ConversationKind.DM: CHAT,
    ConversationKind.GROUP_DM: CHAT,
}
ALLOWED_TARGETS = {
    ConversationKind.PUBLIC: (CHANNEL,),
    ConversationKind.PRIVATE: (PRIVATE_CHANNEL, OWN_TEAM),
    ConversationKind.DM: (CHAT, OWN_TEAM),
    ConversationKind.GROUP_DM: (CHAT, OWN_TEAM),
}
NATIVE_FORMS = ("native", "text")  # `defaults.mentions` / `defaults.reactions`: real Graph elements, or text
SYSTEM_MESSAGE_ACTIONS = ("keep", "skip")  # joins, leaves, topic changes: grey notes in Teams, or left out (counted)
GENERAL = "General"  # the channel every team has; posting into it needs no channel creation
ALL_MEMBERS = "all"


class MappingError(InputError):
    """The mapping files cannot be read at all (missing, not YAML): the user must fix them (exit code 2)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the mapping files, placed so an editor can jump to it."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    description: str = ""
    members: tuple[str, ...] | None = None  # source user ids; None means every mapped user
    line: int | None = None
    note: str = ""  # why the draft made this team (written as a comment, never read back)


@dataclass(frozen=True)
class Route:
    """The decision for one source conversation."""

    source: str
    action: str = "migrate"
    team: str | None = None
    channel: str | None = None
    merge: bool = False
    name: str = ""  # the source name, for people reading the file
    line: int | None = None
    kind: str | None = None  # one of TARGETS; None until `resolve_targets` gives the default of the source's kind
    note: str = ""  # why the draft archives it or gives it a team of its own (a comment, never read back)
    # `action: existing`: the existing team and channel (each an id or a display name), or the existing chat's id
    existing_team: str | None = None
    existing_channel: str | None = None
    existing_chat: str | None = None

    @property
    def target(self) -> tuple[str, str] | None:
        """(team, channel) compared case-insensitively, as Teams compares channel names; None for chats."""
        if self.action != "migrate" or self.kind == CHAT or self.team is None or self.channel is None:
            return None
        return self.team, self.channel.casefold()


@dataclass(frozen=True)
class Mappings:
    """migration.yaml as written: routes without `target:` have no kind until `resolve_targets` decides it."""

    path: Path
    source: str | None
    users_file: str = USERS_FILE
    fallback: str | None = None  # mail of the account that posts for unmatched users
    fallback_id: str | None = None
    system_messages: str = "keep"  # one of SYSTEM_MESSAGE_ACTIONS
    # `defaults.inline_image_max_bytes`: larger images travel as files (docs/graph-contract.md#inline-images)
    inline_image_max_bytes: int = MAX_INLINE_IMAGE_BYTES
    # `defaults.mentions` / `defaults.reactions` (NATIVE_FORMS): `text` for a tenant that refuses the real elements
    mentions: str = "native"
    reactions: str = "native"
    # `workspaces:` workspace id or name -> {"mentions"|"reactions": form}: the two above for its conversations
    workspace_forms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    teams: Mapping[str, Team] = field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    lines: Mapping[str, int] = field(default_factory=dict)  # top-level key -> line
    limits: CapacityLimits = TEAMS_DEFAULTS  # Teams' capacity limits, as `defaults.limits` overrides them
    limit_lines: Mapping[str, int] = field(default_factory=dict)  # limit name -> line of its override
    split: tuple[str, ...] = ()  # how the draft spread the workspace over teams (comments, never read back)

    @property
    def users_path(self) -> Path:
        return self.path.parent / self.users_file


@dataclass(frozen=True)
class UserMapping:
    source_id: str
    source_name: str
    email: str
    entra_id: str
    action: str
    line: int | None = None


def conversation_label(conversation: Conversation, users: Mapping[str, User]) -> str:
    """How a person recognises a conversation: #name, or the people in a DM."""
    if conversation.kind in (ConversationKind.DM, ConversationKind.GROUP_DM):
        people = ", ".join(users[m].label if m in users else m for m in conversation.members)
        return f"{'DM' if conversation.kind is ConversationKind.DM else 'group DM'}: {people or conversation.name}"
    return f"#{conversation.name}"


@dataclass(frozen=True)
class MappingFiles:
    """Both files as read: what they say, the problems that stop a migration (each placed in its file),
    and notes that do not (such as a users.csv header with the old column names)."""

    mappings: Mappings
    rows: list[UserMapping]
    problems: list[Problem]
    notes: list[Problem]
