"""The plan: what `transform` writes and `load` and `verify` read.

A plan folder is reviewable by a person and self-contained, so load never
needs the source export again:

    PLAN_DIR/manifest.json                 teams, channels, chats, members, counts, uploads
    PLAN_DIR/{team}/{channel}.jsonl        one import request per line, in posting order
    PLAN_DIR/chats/{chat}.jsonl            the same for chats
    PLAN_DIR/files/...                     bytes of every file to upload (see PlannedUpload.path)
    PLAN_DIR/archive/...                   conversations kept aside (not imported)

Each line is a Graph import request plus plan-only fields (`key`, `kind`,
`root_key`, `source_ts`, `uploads`, `note`, and `text`: the body without real
mentions and reactions, for a tenant that refuses them): `to_request` strips them, so
nothing the emulator or Graph would refuse as an unknown property is sent.
Keys are stable between transform runs (source conversation + source ts),
which is what lets a journal recognise a message across re-runs.
"""

from __future__ import annotations

import json
from collections.abc import Container, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypedDict

import orjson

from migrator.capacity import TEAMS_DEFAULTS, CapacityLimits, from_dict
from migrator.errors import InputError
from migrator.timestamps import parse_ms

PLAN_VERSION = 1
MANIFEST = "manifest.json"
REQUEST_FIELDS = ("createdDateTime", "from", "body", "hostedContents", "attachments", "mentions", "reactions")
CHAT_TYPES = ("oneOnOne", "group")  # a PlannedConversation with one of these memberships is a chat


class PlanError(InputError):
    """A plan that cannot be loaded; names the file (and line) and what to do."""


class PlanSource(TypedDict):
    """What the plan was made from (the manifest's `source`)."""

    path: str
    kind: str
    workspace: str
    mappings: str
    transformed_at: str


class ArchiveEntry(TypedDict):
    """A conversation kept aside rather than imported: its JSONL and page under archive/."""

    conversation: str  # the source conversation's id
    name: str
    kind: str
    reason: str
    file: str  # relative to the plan folder
    page: str
    messages: int
    files: int  # files copied beside it
    files_read: int  # files its messages carry, copied or not


@dataclass
class PlannedMember:
    user_id: str  # Entra ID object id
    display_name: str = ""
    roles: list[str] = field(default_factory=list)  # [] or ["owner"]


@dataclass
class PlannedUpload:
    key: str  # stable: the source file id
    name: str  # file name in the channel's files folder, or in the OneDrive folder "Microsoft Teams Chat Files"
    path: str  # relative to the plan folder, under files/
    size: int
    sha256: str
    # A chat's file goes to a OneDrive (docs/graph-contract.md#chat-files): `owner` is its sender's Entra id (the
    # migration account's when it posts for an unmapped sender); `fallback` the migration account's, whose OneDrive
    # takes the file when the owner has none. Both None for a channel's file.
    owner: str | None = None
    fallback: str | None = None


@dataclass
class PlannedAudience:
    """A private channel, DM or group DM going into a channel or chat people already use: who could read it at the
    source, which load compares with the target's members right before reopening it (`migrator.existing_rules`)."""

    source: str  # the source conversation's id
    what: str  # how refusals name it, e.g. "private conversation leadership"
    made_by: str  # the product that exported it, e.g. "Slack"
    members: list[PlannedMember] = field(default_factory=list)  # its members with an Entra account


@dataclass
class PlannedConversation:
    """A target channel (standard or private) or chat and its plan file."""

    key: str  # stable id, e.g. "acme/general" or "chats/D123"
    display_name: str
    file: str  # relative to the plan folder
    created: str  # createdDateTime, before the first message
    messages: int = 0  # lines in `file`
    roots: int = 0
    replies: int = 0
    description: str = ""
    membership: str = "standard"  # standard | private (channels); oneOnOne | group (chats)
    general: bool = False  # import into the team's existing General channel
    members: list[PlannedMember] = field(default_factory=list)  # private channels and chats
    uploads: list[PlannedUpload] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # source conversation ids merged here
    # A channel (id or display name) or chat (id) people already use (`action: existing`): load reopens it with
    # startMigration instead of creating it, and adds nobody; "" for one the migration creates.
    existing: str = ""
    # Into an existing target: its private channels, DMs and group DMs ([] when every source is public); None for a
    # target the migration creates, or in a plan made before load checked audiences (load then refuses the target).
    audiences: list[PlannedAudience] | None = None


@dataclass
class PlannedTeam:
    key: str
    display_name: str
    created: str  # at or before its first channel's
    description: str = ""
    members: list[PlannedMember] = field(default_factory=list)
    channels: list[PlannedConversation] = field(default_factory=list)
    # A team people already use (id or display name) holding existing channels: never created, completed or given
    # members by load; "" for a team the migration creates.
    existing: str = ""


@dataclass
class Manifest:
    source: PlanSource
    teams: list[PlannedTeam] = field(default_factory=list)
    chats: list[PlannedConversation] = field(default_factory=list)
    archive: list[ArchiveEntry] = field(default_factory=list)
    # Teams' capacity limits as migration.yaml set them (`migrator.capacity`): load counts a team's channels by them.
    limits: dict[str, int] = field(default_factory=TEAMS_DEFAULTS.as_dict)
    version: int = PLAN_VERSION

    @property
    def capacity(self) -> CapacityLimits:
        return from_dict(self.limits)

    def conversations(self) -> Iterator[tuple[PlannedTeam | None, PlannedConversation]]:
        for team in self.teams:
            for channel in team.channels:
                yield team, channel
        for chat in self.chats:
            yield None, chat

    def write(self, plan_dir: Path) -> Path:
        path = Path(plan_dir) / MANIFEST
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, plan_dir: Path) -> Manifest:
        path = Path(plan_dir) / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PlanError(f"{path}: no plan here; run `migrator transform` first") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise PlanError(f"{path}: unreadable plan manifest ({exc}); run `migrator transform` again") from None
        if raw.get("version") != PLAN_VERSION:
            raise PlanError(
                f"{path}: plan version {raw.get('version')!r}, this migrator reads {PLAN_VERSION}; transform again"
            )
        try:
            return cls(
                source=raw["source"],
                teams=[_team(t) for t in raw.get("teams", [])],
                chats=[_conversation(c) for c in raw.get("chats", [])],
                archive=list(raw.get("archive", [])),
                limits=from_dict(raw.get("limits")).as_dict(),
            )
        except (KeyError, TypeError) as exc:
            raise PlanError(f"{path}: malformed manifest ({exc!r}); transform again") from None


def _conversation(raw: dict[str, Any]) -> PlannedConversation:
    values = dict(raw)
    values["members"] = [PlannedMember(**m) for m in raw.get("members", [])]
    values["uploads"] = [PlannedUpload(**u) for u in raw.get("uploads", [])]
    if raw.get("audiences") is not None:
        values["audiences"] = [
            PlannedAudience(**{**a, "members": [PlannedMember(**m) for m in a.get("members", [])]})
            for a in raw["audiences"]
        ]
    return PlannedConversation(**values)


def _team(raw: dict[str, Any]) -> PlannedTeam:
    values = dict(raw)
    values["members"] = [PlannedMember(**m) for m in raw.get("members", [])]
    values["channels"] = [_conversation(c) for c in raw.get("channels", [])]
    return PlannedTeam(**values)


def read_lines(
    plan_dir: Path, conversation: PlannedConversation, skip: Container[str] = frozenset()
) -> Iterator[dict[str, Any]]:
    """The conversation's requests in posting order, streamed, but those whose key is in `skip` (the ones that
    landed: a delta pass's plan holds every earlier line, and only the new ones are parsed, found by their keys
    alone in the file read at once); a bad line names file and line."""
    path = Path(plan_dir) / conversation.file
    try:
        if skip:
            rows: Iterator[tuple[int, bytes]] = _unskipped(path.read_bytes(), skip)
        else:
            rows = _streamed(open(path, "rb"))  # noqa: SIM115  (closed by _streamed)
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan file ({exc}); transform again") from None
    for number, raw in rows:
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise PlanError(f"{path}:{number}: not a JSON request ({exc.msg}); transform again") from None
        if not isinstance(line, dict) or "key" not in line or "createdDateTime" not in line:
            raise PlanError(f"{path}:{number}: a plan line needs at least key and createdDateTime")
        if line["key"] not in skip:  # a line whose key `keyed_lines` could not read
            yield line


def _streamed(handle: BinaryIO) -> Iterator[tuple[int, bytes]]:
    with handle:
        yield from enumerate(handle, 1)


def _unskipped(data: bytes, skip: Container[str]) -> Iterator[tuple[int, bytes]]:
    for number, (key, raw) in enumerate(keyed_lines(data), 1):
        if key is None or key not in skip:
            yield number, raw


_KEY_HEAD = b'{"key":"'


def keyed_lines(data: bytes) -> Iterator[tuple[str | None, bytes]]:
    """Each line of a plan file's contents with its key as `line_key` reads it (None: parse the line for it)."""
    return ((line_key(raw), raw) for raw in data.splitlines())


def line_key(raw: bytes) -> str | None:
    """A plan line's key read without parsing the line, where the line starts with it as transform writes it and it
    holds no escape; None otherwise (parse the line)."""
    if raw.startswith(_KEY_HEAD):
        end = raw.find(b'"', 8)
        if end > 8 and raw.find(b"\\", 8, end) < 0:
            return raw[8:end].decode()
    return None


def write_lines(path: Path, lines: Iterator[dict[str, Any]]) -> int:
    """Write objects as JSON lines; returns how many."""
    return write_encoded_lines(
        path, (json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() for line in lines)
    )


def write_encoded_lines(path: Path, lines: Iterator[bytes]) -> int:
    """Write lines already encoded as compact UTF-8 JSON objects (one per item, no newline); returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    batch: list[bytes] = []
    with open(path, "wb") as out:
        for line in lines:
            batch.append(line)
            if len(batch) == _WRITE_BATCH:
                count += _write_batch(out, batch)
        count += _write_batch(out, batch)
    return count


_WRITE_BATCH = 1024  # lines joined per write: one call per line costs more than building them


def _write_batch(out: BinaryIO, batch: list[bytes]) -> int:
    """Write the lines collected so far, each ending in a newline, and empty the batch; returns how many."""
    count = len(batch)
    if count:
        out.write(b"\n".join(batch))
        out.write(b"\n")
    batch.clear()
    return count


def to_request(line: Mapping[str, Any], upload_urls: Mapping[str, str]) -> dict[str, Any]:
    """The Graph request body of a plan line: plan-only fields dropped, attachment links filled in.

    A plan attachment names its upload (`"upload": key`); its `contentUrl` is
    only known once load has put the file in the channel's folder.
    """
    request = {name: line[name] for name in REQUEST_FIELDS if line.get(name)}
    if line.get("attachments"):
        attachments = []
        for attachment in line["attachments"]:
            entry = {k: v for k, v in attachment.items() if k != "upload"}
            if "upload" in attachment:
                if attachment["upload"] not in upload_urls:
                    raise PlanError(f"{line['key']}: upload {attachment['upload']!r} has not been uploaded")
                entry["contentUrl"] = upload_urls[attachment["upload"]]
            attachments.append(entry)
        request["attachments"] = attachments
    if line.get("reactions"):
        request["reactions"] = [_reaction_at(r, line["createdDateTime"]) for r in line["reactions"]]
    return request


def _reaction_at(reaction: Mapping[str, Any], message_time: str) -> dict[str, Any]:
    """A reaction as sent: at its own time, or its message's when it has none or an older one (the message's time
    may have moved later to stay unique, and Graph refuses a reaction older than its message)."""
    own = reaction.get("createdDateTime")
    if own and parse_ms(str(own)) > parse_ms(message_time):
        return dict(reaction)
    return {**reaction, "createdDateTime": message_time}
