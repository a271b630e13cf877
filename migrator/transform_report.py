"""`transform-report.json`: what transform converted, split, moved, archived and left out, as one record.

The transform stage builds it (`migrator.stages.transform.outcome`) and
`migrator.reports.transform` writes and renders it; the tests reconcile it
with the inventory. The counts are built so they add up, and the report
states the three sums it rests on, with the numbers filled in:

    read    = planned + archived + skipped_conversations + skipped_system + skipped_authors
    written = planned + split_extra + thread_placeholders
    files   = inline_images + uploaded + missing + external + deleted + unreadable + in_chat
              + archived + left_out

`read` is every message record the reader produced (analyse's
`totals.messages`); `written` is every line of the plan files; `files` is
every file of every message read (analyse's `totals.files`).
"""

from __future__ import annotations

from typing import TypedDict

from migrator.earlier import Change
from migrator.model import QuarantinedRow, RepairedRow
from migrator.plan import ArchiveEntry, PlanSource

# Where the messages read went: `read` is their sum, per conversation and in total.
MESSAGE_KEYS = ("planned", "archived", "skipped_conversations", "skipped_system", "skipped_authors")
# What transform converts rather than carries over, and what each becomes: `conversions` counts the messages of
# each, in this order, and the page shows these words.
CONVERSIONS = {
    "native_mentions": "@mentions of people mapped in users.csv → real Teams mentions",
    "mentions": "@mentions of other people → the person's name in bold (counted by why below)",
    "channel_links": "#channel links → the channel's name in bold",
    "special_mentions": "@here / @channel / groups → bold text, nobody is notified",
    "emoji": ":emoji: codes → Unicode emoji",
    "links": "links",
    "code_blocks": "code blocks → <pre>",
    "inline_code": "inline code → <code>",
    "quotes": "quotes → <blockquote>",
    "edits": "edited → “(edited)” note",
    "native_reactions": "reactions of people mapped in users.csv → real Teams reactions (at most 250 a message)",
    "reactions": "reactions that could not be imported (other people, custom emoji, beyond 250) → one summary line "
    "naming who reacted",
    "pins": "pinned messages → a “pinned” note (Teams imports no pins)",
    "bot_attachments": "bot attachments and link previews → cards",
    "system_messages": "system messages (joins, topic…) → grey notes",
    "deleted_placeholders": "deleted messages kept for their replies → a note",
    "thread_broadcasts": "replies also sent to the channel → kept as replies, with a note",
    "file_comments": "comments on files → the comment, with the file's name",
    "unsupported_blocks": "messages with interactive or unknown blocks (left out, counted by type below)",
    "chat_thread_replies": "thread replies in DMs → messages of the chat with a note naming the thread (chats have no "
    "threads)",
    "split_messages": "messages longer than the import limit → numbered parts",
    "files_over_limit": "messages with more files than Teams allows on one message → the rest in follow-up parts",
    "empty_messages": "messages with nothing to show → a note",
}


class ConversationRow(TypedDict):
    """What became of one source conversation's messages and files."""

    id: str
    name: str
    kind: str
    action: str  # migrate | archive | skip
    target: str  # the target's plan key, the archive page, or "" when skipped
    read: int
    planned: int
    archived: int
    skipped_conversations: int
    skipped_system: int
    skipped_authors: int
    files: int
    files_archived: int
    files_left_out: int


class Adjustment(TypedDict):
    """A message whose time transform moved, and why (`timeline.REASONS`)."""

    target: str
    key: str
    original: str
    planned: str
    reasons: list[str]


class Split(TypedDict):
    key: str
    parts: int
    bytes: int  # of the body before it was split
    files: int  # file attachments moved into follow-up parts (beyond Teams' files per message)


class ThreadPlaceholder(TypedDict):
    """A stand-in root written for replies whose thread start was not imported."""

    key: str
    reason: str
    replies: int


class MessageCounts(TypedDict):
    read: int
    planned: int
    archived: int
    skipped_conversations: int
    skipped_system: int
    skipped_authors: int
    equation: str
    balanced: bool


class LineCounts(TypedDict):
    written: int
    planned: int
    split_extra: int
    thread_placeholders: int
    equation: str
    balanced: bool


class FilePlaceholder(TypedDict):
    """A file whose bytes do not travel; its message shows a placeholder line instead."""

    message: str  # the message's plan key
    file: str  # the source file id
    name: str
    status: str  # the key of `files` it is counted under
    size: int | None
    url: str | None  # the original link, without access tokens


class FileCounts(TypedDict):
    """Every file of every message read, by what became of it, and the uploads."""

    total: int
    inline_images: int
    uploaded: int
    missing: int
    external: int
    deleted: int
    unreadable: int
    in_chat: int
    upload_files: int
    upload_bytes: int
    missing_files: int  # placeholders of files `model.MISSING_FILE` (as analyse counts them), not external or deleted
    placeholders: list[FilePlaceholder]
    from_fetch: int  # of the inline images and uploads, those whose bytes came from `migrator fetch` (--fetched)
    images_over_cap: int  # of the uploads and chat placeholders, images over `defaults.inline_image_max_bytes`
    in_export: int  # every file of every message read
    archived: int
    left_out: int
    equation: str
    balanced: bool


class Timeline(TypedDict):
    moved: int
    by_reason: dict[str, int]
    reasons: dict[str, str]
    adjustments: list[Adjustment]


class SkippedAuthor(TypedDict):
    author: str
    reason: str
    messages: int


class AuthorCounts(TypedDict):
    """Messages by whose account posts them: the author's own, the fallback account, or nobody's (skipped)."""

    mapped: int
    fallback: int
    skipped: int
    external: int  # messages of people of another organisation (Slack Connect guests), not mapped to an account
    fallback_for: dict[str, int]  # the fallback's messages per original author, most first
    skipped_list: list[SkippedAuthor]


class TargetRow(TypedDict):
    """One target channel or chat of the plan."""

    team: str  # the team's name, or "(chat)"
    channel: str
    key: str
    membership: str
    general: bool
    messages: int
    roots: int
    replies: int
    uploads: int
    created: str
    file: str
    sources: list[str]


class TeamRow(TypedDict):
    key: str
    name: str
    created: str
    channels: int
    members: int
    owners: list[str]


# The ledger's lines of one source conversation ("" for records the reader could not place in one:
# `ledger.NO_CONVERSATION`), per fate (`ledger.FATES`, spelt as the ledger spells them), `records`: lines with a
# record, and the conversation's identity: records = read + quarantined_records + replaced.
LedgerRow = TypedDict(
    "LedgerRow",
    {
        "conversation": str,
        "planned": int,
        "merged": int,
        "archived": int,
        "skipped": int,
        "quarantined": int,
        "duplicate": int,
        "already-migrated": int,
        "changed-in-source": int,
        "deleted-in-source": int,
        "records": int,
        "read": int,
        "quarantined_records": int,
        "replaced": int,
        "balanced": bool,
    },
)


class LedgerCounts(TypedDict):
    """The ledger's totals (`migrator.ledger`) and its identity with what the reader parsed."""

    file: str
    fates: dict[str, int]  # per `ledger.FATES`, lines with a record
    records: int
    whole_files: int  # files quarantined whole: a line each, with no record count
    read: int  # records the reader yielded (`messages.read`, the inventory's `messages`)
    quarantined_records: int  # records the reader quarantined one by one (a record twice in one file among them)
    replaced: int  # records another with their id replaced: older versions of an edit, copies of a chat
    no_conversation: int  # records quarantined before the reader could tell their conversation (their row: "")
    equation: str
    balanced: bool  # the identity holds in total and in every conversation's row (the no-conversation one among them)
    conversations: list[LedgerRow]


class TransformReport(TypedDict):
    """`transform-report.json`, in the order its keys are written."""

    source: PlanSource
    fetched: str | None  # the folder of `migrator fetch` read with the export (--fetched), or None
    plan: str
    transformed_at: str
    mapping_notes: list[str]  # what reading the mapping files noticed without it being a problem (old headers)
    messages: MessageCounts
    lines: LineCounts
    files: FileCounts
    conversions: dict[str, int]  # per `CONVERSIONS` key, in its order
    unsupported: dict[str, int]  # block and attachment types left out, most first
    mentions_as_text: dict[str, int]  # mentions kept as bold text (not real Teams mentions), by why, most first
    timeline: Timeline
    split: list[Split]
    thread_placeholders: list[ThreadPlaceholder]
    authors: AuthorCounts
    conversations: list[ConversationRow]
    targets: list[TargetRow]
    teams: list[TeamRow]
    archive: list[ArchiveEntry]
    quarantined: list[QuarantinedRow]
    repaired: list[RepairedRow]
    ledger: LedgerCounts
    changes: list[Change]  # changed since the earlier pass into this plan folder (`migrator.earlier`)
    earlier_note: str | None  # why changes since an earlier pass cannot be listed (`migrator.earlier.UNREADABLE`)
