"""Read DiscordChatExporter JSON exports (one file per channel, media beside them) into the source model.

Each file is one object: `guild`, `channel` (`type`, `category`, `name`,
`topic`), `dateRange`, `messages` and `messageCount`. A channel can be large,
so the file is never loaded whole: `_JsonObject` walks the top-level keys and
hands out `messages` one element at a time.

Discord has no threads in the Slack or Teams sense: a message may `reference`
an earlier one (a reply). In Teams that becomes a reply in the thread of the
referenced message's root, so a reply to a reply joins the first message's
thread. Exported with `--media`, attachment `url`s are paths relative to the
JSON file; otherwise they point at Discord's CDN and the bytes are not in the
export. Discord accounts have no email, so every person is mapped by hand in
users.csv or goes to the fallback account.
"""

from __future__ import annotations

import io
import json
import mimetypes
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urlparse

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
    DISCORD_MARKDOWN,
    MENTION_NAMES,
    SURROGATE_ESCAPE,
    TEXT_FORMAT,
    Refused,
    Repairs,
    Spooled,
    SpooledExport,
    describe,
    dicts,
    emoji_name,
    iso_to_micros,
    micros_to_ts,
    open_export,
    repair_surrogates,
    str_or_none,
)
from migrator.sources.products import product
from migrator.words import counted

_KINDS = {
    "DirectTextChat": ConversationKind.DM,
    "DirectGroupTextChat": ConversationKind.GROUP_DM,
    "GuildPrivateThread": ConversationKind.PRIVATE,
}
_THREADS = {"GuildPublicThread", "GuildNewsThread", "GuildPrivateThread"}  # their `category` is the parent channel
# Types whose content a person (or a bot answering a command) wrote; anything else is an event (joins, pins, calls…).
_PERSON_TYPES = {"Default", "Reply", "ThreadStarterMessage", "ChatInputCommand", "ContextMenuCommand"}
# Discord's message types that DiscordChatExporter's own list lacks, which it writes as the number
# (discord.com/developers/docs/resources/message#message-object-message-types): the name, and what happened
# after the author's name, for an event whose content is empty or the number.
_NUMBERED_TYPES = {
    "8": ("GuildBoost", "{who} boosted the server"),
    "9": ("GuildBoostTier1", "{who} boosted the server, which reached level 1"),
    "10": ("GuildBoostTier2", "{who} boosted the server, which reached level 2"),
    "11": ("GuildBoostTier3", "{who} boosted the server, which reached level 3"),
    "12": ("ChannelFollowAdd", "{who} followed an announcement channel into this one"),
    "14": ("GuildDiscoveryDisqualified", "The server was removed from Server Discovery"),
    "15": ("GuildDiscoveryRequalified", "The server may be in Server Discovery again"),
    "16": ("GuildDiscoveryGracePeriodInitialWarning", "A first Server Discovery warning"),
    "17": ("GuildDiscoveryGracePeriodFinalWarning", "A last Server Discovery warning"),
    "18": ("ThreadCreated", "{who} started a thread"),
    "19": ("Reply", "{who} replied"),
    "20": ("ChatInputCommand", "{who} answered a slash command"),
    "21": ("ThreadStarterMessage", "{who} started this thread"),
    "22": ("GuildInviteReminder", "A reminder to invite people"),
    "23": ("ContextMenuCommand", "{who} answered an app command"),
    "24": ("AutoModerationAction", "AutoMod blocked or flagged a message of {who}"),
    "25": ("RoleSubscriptionPurchase", "{who} subscribed to a role"),
    "26": ("InteractionPremiumUpsell", "{who} offered an app's premium upgrade"),
    "27": ("StageStart", "{who} started a stage"),
    "28": ("StageEnd", "{who} ended the stage"),
    "29": ("StageSpeaker", "{who} became a speaker on the stage"),
    "31": ("StageTopic", "{who} changed the stage's topic"),
    "32": ("GuildApplicationPremiumSubscription", "{who} subscribed to an app's premium"),
    "36": ("GuildIncidentAlertModeEnabled", "{who} paused invites and messages from new members (raid alert)"),
    "37": ("GuildIncidentAlertModeDisabled", "{who} ended the raid alert"),
    "38": ("GuildIncidentReportRaid", "{who} reported a raid"),
    "39": ("GuildIncidentReportFalseAlarm", "{who} reported a false raid alarm"),
    "44": ("PurchaseNotification", "{who} made a purchase"),
    "46": ("PollResult", "A poll of {who} ended"),
}
_MESSAGE_FIELDS = {
    "id",
    "type",
    "timestamp",
    "timestampEdited",
    "callEndedTimestamp",
    "isPinned",
    "content",
    "author",
    "attachments",
    "embeds",
    "stickers",
    "reactions",
    "mentions",
    "reference",
    "interaction",
    "inlineEmojis",
}
_DIRECT_MESSAGES = "0"  # the guild id DiscordChatExporter gives direct messages
_CHUNK = 1 << 20
_MAX_VALUE_CHARS = 64 << 20  # one message bigger than this is a broken file, not a message


class DiscordExport(SpooledExport):
    """DiscordChatExporter JSON files opened for streaming; implements `migrator.model.Source`."""

    kind = "discord"

    def _open_tree(self, path: Path, limits: ZipLimits) -> ExportTree:
        return open_export(path, self.kind, ".json", limits, product(self.kind).export)

    # --- opening: every channel file once, into the spool ------------------

    def _load(self) -> None:
        names = self._tree.names()
        self._names = set(names)
        self._channels: dict[str, dict[str, Any]] = {}
        self._guild: dict[str, Any] = {}
        self._members: dict[str, dict[str, None]] = defaultdict(dict)
        self._pins: dict[str, list[str]] = defaultdict(list)
        self._media: set[str] = set()
        not_channels: dict[str, str] = {}
        for name in sorted(n for n in names if n.lower().endswith(".json")):
            reason = self._read_channel_file(name)
            if reason is not None:
                not_channels[name] = reason
        if not self._channels:
            raise SourceError(
                f"{self.location}: no DiscordChatExporter channel file (a .json object with guild, channel and "
                "messages), so this is not a Discord export; export the channels again with --format Json"
            )
        for name, reason in not_channels.items():
            self.ignored.append(Ignored(name, f"not a DiscordChatExporter channel: {reason}"))
        self._list_unread(names)
        guild_name = str(self._guild.get("name") or "Discord")
        self.workspace = Workspace(id=str(self._guild.get("id") or ""), name=guild_name)

    def _read_channel_file(self, name: str) -> str | None:
        """Spool one channel file; for a file that is not one, the reason (it is then listed, not read)."""
        channel: dict[str, Any] | None = None
        count = 0
        try:
            with self._tree.open(name) as handle:
                document = _JsonObject(handle, name, self.repaired)
                for key in document.keys():  # noqa: SIM118  (a streaming reader's keys(), not a dict)
                    if key == "messages" and channel is not None:
                        conversation = self._channels.setdefault(channel["id"], {**channel, "_file": name})["id"]
                        for index, raw in document.elements():
                            count += 1
                            try:
                                self._spool_message(conversation, name, index, raw)
                            except Refused as exc:
                                self.quarantine.append(Quarantined(name, str(exc), index, conversation))
                        continue
                    value = document.value()
                    if key == "guild" and isinstance(value, dict) and value.get("id") != _DIRECT_MESSAGES:
                        self._guild = self._guild or value
                    elif key == "channel" and isinstance(value, dict) and isinstance(value.get("id"), str):
                        channel = value
        except (Refused, ValueError, OSError, EOFError) as exc:
            reason = str(exc) if isinstance(exc, Refused) else describe(exc)
            if channel is None:
                return reason
            self.quarantine.append(
                Quarantined(
                    name,
                    f"{reason}, after {counted(count, 'message')}; the rest of this file is not read: "
                    "export the channel again",
                    count,
                    channel["id"] if channel["id"] in self._channels else None,
                )
            )
        if channel is None or channel["id"] not in self._channels:
            return "JSON without guild, channel and messages"
        return None

    def _spool_message(self, conversation: str, origin: str, index: int, raw: Any) -> None:
        if not isinstance(raw, dict):
            raise Refused(f"a JSON {type(raw).__name__} where a message object belongs")
        message_id = raw.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise Refused("message without an id; replies could not find it")
        us = iso_to_micros(raw.get("timestamp"))
        if raw.get("timestampEdited"):
            iso_to_micros(raw["timestampEdited"])  # refused now, with its position, rather than while streaming
        author = raw.get("author")
        if not isinstance(author, dict) or not isinstance(author.get("id"), str):
            raise Refused("message without an author id")
        for person in [author, *dicts(raw.get("mentions"))]:
            self._person(conversation, person)
        for reaction in dicts(raw.get("reactions")):
            for person in dicts(reaction.get("users")):
                self._person(conversation, person, member=False)  # named in the reactions' summary
        reference = raw.get("reference")
        reference = reference if isinstance(reference, dict) else {}
        root_id = None
        if (
            raw.get("type") == "Reply"
            and reference.get("messageId")
            and reference.get("channelId") in (None, conversation)
        ):
            root_id = self._spool.root_of(conversation, str(reference["messageId"]))
        self._quarantine_repeated(
            self._spool.add(
                conversation,
                message_id,
                us,
                {**raw, "_root_found": root_id is not None},
                origin,
                index,
                root_id=root_id,
                version=str(raw.get("timestampEdited") or ""),
            )
        )
        if raw.get("isPinned"):
            self._pins[conversation].append(micros_to_ts(us))
        self._media.update(p for a in dicts(raw.get("attachments")) if (p := self._local(origin, a.get("url"))))

    def _person(self, conversation: str, raw: dict[str, Any], *, member: bool = True) -> None:
        """Know a person the file names; `member`: they wrote or were mentioned here, so they count as one of
        the conversation's people (someone who only reacted is named, not counted)."""
        if not isinstance(raw.get("id"), str):
            return
        if member:
            self._members[conversation][raw["id"]] = None
        if raw["id"] not in self.users:
            self.users[raw["id"]] = User(
                id=raw["id"],
                name=str(raw.get("name") or ""),
                display_name=str(raw.get("nickname") or ""),
                is_bot=bool(raw.get("isBot")),
                extra={k: v for k, v in raw.items() if k not in {"id", "name", "nickname", "isBot"}},
            )

    def _local(self, origin: str, url: Any) -> str | None:
        """The export member a `--media` attachment url names (relative to its JSON file), when it is there."""
        if not isinstance(url, str) or urlparse(url).scheme in {"http", "https"}:
            return None
        relative = unquote(url).replace("\\", "/")
        folder = PurePosixPath(origin).parent
        for candidate in (str(folder / relative) if str(folder) != "." else relative, relative):
            normal = _normalise(candidate)
            if normal in self._names:
                return normal
        return None

    def _list_unread(self, names: list[str]) -> None:
        unread: Counter[str] = Counter()
        for name in names:
            if name.lower().endswith(".json") or name in self._media:
                continue
            top, slash, _ = name.partition("/")
            unread[top + slash] += 1
        for path, count in sorted(unread.items()):
            self.ignored.append(Ignored(path, "not referenced by any exported message", count))

    # --- the Source interface -------------------------------------------

    def conversations(self) -> list[Conversation]:
        return [self._conversation(channel_id, raw) for channel_id, raw in self._channels.items()]

    def _conversation(self, channel_id: str, raw: dict[str, Any]) -> Conversation:
        name = str(raw.get("name") or channel_id)
        category = str(raw.get("category") or "")
        belongs_to, purpose = "", ""
        if raw.get("type") in _THREADS and category:
            # DiscordChatExporter's schema predates threads: a thread's `category` is its parent channel, whose
            # own category only the parent's file (when exported too) tells
            parent = self._channels.get(str(raw.get("categoryId") or ""), {}).get("category")
            belongs_to = f"a thread of #{category}" + (f" (category {parent})" if parent else "")
            name = f"{category} › {name}"
            server = product(self.kind)  # a thread has no topic: its channel's description says where it belongs
            purpose = f"A{belongs_to[1:]} on the {server.name} {server.workspace} {self.workspace.name}"
        return Conversation(
            id=channel_id,
            name=name,
            kind=_KINDS.get(str(raw.get("type")), ConversationKind.PUBLIC),
            members=tuple(self._members.get(channel_id, ())),
            topic=str(raw.get("topic") or ""),
            purpose=purpose,
            pins=tuple(self._pins.get(channel_id, ())),
            extra={k: v for k, v in raw.items() if k not in {"id", "name", "topic"}} | {"category": category},
            belongs_to=belongs_to,
        )

    # --- messages --------------------------------------------------------

    def _message(self, record: Spooled, conversation_id: str) -> Message:
        raw: dict[str, Any] = record.payload
        author = raw["author"]["id"]
        kind, event = _kind(raw)
        edited = raw.get("timestampEdited")
        extra = {
            k: v
            for k, v in raw.items()
            if k
            not in {
                "author",
                "content",
                "attachments",
                "embeds",
                "reactions",
                "timestamp",
                "timestampEdited",
                "type",
                "_root_found",
            }
        }
        names = _mention_names(raw)
        if names:
            extra[MENTION_NAMES] = names
        outside = self._outside_reference(raw, kind, conversation_id)
        text, cards, system = self._shown(raw, kind, event, conversation_id, outside)
        if kind == "Reply":
            text = _reply_pings(raw) + text
        if outside and kind == "Reply":
            extra["reply_to_missing"] = str(raw["reference"]["messageId"])  # kept as a message of its own
        return Message(
            ts=micros_to_ts(record.us),
            us=record.us,
            conversation_id=conversation_id,
            origin=record.origin,
            item=record.item,
            user=author,
            text=text,
            files=[self._file(a, record.origin, author) for a in dicts(raw.get("attachments"))],
            id=record.record_id,
            thread_ts=micros_to_ts(record.root_us) if record.root_us is not None else None,
            thread_id=record.root_id,
            subtype=None if kind == "Default" else kind,
            system=system,
            reactions=[_reaction(r) for r in dicts(raw.get("reactions"))],
            edited=Edit(user=author, ts=micros_to_ts(iso_to_micros(edited))) if edited else None,
            attachments=cards,
            extra={TEXT_FORMAT: DISCORD_MARKDOWN, **extra},
            unknown_fields=tuple(k for k in raw if k not in _MESSAGE_FIELDS and k != "_root_found"),
        )

    def _shown(
        self, raw: dict[str, Any], kind: str, event: str | None, conversation_id: str, outside: str | None
    ) -> tuple[str, list[dict[str, Any]], bool]:
        """The text, the cards and whether it is an event: a thread's first message (which lives in the parent
        channel) becomes a note linking to it, a reply to a message not in the export gets a card linking to it,
        and an event DiscordChatExporter wrote as a number says what happened. `outside`: the link of the
        referenced message when it is not here."""
        text = str(raw.get("content") or "")
        cards = [_card(e) for e in dicts(raw.get("embeds"))] + _extras_as_cards(raw)
        if kind == "ThreadStarterMessage" and not text:
            parent = self._channels.get(conversation_id, {}).get("category")
            text = "This thread started from a message" + (f" in #{parent}" if parent else "")
            return text + (f": {outside}" if outside else ""), cards, True
        if outside:
            cards.append({"title": "↪ In reply to a message that is not in this export", "title_link": outside})
        elif event and (not text or text == str(raw.get("type"))):
            text = event.format(who=_name_of(raw["author"]))
        return text, cards, kind not in _PERSON_TYPES

    def _outside_reference(self, raw: dict[str, Any], kind: str, conversation_id: str) -> str | None:
        """The Discord link of the message a reply or a thread's first message points at, when this export does
        not hold it here (another channel, or a message not exported), so the reader can still follow it."""
        reference = raw.get("reference")
        if kind not in {"Reply", "ThreadStarterMessage"} or not isinstance(reference, dict):
            return None
        message_id = reference.get("messageId")
        if not message_id or raw.get("_root_found"):
            return None
        guild = reference.get("guildId") or self._guild.get("id") or "@me"
        return f"https://discord.com/channels/{guild}/{reference.get('channelId') or conversation_id}/{message_id}"

    def _file(self, raw: dict[str, Any], origin: str, author: str) -> File:
        name = str(raw.get("fileName") or "file")
        member = self._local(origin, raw.get("url"))
        size = raw.get("fileSizeBytes")
        url = str_or_none(raw.get("url"))
        return File(
            id=str(raw.get("id") or name),
            name=name,
            title=name,
            mimetype=mimetypes.guess_type(name)[0] or "",
            filetype=PurePosixPath(name).suffix.lstrip("."),
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            status=FileStatus.AVAILABLE if member else FileStatus.MISSING,
            path=member,
            url=url if url and urlparse(url).scheme in {"http", "https"} else None,
            user=author,
        )


def _kind(raw: dict[str, Any]) -> tuple[str, str | None]:
    """The message's type by name, and for a type DiscordChatExporter wrote as a number, what happened."""
    kind = str(raw.get("type") or "Default")
    if not kind.isdigit():
        return kind, None
    return _NUMBERED_TYPES.get(kind, (f"Type{kind}", f"A Discord event of type {kind}"))


def _name_of(person: dict[str, Any]) -> str:
    return str(person.get("nickname") or person.get("name") or "Someone")


def _reply_pings(raw: dict[str, Any]) -> str:
    """The people a reply pinged without writing their name (Discord lists the author it answers among the reply's
    `mentions`), written first as `@name ` so they are mentioned in Teams too, where a reply pings nobody."""
    content = str(raw.get("content") or "")
    pinged = [
        f"@{_name_of(person)} "
        for person in dicts(raw.get("mentions"))
        if not any(f"@{person.get(key)}" in content for key in ("nickname", "name") if person.get(key))
    ]
    return "".join(pinged)


def _mention_names(raw: dict[str, Any]) -> dict[str, str]:
    """The names DiscordChatExporter wrote this message's mentions as, each with the person's id: `@` + the
    member's nickname (which may hold spaces), or their name when they have none. A nickname wins over another
    member's equal name, as DiscordChatExporter renders the nickname."""
    names: dict[str, str] = {}
    for key in ("nickname", "name"):
        for person in dicts(raw.get("mentions")):
            if isinstance(person.get("id"), str) and isinstance(person.get(key), str) and person[key]:
                names.setdefault(person[key], person["id"])
    return names


def _card(embed: dict[str, Any]) -> dict[str, Any]:
    """An embed in the model's card form (Slack's attachment fields), so every part of it is shown; the original stays
    under `embed`."""

    def text(value: Any, key: str) -> str:
        return str(value.get(key) or "") if isinstance(value, dict) else ""

    return {
        "author_name": text(embed.get("author"), "name"),
        "author_link": text(embed.get("author"), "url"),
        "title": str(embed.get("title") or ""),
        "title_link": str(embed.get("url") or ""),
        "text": str(embed.get("description") or ""),
        "fields": [
            {"title": str(f.get("name") or ""), "value": str(f.get("value") or "")} for f in dicts(embed.get("fields"))
        ],
        "image_url": text(embed.get("image"), "url") or text(embed.get("thumbnail"), "url"),
        "footer": text(embed.get("footer"), "text"),
        "embed": embed,
    }


def _extras_as_cards(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Stickers and slash-command use, which Discord shows with the message, as lines a reader sees in Teams."""
    cards = [
        {"title": f"Sticker: {s.get('name') or 'unnamed'}", "title_link": str(s.get("sourceUrl") or "")}
        for s in dicts(raw.get("stickers"))
    ]
    interaction = raw.get("interaction")
    if isinstance(interaction, dict) and interaction.get("name"):
        user = interaction.get("user")
        user = user if isinstance(user, dict) else {}
        cards.append(
            {"footer": f"/{interaction['name']} used by {user.get('nickname') or user.get('name') or 'someone'}"}
        )
    return cards


def _reaction(raw: dict[str, Any]) -> Reaction:
    """Named by the emoji's code (`thumbsup`) when DiscordChatExporter gives one, else by its character's name
    (older exports give a Unicode emoji as `{"id": null, "name": "❤"}` only) or a custom emoji's name."""
    emoji = raw.get("emoji")
    emoji = emoji if isinstance(emoji, dict) else {}
    users = tuple(str(u["id"]) for u in dicts(raw.get("users")) if u.get("id"))
    count = raw.get("count")
    return Reaction(
        name=str(emoji.get("code") or emoji_name(str(emoji.get("name") or "")) or "?"),
        count=count if isinstance(count, int) and count > 0 else len(users),
        users=users,
    )


def _normalise(path: str) -> str:
    """Collapse `a/./b` and `a/x/../b` without ever leaving the export (a `..` past the top stays and is not found)."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in {"", "."}:
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


class _JsonObject:
    """A top-level JSON object read key by key, its arrays element by element, from a stream.

    Only one value (one message) is held at a time; `json.JSONDecoder.raw_decode`
    does the parsing, and the buffer grows when a value crosses its end. A value
    whose text escapes a surrogate is repaired (`repair_surrogates`) and counted
    in `repairs` under the file's `name`.
    """

    _DECODER = json.JSONDecoder()
    _SPACE = re.compile(r"[ \t\n\r]*")

    def __init__(self, handle: IO[bytes], name: str, repairs: Repairs) -> None:
        self._text = io.TextIOWrapper(handle, encoding="utf-8-sig")
        self._name = name
        self._repairs = repairs
        self._buffer = ""
        self._at = 0
        self._eof = False
        self._read = 0  # characters dropped from the buffer, so errors can say where they are

    def keys(self) -> Iterator[str]:
        """Each key in turn; the caller reads its value (`value` or `elements`) before asking for the next."""
        self._expect("{")
        if self._peek() == "}":
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise Refused(f"a key that is not a string at character {self._where()}")
            self._expect(":")
            yield key
            if self._peek() == "}":
                self._at += 1
                return
            self._expect(",")

    def elements(self) -> Iterator[tuple[int, Any]]:
        """(index, value) of each element of the array that comes next."""
        self._expect("[")
        if self._peek() == "]":
            self._at += 1
            return
        index = 0
        while True:
            yield index, self.value()
            index += 1
            if self._peek() == "]":
                self._at += 1
                return
            self._expect(",")

    def value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self._DECODER.raw_decode(self._buffer, self._at)
            except json.JSONDecodeError as exc:
                if self._eof or not self._more():
                    raise Refused(f"not valid JSON at character {self._read + exc.pos} ({exc.msg})") from None
                continue
            if end == len(self._buffer) and not self._eof and self._more():
                continue  # a number at the end of the buffer may go on in the next chunk
            start, self._at = self._at, end
            if SURROGATE_ESCAPE.search(self._buffer, start, end):
                value, repaired = repair_surrogates(value)
                self._repairs.add(self._name, repaired)
            return value

    def _more(self) -> bool:
        if len(self._buffer) - self._at > _MAX_VALUE_CHARS:
            raise Refused(f"a value longer than {_MAX_VALUE_CHARS:,} characters at character {self._where()}")
        chunk = self._text.read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._read += self._at
        self._buffer = self._buffer[self._at :] + chunk
        self._at = 0
        return True

    def _peek(self) -> str:
        while True:
            space = self._SPACE.match(self._buffer, self._at)
            assert space is not None  # `[ \t\n\r]*` matches the empty string too: there is always a match
            self._at = space.end()
            if self._at < len(self._buffer):
                return self._buffer[self._at]
            if not self._more():
                return ""

    def _expect(self, char: str) -> None:
        found = self._peek()
        if found != char:
            raise Refused(
                f"not valid JSON at character {self._where()}: expected {char!r}, found {found or 'the end'!r}"
            )
        self._at += 1

    def _where(self) -> int:
        return self._read + self._at
