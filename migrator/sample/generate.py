"""`migrator sample generate`: a synthetic, realistic Slack export and the Entra directory that matches it.

Benchmarks and the reliability suite need workspaces of any size that look
like real ones (threads, same-millisecond messages, edits, reactions,
mentions, files, unicode, a private channel, DMs) and can be migrated
against the emulator. Everything is drawn from seeded random streams, so a
seed always gives the same bytes, and written one conversation-day at a
time, so millions of messages take no more memory than a thousand.

    OUT/slack/           the export: users.json, channels.json, groups.json, dms.json, mpims.json,
                         one folder per conversation with one JSON array per day, __uploads/{ID}/{name}
    OUT/directory.json   the emulator's directory (`emulator serve --directory`): every person still
                         in the workspace, with `mail` equal to their Slack email, and a fallback account
"""

from __future__ import annotations

import json
import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrator.errors import InputError
from migrator.sample import vocabulary as vocab
from migrator.sample.files import SampleFile, draw_file
from migrator.sample.records import Bot, RecordWriter
from migrator.sample.text import Audience
from migrator.sample.timeline import US_PER_DAY, Shape, Timeline, days_for
from migrator.words import counted

EXPORT_DIR = "slack"
DIRECTORY_FILE = "directory.json"
DOMAIN = "contoso.example"
FALLBACK_MAIL = f"migration@{DOMAIN}"
END_DAY = datetime(2024, 12, 2, tzinfo=UTC)  # histories end here, safely in the past
CHAT_SHARE = 0.1  # of all messages, in DMs and group DMs
CHANNEL_SKEW = 0.6  # channel i gets a weight (i + 1) ** -CHANNEL_SKEW: #general is the busiest
BOT_SHARE = 0.02  # of roots in public channels
DEFAULT_FILES = 20  # attached to messages of a realistic workspace


TEAM_PREFIX = "t{}-"  # channel names meant for team 2, 3, ... of a `--teams N` workspace


class SampleError(InputError):
    """Options that cannot produce a workspace; the CLI prints it in one line."""


@dataclass(frozen=True)
class SampleOptions:
    channels: int = 10  # public channels plus the private ones
    messages: int = 1000  # every record: joins, roots and replies, in channels and chats
    threads_ratio: float = 0.3  # share of messages that are thread replies
    files: int | None = None  # None: DEFAULT_FILES, or none at all in a plain workspace
    seed: int = 1
    users: int | None = None  # default grows with the channels
    plain: bool = False  # every message plain text by a person: no markup, blocks, files, bots, joins, edits, reactions
    teams: int = 1  # channel names carry `t2-`, `t3-`, ... prefixes, one per team beyond the first (see TEAM_PREFIX)
    private_channels: int = 1  # of the channels (none when there is only #general)

    @property
    def file_count(self) -> int:
        if self.files is not None:
            return self.files
        return 0 if self.plain else DEFAULT_FILES

    def check(self) -> None:
        if self.channels < 1:
            raise SampleError("--channels must be at least 1")
        if self.messages < 0 or self.file_count < 0:
            raise SampleError("--messages and --files cannot be negative")
        if not 0.0 <= self.threads_ratio < 1.0:
            raise SampleError(
                "--threads-ratio is the share of messages that are replies: from 0 up to (not including) 1"
            )
        if self.teams < 1 or self.private_channels < 0:
            raise SampleError("--teams must be at least 1 and --private-channels cannot be negative")
        if self.channels > 1 and self.private_channels >= self.channels:
            raise SampleError(
                f"--private-channels {self.private_channels} leaves no public channel of {self.channels}: give fewer"
            )
        if self.users is not None and self.users < 3:
            raise SampleError("--users must be at least 3")
        if self.plain and self.file_count:
            raise SampleError("--plain messages carry no files: give --files 0 or leave --files out")


@dataclass
class SampleSummary:
    export: Path
    directory: Path
    users: int = 0
    conversations: int = 0
    messages: int = 0
    replies: int = 0
    files: int = 0
    day_files: int = 0
    per_conversation: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """What `sample generate` prints."""
        return (
            f"wrote {self.export}: {counted(self.messages, 'message')} ({counted(self.replies, 'reply')}) in "
            f"{counted(self.conversations, 'conversation')}, {counted(self.day_files, 'day file')}, "
            f"{counted(self.files, 'file')}, {counted(self.users, 'user')}"
        )


@dataclass(frozen=True)
class _Person:
    id: str
    deleted: bool  # left the workspace and no longer in Entra
    slack: dict[str, Any]  # the users.json entry, with the same id and deleted flag
    entra_id: str


@dataclass
class _Conversation:
    """One conversation to write: its list entry and everything needed to produce its messages."""

    kind: str  # "public" | "private" | "dm" | "group_dm"
    entry: dict[str, Any]
    folder: str
    members: list[str]
    records: int = 0
    first_day_us: int = 0

    @property
    def is_chat(self) -> bool:
        return self.kind in ("dm", "group_dm")

    def place(self, shape: Shape) -> None:
        """Its history ends at END_DAY and starts as many days before as its roots need; created just before."""
        self.first_day_us = int(END_DAY.timestamp()) * 1_000_000 - days_for(shape.roots) * US_PER_DAY
        created = self.first_day_us // 1_000_000 - 3600
        self.entry["created"] = created
        for key in ("topic", "purpose"):
            if key in self.entry:
                self.entry[key]["last_set"] = created


class _FilePicker:
    """Exactly `wanted` files over `eligible` records, each record equally likely (selection sampling)."""

    def __init__(self, seed: int, wanted: int, eligible: int):
        self.rng = random.Random(f"{seed}:files")
        self.left = min(wanted, eligible)
        self.eligible = eligible
        self.made = 0

    def files_for(self) -> list[SampleFile]:
        take = self.eligible > 0 and self.rng.random() * self.eligible < self.left
        self.eligible -= 1
        if not take:
            return []
        self.left -= 1
        self.made += 1
        return [draw_file(self.rng, f"F{self.made:09d}")]


def generate(out: Path, options: SampleOptions) -> SampleSummary:
    """Write the export under OUT/slack and its directory to OUT/directory.json."""
    options.check()
    try:
        return _generate(Path(out), options)
    except OSError as error:  # a folder that cannot be written is the user's to fix, like an option
        raise SampleError(str(error)) from error


def _generate(out: Path, options: SampleOptions) -> SampleSummary:
    export = out / EXPORT_DIR
    if export.exists() and any(export.iterdir()):
        raise SampleError(f"{export} is not empty; give --out a new folder so two workspaces are never mixed")
    export.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{options.seed}:workspace")
    team_id = "T" + _slack_id(rng)
    people, bot = _people(rng, options, team_id)
    conversations = _conversations(rng, options, people, bot)
    _allocate(conversations, options.messages)
    shapes = [_shape(c, options) for c in conversations]
    for conversation, shape in zip(conversations, shapes, strict=True):
        conversation.place(shape)
    summary = SampleSummary(
        export=export, directory=out / DIRECTORY_FILE, users=len(people) + 1, conversations=len(conversations)
    )
    _write_json(export / "users.json", [p.slack for p in people] + [_bot_user(bot, team_id)])
    for name, kind in (
        ("channels.json", "public"),
        ("groups.json", "private"),
        ("dms.json", "dm"),
        ("mpims.json", "group_dm"),
    ):
        _write_json(export / name, [c.entry for c in conversations if c.kind == kind])
    picker = _FilePicker(options.seed, options.file_count, sum(s.records - s.joins for s in shapes))
    profiles = {p.id: _profile(p.slack) for p in people}
    channels = [(c.entry["id"], c.entry["name"]) for c in conversations if c.kind == "public"]
    for conversation, shape in zip(conversations, shapes, strict=True):
        _write_conversation(export, conversation, shape, options, team_id, profiles, channels, bot, picker, summary)
    summary.files = picker.made
    _write_json(summary.directory, _directory(people))
    return summary


# ----------------------------------------------------------------- people
def _slack_id(rng: random.Random, length: int = 10) -> str:
    return "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=length))


_ASCII = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "đ": "d", "ı": "i", "'": "", " ": ""}
)


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.translate(_ASCII)).encode("ascii", "ignore").decode()
    return folded.lower()


def _people(rng: random.Random, options: SampleOptions, team_id: str) -> tuple[list[_Person], Bot]:
    """Slack users with emails; the last person is deleted (not in Entra any more), as in most workspaces."""
    count = options.users or max(12, min(1000, 4 * options.channels + 8))
    people, taken = [], set()
    for index in range(count):
        first = vocab.FIRST_NAMES[index % len(vocab.FIRST_NAMES)]
        last = vocab.LAST_NAMES[(index * 7 + index // len(vocab.FIRST_NAMES)) % len(vocab.LAST_NAMES)]
        handle = f"{_ascii(first)}.{_ascii(last)}"
        while handle in taken:
            handle += str(index)
        taken.add(handle)
        user_id, deleted = "U" + _slack_id(rng), index == count - 1
        people.append(
            _Person(
                user_id,
                deleted,
                {
                    "id": user_id,
                    "team_id": team_id,
                    "name": handle,
                    "deleted": deleted,
                    "color": "9f69e7",
                    "real_name": f"{first} {last}",
                    "tz": "Europe/London",
                    "tz_label": "Greenwich Mean Time",
                    "tz_offset": 0,
                    "profile": {
                        "real_name": f"{first} {last}",
                        "real_name_normalized": _ascii(f"{first} {last}"),
                        "display_name": first if index % 3 else "",
                        "display_name_normalized": _ascii(first) if index % 3 else "",
                        "email": f"{handle}@{DOMAIN}",
                        "first_name": first,
                        "last_name": last,
                        "team": team_id,
                        "avatar_hash": f"g{rng.randrange(10**11):011d}",
                    },
                    "is_admin": index == 0,
                    "is_owner": index == 0,
                    "is_primary_owner": index == 0,
                    "is_restricted": False,
                    "is_ultra_restricted": False,
                    "is_bot": False,
                    "is_app_user": False,
                    "updated": int(END_DAY.timestamp()),
                },
                entra_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            )
        )
    bot = Bot(user_id="U" + _slack_id(rng), bot_id="B" + _slack_id(rng), name="deploybot")
    return people, bot


def _bot_user(bot: Bot, team_id: str) -> dict[str, Any]:
    return {
        "id": bot.user_id,
        "team_id": team_id,
        "name": bot.name,
        "deleted": False,
        "real_name": "Deploy Bot",
        "profile": {"real_name": "Deploy Bot", "display_name": "", "bot_id": bot.bot_id, "team": team_id},
        "is_bot": True,
        "is_app_user": False,
        "updated": int(END_DAY.timestamp()),
    }


def _profile(person: dict[str, Any]) -> dict[str, Any]:
    """The `user_profile` Slack copies into each message a person writes."""
    profile = person["profile"]
    return {
        "avatar_hash": profile["avatar_hash"],
        "first_name": profile["first_name"],
        "real_name": person["real_name"],
        "display_name": profile["display_name"],
        "team": person["team_id"],
        "name": person["name"],
        "is_restricted": False,
        "is_ultra_restricted": False,
    }


def _directory(people: list[_Person]) -> dict[str, Any]:
    """Entra users for everyone still in the workspace, plus the account that posts for the others."""
    users = [
        {
            "id": "c0a80000-0000-4000-8000-000000000001",
            "displayName": "Migration Account",
            "mail": FALLBACK_MAIL,
            "userPrincipalName": FALLBACK_MAIL,
            "licensed": True,
        }
    ]
    for person in people:
        if not person.deleted:
            mail = person.slack["profile"]["email"]
            users.append(
                {
                    "id": person.entra_id,
                    "displayName": person.slack["real_name"],
                    "mail": mail,
                    "userPrincipalName": mail,
                    "licensed": True,
                }
            )
    return {"users": users}


# ---------------------------------------------------------- conversations
def _conversations(rng: random.Random, options: SampleOptions, people: list[_Person], bot: Bot) -> list[_Conversation]:
    """#general, public channels (the fifth archived), one private channel, DMs and group DMs.

    The deleted person took part in public channels only, so private
    conversations never need the fallback account (map --check refuses it there).
    """
    ids = [p.id for p in people]
    active = [p.id for p in people if not p.deleted]
    handles = {p.id: p.slack["name"] for p in people}
    creator = ids[0]
    privates = 0 if options.channels == 1 else options.private_channels
    publics = options.channels - privates
    found: list[_Conversation] = []
    for index, name in enumerate(_channel_names(rng, publics)):
        name = name if index == 0 else team_prefixed(name, index - 1, options.teams)
        members = ids if index == 0 else rng.sample(ids, rng.randint(min(3, len(ids)), len(ids)))
        entry = _channel_entry(rng, name, members + ([bot.user_id] if index == 0 else []), creator)
        entry.update(is_general=index == 0, is_archived=index == 4)
        found.append(_Conversation("public", entry, name, _shuffled(rng, members)))
    for number in range(privates):
        members = rng.sample(active, min(len(active), rng.randint(3, 8)))
        name = f"private-{rng.choice(vocab.CHANNEL_WORDS)}" + (f"-{number + 1}" if privates > 1 else "")
        entry = _channel_entry(rng, team_prefixed(name, number, options.teams), members, members[0], prefix="G")
        entry["is_private"] = True
        found.append(_Conversation("private", entry, entry["name"], members))
    pairs: set[frozenset[str]] = set()
    while len(pairs) < min(20, max(1, options.channels // 5)):
        pairs.add(frozenset(rng.sample(active, 2)))
    for pair in sorted(sorted(p) for p in pairs):
        entry = {"id": "D" + _slack_id(rng), "created": 0, "members": pair}
        found.append(_Conversation("dm", entry, entry["id"], pair))
    for number in range(1, min(10, max(1, options.channels // 10)) + 1):
        members = rng.sample(active, min(len(active), rng.randint(3, 5)))
        name = "mpdm-" + "--".join(handles[m] for m in members) + f"-{number}"
        entry = _channel_entry(rng, name, members, members[0], prefix="G")
        entry.update(
            is_mpim=True,
            purpose={
                "value": "Group messaging with: " + " ".join("@" + handles[m] for m in members),
                "creator": members[0],
                "last_set": 0,
            },
        )
        found.append(_Conversation("group_dm", entry, name, members))
    return found


def team_prefixed(name: str, index: int, teams: int) -> str:
    """The `index`-th channel's name, prefixed with the team it is meant for when there are several: `t2-...` and
    so on; the first team's channels keep their names (the drafted team holds them, #general with them)."""
    number = index % teams + 1
    return name if number == 1 else TEAM_PREFIX.format(number) + name


def _shuffled(rng: random.Random, members: list[str]) -> list[str]:
    """Who writes most differs per channel (the timeline favours the first members)."""
    order = list(members)
    rng.shuffle(order)
    return order


def _channel_names(rng: random.Random, count: int) -> list[str]:
    names = ["general"]
    words = vocab.CHANNEL_WORDS
    while len(names) < count:
        name = rng.choice(words) if len(names) <= len(words) // 2 else f"{rng.choice(words)}-{rng.choice(words)}"
        if name in names:
            name = f"{name}-{len(names)}"
        names.append(name)
    return names[:count]


def _channel_entry(
    rng: random.Random, name: str, members: list[str], creator: str, prefix: str = "C"
) -> dict[str, Any]:
    topic = " ".join(rng.choices(vocab.WORDS, k=4)).capitalize()
    return {
        "id": prefix + _slack_id(rng),
        "name": name,
        "created": 0,
        "creator": creator,
        "is_archived": False,
        "is_general": False,
        "members": list(members),
        "topic": {"value": topic, "creator": creator, "last_set": 0},
        "purpose": {"value": f"Everything about {name}", "creator": creator, "last_set": 0},
    }


def _allocate(conversations: list[_Conversation], total: int) -> None:
    """Exactly `total` messages, by largest remainder: chats get CHAT_SHARE, channels a skewed split."""
    chats = [c for c in conversations if c.is_chat]
    channels = [c for c in conversations if not c.is_chat]
    in_chats = round(total * CHAT_SHARE) if total >= 20 else 0
    _split(channels, [(i + 1) ** -CHANNEL_SKEW for i in range(len(channels))], total - in_chats)
    _split(chats, [1.0] * len(chats), in_chats)


def _split(conversations: list[_Conversation], weights: list[float], total: int) -> None:
    if not conversations:
        return
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    for conversation, count in zip(conversations, counts, strict=True):
        conversation.records = count


def _shape(conversation: _Conversation, options: SampleOptions) -> Shape:
    return Shape.of(
        conversation.records,
        len(conversation.members),
        options.threads_ratio,
        join_members=not (conversation.is_chat or options.plain),
    )


# ---------------------------------------------------------------- writing
def _write_conversation(
    export: Path,
    conversation: _Conversation,
    shape: Shape,
    options: SampleOptions,
    team_id: str,
    profiles: dict[str, dict[str, Any]],
    channels: list[tuple[str, str]],
    bot: Bot,
    picker: _FilePicker,
    summary: SampleSummary,
) -> None:
    conv_seed = f"{options.seed}:{conversation.entry['id']}"
    first_day_us = conversation.first_day_us
    posting_bot = bot if conversation.kind == "public" and not options.plain else None
    timeline = Timeline(
        conv_seed,
        shape,
        conversation.members,
        first_day_us,
        datetime.fromtimestamp(first_day_us // 1_000_000, UTC).weekday(),
        bot=posting_bot.user_id if posting_bot else None,
        bot_share=BOT_SHARE if posting_bot else 0.0,
    )
    writer = RecordWriter(
        random.Random(conv_seed + ":text"),
        team_id,
        profiles,
        Audience(conversation.members, channels),
        posting_bot,
        plain=options.plain,
    )
    folder = export / conversation.folder
    for day_us, posts in timeline:
        records = []
        for post in posts:
            files = picker.files_for() if post.kind != "join" else []
            for file in files:
                _write_upload(export, file)
            records.append(writer.record(post, files))
            summary.replies += post.kind == "reply"
        folder.mkdir(exist_ok=True)
        day = datetime.fromtimestamp(day_us // 1_000_000, UTC).strftime("%Y-%m-%d")
        (folder / f"{day}.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        summary.day_files += 1
        summary.messages += len(records)
    summary.per_conversation[conversation.folder] = shape.records


def _write_upload(export: Path, file: SampleFile) -> None:
    target = export / "__uploads" / file.id / file.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(file.data)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
