"""`map --update`: bring the mapping files a consultant edited up to a newer export of the same source (issue 27).

Every entry already in migration.yaml and users.csv is kept as the consultant left it (the document is loaded
and dumped as a round trip, comments and quoting included); what the newer export adds is drafted by the same
rules as a first draft (`drafting`) and appended: its conversations, the teams they are drafted into when the
file has no team of that key, and its people. Entries whose conversation or person the export no longer holds
are taken out (`map --check` would refuse them) and listed, as are the ones added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from migrator.mapping.directory import DirectoryLookup
from migrator.mapping.document import dump_document, load_document
from migrator.mapping.drafting import draft_source, draft_users
from migrator.mapping.model import MIGRATION_FILE, MappingError, UserMapping, conversation_label
from migrator.mapping.reading import load_all
from migrator.mapping.writing import append_conversation, team_entry, write_users_csv
from migrator.model import Source
from migrator.sources import open_source


@dataclass
class UpdateResult:
    """What `map --update` changed, by label (a conversation's #name or its people, a person's name)."""

    migration: Path
    users: Path
    added: list[str] = field(default_factory=list)  # conversations drafted into the file
    gone: list[str] = field(default_factory=list)  # conversations no longer in the export, taken out
    people_added: list[str] = field(default_factory=list)
    people_gone: list[str] = field(default_factory=list)
    teams_added: list[str] = field(default_factory=list)


def run_update(
    source_path: Path,
    out_dir: Path,
    lookup: DirectoryLookup,
    reference: str,
    *,
    source_format: str | None = None,
    fetched: Path | None = None,
) -> UpdateResult:
    """Update the mapping files in `out_dir` for the export at `source_path` (`reference`: how the file names it)."""
    files = load_all(out_dir)
    document, problems = load_document(out_dir / MIGRATION_FILE)
    if not isinstance(document, CommentedMap) or problems:
        where = "; ".join(str(p) for p in problems) or "it is not a mapping"
        raise MappingError(f"{out_dir / MIGRATION_FILE} cannot be updated ({where}); fix it first (`map --check`)")
    source = open_source(source_path, source_format, fetched)
    try:
        result = UpdateResult(out_dir / MIGRATION_FILE, files.mappings.users_path)
        rows = _update_users(files.rows, source, lookup, result)
        _update_conversations(document, source, rows, result)
        document["source"] = reference
        dump_document(document, result.migration)
        write_users_csv(result.users, rows)
    finally:
        source.close()
    return result


def _update_users(
    rows: list[UserMapping], source: Source, lookup: DirectoryLookup, result: UpdateResult
) -> list[UserMapping]:
    """The rows kept (people the export still has), then the new people drafted."""
    kept = [row for row in rows if row.source_id in source.users]
    result.people_gone = [f"{row.source_name} ({row.source_id})" for row in rows if row.source_id not in source.users]
    known = {row.source_id for row in rows}
    new = draft_users([user for user_id, user in source.users.items() if user_id not in known], lookup)
    result.people_added = [f"{row.source_name} ({row.source_id})" for row in new]
    return kept + new


def _update_conversations(
    document: CommentedMap, source: Source, rows: list[UserMapping], result: UpdateResult
) -> None:
    conversations = {c.id: c for c in source.conversations()}
    entries = document.get("conversations")
    if not isinstance(entries, CommentedSeq):
        entries = document["conversations"] = CommentedSeq()
    listed = {str(entry.get("source")) for entry in entries if isinstance(entry, CommentedMap)}
    for index in reversed(range(len(entries))):
        entry = entries[index]
        if isinstance(entry, CommentedMap) and str(entry.get("source")) not in conversations:
            result.gone.insert(0, f"{entry.get('name') or entry.get('source')} ({entry.get('source')})")
            del entries[index]
    draft = draft_source(Path(MIGRATION_FILE), source, None, rows)  # the first draft's rules, for the new ones
    new = [route for route in draft.routes if route.source not in listed]
    if not new:
        return
    teams = document.get("teams")
    if not isinstance(teams, CommentedMap):
        teams = document["teams"] = CommentedMap()
    for route in new:
        if route.team and route.team not in teams and route.team in draft.teams:
            teams[route.team] = team_entry(draft.teams[route.team], source.users)
            result.teams_added.append(route.team)
        conversation = conversations[route.source]
        append_conversation(entries, route, conversation, source.users)
        result.added.append(f"{conversation_label(conversation, source.users)} ({route.source})")
