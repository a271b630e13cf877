"""The `analyse` stage: an honest inventory of an export and a dry-run report.

It reads the export once, streaming day file by day file, and writes
`inventory.json` (the numbers every later stage is reconciled against) and a
self-contained `report.html` to show the customer before cutover. Per
conversation it keeps only fixed-size counters plus one 8-byte integer per
message for the timestamp checks, so memory stays flat as exports grow.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from migrator.critical import chain_requests
from migrator.inventory import (
    ChannelEntry,
    Estimate,
    Integrations,
    Inventory,
    UserCounts,
    UserLists,
    WorkspaceEntry,
)
from migrator.limits import (
    CHANNEL_RPS,
    MAX_BODY_BYTES,
    MAX_INLINE_IMAGE_BYTES,
    SIMPLE_UPLOAD_MAX_BYTES,
    TEAMS_CALLS_PER_10S,
)
from migrator.mapping import (
    CHAT,
    EXISTING,
    MIGRATION_FILE,
    PRIVATE_CHANNEL,
    MappingFiles,
    ResolvedMappings,
    UserMapping,
    chat_fallback_reason,
    check_against,
    conversation_label,
    draft_source,
    load_all,
    resolve_targets,
)
from migrator.mapping.workspaces import listed_by, posted_in, workspace_label
from migrator.model import (
    EXTERNAL_ORG,
    FROM_FETCH,
    MISSING_FILE,
    Conversation,
    File,
    FileStatus,
    Message,
    Source,
    User,
    micros_to_iso,
    repaired_rows,
    ts_to_micros,
)
from migrator.reports.analyse import write
from migrator.sources import open_source
from migrator.sources.common import DISCORD_MARKDOWN, HTML, MARKDOWN, PLAIN, TEXT_FORMAT
from migrator.words import counted

TENANT_RPS = TEAMS_CALLS_PER_10S / 10  # all Teams calls of one app in one tenant
_DAY_US = 86_400 * 1_000_000


# Extra bytes each character costs once escaped into HTML, and the markup around the parts of a body.
_ESCAPE_GROWTH = {"&": 4, "<": 3, ">": 3, '"': 5, "'": 4}
_NEWLINE_MARKUP = len("<br>")
_MENTION_MARKUP = 120  # <b>Display Name</b> instead of <@U123>
_FILE_MARKUP = 400  # <attachment id=…> or an <img> with its hostedContents reference
_ATTACHMENT_MARKUP = 600  # a card around a legacy bot attachment
_REACTIONS_MARKUP = 200  # the summary line reactions become
_PER_REACTION = 60


@dataclass(frozen=True)
class _Syntax:
    """How one source writes what the import API forces us to convert (docs/graph-contract.md#import-scope)."""

    mention: re.Pattern[str]
    special_mention: re.Pattern[str]
    emoji: re.Pattern[str]
    link: re.Pattern[str]
    quote: re.Pattern[str]
    inline_code: re.Pattern[str]
    code_block: re.Pattern[str]
    escaped: bool = True  # text is escaped into HTML (False: an HTML body, kept as it is)


_NEVER = re.compile(r"(?!)")
_SLACK = _Syntax(  # mrkdwn
    mention=re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>"),
    special_mention=re.compile(r"<!(?:here|channel|everyone)[^>]*>"),
    emoji=re.compile(r":[a-z0-9_+'-]+:"),
    link=re.compile(r"<(?:https?|mailto):[^>]+>"),
    quote=re.compile(r"^(?:&gt;|>)", re.MULTILINE),
    inline_code=re.compile(r"`[^`\n]+`"),
    code_block=re.compile("```"),
)
_MARKDOWN = _Syntax(  # Mattermost and Discord
    mention=re.compile(r"(?<![\w@])@(?!(?:here|channel|all|everyone)\b)[A-Za-z0-9][\w.-]*"),
    special_mention=re.compile(r"(?<![\w@])@(?:here|channel|all|everyone)\b"),
    emoji=_SLACK.emoji,
    link=re.compile(r"\[[^\]\n]*\]\([^)\s]+\)|https?://"),
    quote=re.compile(r"^>", re.MULTILINE),
    inline_code=_SLACK.inline_code,
    code_block=_SLACK.code_block,
)
_HTML = _Syntax(  # Teams
    mention=re.compile(r"<at\b", re.IGNORECASE),
    special_mention=_NEVER,
    emoji=re.compile(r"<emoji\b", re.IGNORECASE),
    link=re.compile(r"<a\s", re.IGNORECASE),
    quote=re.compile(r"<blockquote\b", re.IGNORECASE),
    inline_code=re.compile(r"<code\b", re.IGNORECASE),
    code_block=re.compile(r"<pre\b", re.IGNORECASE),
    escaped=False,
)
_PLAIN = _Syntax(_NEVER, _NEVER, _NEVER, _NEVER, _NEVER, _NEVER, _NEVER)
_SYNTAX: dict[str | None, _Syntax] = {MARKDOWN: _MARKDOWN, DISCORD_MARKDOWN: _MARKDOWN, HTML: _HTML, PLAIN: _PLAIN}


def _syntax(message: Message) -> _Syntax:
    return _SYNTAX.get(message.extra.get(TEXT_FORMAT), _SLACK)


def estimate_html_bytes(message: Message) -> int:
    """An upper estimate of the message's HTML body once converted.

    The transform stage does the real conversion; until then analyse counts a
    message as oversize from this estimate, which is deliberately generous
    (every special character escaped, every mention and file with room to
    spare) so that a body that will exceed the limit is never missed.
    """
    text = message.text if message.text is not None else _blocks_text(message.blocks)
    syntax = _syntax(message)
    size = len(text.encode("utf-8")) + len(syntax.mention.findall(text)) * _MENTION_MARKUP
    if syntax.escaped:
        size += sum(text.count(char) * growth for char, growth in _ESCAPE_GROWTH.items())
        size += text.count("\n") * _NEWLINE_MARKUP
    for attachment in message.attachments:
        body = _blocks_text([attachment])
        size += 2 * len(body.encode("utf-8")) + _ATTACHMENT_MARKUP
    size += len(message.files) * _FILE_MARKUP
    if message.reactions:
        size += _REACTIONS_MARKUP + _PER_REACTION * len(message.reactions)
        size += _MENTION_MARKUP * sum(len(r.users) for r in message.reactions)  # the summary names who reacted
    return size


def _blocks_text(value: Any) -> str:
    """All text inside a block or attachment structure, for messages that carry no `text`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(
            _blocks_text(v) for k, v in value.items() if k not in {"type", "block_id", "style", "color", "id"}
        )
    if isinstance(value, list):
        return "\n".join(_blocks_text(v) for v in value)
    return ""


def _upload_requests(file: File) -> int:
    """Requests to put one file in SharePoint; small images travel inside the message instead."""
    if file.status is not FileStatus.AVAILABLE:
        return 0
    size = file.size or 0
    if file.is_image and size <= MAX_INLINE_IMAGE_BYTES:
        return 0
    return max(1, math.ceil(size / SIMPLE_UPLOAD_MAX_BYTES))


def _count_pairs(*keys: np.ndarray) -> int:
    """How many entries share all their keys with at least one other entry."""
    if not len(keys[0]):
        return 0
    order = np.lexsort(keys[::-1])
    stacked = np.stack([k[order] for k in keys])
    same_as_next = np.all(stacked[:, 1:] == stacked[:, :-1], axis=0)
    in_group = np.zeros(len(order), dtype=bool)
    in_group[1:] |= same_as_next
    in_group[:-1] |= same_as_next
    return int(in_group.sum())


@dataclass
class _Tally:
    """Everything analyse learns about one conversation while streaming it."""

    messages: int = 0
    replies: int = 0
    files: int = 0
    before_root: int = 0
    oversize: int = 0
    requests: int = 0  # message posts, counting split parts
    uploads: int = 0
    first: int | None = None
    last: int | None = None
    thread_of: array[int] = field(default_factory=lambda: array("q"))  # thread number of every message
    when: array[int] = field(default_factory=lambda: array("q"))  # us of every message
    replied: array[int] = field(default_factory=lambda: array("q"))  # thread number of every reply
    rooted: array[int] = field(default_factory=lambda: array("q"))  # thread number of every message not a reply
    numbers: dict[str, int] = field(default_factory=dict)  # `Message.thread_key` to its thread number

    def add(self, message: Message, root_us: int, html_bytes: int) -> None:
        self.messages += 1
        self.first = message.us if self.first is None else min(self.first, message.us)
        self.last = message.us if self.last is None else max(self.last, message.us)
        self.files += len(message.files)
        thread = self.numbers.setdefault(message.thread_key, len(self.numbers))
        self.thread_of.append(thread)
        self.when.append(message.us)
        if message.is_reply:
            self.replies += 1
            self.before_root += message.us < root_us
            self.replied.append(thread)
        else:
            self.rooted.append(thread)
        if html_bytes > MAX_BODY_BYTES:
            self.oversize += 1
        self.requests += max(1, math.ceil(html_bytes / MAX_BODY_BYTES))
        self.uploads += sum(_upload_requests(f) for f in message.files)

    def timeline(self) -> dict[str, int]:
        thread_of = np.frombuffer(self.thread_of, dtype=np.int64)
        when = np.frombuffer(self.when, dtype=np.int64)
        reply_roots = np.unique(np.frombuffer(self.replied, dtype=np.int64))
        missing_roots = reply_roots[~np.isin(reply_roots, np.frombuffer(self.rooted, dtype=np.int64))]
        return {
            "threads": len(reply_roots),
            "ms_collisions": _count_pairs(thread_of, when // 1000),
            "ms_collisions_channel": _count_pairs(when // 1000),
            "duplicate_ts": _count_pairs(when),
            "orphan_replies": int(np.isin(thread_of, missing_roots).sum()),  # replies whose root is not in the export
        }


@dataclass
class _Features:
    """What will be converted rather than migrated as-is (counted in messages)."""

    counts: Counter[str] = field(default_factory=Counter)
    subtypes: Counter[str] = field(default_factory=Counter)
    unknown_fields: Counter[str] = field(default_factory=Counter)
    file_status: Counter[str] = field(default_factory=Counter)
    days: Counter[int] = field(default_factory=Counter)  # messages per UTC day number
    canvas_files: int = 0
    fetched_files: int = 0  # files whose bytes come from the fetch folder (--fetched)

    def add(self, message: Message) -> None:
        text = message.text or ""
        syntax = _syntax(message)
        # Slack mirrors blocks in `text`, so blocks are only searched when a message has no text.
        block_types = _block_types(message.blocks) if message.text is None else set()
        found = {
            "mentions": bool(syntax.mention.search(text)),
            "special_mentions": bool(syntax.special_mention.search(text)),
            "emoji": bool(syntax.emoji.search(text)),
            "reactions": bool(message.reactions),
            "code_blocks": bool(syntax.code_block.search(text)) or "rich_text_preformatted" in block_types,
            "inline_code": bool(syntax.inline_code.search(text.replace("```", ""))),
            "quotes": bool(syntax.quote.search(text)) or "rich_text_quote" in block_types,
            "links": bool(syntax.link.search(text)),
            "edits": message.edited is not None,
            "bot_attachments": bool(message.attachments),
            "system_messages": message.system,
            "thread_broadcasts": message.subtype == "thread_broadcast",
            "deleted_placeholders": message.subtype == "tombstone",
        }
        self.counts.update(k for k, v in found.items() if v)
        self.subtypes[message.subtype or "(none)"] += 1
        self.unknown_fields.update(message.unknown_fields)
        for file in message.files:
            self.file_status[file.status.value] += 1
            self.canvas_files += file.is_canvas
            self.fetched_files += FROM_FETCH in file.extra
        self.days[message.us // _DAY_US] += 1

    def months(self) -> dict[str, int]:
        """Messages per calendar month (UTC), from the per-day counts kept while streaming."""
        months: Counter[str] = Counter()
        for day, count in self.days.items():
            months[micros_to_iso(day * _DAY_US)[:7]] += count
        return dict(sorted(months.items()))


def _block_types(value: Any) -> set[str]:
    """Every `type` inside a block structure."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("type"), str):
                found.add(item["type"])
            stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend(item)
    return found


# --- the inventory ------------------------------------------------------------


def destination(
    mappings: ResolvedMappings, conv: Conversation, rows: list[UserMapping] | None, users: Mapping[str, User]
) -> tuple[str, str]:
    """Where a conversation lands, for a reader: (what: channel | private channel | chat | existing | archive | skip |
    not mapped, where). A DM mapped to a chat that cannot be one (checked when users.csv is known) is archived."""
    route = mappings.route(conv.id)
    if route is None:
        return "not mapped", ""
    if route.action == EXISTING:  # where people already post: the chat, or the team and channel as the route names them
        channel = f"{route.existing_team} / {route.existing_channel}"
        return EXISTING, f"chat {route.existing_chat}" if route.existing_chat else channel
    if route.action != "migrate":
        return route.action, ""
    if route.kind == CHAT:
        reason = chat_fallback_reason(conv, rows, users) if rows is not None else None
        return ("archive", f"not a chat: {reason}") if reason else ("chat", conversation_label(conv, users))
    team = mappings.teams.get(route.team or "")
    where = f"{team.name if team else route.team} / {route.channel}"
    return ("private channel" if route.kind == PRIVATE_CHANNEL else "channel"), where


def build_inventory(source: Source, mappings: ResolvedMappings, files: MappingFiles | None) -> Inventory:
    """Read the whole export once and return the inventory."""
    user_rows = files.rows if files else None
    conversations = source.conversations()
    features = _Features()
    channels: list[ChannelEntry] = []
    issues: Counter[str] = Counter()  # summed over conversations, which are not kept
    targets: Counter[tuple[str, str]] = Counter()  # requests per target channel
    external: dict[str, str] = {}  # authors of another organisation (Slack Connect) -> their organisation
    private: set[tuple[str, str]] = set()  # the targets that are private channels
    for conv in conversations:
        tally = _Tally()
        posts: Counter[str] = Counter()  # an org-level conversation's messages per workspace they were posted in
        org_level = bool(source.workspaces) and not conv.workspace
        for message in source.messages(conv):
            root_us = message.us if not message.is_reply else _root_micros(message)
            tally.add(message, root_us, estimate_html_bytes(message))
            features.add(message)
            if org_level and (workspace := posted_in(message)):
                posts[workspace] += 1
            if message.extra and EXTERNAL_ORG in message.extra:
                external[message.user or ""] = str(message.extra[EXTERNAL_ORG])
        timeline = tally.timeline()
        threads = timeline.pop("threads")
        entry = _channel_entry(source, conv, tally, threads, destination(mappings, conv, user_rows, source.users))
        entry["workspace"] = workspace_label(conv, posts, source.workspaces)
        route = mappings.route(conv.id)
        if route is not None and route.target is not None and tally.messages:
            targets[route.target] += tally.requests + tally.uploads
            if route.kind == PRIVATE_CHANNEL:
                private.add(route.target)
        elif entry["goes_to"] == "chat" and tally.messages:
            targets[("", conv.id)] += tally.requests  # a chat: no team; its files are linked, not uploaded
        channels.append(entry)
        issues.update(timeline, replies_before_root=tally.before_root, oversize_messages=tally.oversize)
    canvases = source.canvases()
    counts = features.counts
    return {
        "source": {"path": source.location, "kind": source.kind},
        "fetched": {
            "folder": source.fetched,
            "files": features.fetched_files,
            "emails": sum(FROM_FETCH in u.extra for u in source.users.values()),
        }
        if source.fetched
        else None,
        "workspace": {"id": source.workspace.id, "name": source.workspace.name},
        "workspaces": _workspace_entries(source, conversations, channels),
        "channels": channels,
        "users": _user_counts(source, external),
        "totals": {
            "conversations": len(conversations),
            "messages": sum(c["messages"] for c in channels),
            "threads": sum(c["threads"] for c in channels),
            "replies": sum(c["replies"] for c in channels),
            "files": sum(c["files"] for c in channels),
        },
        "quarantined": [q.to_dict() for q in source.quarantine],
        "repaired": repaired_rows(source.repaired),  # read after streaming: day files are decoded as they stream
        "issues": {
            "ms_collisions": issues["ms_collisions"],
            "replies_before_root": issues["replies_before_root"],
            "oversize_messages": issues["oversize_messages"],
            "missing_files": features.file_status[MISSING_FILE.value],
            "ms_collisions_channel": issues["ms_collisions_channel"],
            "duplicate_ts": issues["duplicate_ts"],
            "orphan_replies": issues["orphan_replies"],
        },
        "ignored": [{"path": i.path, "reason": i.reason, "entries": i.entries} for i in source.ignored],
        "conversions": {
            "mentions": counts["mentions"],
            "special_mentions": counts["special_mentions"],
            "reactions": counts["reactions"],
            "emoji": counts["emoji"],
            "code_blocks": counts["code_blocks"],
            "inline_code": counts["inline_code"],
            "quotes": counts["quotes"],
            "links": counts["links"],
            "edits": counts["edits"],
            "bot_attachments": counts["bot_attachments"],
            "system_messages": counts["system_messages"],
            "thread_broadcasts": counts["thread_broadcasts"],
            "deleted_placeholders": counts["deleted_placeholders"],
            "canvases": len({f.id for f in canvases} | {c.canvas_id for c in conversations if c.canvas_id})
            + features.canvas_files,
            "pins": sum(len(c.pins) for c in conversations),
        },
        "files": {
            "available": features.file_status[FileStatus.AVAILABLE.value],
            "missing": features.file_status[FileStatus.MISSING.value],
            "external": features.file_status[FileStatus.EXTERNAL.value],
            "deleted": features.file_status[FileStatus.DELETED.value],
        },
        "integrations": _integrations(source.integration_logs),
        "subtypes": dict(sorted(features.subtypes.items(), key=lambda kv: (-kv[1], kv[0]))),
        "unknown_fields": dict(sorted(features.unknown_fields.items(), key=lambda kv: (-kv[1], kv[0]))),
        "messages_per_month": features.months(),
        "user_lists": _user_lists(source, user_rows, external),
        "estimate": _estimate(targets, private, mappings, source, user_rows),
        "mappings": str(mappings.path) if user_rows is not None else None,
        "mapping_problems": [str(p) for p in files.problems] if files else [],
        "mapping_notes": [str(n) for n in files.notes] if files else [],
        "team_split": list(mappings.mappings.split),
    }


def _root_micros(message: Message) -> int:
    """The thread root's time is its ts, which every reply carries as thread_ts."""
    try:
        return ts_to_micros(message.root_ts)
    except ValueError:
        return message.us  # an unreadable thread_ts: treat the reply as its own thread


def _channel_entry(
    source: Source, conv: Conversation, tally: _Tally, threads: int, goes: tuple[str, str]
) -> ChannelEntry:
    return {
        "id": conv.id,
        "name": conv.name,
        "kind": conv.kind.value,
        "label": conversation_label(conv, source.users),
        "members": len(conv.members),
        "archived": conv.archived,
        "goes_to": goes[0],
        "destination": goes[1] or goes[0],
        "messages": tally.messages,
        "threads": threads,
        "replies": tally.replies,
        "files": tally.files,
        "first": micros_to_iso(tally.first) if tally.first is not None else None,
        "last": micros_to_iso(tally.last) if tally.last is not None else None,
        "workspace": "",
    }


def _workspace_entries(
    source: Source, conversations: list[Conversation], channels: list[ChannelEntry]
) -> list[WorkspaceEntry]:
    """Per workspace of an export of several, then for the organisation's own conversations: conversations,
    messages, people (none for an export of one workspace)."""
    if not source.workspaces:
        return []
    messages = {entry["id"]: entry["messages"] for entry in channels}
    levels = [(w, "workspace", listed_by(w, source.users.values())) for w in source.workspaces]
    levels.append((source.workspace, "organisation", list(source.users)))
    rows: list[WorkspaceEntry] = []
    for space, level, people in levels:
        own = [c.id for c in conversations if c.workspace == (space.id if level == "workspace" else "")]
        rows.append(
            {
                "id": space.id,
                "name": space.name,
                "level": level,
                "conversations": len(own),
                "messages": sum(messages[c] for c in own),
                "people": len(people),
            }
        )
    return rows


def _integrations(logs: list[dict[str, Any]]) -> Integrations:
    """Apps and webhooks from the integration log; Teams apps are set up separately, so they are only listed."""
    names = {
        str(e.get("service_type") or e.get("app_type") or e.get("name") or "") for e in logs if isinstance(e, dict)
    }
    return {"events": len(logs), "names": sorted(n for n in names if n)}


def _user_counts(source: Source, external: Mapping[str, str]) -> UserCounts:
    users = list(source.users.values())
    return {
        "total": len(users),
        "bots": sum(u.is_bot for u in users),
        "deleted": sum(u.deleted for u in users),
        "without_email": sum(not u.is_bot and not u.email for u in users),  # bots never have one
        "external": len(external),
    }


def _user_lists(source: Source, user_rows: list[UserMapping] | None, external: Mapping[str, str]) -> UserLists:
    users = list(source.users.values())
    lists: UserLists = {
        "bots": [u.label for u in users if u.is_bot],
        "deleted": [u.label for u in users if u.deleted],
        "without_email": [u.label for u in users if not u.is_bot and not u.email],
        "external": [f"{author} of {org}" for author, org in sorted(external.items())],
    }
    if user_rows is not None:
        mapped = {r.source_id for r in user_rows if r.action == "map" and r.entra_id}
        lists["not_in_directory"] = [u.label for u in users if u.id not in mapped]
    return lists


def _estimate(
    targets: Mapping[tuple[str, str], int],
    private: set[tuple[str, str]],
    mappings: ResolvedMappings,
    source: Source,
    user_rows: list[UserMapping] | None,
) -> Estimate:
    """Import time: the critical path (migrator.critical: per team its largest standard channel then its
    largest private one, per chat itself) at CHANNEL_RPS, all within the tenant-wide rate.

    Per channel or chat: create (with startMigration), the message posts (split
    parts included), file uploads, complete. Per team: create, complete, one
    request per member.
    """
    per_channel = {target: requests + 2 for target, requests in targets.items()}
    used_teams = {team for team, _ in per_channel if team}  # chats are keyed ("", id)
    if user_rows is not None:
        people = sum(r.action == "map" for r in user_rows)
    else:
        people = sum(not u.is_bot and not u.deleted for u in source.users.values())
    team_requests = sum(
        2 + (people if mappings.teams[t].members is None else len(mappings.teams[t].members or ()))
        for t in used_teams
        if t in mappings.teams
    )
    total = sum(per_channel.values()) + team_requests
    slowest = max(per_channel.values(), default=0)
    chains = {
        target[0] or target[1]: chain_requests(
            [n for t, n in per_channel.items() if t[0] == target[0] and t not in private],
            [n for t, n in per_channel.items() if t[0] == target[0] and t in private],
        )
        if target[0]
        else per_channel[target]
        for target in per_channel
    }
    decisive = max(chains, key=lambda name: chains[name], default="")
    seconds = max(chains.get(decisive, 0) / CHANNEL_RPS, total / TENANT_RPS)
    return {
        "requests": total,
        "target_channels": sum(1 for team, _ in per_channel if team),
        "target_chats": sum(1 for team, _ in per_channel if not team),
        "target_teams": len(used_teams),
        "slowest_channel_requests": slowest,
        "critical_path_requests": chains.get(decisive, 0),
        "critical_path": decisive,
        "channel_rps": CHANNEL_RPS,
        "tenant_rps": TENANT_RPS,
        "seconds": math.ceil(seconds),
    }


# --- the stage ----------------------------------------------------------------


def read_mappings(path: Path | None, source: Source) -> tuple[ResolvedMappings, MappingFiles | None]:
    """The consultant's mappings (the files as read, every problem found checking them added) when given,
    otherwise the draft `map` would write (and no files)."""
    conversations = source.conversations()
    if path is None:
        draft = draft_source(Path("mappings") / MIGRATION_FILE, source, None)
        return resolve_targets(draft, conversations), None
    files = load_all(path)
    resolved = resolve_targets(files.mappings, conversations)
    return resolved, replace(files, problems=files.problems + check_against(resolved, files.rows, source))


def run_analyse(
    source_path: Path,
    out_dir: Path,
    mappings_path: Path | None = None,
    source_format: str | None = None,
    fetched: Path | None = None,
) -> Inventory:
    """Analyse an export and write inventory.json and report.html into out_dir (format detected unless given;
    `fetched`: the folder of `migrator fetch`, read as part of a Slack export)."""
    source = open_source(source_path, source_format, fetched)
    try:
        mappings, files = read_mappings(mappings_path, source)
        inventory = build_inventory(source, mappings, files)
    finally:
        source.close()
    write(inventory, out_dir)
    return inventory


def summary(inventory: Inventory) -> str:
    """The few lines the CLI prints."""
    totals, users, issues, repaired = (
        inventory["totals"],
        inventory["users"],
        inventory["issues"],
        inventory["repaired"],
    )
    minutes = inventory["estimate"]["seconds"] / 60
    lines = [
        f"{inventory['workspace']['name']} ({inventory['source']['kind']}): "
        f"{counted(totals['conversations'], 'conversation')}, {counted(totals['messages'], 'message')} "
        f"({counted(totals['replies'], 'reply')} in {counted(totals['threads'], 'thread')}), "
        f"{counted(totals['files'], 'file')}",
        f"users: {users['total']:,} ({counted(users['bots'], 'bot')}, {users['deleted']:,} deleted, "
        f"{counted(users['without_email'], 'person')} without email)",
        f"issues: {counted(issues['ms_collisions'], 'same-millisecond message')} in a thread, "
        f"{counted(issues['replies_before_root'], 'reply')} before their root, "
        f"{counted(issues['oversize_messages'], 'oversize message')}, "
        f"{counted(issues['missing_files'], 'file')} not in the export",
        *(
            [
                f"from the fetch ({inventory['fetched']['folder']}): {counted(inventory['fetched']['files'], 'file')}, "
                f"{counted(inventory['fetched']['emails'], 'email')}"
            ]
            if inventory["fetched"]
            else []
        ),
        f"quarantined: {len(inventory['quarantined']):,}; not read: {counted(len(inventory['ignored']), 'entry')}"
        + (
            f"; broken characters replaced by U+FFFD: {counted(sum(r['strings'] for r in repaired), 'string')} in "
            f"{counted(len(repaired), 'file')}"
            if repaired
            else ""
        ),
        *(
            ["per workspace: " + "; ".join(_workspace_line(w) for w in inventory["workspaces"])]
            if inventory["workspaces"]
            else []
        ),
        "destinations: "
        + ", ".join(f"{n:,} to {what}" for what, n in Counter(c["goes_to"] for c in inventory["channels"]).items()),
        f"estimated import: {minutes:,.1f} min for {counted(inventory['estimate']['requests'], 'request')}",
    ]
    return "\n".join(lines)


def _workspace_line(row: WorkspaceEntry) -> str:
    what = "the organisation's own" if row["level"] == "organisation" else "workspace"
    return (
        f"{row['name']} ({what}): {counted(row['conversations'], 'conversation')}, "
        f"{counted(row['messages'], 'message')}, {counted(row['people'], 'person')}"
    )
