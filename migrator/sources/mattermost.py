"""Read a Mattermost bulk export (`mmctl export create --attachments`) into the source model.

The export is a zip holding one JSONL file (`version`, `team`, `channel`,
`user`, `bot`, `post`, `direct_channel`, `direct_post` lines, in that order)
and a `data/` folder with the files posts attach by `path`. Threads are a
post with its `replies` inside it, so every reply's root is known as it is
read. Users are known by username (posts name their author that way), which
is also their id in the model; the email is on the `user` line.

Channels are `team.channel` (Mattermost names allow neither dot nor space, so
the id is unambiguous); direct and group messages are `dm:` and their sorted
members. A line that cannot be used is quarantined with its line number.
"""

from __future__ import annotations

import mimetypes
from collections import Counter, defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

from migrator.model import (
    Conversation,
    ConversationKind,
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
)
from migrator.sources.archive import ExportTree, ZipLimits
from migrator.sources.common import (
    MARKDOWN,
    TEXT_FORMAT,
    Refused,
    Spooled,
    SpooledExport,
    dicts,
    member_format,
    micros_to_ts,
    ms_to_micros,
    open_export,
    read_json_lines,
    str_or_none,
)
from migrator.sources.products import product

_DATA = "data/"
_CHANNEL_KINDS = {"O": ConversationKind.PUBLIC, "P": ConversationKind.PRIVATE}
# Line types the model has no use for: listed as not migrated, with their count.
_NOT_MIGRATED = {
    "scheme": "permission schemes are Mattermost configuration",
    "emoji": "custom emoji images; messages keep their :name:",
    "role": "roles are Mattermost configuration",
}
_POST_FIELDS = {
    "user",
    "type",
    "message",
    "props",
    "create_at",
    "edit_at",
    "flagged_by",
    "reactions",
    "attachments",
    "is_pinned",
    "replies",
    "team",
    "channel",
    "channel_members",
    "thread_followers",
}


class MattermostExport(SpooledExport):
    """A Mattermost bulk export opened for streaming; implements `migrator.model.Source`."""

    kind = "mattermost"

    def _open_tree(self, path: Path, limits: ZipLimits) -> ExportTree:
        return open_export(path, self.kind, ".jsonl", limits, product(self.kind).export)

    # --- opening: one pass over the JSONL into the spool -------------------

    def _load(self) -> None:
        names = self._tree.names()
        lines = [n for n in names if n.endswith(".jsonl")] or [
            n for n in names if n.endswith(".json") and member_format(self._tree, n) == self.kind
        ]  # mmctl writes the name it is given: export.json is a bulk export too
        if len(lines) != 1:
            found = f"{len(lines)} JSONL files ({', '.join(lines)})" if lines else "no JSONL file"
            raise SourceError(
                f"{self.location}: {found}, so this is not one Mattermost bulk export (mmctl export create writes a "
                "zip "
                "with one .jsonl file and a data/ folder); give the zip as downloaded with mmctl export download"
            )
        self._jsonl = lines[0]
        root = self._jsonl.rpartition("/")[0]
        self._prefix = f"{root}/" if root else ""
        self._names = set(names)
        self._teams: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._members: dict[str, list[str]] = defaultdict(list)
        self._pins: dict[str, list[str]] = defaultdict(list)
        self._skipped_types: Counter[str] = Counter()
        self._attached: set[str] = set()
        self._seen_version = False
        with self._tree.open(self._jsonl) as handle:
            for number, value in read_json_lines(handle, self._jsonl, self.repaired):
                try:
                    self._line(number, value)
                except Refused as exc:
                    self.quarantine.append(Quarantined(self._jsonl, str(exc), number, exc.conversation))
                    self._refuse_replies(number, value, exc)
        if not self._seen_version:
            raise SourceError(
                f"{self.location}: {self._jsonl} has no version line, so it is not a Mattermost bulk export "
                '(its first line is {"type": "version", "version": 1}); export again with mmctl export create'
            )
        self.workspace = self._workspace()
        self._conversations = [self._conversation(cid, raw) for cid, raw in self._channels.items()]
        self._list_ignored(names)

    def _line(self, number: int, value: Any) -> None:
        if isinstance(value, Refused):
            raise value
        if not isinstance(value, dict) or not isinstance(value.get("type"), str):
            raise Refused('a line without a "type"; every bulk export line names its type')
        kind = value["type"]
        if number == 1 or kind == "version":
            self._version(value)
            return
        body = value.get(kind)
        if kind in _NOT_MIGRATED or not isinstance(body, dict):
            self._skipped_types[kind] += 1
            if not isinstance(body, dict) and kind not in _NOT_MIGRATED:
                raise Refused(f"a {kind!r} line without its {kind!r} object")
            return
        handler = {
            "team": self._team,
            "channel": self._channel,
            "user": self._user,
            "bot": self._bot,
            "post": self._post,
            "direct_channel": self._direct_channel,
            "direct_post": self._post,
        }.get(kind)
        if handler is None:
            self._skipped_types[kind] += 1
            return
        handler(number, body)

    def _refuse_replies(self, number: int, value: Any, refused: Refused) -> None:
        """The replies inside a post refused whole go with it, each quarantined as a record of its own (by its
        place `LINE.REPLY`, as a spooled reply is named), so the ledger counts every record the line holds."""
        post = value.get(value.get("type")) if isinstance(value, dict) and isinstance(value.get("type"), str) else None
        if not isinstance(post, dict) or value["type"] not in {"post", "direct_post"}:
            return
        replies = post.get("replies")
        for index in range(len(replies) if isinstance(replies, list) else 0):
            self.quarantine.append(
                Quarantined(
                    self._jsonl,
                    f"reply {index + 1} of a post refused ({refused})",
                    number,
                    refused.conversation,
                    f"{number}.{index}",
                )
            )

    def _version(self, value: dict[str, Any]) -> None:
        if value.get("type") != "version" or value.get("version") != 1:
            raise SourceError(
                f'{self.location}: {self._jsonl} line 1 is not {{"type": "version", "version": 1}}, so this is not a '
                "Mattermost bulk export this reader knows; export again with mmctl export create"
            )
        self._seen_version = True

    def _team(self, number: int, team: dict[str, Any]) -> None:
        name = _required_name(team, "name")
        self._teams[name] = team

    def _channel(self, number: int, channel: dict[str, Any]) -> None:
        team, name = _required_name(channel, "team"), _required_name(channel, "name")
        if channel.get("type") not in _CHANNEL_KINDS:
            raise Refused(f"channel {name!r} has type {channel.get('type')!r}, not O (open) or P (private)")
        self._channels[f"{team}.{name}"] = channel

    def _user(self, number: int, user: dict[str, Any]) -> None:
        username = _required_name(user, "username")
        full = " ".join(str(user.get(k) or "") for k in ("first_name", "last_name")).strip()
        email = str_or_none(user.get("email"))
        self.users[username] = User(
            id=username,
            name=username,
            real_name=full,
            display_name=str(user.get("nickname") or ""),
            email=email.strip() if email and "@" in email else None,
            deleted=bool(user.get("delete_at")),
            is_guest="system_guest" in str(user.get("roles") or ""),
            extra={k: v for k, v in user.items() if k not in {"username", "email", "teams"}},
        )
        for team in dicts(user.get("teams")):
            for channel in dicts(team.get("channels")):
                self._members[f"{team.get('name')}.{channel.get('name')}"].append(username)

    def _bot(self, number: int, bot: dict[str, Any]) -> None:
        username = _required_name(bot, "username")
        self.users[username] = User(
            id=username,
            name=username,
            display_name=str(bot.get("display_name") or ""),
            is_bot=True,
            deleted=bool(bot.get("delete_at")),
            extra={k: v for k, v in bot.items() if k != "username"},
        )

    def _direct_channel(self, number: int, channel: dict[str, Any]) -> None:
        members = _direct_members(channel)
        self._channels.setdefault(_direct_id(members), {**channel, "_members": members})

    def _post(self, number: int, post: dict[str, Any]) -> None:
        if "channel_members" in post:
            members = _direct_members(post, "channel_members")
            conversation = _direct_id(members)
            self._channels.setdefault(conversation, {"_members": members})
        else:
            conversation = f"{_required_name(post, 'team')}.{_required_name(post, 'channel')}"
            if conversation not in self._channels:
                raise Refused(
                    f"post in channel {conversation!r}, which no channel line defines; "
                    "export the whole team so its channels come with it"
                )
        try:
            us = ms_to_micros(post.get("create_at"))
        except Refused as exc:
            raise Refused(str(exc), conversation) from exc
        root_id = str(number)
        self._spool.add(
            conversation, root_id, us, {k: v for k, v in post.items() if k != "replies"}, self._jsonl, number
        )
        self._note_post(conversation, post, us)
        for index, reply in enumerate(post.get("replies") or []):
            try:
                if not isinstance(reply, dict):
                    raise Refused(f"a JSON {type(reply).__name__} where a reply object belongs")
                reply_us = ms_to_micros(reply.get("create_at"))
            except Refused as exc:
                self.quarantine.append(
                    Quarantined(self._jsonl, f"reply {index + 1}: {exc}", number, conversation, f"{number}.{index}")
                )
                continue
            self._spool.add(conversation, f"{number}.{index}", reply_us, reply, self._jsonl, number, root_id=root_id)
            self._note_post(conversation, reply, reply_us)

    def _note_post(self, conversation: str, post: dict[str, Any], us: int) -> None:
        if post.get("is_pinned"):
            self._pins[conversation].append(micros_to_ts(us))
        self._attached.update(str(a.get("path")) for a in dicts(post.get("attachments")))

    def _workspace(self) -> Workspace:
        """Teams become one workspace: the first team's names, or the export's file name."""
        if self._teams:
            name, team = next(iter(self._teams.items()))
            return Workspace(id=name, name=str(team.get("display_name") or name))
        stem = Path(self.location.rstrip("/")).stem
        return Workspace(id="", name=stem or "Mattermost")

    def _conversation(self, conversation_id: str, raw: dict[str, Any]) -> Conversation:
        pins = tuple(self._pins.get(conversation_id, ()))
        if "_members" in raw:
            members = tuple(raw["_members"])
            kind = ConversationKind.DM if len(members) <= 2 else ConversationKind.GROUP_DM
            return Conversation(
                id=conversation_id,
                name=", ".join(members),
                kind=kind,
                members=members,
                topic=str(raw.get("header") or ""),
                pins=pins,
                extra={k: v for k, v in raw.items() if k not in {"_members", "members", "participants"}},
            )
        return Conversation(
            id=conversation_id,
            name=str(raw.get("display_name") or raw["name"]),
            kind=_CHANNEL_KINDS[raw["type"]],
            members=tuple(dict.fromkeys(self._members.get(conversation_id, ()))),
            topic=str(raw.get("header") or ""),
            purpose=str(raw.get("purpose") or ""),
            is_general=raw["name"] == "town-square",
            archived=bool(raw.get("deleted_at")),
            pins=pins,
            extra={k: v for k, v in raw.items() if k not in {"display_name", "type", "header", "purpose"}},
        )

    def _list_ignored(self, names: list[str]) -> None:
        """Line types not migrated, and files no post attaches, are listed with their counts."""
        for kind, count in sorted(self._skipped_types.items()):
            reason = _NOT_MIGRATED.get(kind, "not a line type of the Mattermost bulk export format")
            self.ignored.append(Ignored(f"{self._jsonl} ({kind} lines)", reason, count))
        referenced = {self._member(path) for path in self._attached}
        unread: Counter[str] = Counter()
        for name in names:
            if name != self._jsonl and name not in referenced:
                top, slash, _ = name[len(self._prefix) :].partition("/")
                unread[top + slash] += 1
        for path, count in sorted(unread.items()):
            self.ignored.append(
                Ignored(
                    path,
                    "files no post attaches" if path == _DATA else "not part of the Mattermost bulk export format",
                    count,
                )
            )

    def _member(self, path: str) -> str | None:
        """The export member an attachment `path` names: the import tool reads it from `data/`."""
        for candidate in (path, _DATA + path):
            if self._prefix + candidate in self._names:
                return self._prefix + candidate
        return None

    # --- the Source interface -------------------------------------------

    def conversations(self) -> list[Conversation]:
        return list(self._conversations)

    # --- messages --------------------------------------------------------

    def _message(self, record: Spooled, conversation_id: str) -> Message:
        post: dict[str, Any] = record.payload
        ts = micros_to_ts(record.us)
        user = str_or_none(post.get("user"))
        edit_at = post.get("edit_at")
        subtype = str_or_none(post.get("type"))
        props = post.get("props")
        props = props if isinstance(props, dict) else {}
        return Message(
            ts=ts,
            us=record.us,
            conversation_id=conversation_id,
            origin=record.origin,
            item=record.item,
            user=user,
            text=post.get("message") if isinstance(post.get("message"), str) else None,
            files=[self._file(a, user) for a in dicts(post.get("attachments"))],
            id=record.record_id,
            thread_ts=micros_to_ts(record.root_us) if record.root_us is not None else None,
            thread_id=record.root_id,
            subtype=subtype,
            system=bool(subtype and subtype.startswith("system_")),
            reactions=_reactions(post.get("reactions")),
            edited=Edit(user=user, ts=micros_to_ts(edit_at * 1000))
            if isinstance(edit_at, int) and edit_at > 0
            else None,
            attachments=dicts(props.get("attachments")),
            extra={
                TEXT_FORMAT: MARKDOWN,
                **{
                    k: v
                    for k, v in post.items()
                    if k not in {"user", "message", "attachments", "reactions", "type", "create_at"}
                },
            },
            unknown_fields=tuple(k for k in post if k not in _POST_FIELDS),
        )

    def _file(self, attachment: dict[str, Any], user: str | None) -> File:
        path = str(attachment.get("path") or "")
        member = self._member(path) if path else None
        name = PurePosixPath(path).name or "file"
        return File(
            id=path,
            name=name,
            title=name,
            mimetype=mimetypes.guess_type(name)[0] or "",
            filetype=PurePosixPath(name).suffix.lstrip("."),
            status=FileStatus.AVAILABLE if member else FileStatus.MISSING,
            path=member,
            user=user,
            extra={k: v for k, v in attachment.items() if k != "path"},
        )


def _required_name(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise Refused(f"no {key!r}; the bulk export always names it")
    return value


def _direct_members(raw: dict[str, Any], key: str = "members") -> list[str]:
    """Usernames of a direct or group channel; newer exports write `participants` objects instead of `members`."""
    members = raw.get(key)
    if members is None and key == "members":
        members = [p.get("username") for p in dicts(raw.get("participants"))]
    if not isinstance(members, list) or not members or not all(isinstance(m, str) and m for m in members):
        raise Refused(f"direct message without its {key} (the usernames taking part)")
    return sorted(set(members))


def _direct_id(members: list[str]) -> str:
    return "dm:" + ",".join(members)


def _reactions(value: Any) -> list[Reaction]:
    """One `Reaction` per emoji, from Mattermost's one entry per person, with when each reacted (`create_at`)."""
    users: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
    for reaction in dicts(value):
        if reaction.get("emoji_name"):
            at = reaction.get("create_at")
            when = at if isinstance(at, int) and not isinstance(at, bool) and at > 0 else None
            users[str(reaction["emoji_name"])].append((str(reaction.get("user") or ""), when))
    return [
        Reaction(
            name=name,
            count=len(who),
            users=tuple(w for w, _ in who if w),
            times=tuple(t for w, t in who if w),
        )
        for name, who in users.items()
    ]
