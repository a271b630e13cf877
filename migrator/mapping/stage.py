"""The `map` stage: draft the mapping files for an export, or check them against it.

It drafts two files a consultant edits and commits with the project: `migration.yaml` (target
teams and channels per source conversation) and `users.csv` (source user to Entra ID user), and
`--check` explains every problem with file and line before anything is sent to Microsoft Graph.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from migrator.mapping.directory import DirectoryLookup
from migrator.mapping.drafting import draft_source, draft_users
from migrator.mapping.fit import owner_notes
from migrator.mapping.model import CHAT, MIGRATION_FILE, PRIVATE_CHANNEL, USERS_FILE, MappingError, Problem
from migrator.mapping.reading import load_all
from migrator.mapping.resolve import resolve_targets
from migrator.mapping.rules import chat_notes, check_against
from migrator.mapping.tenant import TenantCheck, has_existing
from migrator.mapping.writing import write_mappings, write_users_csv
from migrator.model import FROM_FETCH
from migrator.sources import open_source
from migrator.sources.products import product
from migrator.words import counted


@dataclass(frozen=True)
class DraftResult:
    migration: Path
    users: Path
    teams: int
    channels: int
    private_channels: int
    chats: int
    archived: int
    mapped: int
    fallback: int
    fallback_found: bool
    emails_fetched: int  # people matched by an email from the fetch folder (--fetched)
    split: tuple[str, ...] = ()  # how the draft spread the workspace over teams (none when one team holds it)

    def summary(self, fetched: Path | None) -> list[str]:
        """The lines the CLI prints: what each file holds, and how the workspace was spread over teams."""
        return [
            f"wrote {self.migration}: {counted(self.teams, 'team')}, {counted(self.channels, 'channel')} "
            f"({self.private_channels:,} private), {counted(self.chats, 'chat')}, {self.archived:,} archived",
            *self.split,  # (also in migration.yaml)
            f"wrote {self.users}: {counted(self.mapped, 'user')} mapped, {self.fallback:,} to the fallback account"
            + (f" ({self.emails_fetched:,} mapped by an email from {fetched})" if fetched else ""),
        ]


def source_reference(source_path: Path, out_dir: Path) -> str:
    """Relative to the mappings folder when both live in one project (so the pair can move together)."""
    source, folder = source_path.resolve(), out_dir.resolve()
    if os.path.commonpath([source, folder]) == source.anchor:
        return source.as_posix()
    return Path(os.path.relpath(source, folder)).as_posix()


def run_map(
    source_path: Path,
    out_dir: Path,
    lookup: DirectoryLookup,
    *,
    fallback: str | None = None,
    force: bool = False,
    source_format: str | None = None,
    fetched: Path | None = None,
) -> DraftResult:
    """Draft migration.yaml and users.csv; existing files are kept unless force, since they hold edits. `fetched`:
    the folder of `migrator fetch`, whose emails match people the export gives none."""
    migration, users_csv = out_dir / MIGRATION_FILE, out_dir / USERS_FILE
    existing = [p for p in (migration, users_csv) if p.exists()]
    if existing and not force:
        raise MappingError(
            f"{', '.join(map(str, existing))} already exist and may hold your edits; "
            "use --force to draft them again, or --check to validate them"
        )
    source = open_source(source_path, source_format, fetched)
    try:
        conversations, made_by = source.conversations(), product(source.kind)
        rows = draft_users(source.users.values(), lookup)
        reference = source_reference(source_path, out_dir)
        mappings = draft_source(migration, source, reference, rows)
        found = lookup(fallback) if fallback else None
        mappings = replace(mappings, fallback=fallback, fallback_id=str(found["id"]) if found else None)
        out_dir.mkdir(parents=True, exist_ok=True)
        write_mappings(migration, mappings, conversations, source.users, made_by)
        write_users_csv(users_csv, rows)
        from_fetch = {u.id for u in source.users.values() if FROM_FETCH in u.extra}
    finally:
        source.close()
    routes = mappings.routes
    return DraftResult(
        migration=migration,
        users=users_csv,
        teams=len(mappings.teams),
        channels=sum(r.target is not None for r in routes),
        private_channels=sum(r.kind == PRIVATE_CHANNEL for r in routes),
        chats=sum(r.kind == CHAT and r.action == "migrate" for r in routes),
        archived=sum(r.action == "archive" for r in routes),
        mapped=sum(r.action == "map" for r in rows),
        fallback=sum(r.action == "fallback" for r in rows),
        fallback_found=found is not None,
        emails_fetched=sum(r.action == "map" and r.source_id in from_fetch for r in rows),
        split=mappings.split,
    )


def run_check(
    folder: Path,
    source_override: Path | None = None,
    source_format: str | None = None,
    notes: list[Problem] | None = None,
    fetched: Path | None = None,
    tenant: TenantCheck | None = None,
) -> list[Problem]:
    """Every problem in the mapping files, checked against the export they were drafted from; `notes`
    collects what is not a problem but changes the outcome or asks for a change (DMs that will be archived
    instead of chats, a users.csv header with the old column names). `tenant` checks the routes into existing
    channels and chats through Graph, and is called only when there are some."""
    files = load_all(folder)
    mappings, rows, problems = files.mappings, files.rows, list(files.problems)
    if notes is not None:
        notes += files.notes
    if not mappings.lines:
        return problems
    source_path = source_override
    if source_path is None:
        if not mappings.source:
            return problems + [
                Problem(
                    mappings.path.as_posix(),
                    mappings.lines.get("version"),
                    "no `source:` to check against; add the export's path or pass --source",
                )
            ]
        source_path = mappings.path.parent / mappings.source
    source = open_source(source_path, source_format, fetched)
    try:
        resolved = resolve_targets(mappings, source.conversations())
        problems += check_against(resolved, rows, source)
        if tenant is not None and has_existing(resolved):
            problems += tenant(resolved, rows, source)
        if notes is not None:
            notes += chat_notes(resolved, rows, source)
            notes += owner_notes(resolved, source.conversations(), rows, source.users)
        return problems
    finally:
        source.close()
