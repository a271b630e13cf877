"""`inventory.json`: what `analyse` found in an export, the record its report, the CLI and the tests read.

Every later count is reconciled against these numbers (transform's report
adds up to `totals`), so the record is defined once, here, in the order its
keys are written; `analyse` builds it and nothing adds or removes keys later.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from migrator.model import QuarantinedRow, RepairedRow


class SourceInfo(TypedDict):
    path: str
    kind: str  # a `migrator.sources.SOURCE_KINDS` name


class FetchedInfo(TypedDict):
    """What came from the folder of `migrator fetch` (--fetched) rather than from the export."""

    folder: str
    files: int  # files whose bytes were read from it
    emails: int  # people whose email was taken from its users.json


class WorkspaceInfo(TypedDict):
    id: str
    name: str


class WorkspaceEntry(TypedDict):
    """One workspace of an export of several (Slack Enterprise Grid), or the organisation's own conversations
    (org-wide and multi-workspace channels, DMs and group DMs): what it holds. Conversations and messages of all rows
    add up to `totals`; a person whom several workspaces list is counted in each of them."""

    id: str
    name: str
    level: str  # "workspace" | "organisation"
    conversations: int
    messages: int
    people: int  # a workspace: the people its users list names; the organisation: every person of the export


class ChannelEntry(TypedDict):
    """One source conversation and where the mappings send it."""

    id: str
    name: str
    kind: str  # `ConversationKind` value
    label: str  # the name a reader recognises (#channel, or the people of a DM)
    members: int
    archived: bool
    goes_to: str  # channel | private channel | chat | archive | skip | not mapped
    destination: str  # "team / channel", a chat's people, why it is archived, or `goes_to` again
    messages: int
    threads: int
    replies: int
    files: int
    first: str | None  # ISO time of the first message; None for an empty conversation
    last: str | None
    # An export of several workspaces: the workspace listing it, or for an org-level conversation "organisation: "
    # and the workspace its posts were made in (or "shared by N workspaces"); "" for an export of one workspace.
    workspace: str


class UserCounts(TypedDict):
    total: int
    bots: int
    deleted: int
    without_email: int  # people only: bots never have one
    external: int  # authors of another organisation (Slack Connect guests), who post through the fallback account


class Totals(TypedDict):
    conversations: int
    messages: int
    threads: int
    replies: int
    files: int


class Issues(TypedDict):
    """What transform must repair, counted before it does (the report explains each)."""

    ms_collisions: int
    replies_before_root: int
    oversize_messages: int
    missing_files: int  # files `model.MISSING_FILE`, as the transform report counts them
    ms_collisions_channel: int
    duplicate_ts: int
    orphan_replies: int


class IgnoredRow(TypedDict):
    path: str
    reason: str
    entries: int


class Conversions(TypedDict):
    """Messages holding what the import API makes us convert rather than carry as it is."""

    mentions: int
    special_mentions: int
    reactions: int
    emoji: int
    code_blocks: int
    inline_code: int
    quotes: int
    links: int
    edits: int
    bot_attachments: int
    system_messages: int
    thread_broadcasts: int
    deleted_placeholders: int
    canvases: int  # files and conversation canvases, which cannot be imported
    pins: int


class FileCounts(TypedDict):
    """Files by `FileStatus`."""

    available: int
    missing: int
    external: int
    deleted: int


class Integrations(TypedDict):
    events: int
    names: list[str]


class UserLists(TypedDict):
    bots: list[str]
    deleted: list[str]
    without_email: list[str]
    external: list[str]  # "USER_ID of ORG" for each author of another organisation
    not_in_directory: NotRequired[list[str]]  # only when users.csv was given


class Estimate(TypedDict):
    """How long the import takes at Graph's rates (see `migrator.limits`)."""

    requests: int
    target_channels: int
    target_chats: int
    target_teams: int
    slowest_channel_requests: int
    critical_path_requests: int  # the longest chain (migrator.critical)
    critical_path: str  # the team (its key) or chat (its source id) of that chain
    channel_rps: float
    tenant_rps: float
    seconds: int


class Inventory(TypedDict):
    source: SourceInfo
    fetched: FetchedInfo | None  # None without --fetched
    workspace: WorkspaceInfo  # an export of several workspaces: the organisation holding them
    workspaces: list[WorkspaceEntry]  # empty for an export of one workspace
    channels: list[ChannelEntry]
    users: UserCounts
    totals: Totals
    quarantined: list[QuarantinedRow]
    repaired: list[RepairedRow]
    issues: Issues
    ignored: list[IgnoredRow]
    conversions: Conversions
    files: FileCounts
    integrations: Integrations
    subtypes: dict[str, int]  # messages per source subtype, most frequent first
    unknown_fields: dict[str, int]  # messages per field the reader did not recognise, most frequent first
    messages_per_month: dict[str, int]  # "YYYY-MM" (UTC) in order
    user_lists: UserLists
    estimate: Estimate
    mappings: str | None  # the mappings analysed against; None for the draft `map` would write
    mapping_problems: list[str]
    mapping_notes: list[str]  # what reading the mapping files noticed without it being a problem (old headers)
    team_split: list[str]  # how the draft spreads the workspace over teams Teams will hold; empty when one team does
