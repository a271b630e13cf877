"""`migrator export team|user|users`: options to ExportOptions, the Graph target, log, progress, summary, archive.

No `from __future__ import annotations` here: `_export_command` gives each command its own first parameter as
an annotation object, which typer must see evaluated (a string would name a variable of the factory).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from migrator.cli.shell import step
from migrator.errors import OptionError
from migrator.limits import EXPORT_TENANT_RPS
from migrator.words import counted

if TYPE_CHECKING:
    from migrator.stages.export import ExportOptions, ExportOutcome

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.

LOG_FILE = "export.log"
FORMATS = ("jsonl", "html")

app = typer.Typer(help="Export Teams conversations through the export APIs, incrementally.", no_args_is_help=True)


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
    tenant_rps: float = EXPORT_TENANT_RPS
    workers: int = 16
    full: bool = False
    attachments: str = "links"
    directory: Path | None = None
    emulator_dir: Path | None = None

    def options(self) -> "ExportOptions":
        from migrator.stages.export import ExportOptions, FilterError, MessageFilter
        from migrator.stages.export.filters import parse_moment

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
            attachments=self.attachments,
        )
        options.check()
        return options


# The options every export command takes, declared once.
Out = Annotated[Path, typer.Option("--out", help="Folder of the archive: JSONL per conversation, images, state.json.")]
Since = Annotated[str | None, typer.Option(help="Only messages created or changed after this date or time (UTC).")]
Until = Annotated[str | None, typer.Option(help="Only messages created or changed before this date or time (UTC).")]
FromUser = Annotated[list[str], typer.Option("--from-user", help="Messages sent by this Entra object id (repeatable).")]
UserType = Annotated[
    list[str],
    typer.Option("--user-type", help="Messages sent by users of this identity type, e.g. aadUser (repeatable)."),
]
AppType = Annotated[
    list[str], typer.Option("--app-type", help="Messages sent by applications of this type, e.g. bot (repeatable).")
]
SystemMessages = Annotated[
    str | None, typer.Option("--system-messages", help="include | exclude | only system event messages.")
]
Model = Annotated[
    str | None, typer.Option(help="Billing model A or B; absent: evaluation mode (limited monthly capacity).")
]
Format = Annotated[str, typer.Option("--format", help="jsonl, or html to also write a browsable archive (index.html).")]
TenantRps = Annotated[float, typer.Option(help="Requests per second for the whole run (Graph allows 200 per tenant).")]
Workers = Annotated[int, typer.Option(min=1, help="Targets exported in parallel.")]
Full = Annotated[
    bool,
    typer.Option("--full", help="Ignore the watermarks: fetch the whole window again (no duplicates are written)."),
]
Attachments = Annotated[
    str,
    typer.Option(
        "--attachments",
        help="links: list files attached by link in attachments.csv; download: also fetch each one into files/.",
    ),
]
Directory = Annotated[Path | None, typer.Option(help="Without credentials: directory file for the embedded emulator.")]
EmulatorDir = Annotated[
    Path | None,
    typer.Option(
        help="Without credentials: the embedded emulator's data folder (e.g. PLAN_DIR/emulator after a load; default "
        "OUT/emulator)."
    ),
]

# What each command exports: its one parameter of its own.
TeamIds = Annotated[list[str], typer.Argument(metavar="TEAM_ID...", help="Team (group) ids.")]
UserIds = Annotated[list[str], typer.Argument(metavar="USER_ID...", help="User ids or principal names.")]
EveryUser = Annotated[bool, typer.Option("--all", help="Every user of the directory (required).")]


def _export_command(kind: str, own: Any, default: Any = ...) -> Callable[..., None]:
    """An export command of targets of `kind` (team or user): its own first parameter, `targets`, declared by
    `own` (an Annotated type: ids, or the `--all` flag) and `default` (`...`: required), then the shared options.
    """

    def command(
        targets: own = default,  # `own`: the Annotated type of this command's own parameter
        *,
        out: Out,
        since: Since = None,
        until: Until = None,
        from_user: FromUser = [],  # noqa: B006  # typer's default for a repeatable option; never mutated
        user_type: UserType = [],  # noqa: B006
        app_type: AppType = [],  # noqa: B006
        system_messages: SystemMessages = None,
        model: Model = None,
        format: Format = "jsonl",
        tenant_rps: TenantRps = EXPORT_TENANT_RPS,
        workers: Workers = 16,
        full: Full = False,
        attachments: Attachments = "links",
        directory: Directory = None,
        emulator_dir: EmulatorDir = None,
    ) -> None:
        request = ExportRequest(
            out=out,
            since=since,
            until=until,
            from_user=tuple(from_user),
            user_type=tuple(user_type),
            app_type=tuple(app_type),
            system_messages=system_messages,
            model=model,
            format=format,
            tenant_rps=tenant_rps,
            workers=workers,
            full=full,
            attachments=attachments,
            directory=directory,
            emulator_dir=emulator_dir,
        )
        run_export(kind, targets if isinstance(targets, list) else _every_user(targets), request)

    return command


def _every_user(given: bool) -> list[str] | None:
    """`export users`: None, for every user of the directory, and only when --all says so."""
    with step("export users"):
        if not given:
            raise OptionError("give --all to export every user of the directory, or use `export user ID...` for some")
    return None


app.command("team", help="Every channel message and reply of these teams (teams/{id}/channels/getAllMessages).")(
    _export_command("team", TeamIds)
)
app.command("user", help="Every 1:1, group and meeting chat message of these users (users/{id}/chats/getAllMessages).")(
    _export_command("user", UserIds)
)
app.command("users", help="The chats of every user of the directory (GET /users, paged).")(
    _export_command("user", EveryUser, False)
)


def run_export(kind: str, ids: list[str] | None, request: ExportRequest) -> None:
    """Export the targets of `kind` with these ids, or every user of the directory (None); exit 1 unless all
    were exported."""
    from migrator.cli.progress import ExportBars
    from migrator.graph import GraphClient
    from migrator.logfile import log_to
    from migrator.stages.export import Target, directory_users, export, export_limiter
    from migrator.stages.export.runner import EXPORT_BACKOFF_CAP, EXPORT_MAX_RETRIES
    from migrator.target import graph_target

    with step("export"):
        options = request.options()
        with (
            log_to(request.out / LOG_FILE),
            graph_target(request.emulator_dir or request.out / "emulator", request.directory) as target,
            GraphClient(
                target.config,
                limiter=export_limiter(request.tenant_rps),
                max_retries=EXPORT_MAX_RETRIES,
                backoff_cap=EXPORT_BACKOFF_CAP,
            ) as client,
        ):
            targets = [Target(kind, target_id) for target_id in (directory_users(client) if ids is None else ids)]
            typer.echo(f"export: {counted(len(targets), kind)} from {target.description} into {request.out}")
            with ExportBars(len(targets), client.stats) as progress:
                outcome = export(client, targets, request.out, options, progress)
        _report(outcome, request)


def _report(outcome: "ExportOutcome", request: ExportRequest) -> None:
    from migrator.reports.export import SUMMARY_FILE, write_summary
    from migrator.reports.export_archive import render_archive
    from migrator.stages.export.outcome import DONE

    write_summary(outcome, request.out)
    if outcome.stopped:
        typer.echo(f"export: the run stopped: {outcome.stopped}", err=True)
    for result in outcome.targets:
        if result.status != DONE:
            typer.echo(f"export: {result.target.kind} {result.name}: {result.status}: {result.error}", err=True)
        for line in result.image_failures + result.file_failures + result.notes:
            typer.echo(f"export: {result.target.kind} {result.name}: {line}", err=True)
        if result.status == DONE and result.gaps:
            typer.echo(
                f"export: {result.target.kind} {result.name}: covers messages changed from {result.covered} only; "
                "a run without --since and --until fetches the rest"
            )
    if request.format == "html":
        typer.echo(f"export: archive {render_archive(request.out)}")
    typer.echo(outcome.summary())
    typer.echo(f"export: details in {request.out / SUMMARY_FILE} and {request.out / LOG_FILE}")
    if not outcome.ok:
        raise typer.Exit(1)
