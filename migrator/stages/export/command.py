"""The `export` commands: options to ExportOptions, the Graph target, log, progress, summary and archive."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from migrator.cli import fail
from migrator.emulator.runner import EmulatorStartError
from migrator.graph import ConfigError, GraphClient, GraphError
from migrator.logfile import log_to
from migrator.reports.export import SUMMARY_FILE, write_summary
from migrator.stages.export.archive import ArchiveError
from migrator.stages.export.filters import FilterError, MessageFilter, parse_moment
from migrator.stages.export.outcome import DONE, ExportOutcome, Target
from migrator.stages.export.progress import ExportProgress
from migrator.stages.export.runner import ExportOptions, directory_users, export, export_limiter
from migrator.stages.export.state import StateError
from migrator.target import graph_target

LOG_FILE = "export.log"
FORMATS = ("jsonl", "html")


@dataclass(frozen=True)
class ExportRequest:
    """What the command line asked for, before anything is sent."""

    out: Path
    since: str | None = None
    until: str | None = None
    from_user: tuple[str, ...] = ()
    user_type: tuple[str, ...] = ()
    app_type: tuple[str, ...] = ()
    system_messages: str | None = None
    model: str | None = None
    format: str = "jsonl"
    tenant_rps: float = 200.0
    workers: int = 16
    full: bool = False
    directory: Path | None = None
    emulator_dir: Path | None = None

    def options(self) -> ExportOptions:
        if self.format not in FORMATS:
            raise FilterError(f"--format {self.format!r}: use jsonl or html")
        if self.tenant_rps <= 0:
            raise FilterError("--tenant-rps must be above 0")
        options = ExportOptions(
            message_filter=MessageFilter(self.from_user, self.user_type, self.app_type, self.system_messages),
            since_ms=parse_moment(self.since, "--since") if self.since else None,
            until_ms=parse_moment(self.until, "--until") if self.until else None,
            model=self.model.upper() if self.model else None,
            full=self.full,
            workers=self.workers,
        )
        options.check()
        return options


def run_export(kind: str, ids: list[str], every_user: bool, request: ExportRequest) -> None:
    """`kind` is team or user; `every_user` lists the directory's users instead of taking ids."""
    try:
        options = request.options()
    except FilterError as error:
        fail(f"export: {error}")
    try:
        with (
            log_to(request.out / LOG_FILE),
            graph_target(request.emulator_dir or request.out / "emulator", request.directory) as target,
            GraphClient(target.config, limiter=export_limiter(request.tenant_rps)) as client,
        ):
            if every_user:
                try:
                    ids = directory_users(client)
                except GraphError as error:
                    fail(f"export: listing the directory's users failed: {error}", code=1)
            targets = [Target(kind, target_id) for target_id in ids]
            typer.echo(f"export: {len(targets)} {kind}s from {target.description} into {request.out}")
            progress = ExportProgress(len(targets), client.stats)
            try:
                outcome = export(client, targets, request.out, options, progress)
            finally:
                progress.close()
    except (StateError, ArchiveError, ConfigError, EmulatorStartError) as error:
        fail(f"export: {error}")
    _report(outcome, request)


def _report(outcome: ExportOutcome, request: ExportRequest) -> None:
    write_summary(outcome, request.out)
    for result in outcome.targets:
        if result.status != DONE:
            typer.echo(f"export: {result.target.kind} {result.name}: {result.status}: {result.error}", err=True)
        for line in result.image_failures + result.notes:
            typer.echo(f"export: {result.target.kind} {result.name}: {line}", err=True)
    if request.format == "html":
        from migrator.reports.export_archive import render_archive

        try:
            typer.echo(f"export: archive {render_archive(request.out)}")
        except ArchiveError as error:
            fail(f"export: the HTML archive was not written: {error}", code=1)
    typer.echo(outcome.summary())
    typer.echo(f"export: details in {request.out / SUMMARY_FILE} and {request.out / LOG_FILE}")
    if not outcome.ok:
        raise typer.Exit(1)
