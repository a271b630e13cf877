"""Where every conversation and every person goes: the `map` stage and the mapping files it drafts.

One module per concept: `model` (what the files say), `drafting` (the first draft), `writing` and
`reading` (the files as text, every item with its line), `resolve` (every route's target decided:
what transform reads), `rules` (what `map --check` refuses), `audience` (who may read a conversation
in Teams), `names` (Teams' naming rules), `directory` (where people are matched: Graph or the
emulator) and `stage` (the command-level functions). The names below are the package's public
interface; other stages import them from here.
"""

from migrator.mapping.audience import (
    Reader,
    chat_fallback_reason,
    mapped_members,
    private_channel_readers,
    source_audience,
    team_readers,
)
from migrator.mapping.directory import DirectoryLookup, graph_lookup, open_directory
from migrator.mapping.drafting import draft_mappings, draft_source, draft_users, messages_in
from migrator.mapping.fit import capacity_problems, owner_notes
from migrator.mapping.model import (
    CHANNEL,
    CHAT,
    EXISTING,
    GENERAL,
    MIGRATION_FILE,
    OWN_TEAM,
    PRIVATE_CHANNEL,
    USERS_FILE,
    MappingError,
    MappingFiles,
    Mappings,
    Problem,
    Route,
    Team,
    UserMapping,
    conversation_label,
)
from migrator.mapping.names import MAX_CHANNEL_NAME, channel_name_problems
from migrator.mapping.reading import load_all, load_mappings
from migrator.mapping.resolve import ResolvedMappings, resolve_targets
from migrator.mapping.rules import chat_notes, check_against, check_mappings, check_users
from migrator.mapping.stage import DraftResult, run_check, run_map, source_reference

__all__ = [
    "CHANNEL",
    "CHAT",
    "EXISTING",
    "GENERAL",
    "MAX_CHANNEL_NAME",
    "MIGRATION_FILE",
    "OWN_TEAM",
    "PRIVATE_CHANNEL",
    "USERS_FILE",
    "DirectoryLookup",
    "DraftResult",
    "MappingError",
    "MappingFiles",
    "Mappings",
    "Problem",
    "Reader",
    "ResolvedMappings",
    "Route",
    "Team",
    "UserMapping",
    "channel_name_problems",
    "chat_fallback_reason",
    "capacity_problems",
    "chat_notes",
    "check_against",
    "check_mappings",
    "check_users",
    "conversation_label",
    "draft_mappings",
    "draft_source",
    "draft_users",
    "graph_lookup",
    "load_all",
    "load_mappings",
    "mapped_members",
    "messages_in",
    "open_directory",
    "owner_notes",
    "private_channel_readers",
    "resolve_targets",
    "source_audience",
    "run_check",
    "run_map",
    "source_reference",
    "team_readers",
]
