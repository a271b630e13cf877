"""The `transform` stage: the source model and the mappings as the exact requests load will send.

Everything that decides what lands in Teams happens here and is written down
for review before anything is sent: per target channel a JSONL file of
import requests in posting order, the manifest (teams, channels, backdated
creation times, members, uploads), the files to upload, the archive of what
is not imported, and a report whose counts add up to the export's inventory.
Each source conversation is streamed once; see `planner.py` for why memory
stays flat.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from migrator import collector
from migrator.earlier import (
    UNREADABLE,
    Change,
    Earlier,
    Folded,
    Landed,
    Versions,
    changed_summary,
    fold,
    record_source,
    source_changes,
    write_changes,
)
from migrator.errors import InputError
from migrator.journals import JOURNAL_FILE, journal_exists, open_journal
from migrator.ledger import LEDGER, LedgerWriter, line_of, reader_lines
from migrator.mapping import (
    CHAT,
    EXISTING,
    GENERAL,
    PRIVATE_CHANNEL,
    MappingFiles,
    Mappings,
    Reader,
    ResolvedMappings,
    Route,
    UserMapping,
    chat_fallback_reason,
    check_against,
    conversation_label,
    load_all,
    mapped_members,
    owner_notes,
    private_channel_readers,
    resolve_targets,
    source_audience,
    team_readers,
)
from migrator.model import Conversation, Source, User, repaired_rows
from migrator.plan import (
    MANIFEST,
    ArchiveEntry,
    Manifest,
    PlanError,
    PlannedAudience,
    PlannedConversation,
    PlannedMember,
    PlannedTeam,
    PlanSource,
)
from migrator.reports.transform import write
from migrator.sources import open_source
from migrator.sources.products import product
from migrator.stages.transform.archive import ARCHIVE_DIR, Archiver
from migrator.stages.transform.authors import Authors
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import FilePlanner, FileStore, safe_component, unique_name
from migrator.stages.transform.kept import KeptLines, set_aside
from migrator.stages.transform.outcome import Tally, build, ledger_counts
from migrator.stages.transform.planner import ChannelPlan, Run, Target
from migrator.timestamps import format_ms
from migrator.timestamps import now_ms as current_ms
from migrator.transform_report import AuthorCounts, ConversationRow, LedgerCounts, TargetRow, TeamRow, TransformReport
from migrator.words import counted

FILES_DIR = "files"
CHATS_DIR = "chats"  # the plan files of chats: chats/{source id}.jsonl
SKIPPED_CONVERSATION = "its conversation is mapped to skip in migration.yaml"


class TransformError(InputError):
    """The mappings cannot be carried out; lists every problem with file and line (exit code 2)."""


@dataclass(frozen=True)
class TransformResult:
    plan_dir: Path
    manifest: Manifest
    report: TransformReport
    report_json: Path
    report_html: Path


def transform(
    source_path: Path,
    mappings_path: Path,
    out_dir: Path,
    *,
    now_ms: int | None = None,
    source_format: str | None = None,
    fetched: Path | None = None,
    journal: str | Path | None = None,
) -> TransformResult:
    """Write the plan for `source_path` as `mappings_path` (migration.yaml or its folder) says, into `out_dir`.

    `now_ms` is the moment nothing may be later than (default: now); tests fix it. `source_format`
    names the export's format when detection should not decide (`migrator.sources.SOURCE_KINDS`); `fetched` is
    the folder `migrator fetch` wrote for a Slack export. `journal` is the one the plan already in `out_dir` was
    loaded with (default: journal.sqlite in `out_dir` or beside it, where `load` and `migrate` keep it): a delta
    pass compares the newer export with what landed (`migrator.earlier`).
    """
    files = load_all(Path(mappings_path))
    mappings, rows, problems = files.mappings, files.rows, list(files.problems)
    source = open_source(Path(source_path), source_format, fetched)
    try:
        resolved = resolve_targets(mappings, source.conversations())
        problems += check_against(resolved, rows, source)
        if problems:
            raise TransformError(
                f"{counted(len(problems), 'problem')} in the mappings (`migrator map --check` explains each); "
                "fix and run again:\n" + "\n".join(str(p) for p in problems)
            )
        out_dir = Path(out_dir)
        folded = _fold(out_dir, journal)
        kept = KeptLines(_prepare_plan_dir(out_dir), folded.planned)
        ledger = LedgerWriter(out_dir / LEDGER)
        versions = Versions(folded.earlier, folded.planned, folded.journaled)
        job = _Transform(source, resolved, files, out_dir, now_ms or current_ms(), ledger, versions, kept)
        try:
            with collector.streaming():
                manifest, report = job.run(Path(source_path))
            report["changes"] = job.since(folded.earlier, manifest, report)
        finally:
            kept.close()  # a transform that stopped leaves the earlier plan set aside for the next (`kept.py`)
            ledger.close()
    finally:
        source.close()
    json_path, html_path = write(report, out_dir)
    return TransformResult(out_dir, manifest, report, json_path, html_path)


def _fold(out_dir: Path, journal: str | Path | None) -> Folded:
    """`migrator.earlier.fold` with what the journal records as landed; without a journal (none given, none where
    `load` and `migrate` keep it), with what was planned."""
    candidates = [journal] if journal is not None else [out_dir / JOURNAL_FILE, out_dir.parent / JOURNAL_FILE]
    found = next((path for path in candidates if journal_exists(path)), None)
    if found is None or not (out_dir / MANIFEST).is_file():
        return fold(out_dir, None)
    with open_journal(found, readonly=True) as opened:
        landed: Landed = opened.posted
        return fold(out_dir, landed)


def summary(result: TransformResult) -> str:
    """The few lines the CLI prints."""
    m, lines, files = result.report["messages"], result.report["lines"], result.report["files"]
    ledger = result.report["ledger"]
    channels = sum(len(t.channels) for t in result.manifest.teams)
    private = sum(c.membership == "private" for t in result.manifest.teams for c in t.channels)
    return "\n".join(
        [
            f"{counted(m['read'], 'message')} read: {m['planned']:,} planned, {m['archived']:,} archived, "
            f"{m['skipped_conversations'] + m['skipped_system'] + m['skipped_authors']:,} left out",
            f"{counted(lines['written'], 'import request')} for {counted(channels, 'channel')} "
            f"({private:,} private) in {counted(len(result.manifest.teams), 'team')} "
            f"and {counted(len(result.manifest.chats), 'chat')} "
            f"({counted(lines['split_extra'], 'extra part')} of split messages, "
            f"{counted(lines['thread_placeholders'], 'stand-in thread start')})",
            f"files: {counted(files['inline_images'], 'inline image')}, {counted(files['uploaded'], 'upload')}, "
            f"{counted(len(files['placeholders']), 'placeholder')}; "
            f"{counted(result.report['timeline']['moved'], 'time')} moved",
            f"ledger: {counted(ledger['records'], 'source record')} ("
            + ", ".join(f"{n:,} {fate}" for fate, n in ledger["fates"].items() if n)
            + (f"; {ledger['no_conversation']:,} in no conversation" if ledger["no_conversation"] else "")
            + ("); they add up" if ledger["balanced"] else f"); they do not add up ({ledger['equation']})"),
            *result.report["mapping_notes"],
            *([changed_summary(result.report["changes"])] if result.report["changes"] else []),
            *([result.report["earlier_note"]] if result.report["earlier_note"] else []),
        ]
    )


def _prepare_plan_dir(out_dir: Path) -> Path:
    """A plan written again replaces the last one, whose plan files are set aside for the lines worth keeping
    (`kept.py`, returns their folder); the journal of a load beside it is kept."""
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = None
    if (out_dir / MANIFEST).is_file():
        try:
            previous = Manifest.read(out_dir)
        except PlanError:
            previous = None
        for folder in (FILES_DIR, ARCHIVE_DIR):
            shutil.rmtree(out_dir / folder, ignore_errors=True)
    return set_aside(out_dir, previous)


class _Transform:
    """One run: the shared state and the order things are written in."""

    def __init__(
        self,
        source: Source,
        resolved: ResolvedMappings,
        files: MappingFiles,
        out_dir: Path,
        now_ms: int,
        ledger: LedgerWriter,
        versions: Versions,
        kept: KeptLines,
    ) -> None:
        self.source, self.resolved, self.out_dir, self.now_ms = source, resolved, out_dir, now_ms
        self.ledger, self.versions = ledger, versions
        self.mappings = mappings = resolved.mappings
        self.rows = rows = files.rows
        self.conversations = source.conversations()
        # About the mapping files (a users.csv header, owners beyond Teams' limit), shown at the top of the report.
        self.notes = [str(n) for n in files.notes + owner_notes(resolved, self.conversations, rows, source.users)]
        self.authors = Authors(mappings, rows, source.users, source.naming_messages)
        channels = {c.id: c.name for c in self.conversations}
        self.files = FilePlanner(source, FileStore(source, out_dir, FILES_DIR), mappings.inline_image_max_bytes)
        self.tally = Tally()
        self.run_state = Run(
            source,
            self.authors,
            Context(
                users=self.authors.names,
                channels=channels,
                people=self.authors.people(),
                native_mentions=mappings.mentions == "native",
                native_reactions=mappings.reactions == "native",
                elsewhere=self.authors.elsewhere,
            ),
            self.files,
            self.tally,
            mappings.system_messages != "skip",
            now_ms,
            ledger,
            mappings.limits,
            native_forms(mappings, source),
            (mappings.mentions == "native", mappings.reactions == "native"),
            versions,
            kept,
        )
        self.archiver = Archiver(source, self.authors.names, channels, out_dir, ledger, self.authors.elsewhere)

    def run(self, source_path: Path) -> tuple[Manifest, TransformReport]:
        not_chats = self._chat_fallbacks()
        targets = _targets(self.resolved, self.conversations, self.rows, self.source.users, not_chats)
        planned = self._plan_targets(targets)
        self.run_state.kept.discard()  # every line is planned: the earlier plan goes before the new one is named
        archive = self._archive_and_skip(not_chats)
        for line in reader_lines(self.source.quarantine, self.source.displaced()):  # complete once all is read
            self.ledger.add(line)
        teams = self._teams([t for t in targets if not t.is_chat], planned)
        chats = [planned[t.key] for t in targets if t.is_chat]
        manifest = Manifest(
            source=self._header(source_path),
            teams=teams,
            chats=chats,
            archive=archive,
            limits=self.mappings.limits.as_dict(),
        )
        manifest.write(self.out_dir)
        order = {c.id: i for i, c in enumerate(self.conversations)}
        self.tally.conversations.sort(key=lambda row: order[row["id"]])
        return manifest, self._report(manifest)

    def _plan_targets(self, targets: list[Target]) -> dict[str, PlannedConversation]:
        planned = {}
        with tempfile.TemporaryDirectory(prefix=".spool-", dir=self.out_dir) as spool_dir:
            for number, target in enumerate(targets):
                with open(Path(spool_dir) / f"{number}.spool", "w+b") as spool:
                    plan = ChannelPlan(self.run_state, target, spool)
                    for conversation in target.sources:
                        counts = plan.add(conversation)
                        self._row(
                            conversation,
                            EXISTING if target.existing else "migrate",
                            target.key,
                            read=counts["read"],
                            planned=counts["planned"],
                            skipped_system=counts["skipped_system"],
                            skipped_authors=counts["skipped_author"],
                            files=counts["files"],
                            files_left_out=counts["files_left_out"],
                        )
                    planned[target.key] = plan.finish(self.out_dir)
                    if target.existing:
                        planned[target.key].audiences = self._audiences(target)
        return planned

    def _audiences(self, target: Target) -> list[PlannedAudience]:
        """Who could read each private channel, DM or group DM going into an existing target, for load to compare
        with the target's members right before reopening it (membership may change after `map --check`)."""
        made_by = product(self.source.kind).name
        audiences = [source_audience(c, self.rows, made_by) for c in target.sources]
        return [
            PlannedAudience(c.id, a.what, a.made_by, [PlannedMember(i, name) for i, name in a.people.items()])
            for c, a in zip(target.sources, audiences, strict=True)
            if a.restricted
        ]

    def _chat_fallbacks(self) -> dict[str, str]:
        """DMs mapped to a chat that cannot be one (someone has no Entra account): source id -> why."""
        by_id = {c.id: c for c in self.conversations}
        reasons = {
            route.source: chat_fallback_reason(by_id[route.source], self.rows, self.source.users)
            for route in self.resolved.routes
            if route.action == "migrate" and route.kind == CHAT
        }
        return {source: f"not a chat: {reason}" for source, reason in reasons.items() if reason}

    def _archive_and_skip(self, not_chats: dict[str, str]) -> list[ArchiveEntry]:
        archive = []
        by_id = {c.id: c for c in self.conversations}
        for route in self.resolved.routes:
            conversation = by_id[route.source]
            if route.action == "archive" or route.source in not_chats:
                reason = not_chats.get(route.source, "mapped to archive in migration.yaml")
                entry = self.archiver.archive(conversation, conversation_label(conversation, self.source.users), reason)
                archive.append(entry)
                self._row(
                    conversation,
                    "archive",
                    entry["page"],
                    read=entry["messages"],
                    archived=entry["messages"],
                    files=entry["files_read"],
                    files_archived=entry["files_read"],
                )
            elif route.action == "skip":
                read = files = 0
                for message in self.source.messages(conversation):
                    read, files = read + 1, files + len(message.files)
                    skipped = line_of(message, "skipped")
                    skipped["reason"] = SKIPPED_CONVERSATION
                    self.ledger.add(skipped)
                self._row(
                    conversation, "skip", "", read=read, skipped_conversations=read, files=files, files_left_out=files
                )
        return archive

    def _row(
        self,
        conversation: Conversation,
        action: str,
        target: str,
        *,
        read: int,
        planned: int = 0,
        archived: int = 0,
        skipped_conversations: int = 0,
        skipped_system: int = 0,
        skipped_authors: int = 0,
        files: int,
        files_archived: int = 0,
        files_left_out: int = 0,
    ) -> None:
        row: ConversationRow = {
            "id": conversation.id,
            "name": conversation.name,
            "kind": conversation.kind.value,
            "action": action,
            "target": target,
            "read": read,
            "planned": planned,
            "archived": archived,
            "skipped_conversations": skipped_conversations,
            "skipped_system": skipped_system,
            "skipped_authors": skipped_authors,
            "files": files,
            "files_archived": files_archived,
            "files_left_out": files_left_out,
        }
        self.tally.conversations.append(row)

    def _teams(self, targets: list[Target], planned: dict[str, PlannedConversation]) -> list[PlannedTeam]:
        """Teams that receive at least one channel, created at or before their earliest channel."""
        teams: dict[str, PlannedTeam] = {}
        for target in targets:
            channel = planned[target.key]
            team = teams.get(target.team)
            if team is None:
                team = teams[target.team] = self._team(target, channel.created)
            team.channels.append(channel)
            team.created = min(team.created, channel.created)
        for team in teams.values():
            if team.existing:  # its members are as people left them: load adds nobody
                continue
            sources = [c for t in targets if t.team == team.key for c in t.sources]
            readers, _ = team_readers(
                self.mappings.teams[team.key].members,
                self.rows,
                self.source.users,
                sources,
                self.mappings.limits.owners_per_team,
            )
            team.members = _planned_members(readers)
        return list(teams.values())

    def _team(self, target: Target, created: str) -> PlannedTeam:
        """The planned team of a channel: a team of `teams:`, or the existing team an `action: existing` route names."""
        if target.existing_team:
            return PlannedTeam(
                key=target.team, display_name=target.existing_team, created=created, existing=target.existing_team
            )
        mapped = self.mappings.teams[target.team]
        return PlannedTeam(key=mapped.key, display_name=mapped.name, created=created, description=mapped.description)

    def _header(self, source_path: Path) -> PlanSource:
        return {
            "path": str(source_path),
            "kind": self.source.kind,
            "workspace": self.source.workspace.name,
            "mappings": str(self.mappings.path),
            "transformed_at": format_ms(self.now_ms),
        }

    def since(self, earlier: Earlier | None, manifest: Manifest, report: TransformReport) -> list[Change]:
        """What changed since the earlier pass into this folder (none for a first pass), in changes.json and the
        ledger's fates (`migrator.earlier`); the report's ledger counts follow. The export's conversations and
        people are left for the next pass to compare with."""
        changes = self.versions.changes(manifest, self.source)
        if earlier is not None:
            changes += source_changes(earlier, manifest, self.source)
            for line in self.versions.deleted_lines(changes):
                self.ledger.add(line)
            report["ledger"] = self._ledger_counts()
            report["earlier_note"] = UNREADABLE if earlier.unreadable else None
        self.versions.write(self.out_dir, manifest)
        write_changes(self.out_dir, changes)
        record_source(self.out_dir, self.source)
        return changes

    def _ledger_counts(self) -> LedgerCounts:
        return ledger_counts(
            self.ledger.fates, self.tally.conversations, self.source.quarantine, self.source.displaced()
        )

    def _report(self, manifest: Manifest) -> TransformReport:
        uploads = {u.key: u for _, c in manifest.conversations() for u in c.uploads}
        return build(
            self.tally,
            source=manifest.source,
            plan=str(self.out_dir),
            mapping_notes=self.notes,
            lines_written=sum(c.messages for _, c in manifest.conversations()),
            file_decisions=self.files.counts,
            placeholders=self.files.placeholders,
            uploads=(len(uploads), sum(u.size for u in uploads.values())),
            authors=self._authors(),
            unsupported=self.run_state.ctx.unsupported,
            mentions_as_text=self.run_state.ctx.mentions_as_text,
            targets=_target_rows(manifest),
            teams=_team_rows(manifest),
            archive=manifest.archive,
            quarantined=[q.to_dict() for q in self.source.quarantine],
            repaired=repaired_rows(self.source.repaired),
            ledger=self._ledger_counts(),
            fetched=self.source.fetched,
        )

    def _authors(self) -> AuthorCounts:
        counts = self.authors.counts
        return {
            "mapped": counts["mapped"],
            "fallback": counts["fallback"],
            "skipped": counts["skipped"],
            "external": counts["external"],
            "fallback_for": dict(self.authors.fallback_names.most_common()),
            "skipped_list": [
                {"author": name, "reason": reason, "messages": n}
                for (name, reason), n in self.authors.skipped.most_common()
            ],
        }


def native_forms(mappings: Mappings, source: Source) -> dict[str, tuple[bool, bool]]:
    """Workspace id -> (real mentions, real reactions) for the workspaces migration.yaml's `workspaces:` names (by id
    or by name), each form it leaves out taken from `defaults`."""
    ids = {workspace.name: workspace.id for workspace in source.workspaces}
    return {
        ids.get(key, key): (
            given.get("mentions", mappings.mentions) == "native",
            given.get("reactions", mappings.reactions) == "native",
        )
        for key, given in mappings.workspace_forms.items()
    }


def _targets(
    resolved: ResolvedMappings,
    conversations: list[Conversation],
    rows: list[UserMapping],
    users: Mapping[str, User],
    not_chats: dict[str, str],
) -> list[Target]:
    """Target channels and chats in the order migration.yaml names them, each with the conversations merged into it."""
    by_id = {c.id: c for c in conversations}
    targets: dict[tuple[str, str], Target] = {}
    file_names: dict[str, set[str]] = {}
    for route in resolved.routes:
        conversation = by_id[route.source]
        if route.action == EXISTING:
            _existing(route, conversation, rows, targets, file_names)
            continue
        if route.action == "migrate" and route.kind == CHAT and route.source not in not_chats:
            targets[(CHATS_DIR, conversation.id)] = _chat(conversation, rows, file_names.setdefault(CHATS_DIR, set()))
            targets[(CHATS_DIR, conversation.id)].sources.append(conversation)
        if route.target is None:
            continue
        target = targets.get(route.target)
        if target is None:
            target = targets[route.target] = _target(
                route, conversation, file_names.setdefault(route.team or "", set())
            )
            if route.kind == PRIVATE_CHANNEL:  # map --check allows exactly one source per private channel
                readers = private_channel_readers(conversation, rows, users)
                target.membership, target.members = "private", _planned_members(readers)
        target.sources.append(conversation)
    return list(targets.values())


def _target(route: Route, conversation: Conversation, taken: set[str]) -> Target:
    assert route.team is not None and route.channel is not None  # route.target is set
    name = unique_name(safe_component(route.channel) or "channel", taken)
    return Target(
        key=f"{route.team}/{route.channel}",
        team=route.team,
        display_name=route.channel,
        file=f"{safe_component(route.team)}/{name}.jsonl",
        general=route.channel == GENERAL,
        description=conversation.purpose or conversation.topic,
    )


def _existing(
    route: Route,
    conversation: Conversation,
    rows: list[UserMapping],
    targets: dict[tuple[str, str], Target],
    file_names: dict[str, set[str]],
) -> None:
    """An `action: existing` route's target: the existing chat, or the existing channel (several routes naming one
    merge into it, as the people already posting there do). Never General of a team the migration creates, and
    never private in the plan: nothing is created, so it loads with the standard channels and chats."""
    if route.existing_chat:
        target = _chat(conversation, rows, file_names.setdefault(CHATS_DIR, set()))
        target.existing = route.existing_chat  # its members: the source's audience, which map --check compares
        targets[(CHATS_DIR, conversation.id)] = target
    else:
        assert route.existing_team is not None and route.existing_channel is not None  # the reader requires both
        team = f"{EXISTING}/{route.existing_team}"
        key = (team, route.existing_channel.casefold())
        if key not in targets:
            name = unique_name(safe_component(route.existing_channel) or "channel", file_names.setdefault(team, set()))
            targets[key] = Target(
                key=f"{team}/{route.existing_channel}",
                team=team,
                display_name=route.existing_channel,
                file=f"{safe_component(team)}/{name}.jsonl",
                general=False,
                description="",
                existing=route.existing_channel,
                existing_team=route.existing_team,
            )
        target = targets[key]
    target.sources.append(conversation)


def _chat(conversation: Conversation, rows: list[UserMapping], taken: set[str]) -> Target:
    """A 1:1 or group chat whose members are exactly the DM's participants (all mapped: see _chat_fallbacks);
    its name lists them, and becomes the topic of a group chat."""
    people = mapped_members(conversation, rows)
    name = unique_name(safe_component(conversation.id), taken)
    return Target(
        key=f"{CHATS_DIR}/{conversation.id}",
        team="",
        display_name=", ".join(p.source_name for p in people),
        file=f"{CHATS_DIR}/{name}.jsonl",
        general=False,
        description="",
        membership="oneOnOne" if len(people) == 2 else "group",
        members=[PlannedMember(p.entra_id, p.source_name, ["owner"]) for p in people],
    )


def _planned_members(readers: list[Reader]) -> list[PlannedMember]:
    return [PlannedMember(r.entra_id, r.name, ["owner"] if r.owner else []) for r in readers]


def _target_rows(manifest: Manifest) -> list[TargetRow]:
    return [
        {
            "team": team.display_name if team else "(chat)",
            "channel": c.display_name,
            "key": c.key,
            "membership": c.membership,
            "general": c.general,
            "messages": c.messages,
            "roots": c.roots,
            "replies": c.replies,
            "uploads": len(c.uploads),
            "created": c.created,
            "file": c.file,
            "sources": c.sources,
        }
        for team, c in manifest.conversations()
    ]


def _team_rows(manifest: Manifest) -> list[TeamRow]:
    return [
        {
            "key": t.key,
            "name": t.display_name,
            "created": t.created,
            "channels": len(t.channels),
            "members": len(t.members),
            "owners": [m.display_name for m in t.members if "owner" in m.roles],
        }
        for t in manifest.teams
    ]
