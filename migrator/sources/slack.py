"""Read a standard Slack export (zip or unpacked folder) into the source model.

Layout: `users.json`, `channels.json` (public), `groups.json` (private),
`mpims.json` (group DMs), `dms.json`, optional `integration_logs.json` and
`canvases.json`, one folder per conversation holding one JSON array per day,
and uploaded files under `__uploads/{FILE_ID}/{name}` where the export has them.
An Enterprise Grid org-wide export adds `org_users.json` and a workspace export per
`teams/<workspace name>/` folder (`slack_grid` describes the layout): every level is read
in the same pass, a conversation listed at several levels is one conversation (its id
says which; its day files are read from every folder it has), people are one set by id.

Exports seen in the wild differ from that description, so the reader accepts
what real ones contain (users wrapped as `{"members": [...]}`, `created` as a
string, a day file holding one message object, messages without `text`, 9-digit
or duplicate ts) and quarantines, with the reason, only what it cannot use.
Slack access tokens (`xoxe-…` in file URLs) are removed as files are read, so
they never reach the model, reports or logs. Half an emoji escaped on its own
(a lone UTF-16 surrogate, which has no UTF-8 form) becomes U+FFFD as its file
is decoded, counted per file in `repaired`.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

import orjson

from migrator.model import (
    EXTERNAL_ORG,
    FROM_FETCH,
    IN_WORKSPACES,
    Conversation,
    ConversationKind,
    Day,
    Edit,
    File,
    FileStatus,
    Ignored,
    Message,
    Quarantined,
    Reaction,
    SourceError,
    User,
    Workspace,
    ts_to_micros,
)
from migrator.sources import foreign_export
from migrator.sources.archive import DEFAULT_ZIP_LIMITS, ExportTree, ZipLimits, member_of, open_tree
from migrator.sources.common import ExportReader, Refused, describe, dicts, loads_repaired, str_or_none
from migrator.sources.fetched import FetchedFolder
from migrator.sources.products import product
from migrator.sources.slack_grid import (
    ORG_USERS,
    TEAMS,
    Scope,
    day_folder,
    external_org,
    is_grid,
    posted_team,
    workspace_folders,
    workspace_id,
)
from migrator.words import counted

_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_UPLOADS = "__uploads"
_NOT_CONVERSATIONS = {_UPLOADS, "__MACOSX"}
_SLACKBOT = "USLACKBOT"

# Conversation lists: file name, the kind its entries are, whether the export must have it.
_CONVERSATION_FILES = (
    ("channels.json", ConversationKind.PUBLIC, True),
    ("groups.json", ConversationKind.PRIVATE, False),
    ("mpims.json", ConversationKind.GROUP_DM, False),
    ("dms.json", ConversationKind.DM, False),
)
_TOP_LEVEL_READ = {"users.json", ORG_USERS, "integration_logs.json", "canvases.json", "team_info.json"} | {
    name for name, _, _ in _CONVERSATION_FILES
}
_WORKSPACE_READ = {"users.json"} | {name for name, _, _ in _CONVERSATION_FILES}  # in a Grid workspace's folder

# Events rather than something a person wrote (Slack message subtypes).
SYSTEM_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "channel_convert_to_private",
        "channel_convert_to_public",
        "channel_posting_permissions",
        "channel_canvas_updated",
        "group_join",
        "group_leave",
        "group_topic",
        "group_purpose",
        "group_name",
        "group_archive",
        "group_unarchive",
        "bot_add",
        "bot_remove",
        "bot_enable",
        "bot_disable",
        "app_conversation_join",
        "app_conversation_leave",
        "pinned_item",
        "unpinned_item",
        "reminder_add",
        "joiner_notification",
        "sh_room_created",
        "ekm_access_denied",
    }
)

# Message fields the model has a slot for.
_MODELLED = {
    "ts",
    "user",
    "bot_id",
    "username",
    "text",
    "blocks",
    "files",
    "file",
    "thread_ts",
    "subtype",
    "reactions",
    "edited",
    "attachments",
}
# Fields Slack documents that the model keeps only in `extra`.
_KNOWN_UNMODELLED = {
    "type",
    "client_msg_id",
    "team",
    "user_team",
    "source_team",
    "user_profile",
    "bot_profile",
    "parent_user_id",
    "reply_count",
    "reply_users_count",
    "reply_users",
    "replies",
    "latest_reply",
    "subscribed",
    "last_read",
    "is_locked",
    "hidden",
    "root",
    "upload",
    "display_as_bot",
    "is_starred",
    "pinned_to",
    "pinned_info",
    "x_files",
    "icons",
    "inviter",
    "purpose",
    "topic",
    "name",
    "old_name",
    "is_intro",
    "comment",
    "app_id",
    "metadata",
    "replace_original",
    "delete_original",
    "permalink",
    "item_type",
    "channel",
    "no_notifications",
    "is_thread_broadcast",
    "thread_broadcast",
    "attachment_type",
    "edited_ts",
    "bot_link",
    "reply_broadcast",
    "room",
    "trigger_id",
    "files_count",
    "saved",
    "blocks_fallback",
    "assistant_app_thread",
}

_KNOWN = _MODELLED | _KNOWN_UNMODELLED


def _decode_json(data: bytes) -> tuple[Any, int]:
    """Parse export JSON, dropping Slack access tokens before anything sees the text; with the value, how many of
    its strings had broken characters (lone surrogates) replaced by U+FFFD.

    orjson first, on the bytes when they hold no token: it decodes day files several times
    faster than json and checks the UTF-8 itself. It reads an integer beyond 64 bits as a
    float; no field the stages use holds one (sizes, times and counts are far smaller).
    orjson refuses lone surrogates, so only json's path needs to look for them.
    """
    if b"xox" in data:  # rare: the token goes before anything parses the text
        data = _TOKEN.sub("[token removed]", data.decode("utf-8-sig")).encode()
    try:
        return orjson.loads(data), 0
    except orjson.JSONDecodeError:
        # json accepts what orjson refuses (a byte order mark, lone surrogates, NaN) and words errors for the quarantine
        pass
    text = data.decode("utf-8-sig")
    try:
        return loads_repaired(text)
    except RecursionError:  # e.g. rich-text blocks nested thousands deep: the parser's stack, not a crash
        raise ValueError("nested too deeply to read (more levels than Python's recursion limit)") from None


def _seconds_to_micros(value: Any) -> int | None:
    """Slack writes `created` as an int or a string of one; anything else is no date."""
    try:
        return int(value) * 1_000_000
    except (TypeError, ValueError):
        return None


def _text_of(value: Any) -> str:
    """Topic and purpose are `{"value": ...}` objects, sometimes plain strings."""
    if isinstance(value, dict):
        value = value.get("value")
    return value if isinstance(value, str) else ""


def _email(profile: dict[str, Any]) -> str | None:
    value = profile.get("email")
    if isinstance(value, str) and _EMAIL.fullmatch(value.strip()):
        return value.strip()
    return None


class SlackExport(ExportReader):
    """A Slack export opened for streaming, day file by day file; implements `migrator.model.Source`."""

    kind = "slack"

    def __init__(self, path: Path | str, limits: ZipLimits = DEFAULT_ZIP_LIMITS, fetched: Path | None = None) -> None:
        """`fetched`: the folder `migrator fetch` wrote; its files and emails fill what the export lacks."""
        self._fetch = FetchedFolder(fetched) if fetched is not None else None
        self.fetched = str(fetched) if fetched is not None else None
        super().__init__(path, limits)

    def _open_tree(self, path: Path, limits: ZipLimits) -> ExportTree:
        return open_tree(path, limits, product(self.kind).export)

    # --- opening -------------------------------------------------------

    def _load(self) -> None:
        names = self._tree.names()
        self._prefix = self._find_root(names)
        self._names = set(names)
        rel = [n[len(self._prefix) :] for n in names if n.startswith(self._prefix)]
        self._grid = is_grid(rel)
        self._check_required(rel)
        self._refused: tuple[str, ...] = ()  # workspace folders quarantined whole
        scopes = self._read_scopes(rel)
        if self._fetch is not None:
            self._add_fetched_emails(self._fetch.emails)
        self.workspace = self._workspace(rel)
        self._own_teams = frozenset(w.id for w in [self.workspace, *self.workspaces])  # who is not external
        days = self._days_by_folder(rel)
        self._conversations, self._folders = self._read_conversations(scopes, days)
        self._day_files = self._index_days(days)
        self._uploads = self._index_uploads(rel)
        self._canvases = self._read_canvases(rel)
        if "integration_logs.json" in rel:
            self.integration_logs = self._read_list("integration_logs.json", "logs", required=False)
        self._apps = _app_names(self.integration_logs)
        self._list_ignored(rel)

    def _check_required(self, rel: list[str]) -> None:
        """A Slack export has users.json (an org-wide export: it or org_users.json) and channels.json at its top."""
        users = ("users.json", ORG_USERS) if self._grid else ("users.json",)
        for required in (users, ("channels.json",)):
            if not any(name in rel for name in required):
                foreign = foreign_export(self._tree)  # another tool's export: advice for that tool, not Slack's
                if foreign is not None:
                    raise SourceError(foreign[0].refusal(self.location, foreign[1]))
                raise SourceError(
                    f"{self.location}: {required[0]} is missing, so this is not a Slack export "
                    "(a standard export has users.json and channels.json at its top level); "
                    "export the workspace again from Slack's admin settings"
                )

    def _read_scopes(self, rel: list[str]) -> list[Scope]:
        """The levels that list conversations: the export's top and, in an org-wide export, each workspace folder
        that can be read (with the id it stands for). Every level's people join one set, `users`, by id; each person
        notes the workspaces whose users.json lists them (`User.extra[IN_WORKSPACES]`)."""
        self._user_files = [n for n in ("users.json", ORG_USERS) if n in rel] or ["users.json"]
        for name in self._user_files:
            self.users.update((u.id, u) for u in self._user_list(name, required=True))
        scopes = [Scope("")]
        if not self._grid:
            return scopes
        folders, refused = workspace_folders(rel)
        self.quarantine.extend(refused)
        self._refused = tuple(q.file for q in refused)
        for folder in folders:
            prefix = f"{TEAMS}/{folder}/"
            listed = []
            if prefix + "users.json" in rel:
                self._user_files.append(prefix + "users.json")
                listed = self._user_list(prefix + "users.json", required=False)
            space = Workspace(id=workspace_id(listed) or self._posted_in(prefix, rel) or folder, name=folder)
            for user in listed:
                person = self.users.setdefault(user.id, user)  # an org member listed by several workspaces is one
                person.extra.setdefault(IN_WORKSPACES, []).append(space.id)
            self.workspaces.append(space)
            scopes.append(Scope(prefix, space))
        return scopes

    def _posted_in(self, prefix: str, rel: list[str]) -> str | None:
        """A workspace whose users.json names no member: the `team` its first day file's posts were made in (that
        file is read again, and its repairs counted, as its conversation streams; one unreadable here is
        quarantined then)."""
        first = next((n for n in sorted(rel) if n.startswith(prefix) and self._day_folder(n)), None)
        try:
            return posted_team(_decode_json(self._tree.read(self._prefix + first))[0]) if first else None
        except (ValueError, OSError, zipfile.BadZipFile):
            return None

    def _find_root(self, names: list[str]) -> str:
        """Exports re-zipped from a folder carry one extra top-level folder: look inside it."""
        if "users.json" in names or "channels.json" in names:
            return ""
        roots = {
            n.rsplit("/", 1)[0] for n in names if n.count("/") == 1 and n.endswith(("/users.json", "/channels.json"))
        }
        return f"{roots.pop()}/" if len(roots) == 1 else ""

    def _read_json(self, name: str) -> Any:
        """Read a file of the export, noting the strings repaired in it; the caller decides what an error means
        (a broken required file is fatal, a broken day file is quarantined)."""
        value, repaired = _decode_json(self._tree.read(self._prefix + name))
        self.repaired.add(name, repaired)
        return value

    def _read_list(self, name: str, wrapper: str, *, required: bool) -> list[Any]:
        """A JSON array, or an API response wrapping it (`{"members": [...]}`)."""
        try:
            data = self._read_json(name)
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            if required:
                raise SourceError(f"{self.location}: {name} is {describe(exc)}; export the workspace again") from exc
            self.quarantine.append(Quarantined(name, f"{describe(exc)}; its entries are not read"))
            return []
        if isinstance(data, dict) and isinstance(data.get(wrapper), list):
            data = data[wrapper]
        if not isinstance(data, list):
            message = f"{name} is a JSON {type(data).__name__}, not a list"
            if required:
                raise SourceError(f"{self.location}: {message}; export the workspace again")
            self.quarantine.append(Quarantined(name, f"{message}; its entries are not read"))
            return []
        return data

    def _workspace(self, rel: list[str]) -> Workspace:
        """Slack exports do not name the workspace; team_info.json does when someone added it."""
        stem = Path(self.location.rstrip("/")).name
        name = re.split(r"\s+Slack export", stem, maxsplit=1)[0].removesuffix(".zip") or "Slack workspace"
        if "team_info.json" in rel:
            try:
                team = self._read_json("team_info.json").get("team", {})
                return Workspace(id=str(team.get("id", "")), name=team.get("name") or name, domain=team.get("domain"))
            except (ValueError, OSError, AttributeError, zipfile.BadZipFile) as exc:
                self.quarantine.append(Quarantined("team_info.json", f"{describe(exc)}; workspace named {name!r}"))
        if self._grid:  # the organisation: its people's enterprise names it
            orgs = Counter(
                (str(e.get("enterprise_id") or ""), str(e.get("enterprise_name") or name))
                for u in self.users.values()
                if isinstance(e := u.extra.get("enterprise_user"), dict)
            )
            org_id, org_name = orgs.most_common(1)[0][0] if orgs else ("", name)
            return Workspace(id=org_id, name=org_name)
        team_ids = Counter(u.extra.get("team_id") for u in self.users.values() if u.extra.get("team_id"))
        return Workspace(id=str(team_ids.most_common(1)[0][0]) if team_ids else "", name=name)

    def _user_list(self, name: str, *, required: bool) -> list[User]:
        """The people one users list holds (users.json, org_users.json, a Grid workspace's users.json)."""
        users: list[User] = []
        for index, raw in enumerate(self._read_list(name, "members", required=required)):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                self.quarantine.append(Quarantined(name, "user entry without an id; not read", index))
                continue
            profile = raw.get("profile")
            if not isinstance(profile, dict):
                profile = {}
            user = User(
                id=raw["id"],
                name=str(raw.get("name") or ""),
                real_name=str(raw.get("real_name") or profile.get("real_name") or ""),
                display_name=str(profile.get("display_name") or ""),
                email=_email(profile),
                is_bot=bool(raw.get("is_bot")) or raw["id"] == _SLACKBOT,
                deleted=bool(raw.get("deleted")),
                is_guest=bool(raw.get("is_restricted") or raw.get("is_ultra_restricted")),
                extra={k: v for k, v in raw.items() if k not in {"id", "name", "real_name", "deleted", "is_bot"}},
            )
            users.append(user)
        return users

    def _add_fetched_emails(self, emails: dict[str, str]) -> None:
        """People without an email in the export get the one the fetch found, marked as coming from it."""
        for user in self.users.values():
            found = emails.get(user.id)
            if user.email is None and found and _EMAIL.fullmatch(found):
                user.email = found
                user.extra[FROM_FETCH] = True

    def raw_users(self) -> list[dict[str, Any]]:
        """The people as the export has them (Slack tokens masked), for `migrator fetch` to add emails to: users.json,
        or in an org-wide export every users list read, one entry per id (the first list's)."""
        people: dict[Any, dict[str, Any]] = {}
        for name in self._user_files:
            for raw in self._read_list(name, "members", required=not self._grid):
                if isinstance(raw, dict):
                    people.setdefault(raw.get("id"), raw)
        return list(people.values())

    def _read_conversations(
        self, scopes: list[Scope], days: dict[str, list[str]]
    ) -> tuple[list[Conversation], dict[str, list[str]]]:
        """Every level's conversations, each once, and the day folders each claims (a folder belongs to one).

        A conversation is identified by its id: a multi-workspace channel an org-wide export lists at its top and
        in a workspace's channels.json is one conversation (the first listing's entry, the org's), whose day files
        are read from every folder it has."""
        conversations: dict[str, Conversation] = {}
        folders: dict[str, list[str]] = defaultdict(list)
        unclaimed = set(days)
        for scope in scopes:
            listed: set[str] = set()
            for name, kind, required in _CONVERSATION_FILES:
                path, must = scope.prefix + name, required and not scope.prefix  # a workspace's: quarantined
                if not must and not self._tree_has(path):
                    continue
                for index, raw in enumerate(self._read_list(path, "channels", required=must)):
                    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                        self.quarantine.append(Quarantined(path, "conversation entry without an id; not read", index))
                        continue
                    if raw["id"] in listed:
                        self.quarantine.append(
                            Quarantined(path, f"conversation {raw['id']} is listed twice; second entry not read", index)
                        )
                        continue
                    listed.add(raw["id"])
                    conv = conversations.setdefault(raw["id"], self._conversation(raw, kind, scope))
                    for folder in (scope.prefix + conv.name, scope.prefix + raw["id"]):
                        if folder in unclaimed:
                            folders[conv.id].append(folder)
                            unclaimed.discard(folder)  # one folder belongs to one conversation
                            break
        return list(conversations.values()), dict(folders)

    def _tree_has(self, name: str) -> bool:
        return self._prefix + name in self._names

    def _conversation(self, raw: dict[str, Any], kind: ConversationKind, scope: Scope) -> Conversation:
        if kind is ConversationKind.PRIVATE and raw.get("is_mpim"):
            kind = ConversationKind.GROUP_DM  # old exports list group DMs in groups.json
        members = raw.get("members")
        members = members if isinstance(members, list) else []
        pins = raw.get("pins")
        pins = pins if isinstance(pins, list) else []
        properties = raw.get("properties")
        canvas = properties.get("canvas") if isinstance(properties, dict) else None
        return Conversation(
            id=raw["id"],
            name=str(raw.get("name") or raw["id"]),
            kind=kind,
            members=tuple(dict.fromkeys(str(m) for m in members)),  # a DM with yourself lists you twice
            created_us=_seconds_to_micros(raw.get("created")),
            creator=raw.get("creator") or None,
            topic=_text_of(raw.get("topic")),
            purpose=_text_of(raw.get("purpose")),
            is_general=bool(raw.get("is_general")),
            archived=bool(raw.get("is_archived")),
            pins=tuple(str(p.get("id")) for p in pins if isinstance(p, dict) and p.get("id")),
            canvas_id=canvas.get("file_id") if isinstance(canvas, dict) else None,
            workspace=scope.workspace.id if scope.workspace else "",
            extra={
                k: v
                for k, v in raw.items()
                if k
                not in {
                    "id",
                    "name",
                    "members",
                    "created",
                    "creator",
                    "topic",
                    "purpose",
                    "is_general",
                    "is_archived",
                    "pins",
                }
            },
        )

    def _days_by_folder(self, rel: list[str]) -> dict[str, list[str]]:
        """Day files per conversation folder (`teams/NAME/{folder}` in a Grid workspace), outside refused folders."""
        by_folder: dict[str, list[str]] = defaultdict(list)
        for name in rel:
            folder = self._day_folder(name)
            if folder is not None and not self._refused_name(name):
                by_folder[folder].append(name)
        return by_folder

    def _day_folder(self, name: str) -> str | None:
        """The conversation folder of a day file, whether or not a conversation claims it; None for other files."""
        folder = day_folder(name, self._grid)
        return None if folder is None or folder.split("/", 1)[0] in _NOT_CONVERSATIONS else folder

    def _refused_name(self, name: str) -> bool:
        return bool(self._refused) and name.startswith(self._refused)

    def _index_days(self, days: dict[str, list[str]]) -> dict[str, list[str]]:
        """Each conversation's day files in date order, over all its folders; folders nobody claims are
        quarantined, not skipped."""
        claimed = {folder for folders in self._folders.values() for folder in folders}
        for folder in sorted(set(days) - claimed):
            self.quarantine.append(
                Quarantined(
                    f"{folder}/",
                    f"folder with {counted(len(days[folder]), 'day file')} has no entry in channels.json, groups.json, "
                    "mpims.json or dms.json, so nobody knows who may read it; not read. Add the conversation "
                    "to the right list or remove the folder",
                )
            )
        return {
            conv: sorted(
                (name for folder in folders for name in days[folder]), key=lambda n: (PurePosixPath(n).stem, n)
            )
            for conv, folders in self._folders.items()
        }

    def _index_uploads(self, rel: list[str]) -> dict[str, dict[str, str]]:
        uploads: dict[str, dict[str, str]] = defaultdict(dict)
        for name in rel:
            if _is_upload(name):
                _, file_id, leaf = name.split("/")
                uploads[file_id][leaf] = name
        return dict(uploads)

    def _read_canvases(self, rel: list[str]) -> list[File]:
        if "canvases.json" not in rel:
            return []
        entries = self._read_list("canvases.json", "canvases", required=False)
        return [self._file(raw) for raw in entries if isinstance(raw, dict)]

    def _list_ignored(self, rel: list[str]) -> None:
        """Everything no stage reads is listed, grouped by top-level entry (by workspace folder in a Grid export)."""
        groups: dict[str, int] = defaultdict(int)
        for name in rel:
            if name in _TOP_LEVEL_READ or self._day_folder(name) or _is_upload(name) or self._refused_name(name):
                continue
            if self._grid and name.startswith(f"{TEAMS}/"):
                _, workspace, rest = name.split("/", 2)
                if rest not in _WORKSPACE_READ:
                    top, slash, _ = rest.partition("/")
                    groups[f"{TEAMS}/{workspace}/{top}{slash}"] += 1
                continue
            top, slash, _ = name.partition("/")
            groups[top + slash] += 1
        for path, count in sorted(groups.items()):
            self.ignored.append(Ignored(path, _unread_reason(path), count))

    # --- the Source interface -------------------------------------------

    def conversations(self) -> list[Conversation]:
        return list(self._conversations)

    def canvases(self) -> list[File]:
        return list(self._canvases)

    def days(self, conversation: Conversation) -> Iterator[Day]:
        for name in self._day_files.get(conversation.id, []):
            day = self._read_day(conversation.id, name)
            if day is not None:
                yield day

    def open_file(self, file: File) -> IO[bytes]:
        if file.extra.get(FROM_FETCH):
            return Path(member_of(file)).open("rb")
        return self._tree.open(self._prefix + member_of(file))

    # --- day files and messages -----------------------------------------

    def _read_day(self, conversation_id: str, name: str) -> Day | None:
        try:
            data = self._read_json(name)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            self.quarantine.append(Quarantined(name, f"{describe(exc)}; fix or re-export this day file"))
            return None
        if isinstance(data, dict) and "ts" in data:
            data = [data]  # some tools write a day holding one message as a bare object
        if not isinstance(data, list):
            self.quarantine.append(Quarantined(name, f"a JSON {type(data).__name__}, not a list of messages"))
            return None
        messages = []
        for index, raw in enumerate(data):
            try:
                message = self._message(raw, conversation_id, name)
            except Refused as exc:
                self.quarantine.append(Quarantined(name, str(exc), index))
                continue
            message.item = index
            messages.append(message)
        return Day(file=name, date=PurePosixPath(name).stem, messages=messages)

    def _message(self, raw: Any, conversation_id: str, origin: str) -> Message:
        if not isinstance(raw, dict):
            raise Refused(f"a JSON {type(raw).__name__} where a message object belongs")
        ts = raw.get("ts")
        if ts is None:
            raise Refused("message without ts (its time and identity); it cannot be placed in a timeline")
        if isinstance(ts, int) and not isinstance(ts, bool):
            ts = str(ts)
        if not isinstance(ts, str):
            raise Refused(f'ts {ts!r} is not a string like "1736478630.905399" (a number may have lost digits)')
        try:
            us = ts_to_micros(ts)
        except ValueError as exc:
            raise Refused(str(exc)) from exc
        unknown = () if raw.keys() <= _KNOWN else tuple(k for k in raw if k not in _KNOWN)
        if self._grid and (org := external_org(raw, self._own_teams)):
            raw[EXTERNAL_ORG] = org
        pop = raw.pop  # modelled fields leave the record as they are read; what stays is `extra`, not copied
        del raw["ts"]
        subtype = pop("subtype", None)
        if not isinstance(subtype, str):
            subtype = None
        text = pop("text", None)
        files, commented = (
            self._message_files(pop("files", None), pop("file", None), subtype)
            if "files" in raw or "file" in raw
            else ([], None)
        )
        edited = pop("edited", None)
        reactions = pop("reactions", None)
        # Positional, in the field order of Message: called with keywords, a class builds a dict of them on every
        # call. cachegrind on the bench's transform workload (20 channels, 20,000 plain messages): keywords take
        # 4,457M instructions against 4,276M positional, 4.2% of the stage, above the 3% a speed trick must save.
        return Message(
            ts,
            us,
            conversation_id,
            origin,
            str_or_none(pop("user", None)) or _commenter(raw, subtype),  # user
            str_or_none(pop("bot_id", None)),  # bot_id
            str_or_none(pop("username", None))
            or (self._apps.get(raw["app_id"]) if "app_id" in raw and "bot_profile" not in raw else None),  # username
            text if isinstance(text, str) else None,  # text
            dicts(pop("blocks", None)),  # blocks
            files,
            str_or_none(pop("thread_ts", None)),  # thread_ts
            subtype,
            subtype in SYSTEM_SUBTYPES,  # system
            _reactions(reactions) if reactions else [],  # reactions
            Edit(user=str_or_none(edited.get("user")), ts=str(edited.get("ts")))
            if isinstance(edited, dict)
            else None,  # edited
            dicts(pop("attachments", None)),  # attachments
            commented,  # commented_file
            raw,  # extra
            unknown,  # unknown_fields
        )

    def _message_files(self, files: Any, legacy: Any, subtype: str | None) -> tuple[list[File], File | None]:
        """Modern `files` arrays and the legacy single `file`; a comment's file is not attached to it."""
        planned = [self._file(f) for f in dicts(files)]
        if isinstance(legacy, dict):
            if subtype in {"file_comment", "file_mention"}:
                return planned, self._file(legacy)
            planned.append(self._file(legacy))
        return planned, None

    def _file(self, raw: dict[str, Any]) -> File:
        file_id = str(raw.get("id") or "")
        name = str(raw.get("name") or raw.get("title") or file_id or "file")
        status, path = self._file_status(raw, file_id, name)
        size = raw.get("size")
        return File(
            id=file_id,
            name=name,
            title=str(raw.get("title") or ""),
            mimetype=str(raw.get("mimetype") or ""),
            filetype=str(raw.get("filetype") or ""),
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            status=status,
            path=path,
            url=str_or_none(raw.get("url_private_download") or raw.get("url_private") or raw.get("permalink")),
            user=str_or_none(raw.get("user")),
            created_us=_seconds_to_micros(raw.get("created")),
            extra={
                k: v
                for k, v in raw.items()
                if k not in {"id", "name", "title", "mimetype", "filetype", "size", "user", "created"}
            },
        )

    def _file_status(self, raw: dict[str, Any], file_id: str, name: str) -> tuple[FileStatus, str | None]:
        mode = raw.get("mode")
        if mode in {"tombstone", "hidden_by_limit"}:
            return FileStatus.DELETED, None
        if mode == "external" or raw.get("is_external"):
            return FileStatus.EXTERNAL, None
        stored = self._uploads.get(file_id, {})
        if name in stored:
            return FileStatus.AVAILABLE, stored[name]
        if len(stored) == 1:  # exporters sometimes sanitise the file name
            return FileStatus.AVAILABLE, next(iter(stored.values()))
        fetched = self._fetch.file(file_id, name) if self._fetch is not None and file_id else None
        if fetched is not None:
            raw[FROM_FETCH] = True  # kept in the file's extra: open_file reads it from the fetch folder
            return FileStatus.AVAILABLE, str(fetched)
        return FileStatus.MISSING, None


def _app_names(logs: list[Any]) -> dict[str, str]:
    """The apps integration_logs.json names by id: a bot post without a username or bot_profile is linked to
    its app only by its `app_id`."""
    return {
        str(entry["app_id"]): str(entry.get("app_type") or entry.get("service_type"))
        for entry in logs
        if isinstance(entry, dict) and entry.get("app_id") and (entry.get("app_type") or entry.get("service_type"))
    }


def _commenter(raw: dict[str, Any], subtype: str | None) -> str | None:
    """Who wrote a legacy file comment: exports before 2019 leave out its top-level `user`, the author is
    `comment.user` (the message's text then names them, and nothing else does)."""
    comment = raw.get("comment")
    if subtype != "file_comment" or not isinstance(comment, dict):
        return None
    return str_or_none(comment.get("user"))


def _unread_reason(path: str) -> str:
    """Why a file of the export is not read, for `ignored`."""
    if path.startswith("__MACOSX"):
        return "macOS archive metadata"
    if path.startswith(f"{TEAMS}/") and path.split("/", 2)[2].rstrip("/") in _TOP_LEVEL_READ | {_UPLOADS}:
        return "read only at the top of an org-wide export, not in a workspace's folder"
    return "not part of the Slack export format"


def _is_upload(name: str) -> bool:
    """`__uploads/{FILE_ID}/{name}`."""
    parts = name.split("/")
    return len(parts) == 3 and parts[0] == _UPLOADS


def _reactions(value: Any) -> list[Reaction]:
    """Named reactions with their count (older exports omit `count`: the users listed are the count)."""
    return [
        Reaction(
            name=str(r["name"]),
            count=int(r.get("count") or len(r.get("users") or [])),
            users=tuple(r.get("users") or ()),
        )
        for r in dicts(value)
        if r.get("name")
    ]
