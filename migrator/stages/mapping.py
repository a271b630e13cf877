"""The `map` stage: where every conversation and every person goes.

It drafts two files a consultant edits and commits with the project:
`migration.yaml` (target teams and channels per source conversation) and
`users.csv` (Slack user to Entra ID user), and `--check` explains every
problem with file and line before anything is sent to Microsoft Graph.

Two rules are not negotiable and are therefore checked, not just drafted:
private content must never become readable by someone who could not read it
in the source, and no conversation or person may be left without a decision.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from migrator.errors import InputError
from migrator.model import Conversation, ConversationKind, Source, User, Workspace
from migrator.sources import open_source
from migrator.sources.common import LONE_SURROGATE

MIGRATION_FILE = "migration.yaml"
USERS_FILE = "users.csv"
USER_COLUMNS = ("slack_id", "slack_name", "email", "entra_id", "action")
USER_ACTIONS = ("map", "fallback", "skip")
ROUTE_ACTIONS = ("migrate", "archive", "skip")
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
SYSTEM_MESSAGE_ACTIONS = ("keep", "skip")  # joins, leaves, topic changes: grey notes in Teams, or left out (counted)
GENERAL = "General"  # the channel every team has; posting into it needs no channel creation
ALL_MEMBERS = "all"

# Teams channel-name rules (Microsoft's naming restrictions for channels).
MAX_CHANNEL_NAME = 50
FORBIDDEN_CHANNEL_CHARS = "~#%&*{}+/\\:<>?|'\""
MAX_TEAM_NAME = 256

DirectoryLookup = Callable[[str], "Mapping[str, Any] | None"]


class MappingError(InputError):
    """The mapping files cannot be read at all (missing, not YAML); exit code 2."""


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
    members: tuple[str, ...] | None = None  # Slack user ids; None means every mapped user
    line: int | None = None


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
    kind: str | None = None  # one of TARGETS; None until `resolve_targets` applies the default of the source's kind
    note: str = ""  # why the draft archives it (written as a comment, never read back)

    @property
    def target(self) -> tuple[str, str] | None:
        """(team, channel) compared case-insensitively, as Teams compares channel names; None for chats."""
        if self.action != "migrate" or self.kind == CHAT or self.team is None or self.channel is None:
            return None
        return self.team, self.channel.casefold()


@dataclass
class Mappings:
    path: Path
    source: str | None
    users_file: str = USERS_FILE
    fallback: str | None = None  # mail of the account that posts for unmatched users
    fallback_id: str | None = None
    system_messages: str = "keep"  # one of SYSTEM_MESSAGE_ACTIONS
    teams: dict[str, Team] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line

    def route(self, conversation_id: str) -> Route | None:
        return next((r for r in self.routes if r.source == conversation_id), None)

    @property
    def users_path(self) -> Path:
        return self.path.parent / self.users_file


@dataclass(frozen=True)
class UserMapping:
    slack_id: str
    slack_name: str
    email: str
    entra_id: str
    action: str
    line: int | None = None


def _posts_as_self(row: UserMapping | None) -> bool:
    return row is not None and row.action == "map" and bool(row.entra_id)


def mapped_members(conversation: Conversation, rows: Iterable[UserMapping]) -> list[UserMapping]:
    """The conversation's members who have an Entra account (users.csv `map`), in its order, one per account:
    exactly the people who may read it in Teams."""
    by_id = {row.slack_id: row for row in rows}
    found: dict[str, UserMapping] = {}
    for member in conversation.members:
        row = by_id.get(member)
        if _posts_as_self(row):
            assert row is not None
            found.setdefault(row.entra_id, row)
    return list(found.values())


def chat_fallback_reason(conversation: Conversation, rows: list[UserMapping], users: Mapping[str, User]) -> str | None:
    """Why this DM or group DM cannot become a Teams chat (it is archived instead), or None when it can:
    a chat has exactly its participants as members, so every one of them needs an Entra account."""
    by_id = {row.slack_id: row for row in rows}
    missing = [m for m in dict.fromkeys(conversation.members) if not _posts_as_self(by_id.get(m))]
    if missing:
        names = ", ".join(users[m].label if m in users else m for m in missing)
        return (
            f"{names} {'has' if len(missing) == 1 else 'have'} no Entra account in users.csv, "
            "and a Teams chat needs every participant"
        )
    if len(mapped_members(conversation, rows)) < 2:
        return "a Teams chat needs two different people"
    return None


# --- drafting ---------------------------------------------------------------


def slug(text: str) -> str:
    """A YAML-friendly key for a team: lower-case letters, digits and dashes."""
    value = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return value or "team"


def channel_name_problems(name: str) -> list[str]:
    """Why Teams would refuse this channel name (empty when it is fine)."""
    problems = []
    if not name.strip():
        problems.append("is empty")
    if len(name) > MAX_CHANNEL_NAME:
        problems.append(f"is {len(name)} characters long (Teams allows {MAX_CHANNEL_NAME})")
    bad = sorted({c for c in name if c in FORBIDDEN_CHANNEL_CHARS})
    if bad:
        problems.append(f"contains {' '.join(bad)} (Teams forbids {' '.join(FORBIDDEN_CHANNEL_CHARS)})")
    if name.startswith(("_", ".")):
        problems.append("starts with '_' or '.'")
    if name.endswith("."):
        problems.append("ends with '.'")
    if name.casefold() == GENERAL.casefold() and name != GENERAL:
        problems.append(f"is reserved: write exactly {GENERAL!r} to post into the team's General channel")
    return problems


def _safe_channel_name(name: str, taken: set[str]) -> str:
    """The closest name Teams accepts that no other drafted channel of the team uses."""
    clean = "".join("-" if c in FORBIDDEN_CHANNEL_CHARS else c for c in name).lstrip("_.").rstrip(".")
    clean = clean[:MAX_CHANNEL_NAME].rstrip(".") or "channel"
    if clean.casefold() == GENERAL.casefold():
        clean = f"{clean}-slack"
    candidate, n = clean, 2
    while candidate.casefold() in taken:
        suffix = f"-{n}"
        candidate, n = clean[: MAX_CHANNEL_NAME - len(suffix)] + suffix, n + 1
    taken.add(candidate.casefold())
    return candidate


def general_channel(conversations: Iterable[Conversation]) -> Conversation | None:
    """Slack's #general: flagged `is_general`, or (old exports) the public channel named general."""
    public = [c for c in conversations if c.kind is ConversationKind.PUBLIC]
    return next((c for c in public if c.is_general), None) or next((c for c in public if c.name == "general"), None)


def conversation_label(conversation: Conversation, users: Mapping[str, User]) -> str:
    """How a person recognises a conversation: #name, or the people in a DM."""
    if conversation.kind in (ConversationKind.DM, ConversationKind.GROUP_DM):
        people = ", ".join(users[m].label if m in users else m for m in conversation.members)
        return f"{'DM' if conversation.kind is ConversationKind.DM else 'group DM'}: {people or conversation.name}"
    return f"#{conversation.name}"


def draft_mappings(
    path: Path,
    workspace: Workspace,
    conversations: list[Conversation],
    source: str | None,
    rows: list[UserMapping] | None = None,
    users: Mapping[str, User] | None = None,
) -> Mappings:
    """One team for the workspace: public channels as its standard channels, private channels as its
    private channels (readable by exactly their mapped members), DMs and group DMs as Teams chats.

    With `rows` (the drafted users.csv) a conversation that cannot land that way is drafted to the archive
    with the reason beside it: a chat or private channel needs its people to have Entra accounts.
    """
    main = Team(
        key=slug(workspace.name), name=workspace.name, description=f"Migrated from the Slack workspace {workspace.name}"
    )
    routes: list[Route] = []
    general = general_channel(conversations)
    taken: set[str] = {GENERAL.casefold()}
    for conv in conversations:
        kind = DEFAULT_TARGET[conv.kind]
        reason = _draft_archive_reason(conv, kind, rows, users or {})
        if reason:
            routes.append(Route(source=conv.id, action="archive", name=conv.name, note=reason))
        elif kind == CHAT:
            routes.append(Route(source=conv.id, name=conv.name, kind=CHAT))
        else:
            channel = GENERAL if conv is general else _safe_channel_name(conv.name, taken)
            routes.append(Route(source=conv.id, team=main.key, channel=channel, name=conv.name, kind=kind))
    return Mappings(path=path, source=source, teams={main.key: main}, routes=routes)


def _draft_archive_reason(
    conv: Conversation, kind: str, rows: list[UserMapping] | None, users: Mapping[str, User]
) -> str | None:
    if rows is None:
        return None
    if kind == CHAT:
        return chat_fallback_reason(conv, rows, users)
    if kind == PRIVATE_CHANNEL and not mapped_members(conv, rows):
        return "no member has an Entra account, so nobody could read it in Teams"
    return None


def draft_users(users: Iterable[User], lookup: DirectoryLookup) -> list[UserMapping]:
    """Match people by email in the directory; bots and everyone unmatched post through the fallback."""
    rows = []
    for user in users:
        found = lookup(user.email) if user.email and not user.is_bot else None
        rows.append(
            UserMapping(
                slack_id=user.id,
                slack_name=user.real_name or user.label,
                email=user.email or "",
                entra_id=str(found["id"]) if found else "",
                action="map" if found else "fallback",
            )
        )
    return rows


# --- writing ----------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9][\w.@ +-]*", re.UNICODE)
_YAML_WORDS = {"yes", "no", "true", "false", "null", "on", "off", "y", "n", "~"}


def _scalar(value: Any) -> str:
    """A YAML scalar: plain when unambiguous, otherwise a JSON string (valid YAML)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    plain = _PLAIN.fullmatch(text) and text.casefold() not in _YAML_WORDS and not text.endswith(" ")
    if plain and not re.fullmatch(r"[-+]?[\d._]+(e[-+]?\d+)?|0x[\da-f]+", text, re.IGNORECASE):
        return text
    return json.dumps(text, ensure_ascii=False)


HEADER = """\
# Where every Slack conversation goes in Microsoft Teams. Drafted by `migrator map`;
# edit it, then run `migrator map --check {folder}` until it reports no problem.
#
# teams:          one entry per target team; `name` is what people see in Teams,
#                 `members: all` means every mapped user, otherwise a list of Slack user ids.
# conversations:  one entry per Slack conversation (`source` is its Slack id):
#   team/channel  the target; `channel: General` posts into the team's General channel
#   target        private channels: private_channel (default; a private channel of `team` whose members are
#                 exactly the Slack channel's mapped members) or own_team (a channel of a team whose members
#                 the team lists); DMs and group DMs: chat (default; a Teams chat of exactly its participants,
#                 archived instead when one of them has no Entra account) or own_team
#   merge: true   when several conversations fill one channel, all but one of them need it
#   action        migrate (default) | archive (kept as files, not imported) | skip (left out, counted)
# Private content may only reach people who could read it in Slack; `map --check` refuses anything else.
"""


def render_mappings(mappings: Mappings, conversations: list[Conversation], users: Mapping[str, User]) -> str:
    """The YAML text, with a comment per conversation saying what it is."""
    by_id = {c.id: c for c in conversations}
    out = [HEADER.format(folder=mappings.path.parent.as_posix()), "version: 1"]
    if mappings.source is not None:
        out.append(f"source: {_scalar(mappings.source)}  # the export; a relative path starts at this folder")
    out += [
        "users:",
        f"  file: {_scalar(mappings.users_file)}",
        f"  fallback: {_scalar(mappings.fallback)}  # Entra account that posts for people without one",
        f"  fallback_id: {_scalar(mappings.fallback_id)}",
        "",
        "teams:",
    ]
    for team in mappings.teams.values():
        out += [f"  {team.key}:", f"    name: {_scalar(team.name)}", f"    description: {_scalar(team.description)}"]
        if team.members is None:
            out.append(f"    members: {ALL_MEMBERS}")
        else:
            names = ", ".join(users[m].label if m in users else m for m in team.members)
            out.append(f"    members: [{', '.join(_scalar(m) for m in team.members)}]  # {names}")
    out += ["", "conversations:"]
    for route in mappings.routes:
        conv = by_id.get(route.source)
        if conv is not None:
            out.append(f"  # {conversation_label(conv, users)}: {conv.kind.value}, {len(conv.members)} members")
        out.append(f"  - source: {_scalar(route.source)}")
        out.append(f"    name: {_scalar(route.name)}")
        if route.action != "migrate":
            out.append(f"    action: {route.action}" + (f"  # {route.note}" if route.note else ""))
        else:
            if route.kind not in (None, CHANNEL):
                out.append(f"    target: {route.kind}")
            if route.kind != CHAT:
                out += [f"    team: {_scalar(route.team)}", f"    channel: {_scalar(route.channel)}"]
        if route.merge:
            out.append("    merge: true")
    return "\n".join(out) + "\n"


def write_users_csv(path: Path, rows: Iterable[UserMapping]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(USER_COLUMNS)
        for row in rows:
            writer.writerow([row.slack_id, row.slack_name, row.email, row.entra_id, row.action])


# --- reading ----------------------------------------------------------------


class _LineDict(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    lines: dict[Any, int]


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    data = _LineDict()
    data.line, data.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(None, None, "a key must be a plain value", key_node.start_mark)
        if key in data:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (first on line {data.lines[key]})", key_node.start_mark
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1
    return data


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def _construct_str(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    """A string, refused with its line when it escapes half a character ("\\ud83d"): no plan or Teams name
    could hold it."""
    value = loader.construct_scalar(node)
    if LONE_SURROGATE.search(value):
        raise yaml.constructor.ConstructorError(
            None,
            None,
            "half a character (a lone UTF-16 surrogate escape such as \\ud83d): write the whole character",
            node.start_mark,
        )
    return value


_LineLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def _line(node: Any, key: str | None = None) -> int | None:
    if isinstance(node, _LineDict):
        return node.lines.get(key, node.line) if key is not None else node.line
    return None


_TOP_KEYS = {"version", "source", "users", "system_messages", "teams", "conversations"}
_USERS_KEYS = {"file", "fallback", "fallback_id"}
_TEAM_KEYS = {"name", "description", "members"}
_ROUTE_KEYS = {"source", "name", "action", "target", "team", "channel", "merge"}


class _Reader:
    """Turns the YAML tree into `Mappings`, collecting every shape problem with its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path.as_posix(), line, message))

    def unknown_keys(self, node: _LineDict, allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(
                    _line(node, key), f"unknown key {key!r} in {where} (allowed: {', '.join(sorted(allowed))})"
                )

    def text(self, node: _LineDict, key: str, where: str, *, required: bool) -> str | None:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(_line(node), f"{where} has no {key!r}")
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.problem(_line(node, key), f"{where}: {key!r} must be text, not {type(value).__name__}")
            return None
        return str(value)

    def read(self, data: Any) -> Mappings:
        if not isinstance(data, _LineDict):
            raise MappingError(f"{self.path}: expected a YAML mapping with version, teams and conversations")
        self.unknown_keys(data, _TOP_KEYS, "the top level")
        if data.get("version") != 1:
            self.problem(_line(data, "version"), "version must be 1")
        users = data.get("users") if isinstance(data.get("users"), _LineDict) else _LineDict()
        self.unknown_keys(users, _USERS_KEYS, "users")
        mappings = Mappings(
            path=self.path,
            source=self.text(data, "source", "the top level", required=False),
            users_file=self.text(users, "file", "users", required=False) or USERS_FILE,
            fallback=self.text(users, "fallback", "users", required=False),
            fallback_id=self.text(users, "fallback_id", "users", required=False),
            system_messages=self.text(data, "system_messages", "the top level", required=False) or "keep",
            lines=dict(data.lines),
        )
        if mappings.system_messages not in SYSTEM_MESSAGE_ACTIONS:
            self.problem(
                _line(data, "system_messages"),
                f"system_messages {mappings.system_messages!r} is not one of {', '.join(SYSTEM_MESSAGE_ACTIONS)}",
            )
        mappings.teams = self.teams(data.get("teams"), _line(data, "teams"))
        mappings.routes = self.routes(data.get("conversations"), _line(data, "conversations"))
        return mappings

    def teams(self, node: Any, line: int | None) -> dict[str, Team]:
        if not isinstance(node, _LineDict):
            self.problem(line, "teams must be a mapping of team keys to {name, description, members}")
            return {}
        teams = {}
        for key, entry in node.items():
            where = f"team {key!r}"
            if not isinstance(entry, _LineDict):
                self.problem(_line(node, key), f"{where} must be a mapping with name, description, members")
                continue
            self.unknown_keys(entry, _TEAM_KEYS, where)
            members = entry.get("members", ALL_MEMBERS)
            if members != ALL_MEMBERS and not (isinstance(members, list) and all(isinstance(m, str) for m in members)):
                self.problem(_line(entry, "members"), f"{where}: members must be 'all' or a list of Slack user ids")
                members = []
            teams[str(key)] = Team(
                key=str(key),
                name=self.text(entry, "name", where, required=True) or "",
                description=self.text(entry, "description", where, required=False) or "",
                members=None if members == ALL_MEMBERS else tuple(members),
                line=_line(node, key),
            )
        return teams

    def routes(self, node: Any, line: int | None) -> list[Route]:
        if not isinstance(node, list):
            self.problem(line, "conversations must be a list of entries with source, team, channel")
            return []
        routes = []
        for index, entry in enumerate(node):
            if not isinstance(entry, _LineDict):
                self.problem(line, f"conversations[{index}] must be a mapping with source, team, channel")
                continue
            source = self.text(entry, "source", f"conversations[{index}]", required=True)
            where = f"conversation {source or index}"
            self.unknown_keys(entry, _ROUTE_KEYS, where)
            action = self.text(entry, "action", where, required=False) or "migrate"
            if action not in ROUTE_ACTIONS:
                self.problem(
                    _line(entry, "action"), f"{where}: action {action!r} is not one of {', '.join(ROUTE_ACTIONS)}"
                )
            merge = entry.get("merge", False)
            if not isinstance(merge, bool):
                self.problem(_line(entry, "merge"), f"{where}: merge must be true or false")
            target = self.text(entry, "target", where, required=False)
            if target is not None and target not in TARGETS:
                self.problem(_line(entry, "target"), f"{where}: target {target!r} is not one of {', '.join(TARGETS)}")
                target = None
            routes.append(
                Route(
                    source=source or "",
                    action=action,
                    team=self.text(entry, "team", where, required=False),  # whether it needs them depends on its target
                    channel=self.text(entry, "channel", where, required=False),
                    merge=merge is True,
                    name=self.text(entry, "name", where, required=False) or "",
                    line=_line(entry),
                    kind=target,
                )
            )
        return routes


def _load_yaml(path: Path) -> tuple[Any, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MappingError(f"{path}: not found; draft it with `migrator map SOURCE --out {path.parent}`") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot be read ({exc})") from exc
    try:
        return yaml.load(text, Loader=_LineLoader), []  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"not valid YAML: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and exc.problem:  # where the unfinished construct began
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        return None, [Problem(path.as_posix(), line, message)]


def load_mappings(path: Path) -> tuple[Mappings, list[Problem]]:
    """Read migration.yaml (or a folder holding it), with the shape problems found on the way."""
    if path.is_dir():
        path = path / MIGRATION_FILE
    data, problems = _load_yaml(path)
    if problems:
        return Mappings(path=path, source=None), problems
    reader = _Reader(path)
    return reader.read(data), reader.problems


def load_users(path: Path) -> tuple[list[UserMapping], list[Problem]]:
    """Read users.csv; every row keeps its line for the checks."""
    where = path.as_posix()
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as exc:
        raise MappingError(f"{path}: not found; draft it with `migrator map SOURCE --out {path.parent}`") from exc
    with handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        missing = [c for c in USER_COLUMNS if c not in header]
        if missing:
            return [], [
                Problem(
                    where, 1, f"header must name the columns {','.join(USER_COLUMNS)}; missing {', '.join(missing)}"
                )
            ]
        index = {c: header.index(c) for c in USER_COLUMNS}
        rows, problems = [], []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                problems.append(
                    Problem(where, reader.line_num, f"has {len(values)} fields, the header has {len(header)}")
                )
                continue
            rows.append(UserMapping(**{c: values[index[c]].strip() for c in USER_COLUMNS}, line=reader.line_num))
    return rows, problems


# --- checking ---------------------------------------------------------------


def resolve_targets(mappings: Mappings, conversations: list[Conversation]) -> None:
    """Give each route without `target:` the default of its source's kind (see DEFAULT_TARGET)."""
    by_id = {c.id: c for c in conversations}
    mappings.routes = [
        replace(r, kind=DEFAULT_TARGET[by_id[r.source].kind]) if r.kind is None and r.source in by_id else r
        for r in mappings.routes
    ]


def check_mappings(
    mappings: Mappings, conversations: list[Conversation], rows: list[UserMapping] | None = None
) -> list[Problem]:
    """Every rule migration.yaml must meet before a migration may start (the member rules of private
    channels need `rows`, users.csv)."""
    where = mappings.path.as_posix()
    problems: list[Problem] = []
    by_id = {c.id: c for c in conversations}
    resolve_targets(mappings, conversations)
    problems += _check_teams(mappings, where)
    seen: dict[str, int | None] = {}
    targets: dict[tuple[str, str], Route] = {}
    owners: dict[tuple[str, str], Route] = {}
    for route in mappings.routes:
        if not route.source:
            continue
        if route.source in seen:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"conversation {route.source} is listed twice (first on line {seen[route.source]})",
                )
            )
            continue
        seen[route.source] = route.line
        conv = by_id.get(route.source)
        if conv is None:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"unknown source conversation {route.source!r}: the export has no such channel, group or DM",
                )
            )
            continue
        if route.action != "migrate":
            continue
        target_problems = _check_target(mappings, route, conv, rows, where)
        if target_problems or route.kind == CHAT:
            problems += target_problems
            continue
        assert route.team is not None and route.channel is not None  # _check_target found both
        naming = [
            Problem(where, route.line, f"channel name {route.channel!r} {reason}")
            for reason in channel_name_problems(route.channel)
        ]
        if naming:  # an invalid name is reported once, not again as a clash
            problems += naming
            continue
        key = route.target
        assert key is not None
        first = targets.setdefault(key, route)
        if first.channel != route.channel:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"channel {route.channel!r} differs only in case from {first.channel!r} "
                    f"(line {first.line}); Teams treats them as one name",
                )
            )
            continue
        if first is not route and PRIVATE_CHANNEL in (first.kind, route.kind):
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"{route.source} and {first.source} (line {first.line}) both go to "
                    f"{route.team}/{route.channel}, a private channel; a private channel "
                    "holds exactly one Slack conversation, so give each its own channel",
                )
            )
            continue
        if route.merge:
            continue
        owner = owners.setdefault(key, route)  # the one source a channel may have without `merge: true`
        if owner is not route:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"{route.source} goes into {route.team}/{route.channel}, which "
                    f"{owner.source} (line {owner.line}) already fills; add `merge: true` "
                    "to one of them to merge, or choose another channel",
                )
            )
    for conv in conversations:
        if conv.id not in seen:
            problems.append(
                Problem(
                    where,
                    mappings.lines.get("conversations"),
                    f"conversation {conv.id} ({conv.kind.value} {conv.name}) has no entry; "
                    "add one (action: skip to leave it out)",
                )
            )
    return problems


def _check_teams(mappings: Mappings, where: str) -> list[Problem]:
    problems = []
    names: dict[str, Team] = {}
    for team in mappings.teams.values():
        if len(team.name) > MAX_TEAM_NAME:
            problems.append(
                Problem(where, team.line, f"team {team.key!r}: name is longer than {MAX_TEAM_NAME} characters")
            )
        other = names.get(team.name.casefold())
        if other is not None and team.name:
            problems.append(
                Problem(
                    where,
                    team.line,
                    f"team {team.key!r} has the same name as {other.key!r} (line {other.line}); "
                    "people could not tell them apart",
                )
            )
        names.setdefault(team.name.casefold(), team)
    return problems


def _check_target(
    mappings: Mappings, route: Route, conv: Conversation, rows: list[UserMapping] | None, where: str
) -> list[Problem]:
    """The route's target suits its source's kind and names what that target needs."""
    allowed = ALLOWED_TARGETS[conv.kind]
    if route.kind not in allowed:
        return [
            Problem(
                where,
                route.line,
                f"target {route.kind!r} is not possible for {conv.kind.value} conversation "
                f"{conv.name}; use {' or '.join(allowed)} (or action: archive)",
            )
        ]
    if route.kind == CHAT:
        if route.team is not None or route.channel is not None:
            return [
                Problem(
                    where,
                    route.line,
                    f"{route.source} goes to a chat, which has no team or channel; remove them, "
                    f"or write target: {OWN_TEAM}",
                )
            ]
        return []
    for key, value in (("team", route.team), ("channel", route.channel)):
        if value is None:
            return [Problem(where, route.line, f"conversation {route.source} has no {key!r}")]
    if route.kind == PRIVATE_CHANNEL:
        return _check_private_channel(mappings, route, conv, rows, where)
    return _check_access(mappings, route, conv, where)


def _check_private_channel(
    mappings: Mappings, route: Route, conv: Conversation, rows: list[UserMapping] | None, where: str
) -> list[Problem]:
    """A private channel is readable by exactly the source's mapped members, who must all be members of its team."""
    team = mappings.teams.get(route.team or "")
    if team is None:
        return [Problem(where, route.line, f"team {route.team!r} is not defined under teams")]
    if route.channel == GENERAL:
        return [
            Problem(
                where,
                route.line,
                f"{GENERAL} is the team's standard channel, readable by the whole team; give the "
                f"private channel {conv.name} a name of its own (or write target: {OWN_TEAM})",
            )
        ]
    if rows is None:
        return []
    members = mapped_members(conv, rows)
    if not members:
        return [
            Problem(
                where,
                route.line,
                f"no member of private channel {conv.name} has an Entra account in users.csv, so "
                "nobody could read it in Teams; map its members or archive it",
            )
        ]
    if team.members is not None:
        outside = [m.slack_id for m in members if m.slack_id not in team.members]
        if outside:
            return [
                Problem(
                    where,
                    route.line,
                    f"{', '.join(outside)} could read private channel {conv.name} in Slack but "
                    f"{'is' if len(outside) == 1 else 'are'} not in team {team.key!r}, and a "
                    "private channel's members must be members of its team; add them to the "
                    f"team's members, or write target: {OWN_TEAM}",
                )
            ]
    return []


def chat_notes(mappings: Mappings, rows: list[UserMapping], source: Source) -> list[Problem]:
    """DMs and group DMs mapped to a chat that will be archived instead, with the reason (not problems:
    transform archives them and says why in its report)."""
    where = mappings.path.as_posix()
    notes = []
    for conv in source.conversations():
        route = mappings.route(conv.id)
        if route is None or route.action != "migrate" or route.kind != CHAT:
            continue
        reason = chat_fallback_reason(conv, rows, source.users)
        if reason:
            notes.append(
                Problem(
                    where,
                    route.line,
                    f"note: {conversation_label(conv, source.users)} will be archived, not a chat: {reason}",
                )
            )
    return notes


def _check_access(mappings: Mappings, route: Route, conv: Conversation, where: str) -> list[Problem]:
    """The target team exists and adds no reader the source conversation did not have."""
    problems = []
    assert route.team is not None
    team = mappings.teams.get(route.team)
    if team is None:
        problems.append(Problem(where, route.line, f"team {route.team!r} is not defined under teams"))
    elif conv.kind is not ConversationKind.PUBLIC:
        readers = set(conv.members)
        if team.members is None:
            problems.append(
                Problem(
                    where,
                    route.line,
                    f"{conv.kind.value} conversation {conv.name} would be readable by "
                    f"every member of team {team.key!r} (members: all); give it a team "
                    "whose members are only its own members, or archive it",
                )
            )
        else:
            outsiders = sorted(set(team.members) - readers)
            if outsiders:
                problems.append(
                    Problem(
                        where,
                        route.line,
                        f"{conv.kind.value} conversation {conv.name} would become readable "
                        f"by {', '.join(outsiders)} in team {team.key!r}, who could not "
                        "read it in Slack; remove them from the team or archive it",
                    )
                )
    return problems


def check_users(mappings: Mappings, rows: list[UserMapping], users: Mapping[str, User]) -> list[Problem]:
    """Every source user has exactly one decision and every decision can be carried out."""
    where = mappings.users_path.as_posix()
    problems = []
    seen: dict[str, int | None] = {}
    fallback_rows = 0
    for row in rows:
        if row.slack_id in seen:
            problems.append(
                Problem(where, row.line, f"user {row.slack_id} is listed twice (first on line {seen[row.slack_id]})")
            )
            continue
        seen[row.slack_id] = row.line
        if row.slack_id not in users:
            problems.append(
                Problem(where, row.line, f"unknown Slack user {row.slack_id!r}: the export has no such user")
            )
        if row.action not in USER_ACTIONS:
            problems.append(Problem(where, row.line, f"action {row.action!r} is not one of {', '.join(USER_ACTIONS)}"))
        elif row.action == "map" and not row.entra_id:
            problems.append(
                Problem(
                    where,
                    row.line,
                    f"user {row.slack_id} ({row.slack_name}) has action map but no entra_id; "
                    "fill in the Entra object id or use fallback",
                )
            )
        fallback_rows += row.action == "fallback"
    for user_id, user in users.items():
        if user_id not in seen:
            problems.append(Problem(where, None, f"user {user_id} ({user.label}) has no row, so no target; add one"))
    if fallback_rows and not (mappings.fallback and mappings.fallback_id):
        problems.append(
            Problem(
                mappings.path.as_posix(),
                mappings.lines.get("users"),
                f"{fallback_rows} users use the fallback account, but users.fallback/fallback_id is not set; "
                "name an Entra account (run `migrator map` with --fallback EMAIL)",
            )
        )
    return problems


# --- the stage ----------------------------------------------------------------

# The emulator's directory for sample_data/ when this runs from a checkout of the repository.
SAMPLE_DIRECTORY = Path(__file__).resolve().parents[2] / "sample_data" / "directory.json"


def graph_lookup(client: Any) -> DirectoryLookup:
    """Find an Entra user by mail through Graph (`GET /users?$filter=mail eq '…'`)."""

    def lookup(mail: str) -> Mapping[str, Any] | None:
        quoted = mail.replace("'", "''")  # OData string literal
        return next(iter(client.paginate("/users", params={"$filter": f"mail eq '{quoted}'"})), None)

    return lookup


@contextmanager
def open_directory(
    directory: Path | None, environ: Mapping[str, str] = os.environ
) -> Iterator[tuple[DirectoryLookup, str]]:
    """The tenant's directory when MIGRATOR_* credentials are set, else the embedded emulator.

    Yields the lookup and a one-line description of where it looks, for the
    consultant to see which directory the draft was matched against.
    """
    from migrator.graph import GraphClient, GraphConfig

    if GraphConfig.has_credentials(environ):
        config = GraphConfig.from_env(environ)
        with GraphClient(config) as client:
            yield graph_lookup(client), f"Microsoft Graph at {config.graph_url} (tenant {config.tenant_id})"
        return
    from migrator.emulator.runner import EmulatorProcess

    chosen = directory or (SAMPLE_DIRECTORY if SAMPLE_DIRECTORY.is_file() else None)
    with EmulatorProcess(directory=chosen) as emulator, GraphClient(emulator.graph_config()) as client:
        yield (
            graph_lookup(client),
            f"the embedded Graph emulator with {chosen or 'its demo directory'} (no MIGRATOR_* credentials set)",
        )


@dataclass(frozen=True)
class DraftResult:
    migration: Path
    users: Path
    teams: int
    channels: int
    private_channels: int
    chats: int
    archived: int
    mapped: int
    fallback: int
    fallback_found: bool


def _source_reference(source_path: Path, out_dir: Path) -> str:
    """Relative to the mappings folder when both live in one project (so the pair can move together)."""
    source, folder = source_path.resolve(), out_dir.resolve()
    if os.path.commonpath([source, folder]) == source.anchor:
        return source.as_posix()
    return Path(os.path.relpath(source, folder)).as_posix()


def run_map(
    source_path: Path,
    out_dir: Path,
    lookup: DirectoryLookup,
    *,
    fallback: str | None = None,
    force: bool = False,
    source_format: str | None = None,
) -> DraftResult:
    """Draft migration.yaml and users.csv; existing files are kept unless force, since they hold edits."""
    migration, users_csv = out_dir / MIGRATION_FILE, out_dir / USERS_FILE
    existing = [p for p in (migration, users_csv) if p.exists()]
    if existing and not force:
        raise MappingError(
            f"{', '.join(map(str, existing))} already exist and may hold your edits; "
            "use --force to draft them again, or --check to validate them"
        )
    source = open_source(source_path, source_format)
    try:
        conversations = source.conversations()
        rows = draft_users(source.users.values(), lookup)
        mappings = draft_mappings(
            migration, source.workspace, conversations, _source_reference(source_path, out_dir), rows, source.users
        )
        found = lookup(fallback) if fallback else None
        mappings.fallback, mappings.fallback_id = fallback, str(found["id"]) if found else None
        out_dir.mkdir(parents=True, exist_ok=True)
        migration.write_text(render_mappings(mappings, conversations, source.users), encoding="utf-8")
        write_users_csv(users_csv, rows)
    finally:
        source.close()
    routes = mappings.routes
    return DraftResult(
        migration=migration,
        users=users_csv,
        teams=len(mappings.teams),
        channels=sum(r.target is not None for r in routes),
        private_channels=sum(r.kind == PRIVATE_CHANNEL for r in routes),
        chats=sum(r.kind == CHAT and r.action == "migrate" for r in routes),
        archived=sum(r.action == "archive" for r in routes),
        mapped=sum(r.action == "map" for r in rows),
        fallback=sum(r.action == "fallback" for r in rows),
        fallback_found=found is not None,
    )


def load_all(path: Path) -> tuple[Mappings, list[UserMapping], list[Problem]]:
    """migration.yaml (or its folder) and the users.csv it names, with their shape problems."""
    mappings, problems = load_mappings(path)
    if not mappings.lines:  # migration.yaml is not valid YAML: nothing further can be placed
        return mappings, [], problems
    rows, user_problems = load_users(mappings.users_path)
    return mappings, rows, problems + user_problems


def check_against(mappings: Mappings, rows: list[UserMapping], source: Source) -> list[Problem]:
    """The rules that need the export: conversations, privacy, users."""
    if not mappings.lines:
        return []
    return check_mappings(mappings, source.conversations(), rows) + check_users(mappings, rows, source.users)


def run_check(
    folder: Path,
    source_override: Path | None = None,
    source_format: str | None = None,
    notes: list[Problem] | None = None,
) -> list[Problem]:
    """Every problem in the mapping files, checked against the export they were drafted from; `notes`
    collects what is not a problem but changes the outcome (DMs that will be archived instead of chats)."""
    mappings, rows, problems = load_all(folder)
    if not mappings.lines:
        return problems
    source_path = source_override
    if source_path is None:
        if not mappings.source:
            return problems + [
                Problem(
                    mappings.path.as_posix(),
                    mappings.lines.get("version"),
                    "no `source:` to check against; add the export's path or pass --source",
                )
            ]
        source_path = mappings.path.parent / mappings.source
    source = open_source(source_path, source_format)
    try:
        problems += check_against(mappings, rows, source)
        if notes is not None:
            notes += chat_notes(mappings, rows, source)
        return problems
    finally:
        source.close()
