"""The `migrator` command line: one thin command per stage.

Commands only parse options and call into the stage or service modules, so
every behaviour stays testable without the CLI.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    help="Migrate chat history into Microsoft Teams through Microsoft Graph.",
    no_args_is_help=True,
    add_completion=False,
)
emulator_app = typer.Typer(help="The local Microsoft Graph emulator.", no_args_is_help=True)
app.add_typer(emulator_app, name="emulator")
sample_app = typer.Typer(help="Synthetic workspaces for benchmarks, reliability tests and demos.", no_args_is_help=True)
app.add_typer(sample_app, name="sample")
export_app = typer.Typer(
    help="Export Teams conversations through the export APIs, incrementally.", no_args_is_help=True
)
app.add_typer(export_app, name="export")


@emulator_app.command("serve")
def emulator_serve(
    host: str = typer.Option("127.0.0.1", help="Loopback address to bind (only loopback is allowed)."),
    port: int = typer.Option(0, help="TCP port; 0 picks a free one."),
    tls_dir: Path | None = typer.Option(None, help="Where ca.pem (and the CA key) live; reused across restarts."),
    directory: Path | None = typer.Option(None, help="Directory JSON: tenant, apps, users, chats."),
    state: Path | None = typer.Option(None, help="Persist all data to this file and reload it on start."),
    faults: str = typer.Option("", help='Fault spec, e.g. "500:0.02,503:0.01,429:0.05,drop:0.01,latency:20ms".'),
    channel_rps: float = typer.Option(5, help="Requests per second allowed per channel or chat."),
    tenant_rps: float = typer.Option(200, help="Export requests per second allowed per tenant."),
    seed: int | None = typer.Option(None, help="Seed for fault injection, for repeatable runs."),
    token_lifetime: int = typer.Option(3599, help="Access token lifetime in seconds."),
) -> None:
    """Run the Graph emulator over HTTPS; prints one READY line when listening."""
    from migrator.emulator.directory import DirectoryError
    from migrator.emulator.faults import FaultSpecError
    from migrator.emulator.server import EmulatorConfigError, EmulatorSettings, serve

    settings = EmulatorSettings(
        host=host,
        port=port,
        tls_dir=tls_dir,
        directory=directory,
        state=state,
        faults=faults,
        channel_rps=channel_rps,
        tenant_rps=tenant_rps,
        seed=seed,
        token_lifetime=token_lifetime,
    )
    try:
        serve(settings)
    except (DirectoryError, FaultSpecError, EmulatorConfigError, OSError) as error:
        fail(f"emulator: {error}")


@emulator_app.command("dump")
def emulator_dump(
    url: str = typer.Option(..., help="Base URL printed in the emulator's READY line."),
    ca: Path = typer.Option(..., help="The emulator's ca.pem."),
) -> None:
    """Print everything the emulator holds (teams, channels, messages, files, members) as JSON."""
    import json

    from migrator.emulator.runner import operator_request

    typer.echo(json.dumps(operator_request(url, ca, "dump"), indent=2, ensure_ascii=False))


SOURCE_FORMAT_OPTION = typer.Option(
    None, "--source-format", help="slack, mattermost, discord or teams; detected from the export when left out."
)


@app.command("analyse")
def analyse(
    source: Path = typer.Argument(..., help="The export: the .zip as downloaded, or its unpacked folder."),
    out: Path = typer.Option(..., "--out", help="Folder for inventory.json and report.html."),
    mappings: Path | None = typer.Option(
        None, "--mappings", help="migration.yaml (or its folder) to report destinations and unmatched users."
    ),
    source_format: str | None = SOURCE_FORMAT_OPTION,
) -> None:
    """Inventory an export and write a self-contained dry-run report."""
    from migrator.model import SourceError
    from migrator.reports.analyse import REPORT_FILE
    from migrator.stages.analyse import run_analyse, summary
    from migrator.stages.mapping import MappingError

    try:
        inventory = run_analyse(source, out, mappings, source_format)
    except (SourceError, MappingError) as exc:
        fail(f"error: {exc}")
    typer.echo(summary(inventory))
    typer.echo(f"wrote {out / 'inventory.json'} and {out / REPORT_FILE}")


@app.command("transform")
def transform(
    source: Path = typer.Argument(..., help="The export: the .zip as downloaded, or its unpacked folder."),
    mappings: Path = typer.Option(
        ..., "--mappings", help="The folder holding migration.yaml and users.csv (or migration.yaml itself)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="The plan folder: manifest.json, one JSONL per channel, files/, archive/, reports."
    ),
    source_format: str | None = SOURCE_FORMAT_OPTION,
) -> None:
    """Write the exact import requests (the plan) for `load`, and a report that adds up to the export."""
    from migrator.model import SourceError
    from migrator.stages.mapping import MappingError
    from migrator.stages.transform import TransformError, summary
    from migrator.stages.transform import transform as run_transform

    try:
        result = run_transform(source, mappings, out, source_format=source_format)
    except (SourceError, MappingError, TransformError) as exc:
        fail(f"error: {exc}")
    typer.echo(summary(result))
    typer.echo(f"wrote the plan in {out} ({result.report_html.name}, {result.report_json.name})")


@app.command("load")
def load(
    plan_dir: Path = typer.Argument(..., help="The plan folder written by `migrator transform`."),
    journal: Path | None = typer.Option(None, help="The crash-safe journal (default: PLAN_DIR/journal.sqlite)."),
    out: Path | None = typer.Option(None, help="Where load-report.html/.csv and load.log go (default: PLAN_DIR)."),
    workers: int = typer.Option(8, min=1, help="Channels posted in parallel (each at 5 requests/s)."),
    only: str | None = typer.Option(None, help="Load only this team (plan key or display name)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Send nothing: print what would happen and how long it would take."
    ),
    complete_with_failures: bool = typer.Option(False, help="Complete channels even when some messages failed."),
    directory: Path | None = typer.Option(None, help="Directory file for the embedded emulator (no credentials set)."),
) -> None:
    """Import a plan into Teams: teams, channels, files, messages, completion, members. Safe to re-run."""
    from migrator.stages.load.command import run_load

    if not run_load(plan_dir, journal, out, workers, only, dry_run, complete_with_failures, directory):
        raise typer.Exit(1)


@app.command("reset")
def reset(
    plan_dir: Path = typer.Argument(..., help="The plan folder the team was loaded from."),
    team: str | None = typer.Option(None, help="The team to delete and forget (plan key or display name)."),
    channel: str | None = typer.Option(
        None, help="One channel to delete and forget (plan key team/channel, or its name)."
    ),
    chat: str | None = typer.Option(None, help="A chat: refused with the reason (Graph cannot delete a chat)."),
    journal: Path | None = typer.Option(None, help="The journal (default: PLAN_DIR/journal.sqlite)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    directory: Path | None = typer.Option(None, help="Directory file for the embedded emulator (no credentials set)."),
) -> None:
    """Delete a migrated team (DELETE /groups/{id}) or channel and forget it, so the next load migrates it again."""
    from migrator.stages.load.command import run_reset

    run_reset(plan_dir, team, channel, chat, journal, yes, directory)


@app.command("map")
def map_command(
    source: Path | None = typer.Argument(None, help="The Slack export (.zip or folder) to draft mappings for."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the drafted migration.yaml and users.csv."),
    check: Path | None = typer.Option(
        None, "--check", help="Validate the mapping files in this folder instead of drafting."
    ),
    check_source: Path | None = typer.Option(
        None, "--source", help="With --check: the export to check against (default: `source:` in migration.yaml)."
    ),
    fallback: str | None = typer.Option(
        None, "--fallback", help="Mail of the Entra account that posts for people not found in the directory."
    ),
    directory: Path | None = typer.Option(
        None,
        "--directory",
        help="Without MIGRATOR_* credentials: the emulator's user directory JSON (default: "
        "sample_data/directory.json).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite existing mapping files (they may hold edits)."),
    source_format: str | None = SOURCE_FORMAT_OPTION,
) -> None:
    """Draft mappings/migration.yaml and users.csv, or check them (--check): exit 1 when problems are found."""
    from migrator.model import SourceError
    from migrator.stages.mapping import MappingError, open_directory, run_check, run_map

    try:
        if check is not None:
            notes: list = []
            problems = run_check(check, check_source, source_format, notes)
            for problem in problems + notes:
                typer.echo(str(problem))
            typer.echo(f"{len(problems)} problems in {check}" if problems else f"{check}: no problems")
            raise typer.Exit(1 if problems else 0)
        if source is None or out is None:
            fail("error: give SOURCE and --out to draft mappings, or --check DIR to validate them")
        with open_directory(directory) as (lookup, where):
            typer.echo(f"matching users by email in {where}")
            result = run_map(source, out, lookup, fallback=fallback, force=force, source_format=source_format)
    except (SourceError, MappingError) as exc:
        fail(f"error: {exc}")
    typer.echo(
        f"wrote {result.migration}: {result.teams} teams, {result.channels} channels ({result.private_channels} "
        "private), "
        f"{result.chats} chats, {result.archived} archived"
    )
    typer.echo(f"wrote {result.users}: {result.mapped} users mapped, {result.fallback} to the fallback account")
    if result.fallback and not result.fallback_found:
        typer.echo(
            f"warning: no fallback account {'found for ' + fallback if fallback else 'given'}; "
            "set users.fallback/fallback_id or run again with --fallback EMAIL --force",
            err=True,
        )


def _export_options(
    out: Path = typer.Option(..., "--out", help="Folder of the archive: JSONL per conversation, images, state.json."),
    since: str | None = typer.Option(None, help="Only messages created or changed after this date or time (UTC)."),
    until: str | None = typer.Option(None, help="Only messages created or changed before this date or time (UTC)."),
    from_user: list[str] = typer.Option([], "--from-user", help="Messages sent by this Entra object id (repeatable)."),
    user_type: list[str] = typer.Option(
        [], "--user-type", help="Messages sent by users of this identity type, e.g. aadUser (repeatable)."
    ),
    app_type: list[str] = typer.Option(
        [], "--app-type", help="Messages sent by applications of this type, e.g. bot (repeatable)."
    ),
    system_messages: str | None = typer.Option(
        None, "--system-messages", help="include | exclude | only system event messages."
    ),
    model: str | None = typer.Option(
        None, help="Billing model A or B; absent: evaluation mode (limited monthly capacity)."
    ),
    format: str = typer.Option(
        "jsonl", "--format", help="jsonl, or html to also write a browsable archive (index.html)."
    ),
    tenant_rps: float = typer.Option(
        200.0, help="Requests per second for the whole run (Graph allows 200 per tenant)."
    ),
    workers: int = typer.Option(16, min=1, help="Targets exported in parallel."),
    full: bool = typer.Option(
        False, "--full", help="Ignore the watermarks: fetch the whole window again (no duplicates are written)."
    ),
    directory: Path | None = typer.Option(None, help="Without credentials: directory file for the embedded emulator."),
    emulator_dir: Path | None = typer.Option(
        None,
        help="Without credentials: the embedded emulator's data folder (e.g. PLAN_DIR/emulator after a load; default "
        "OUT/emulator).",
    ),
) -> None:
    """Declares the options every export command shares (see _with_export_options)."""


def _with_export_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give an export command the shared options, declared once above, as an ExportRequest.

    Typer reads a command's options from its signature, so the wrapper's
    signature is the command's own parameters followed by the shared ones.
    """
    own = [p for p in inspect.signature(command).parameters.values() if p.kind is not p.VAR_KEYWORD]
    shared = list(inspect.signature(_export_options).parameters.values())

    def wrapper(**values: Any) -> None:
        from migrator.stages.export.command import ExportRequest

        mine = {p.name: values.pop(p.name) for p in own}
        values.update(
            from_user=tuple(values["from_user"]),
            user_type=tuple(values["user_type"]),
            app_type=tuple(values["app_type"]),
        )
        command(**mine, request=ExportRequest(**values))

    wrapper.__signature__ = inspect.Signature([*own, *shared])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**command.__annotations__, **_export_options.__annotations__}
    wrapper.__doc__, wrapper.__name__ = command.__doc__, command.__name__
    return wrapper


@export_app.command("team")
@_with_export_options
def export_team(
    team_ids: list[str] = typer.Argument(..., metavar="TEAM_ID...", help="Team (group) ids."), **request: Any
) -> None:
    """Every channel message and reply of these teams (teams/{id}/channels/getAllMessages)."""
    from migrator.stages.export.command import run_export

    run_export("team", team_ids, False, request["request"])


@export_app.command("user")
@_with_export_options
def export_user(
    user_ids: list[str] = typer.Argument(..., metavar="USER_ID...", help="User ids or principal names."), **request: Any
) -> None:
    """Every 1:1, group and meeting chat message of these users (users/{id}/chats/getAllMessages)."""
    from migrator.stages.export.command import run_export

    run_export("user", user_ids, False, request["request"])


@export_app.command("users")
@_with_export_options
def export_users(
    every: bool = typer.Option(False, "--all", help="Every user of the directory (required)."), **request: Any
) -> None:
    """The chats of every user of the directory (GET /users, paged)."""
    from migrator.stages.export.command import run_export

    if not every:
        fail("export users: give --all to export every user of the directory, or use `export user ID...` for some")
    run_export("user", [], True, request["request"])


@sample_app.command("generate")
def sample_generate(
    channels: int = typer.Option(..., "--channels", help="Channels: #general, other public ones and one private one."),
    messages: int = typer.Option(
        ..., "--messages", help="Messages in all (joins, roots and replies; 10% in DMs and group DMs)."
    ),
    threads_ratio: float = typer.Option(0.3, "--threads-ratio", help="Share of the messages that are thread replies."),
    files: int | None = typer.Option(
        None, "--files", help="Files attached to messages (small PNG images and text documents); 20 unless --plain."
    ),
    seed: int = typer.Option(1, "--seed", help="The same seed always writes the same workspace."),
    plain: bool = typer.Option(
        False,
        "--plain",
        help="Every message plain text by a person: no markup, blocks, files, bots, joins, edits or reactions.",
    ),
    out: Path = typer.Option(
        ..., "--out", help="New folder: the export goes to OUT/slack, the emulator directory to OUT/directory.json."
    ),
) -> None:
    """Write a synthetic, realistic Slack export and the Entra directory that matches it."""
    from migrator.sample import SampleError, SampleOptions, generate

    try:
        summary = generate(out, SampleOptions(channels, messages, threads_ratio, files, seed, plain=plain))
    except (SampleError, OSError) as exc:
        fail(f"sample: {exc}")
    typer.echo(
        f"wrote {summary.export}: {summary.messages:,} messages ({summary.replies:,} replies) in "
        f"{summary.conversations} conversations, {summary.day_files:,} day files, {summary.files} files, "
        f"{summary.users} users"
    )
    typer.echo(f"wrote {summary.directory}: the matching directory (emulator serve --directory, map --directory)")


@app.command("migrate")
def migrate(
    source: Path = typer.Argument(..., help="The export: the .zip as downloaded, or its unpacked folder."),
    mappings: Path = typer.Option(..., "--mappings", help="The folder holding migration.yaml and users.csv."),
    out: Path = typer.Option(
        ..., "--out", help="One folder for every stage's files: analyse/, plan/, journal, reports, verify/."
    ),
    workers: int = typer.Option(8, min=1, help="Channels and chats posted in parallel (each at 5 requests/s)."),
    model: str | None = typer.Option(
        None, help="Billing model A or B of the export APIs used by verify; absent: evaluation mode."
    ),
    directory: Path | None = typer.Option(None, help="Directory file for the embedded emulator (no credentials set)."),
    source_format: str | None = SOURCE_FORMAT_OPTION,
) -> None:
    """Run analyse, transform, load and verify in one go; safe to re-run, exit 1 unless everything verifies clean."""
    from migrator.model import SourceError
    from migrator.stages.mapping import MappingError
    from migrator.stages.migrate import run_migrate
    from migrator.stages.transform import TransformError

    try:
        clean = run_migrate(source, mappings, out, directory, workers, source_format, model)
    except (SourceError, MappingError, TransformError) as exc:
        fail(f"error: {exc}")
    if not clean:
        raise typer.Exit(1)


@app.command("verify")
def verify_command(
    plan_dir: Path = typer.Argument(..., help="The plan folder that was loaded."),
    journal: Path | None = typer.Option(None, help="The load's journal (default: PLAN_DIR/journal.sqlite)."),
    out: Path | None = typer.Option(None, help="Where verify.json and verify.html go (default: PLAN_DIR/verify)."),
    model: str | None = typer.Option(None, help="Billing model A or B of the export APIs; absent: evaluation mode."),
    tenant_rps: float = typer.Option(200.0, help="Export requests per second (Graph allows 200 per tenant)."),
    workers: int = typer.Option(8, min=1, help="Teams read and conversations compared in parallel."),
    directory: Path | None = typer.Option(None, help="Directory file for the embedded emulator (no credentials set)."),
) -> None:
    """Read every migrated team and chat back through the export APIs and reconcile it with the plan; exit 1 on any
    difference.
    """
    from migrator.stages.verify.command import run_verify

    if not run_verify(plan_dir, journal, out, model, tenant_rps, workers, directory):
        raise typer.Exit(1)


def fail(message: str, code: int = 2) -> None:
    """A clear one-line error and a non-zero exit, never a traceback, for bad input."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
