"""Read an archive written by our own `migrator export` into the source model (tenant to tenant).

The layout is `migrator.stages.export.archive`'s: per exported target (a team,
or one user's chats) a folder `teams/{team}/` or `users/{user}/` holding one
JSONL file of Graph chatMessage objects per channel or chat, `meta.json` (the
target's and its conversations' names and kinds, and the people seen with
their email), and the inline images under `hostedContents/{conversation}/{message}/`.

A file can hold several versions of one message (an edit or a deletion
appends a line), and a chat exported for each of its members appears once per
member: the spool keys records by (conversation, message id) and keeps the
newest `lastModifiedDateTime`, so every message is read once, as it is now.

Bodies stay HTML (`TEXT_FORMAT` html): transform keeps them, sanitised, with
their inline images re-hosted and mentions shown as the mapped person's name.
People are keyed by their Entra object id in the source tenant; `map` matches
them by the email the export recorded.
"""

from __future__ import annotations

import mimetypes
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
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
from migrator.sources.archive import ExportTree, ZipLimits, open_tree
from migrator.sources.common import (
    HTML,
    PLACEHOLDER_REASON,
    PLAIN,
    TEXT_FORMAT,
    Refused,
    Repairs,
    Spooled,
    SpooledExport,
    dicts,
    emoji_name,
    iso_to_micros,
    loads_repaired,
    micros_to_ts,
    read_json_lines,
    str_or_none,
)
from migrator.sources.products import product

_TARGET = re.compile(r"^(?P<root>(?:[^/]+/)*?(?:teams|users)/[^/]+)/(?P<rest>.+)$")
_HOSTED = re.compile(r"""/hostedContents/([^/\s"'<>]+)/\$value""")
# What the export itself writes beside the conversations: derived from the JSONL or about the run, not content.
_RUN_FILES = {
    "attachments.csv": "the attachment list, rebuilt from the JSONL files",
    "state.json": "the export's resume state",
    "export-summary.json": "the export run's summary",
    "export.log": "the export run's log",
    ".export.lock": "the export run's lock",
    "index.html": "the browsable archive (built from the JSONL files)",
    "search.html": "the archive's search page (built from the JSONL files)",
    "files": "attached files `export --attachments download` fetched; the messages keep their links to the originals",
}
# Channel membership types and chat types (meta.json `kind`) as the model's kinds; anything else is private.
_KINDS = {
    "standard": ConversationKind.PUBLIC,
    "private": ConversationKind.PRIVATE,
    "shared": ConversationKind.PRIVATE,
    "oneOnOne": ConversationKind.DM,
    "group": ConversationKind.GROUP_DM,
    "meeting": ConversationKind.GROUP_DM,
}
# Graph's id of a 1:1 chat names its two people: 19:{user id}_{user id}@unq.gbl.spaces. Without meta.json it is how
# a 1:1 chat is told from a channel, and who its second person is when only one of them wrote.
_ONE_ON_ONE = re.compile(r"19:([0-9a-fA-F-]{36})_([0-9a-fA-F-]{36})@unq\.gbl\.spaces")
# Teams' classic reaction names; newer exports carry the emoji itself.
_REACTIONS = {
    "like": "+1",
    "heart": "heart",
    "laugh": "laughing",
    "surprised": "open_mouth",
    "sad": "cry",
    "angry": "angry",
}
_MESSAGE_FIELDS = {
    "id",
    "replyToId",
    "etag",
    "messageType",
    "createdDateTime",
    "lastModifiedDateTime",
    "lastEditedDateTime",
    "deletedDateTime",
    "subject",
    "summary",
    "chatId",
    "channelIdentity",
    "importance",
    "locale",
    "webUrl",
    "from",
    "body",
    "attachments",
    "mentions",
    "reactions",
    "eventDetail",
    "policyViolation",
    "messageHistory",
    "onBehalfOf",
    "@odata.type",
    "@odata.context",
}
_SYSTEM_TYPES = {"systemEventMessage", "unknownFutureValue"}
_ROOT = "_root"  # the target folder a record came from, to find its images
# A deleted message keeps its place (replies may belong to it) as an event: its content is gone from the export.
DELETED = "a message deleted in Teams at {when}; its content is not in the export"


@dataclass(slots=True)
class _Target:
    root: str
    meta: dict[str, Any]


class TeamsExport(SpooledExport):
    """A `migrator export` folder or zip opened for streaming; implements `migrator.model.Source`."""

    kind = "teams"

    def _open_tree(self, path: Path, limits: ZipLimits) -> ExportTree:
        return open_tree(path, limits, product(self.kind).export)

    # --- opening: every conversation file once, into the spool ---------------

    def _load(self) -> None:
        # The exporter's own layout; imported here because the export package pulls in the Graph client.
        from migrator.stages.export.archive import IMAGES_DIR, META_FILE, safe_name
        from migrator.stages.export.files import FILES_DIR

        self._safe = safe_name
        self._meta_file = META_FILE
        self._images_dir = images = IMAGES_DIR + "/"
        names = self._tree.names()
        self._names = set(names)
        self._conversations: dict[str, dict[str, Any]] = {}  # id -> what meta.json and the messages say
        self._members: dict[str, dict[str, None]] = defaultdict(dict)
        self._target_people: dict[str, dict[str, None]] = defaultdict(dict)  # everyone a target's messages or meta name
        self._images: dict[str, str] = {}  # image member without its extension -> member
        targets: dict[str, _Target] = {}
        unread: Counter[str] = Counter()
        for name in names:
            match = _TARGET.match(name)
            if match is None:
                unread[_top(name)] += 1
                continue
            root, rest = match.group("root"), match.group("rest")
            if root not in targets:
                targets[root] = _Target(root, self._read_meta(root))
            if rest.endswith(".jsonl") and "/" not in rest:
                self._read_conversation(targets[root], name)
            elif rest.startswith(images):
                self._images[name.rpartition(".")[0]] = name
            elif rest.startswith(f"{FILES_DIR}/"):
                unread[f"{root}/{FILES_DIR}"] += 1
            elif rest != META_FILE:
                unread[f"{root}/{rest}" if rest in _RUN_FILES or rest.endswith(".html") else _top(name)] += 1
        if not self._conversations:
            raise SourceError(
                f"{self.location}: no conversation file (teams/TEAM/CHANNEL.jsonl or users/USER/CHAT.jsonl), so this "
                "is not an archive written by `migrator export`; export the team or the users' chats again"
            )
        for target in targets.values():
            self._people(target)
        self._one_team = len(targets) == 1 and _is_team(next(iter(targets)))
        for path, count in sorted(unread.items()):
            reason = _RUN_FILES.get(
                PurePosixPath(path).name,
                "a conversation page of the browsable archive"
                if path.endswith(".html")
                else "not part of a `migrator export` archive",
            )
            self.ignored.append(Ignored(path, reason, count))
        teams = [t.meta.get("name") for t in targets.values() if t.meta.get("kind") == "team" and t.meta.get("name")]
        self.workspace = Workspace(id="", name=str(teams[0]) if teams else "Microsoft Teams")

    def _read_meta(self, root: str) -> dict[str, Any]:
        """The target's names; without them conversations are named by id and treated as private."""
        name = f"{root}/{self._meta_file}"
        if name not in self._names:
            return {}
        try:
            meta, repaired = loads_repaired(self._tree.read(name).decode("utf-8"))
            self.repaired.add(name, repaired)
        except (ValueError, OSError) as exc:
            self.quarantine.append(
                Quarantined(
                    name,
                    f"not readable JSON ({exc}); conversations of this target are "
                    "named by id and treated as private: export the target again",
                )
            )
            return {}
        return meta if isinstance(meta, dict) else {}

    def _read_conversation(self, target: _Target, name: str) -> None:
        with self._tree.open(name) as handle:
            for number, value in read_json_lines(handle, name, self.repaired):
                try:
                    self._spool_message(target, name, number, value)
                except Refused as exc:
                    self.quarantine.append(Quarantined(name, str(exc), number, exc.conversation))

    def _spool_message(self, target: _Target, origin: str, number: int, value: Any) -> None:
        if isinstance(value, Refused):
            raise value
        if not isinstance(value, dict):
            raise Refused(f"a JSON {type(value).__name__} where a chatMessage object belongs")
        identity = value.get("channelIdentity")
        identity = identity if isinstance(identity, dict) else {}
        conversation = str_or_none(identity.get("channelId")) or str_or_none(value.get("chatId"))
        message_id = value.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise Refused("chatMessage without an id", conversation)
        if conversation is None:
            raise Refused(f"message {message_id} names neither a channel (channelIdentity) nor a chat (chatId)")
        try:
            us = iso_to_micros(value.get("createdDateTime"))
            if value.get("lastEditedDateTime"):
                iso_to_micros(value["lastEditedDateTime"])  # refused now, with its line, rather than while streaming
        except Refused as exc:
            raise Refused(str(exc), conversation) from exc
        if conversation not in self._conversations:
            info = (
                target.meta.get("conversations", {}).get(conversation)
                if isinstance(target.meta.get("conversations"), dict)
                else None
            )
            self._conversations[conversation] = {
                **(info if isinstance(info, dict) else {}),
                "team": target.meta.get("name") if identity else None,
                "channel": bool(identity),
                "target": target.root,
            }
            if pair := _ONE_ON_ONE.fullmatch(conversation):
                self._conversations[conversation].setdefault("kind", "oneOnOne")
                for person in pair.groups():
                    self._members[conversation][person] = None
                    self._user(person, None)
        reply_to = str_or_none(value.get("replyToId"))
        self._quarantine_repeated(
            self._spool.add(
                conversation,
                message_id,
                us,
                {**value, _ROOT: target.root},
                origin,
                number,
                root_id=reply_to,
                version=str(value.get("lastModifiedDateTime") or ""),
            )
        )
        for person in _people_of(value):
            self._members[conversation][person["id"]] = None
            self._target_people[target.root][person["id"]] = None
            self._user(person["id"], person.get("displayName"))

    def _user(self, user_id: str, name: Any, email: Any = None, *, rename: bool = False) -> None:
        """Known people; the directory's name (`rename`) wins over the one a message showed."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = User(id=user_id, name=str(name or user_id), real_name=str(name or ""))
        if name and (rename or user.name == user_id):
            user.name = user.real_name = str(name)
        if isinstance(email, str) and "@" in email and not user.email:
            user.email = email.strip()

    def _people(self, target: _Target) -> None:
        """Names and emails the export recorded (`meta.json` `people`), so `map` can match by email."""
        people = target.meta.get("people")
        for user_id, person in people.items() if isinstance(people, dict) else []:
            if isinstance(person, dict):
                self._user(str(user_id), person.get("name"), person.get("email"), rename=True)
                self._target_people[target.root][str(user_id)] = None

    # --- the Source interface -------------------------------------------

    def conversations(self) -> list[Conversation]:
        return [self._conversation(cid, info) for cid, info in self._conversations.items()]

    def _conversation(self, conversation_id: str, info: dict[str, Any]) -> Conversation:
        """A standard channel is public only when its team is all the export holds.

        A team's channels are readable by that team's members alone; with other teams' or users' chats in the
        same export, "everyone in the export" is more people than that, so the channel is private to the
        people its team's messages name, and `map` keeps it from anyone else.
        """
        listed = info.get("members") if isinstance(info.get("members"), list) else None
        members = tuple(str(m) for m in listed) if listed else tuple(self._members.get(conversation_id, ()))
        name = str(info.get("name") or conversation_id)
        kind = _KINDS.get(str(info.get("kind")), ConversationKind.PRIVATE)
        if kind is ConversationKind.PUBLIC and not self._one_team:
            kind, members = ConversationKind.PRIVATE, tuple(self._target_people[info["target"]])
        return Conversation(
            id=conversation_id,
            name=name,
            kind=kind,
            members=members,
            is_general=bool(info.get("channel")) and name == "General",
            extra={k: v for k, v in info.items() if k not in {"name", "kind", "members"}},
        )

    # --- messages --------------------------------------------------------

    def _message(self, record: Spooled, conversation_id: str) -> Message:
        raw: dict[str, Any] = record.payload
        sender = raw.get("from")
        sender = sender if isinstance(sender, dict) else {}
        user = sender.get("user")
        user = user if isinstance(user, dict) else {}
        app = sender.get("application")
        app = app if isinstance(app, dict) else {}
        body = raw.get("body")
        body = body if isinstance(body, dict) else {}
        system = raw.get("messageType") in _SYSTEM_TYPES
        html = str(body.get("contentType") or "").lower() == "html"
        deleted = bool(raw.get("deletedDateTime"))
        edited = raw.get("lastEditedDateTime")
        extra = {k: v for k, v in raw.items() if k not in {"from", "body", "attachments", "reactions", _ROOT}}
        return Message(
            ts=micros_to_ts(record.us),
            us=record.us,
            conversation_id=conversation_id,
            origin=record.origin,
            item=record.item,
            user=str_or_none(user.get("id")),
            bot_id=str_or_none(app.get("id")),
            username=str_or_none(app.get("displayName")),
            text=_event_text(raw)
            if system
            else DELETED.format(when=raw["deletedDateTime"])
            if deleted
            else str(body.get("content") or ""),
            files=[] if deleted else self._inline_images(raw, conversation_id) + _linked_files(raw),
            id=record.record_id,
            thread_ts=self._thread_ts(raw, record),
            thread_id=record.root_id,
            subtype=_event_type(raw) if system else "deleted" if deleted else None,
            system=system or deleted,
            reactions=[] if deleted else _reactions(raw.get("reactions")),
            edited=Edit(user=str_or_none(user.get("id")), ts=micros_to_ts(iso_to_micros(edited)))
            if edited and not deleted
            else None,
            attachments=[] if deleted else _cards(raw.get("attachments"), self.repaired, record.origin),
            extra={TEXT_FORMAT: HTML if html and not (system or deleted) else PLAIN, **extra},
            unknown_fields=tuple(k for k in raw if k not in _MESSAGE_FIELDS and k != _ROOT),
        )

    def _thread_ts(self, raw: dict[str, Any], record: Spooled) -> str | None:
        """The root's ts; for a root outside the export, the time its id stands for (Teams ids are its epoch ms)."""
        reply_to = raw.get("replyToId")
        if not reply_to:
            return None
        if record.root_us is not None:
            return micros_to_ts(record.root_us)
        return micros_to_ts(int(reply_to) * 1000) if str(reply_to).isdigit() else None

    def _inline_images(self, raw: dict[str, Any], conversation_id: str) -> list[File]:
        """One file per inline image of the body, found where the exporter downloaded it."""
        body = raw.get("body")
        content = str(body.get("content") or "") if isinstance(body, dict) else ""
        folder = f"{raw[_ROOT]}/{self._images_dir}{self._safe(conversation_id)}/{self._safe(raw['id'])}/"
        files = []
        for hosted_id in dict.fromkeys(m.group(1) for m in _HOSTED.finditer(content)):
            member = self._images.get(folder + self._safe(hosted_id))
            name = PurePosixPath(member).name if member else f"{self._safe(hosted_id)}.png"
            files.append(
                File(
                    id=f"{conversation_id}/{raw['id']}/{hosted_id}",
                    name=name,
                    title=name,
                    mimetype=mimetypes.guess_type(name)[0] or "",
                    filetype=PurePosixPath(name).suffix.lstrip("."),
                    status=FileStatus.AVAILABLE if member else FileStatus.MISSING,
                    path=member,
                    extra={"hosted_content": hosted_id},
                )
            )
        return files


def _is_team(root: str) -> bool:
    return root.rpartition("/")[0].endswith("teams")


def _top(name: str) -> str:
    top, slash, _ = name.partition("/")
    return top + slash


def _people_of(raw: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The author and the people mentioned, as Graph identity objects with an id."""
    sender = raw.get("from")
    user = sender.get("user") if isinstance(sender, dict) else None
    if isinstance(user, dict) and isinstance(user.get("id"), str):
        yield user
    for mention in dicts(raw.get("mentions")):
        mentioned = mention.get("mentioned")
        user = mentioned.get("user") if isinstance(mentioned, dict) else None
        if isinstance(user, dict) and isinstance(user.get("id"), str):
            yield user


def _linked_files(raw: dict[str, Any]) -> list[File]:
    """Files attached by reference: their bytes live in the source tenant's SharePoint, so only the link travels."""
    files = []
    for attachment in dicts(raw.get("attachments")):
        if attachment.get("contentType") != "reference":
            continue
        name = str(attachment.get("name") or "file")
        files.append(
            File(
                id=str(attachment.get("id") or name),
                name=name,
                title=name,
                mimetype=mimetypes.guess_type(name)[0] or "",
                filetype=PurePosixPath(name).suffix.lstrip("."),
                status=FileStatus.EXTERNAL,
                url=str_or_none(attachment.get("contentUrl")),
                extra={PLACEHOLDER_REASON: "stored in the source tenant's SharePoint, only its link was exported"},
            )
        )
    return files


def _cards(value: Any, repairs: Repairs, origin: str) -> list[dict[str, Any]]:
    """Cards and quoted messages as the model's cards: a quoted reply shows who wrote what; a card its title.

    A card's content is JSON inside a string of the message, decoded only here, so its broken characters are
    repaired and counted here too, against the message's file (`origin`)."""
    cards = []
    for attachment in dicts(value):
        kind = str(attachment.get("contentType") or "")
        if kind == "reference":
            continue
        content = attachment.get("content")
        try:
            parsed, repaired = loads_repaired(content) if isinstance(content, str) else (content, 0)
        except ValueError:
            parsed, repaired = None, 0
        repairs.add(origin, repaired)
        parsed = parsed if isinstance(parsed, dict) else {}
        if kind == "messageReference":
            sender = parsed.get("messageSender")
            user = sender.get("user") if isinstance(sender, dict) else None
            cards.append(
                {
                    "author_name": str(user.get("displayName") or "") if isinstance(user, dict) else "",
                    "text": str(parsed.get("messagePreview") or ""),
                    "fallback": "a quoted message",
                }
            )
            continue
        title = parsed.get("title") or attachment.get("name") or ""
        cards.append(
            {
                "title": str(title),
                "text": str(parsed.get("text") or ""),
                "fallback": f"a card ({kind or 'unknown type'}) that Teams cannot import",
            }
        )
    return cards


def _reactions(value: Any) -> list[Reaction]:
    by_name: dict[str, list[str]] = defaultdict(list)
    for reaction in dicts(value):
        kind = str(reaction.get("reactionType") or "")
        name = _REACTIONS.get(kind) or emoji_name(kind)
        identity = reaction.get("user")
        user = identity.get("user") if isinstance(identity, dict) else None
        by_name[name or "?"].append(str(user.get("id") or "") if isinstance(user, dict) else "")
    return [Reaction(name=name, count=len(who), users=tuple(w for w in who if w)) for name, who in by_name.items()]


def _event_type(raw: dict[str, Any]) -> str:
    detail = raw.get("eventDetail")
    detail = detail if isinstance(detail, dict) else {}
    return str(detail.get("@odata.type") or "#microsoft.graph.eventMessageDetail").rpartition(".")[2]


def _event_text(raw: dict[str, Any]) -> str:
    """What a system event said, from its eventDetail: "members added: Ada Lovelace, Grace Hopper"."""
    detail = raw.get("eventDetail")
    detail = detail if isinstance(detail, dict) else {}
    if not detail:
        return "a Teams system event (the export carries no details)"
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", _event_type(raw).removesuffix("EventMessageDetail")).lower() or "event"
    names = [str((m or {}).get("displayName") or "") for m in dicts(detail.get("members"))]
    for key in (
        "channelDisplayName",
        "chatDisplayName",
        "teamDisplayName",
        "teamDescription",
        "channelDescription",
        "callDuration",
    ):
        if isinstance(detail.get(key), str) and detail[key]:
            names.append(detail[key])
    names = [n for n in names if n]
    return f"{words}: {', '.join(names)}" if names else words
