"""`migrator map`: draft the mapping files (migration.yaml, users.csv), or check them with --check."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from migrator.cli.options import Fetched, SourceFormat
from migrator.errors import OptionError
from migrator.words import counted

if TYPE_CHECKING:
    from migrator.mapping import Problem, ResolvedMappings, UserMapping
    from migrator.mapping.tenant import TenantCheck
    from migrator.model import Source

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def map_command(
    source: Annotated[Path | None, typer.Argument(help="The export (.zip or folder) to draft mappings for.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the drafted migration.yaml and users.csv.")
    ] = None,
    check: Annotated[
        Path | None, typer.Option("--check", help="Validate the mapping files in this folder instead of drafting.")
    ] = None,
    check_source: Annotated[
        Path | None,
        typer.Option(
            "--source", help="With --check: the export to check against (default: `source:` in migration.yaml)."
        ),
    ] = None,
    fallback: Annotated[
        str | None,
        typer.Option("--fallback", help="Mail of the Entra account that posts for people not found in the directory."),
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--directory",
            help="Without MIGRATOR_* credentials: the emulator's user directory JSON, whose teams and chats --check "
            "looks up existing targets in (default: sample_data/directory.json).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite existing mapping files (they may hold edits).")
    ] = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Keep the mapping files in --out with their edits and add what a newer export of the same source "
            "holds (conversations, teams, people); list what was added and what the export no longer has.",
        ),
    ] = False,
    source_format: SourceFormat = None,
    fetched: Fetched = None,
) -> None:
    """Draft mappings/migration.yaml and users.csv, or check them (--check): exit 1 when problems are found."""
    if check is not None:
        _check(check, check_source, source_format, fetched, directory)
    if source is None or out is None:
        raise OptionError("give SOURCE and --out to draft mappings, or --check DIR to validate them")
    if update and force:
        raise OptionError("give --update (keep the edits, add what is new) or --force (draft again), not both")
    from migrator.mapping import open_directory, run_map

    if update:
        _update(source, out, directory, source_format, fetched)
        return

    with open_directory(directory) as (lookup, where):
        typer.echo(f"matching users by email in {where}")
        result = run_map(
            source, out, lookup, fallback=fallback, force=force, source_format=source_format, fetched=fetched
        )
    for line in result.summary(fetched):
        typer.echo(line)
    if result.fallback and not result.fallback_found:
        typer.echo(
            f"warning: no fallback account {'found for ' + fallback if fallback else 'given'}; "
            "set users.fallback/fallback_id or run again with --fallback EMAIL --force",
            err=True,
        )


def _update(source: Path, out: Path, directory: Path | None, source_format: str | None, fetched: Path | None) -> None:
    """`map --update`: print what was added and what is gone."""
    from migrator.mapping import open_directory, source_reference
    from migrator.mapping.update import run_update

    with open_directory(directory) as (lookup, where):
        typer.echo(f"matching new users by email in {where}")
        result = run_update(
            source, out, lookup, source_reference(source, out), source_format=source_format, fetched=fetched
        )
    for label, names in (
        ("conversations added", result.added),
        ("teams added", result.teams_added),
        ("conversations no longer in the export, taken out", result.gone),
        ("people added", result.people_added),
        ("people no longer in the export, taken out", result.people_gone),
    ):
        typer.echo(f"{label}: {', '.join(names) if names else 'none'}")
    typer.echo(f"updated {result.migration} and {result.users}; every entry already there kept as it was")


def _check(
    folder: Path, source: Path | None, source_format: str | None, fetched: Path | None, directory: Path | None
) -> None:
    """Print every problem and note; exit 1 when there are problems, else 0."""
    from migrator.mapping import run_check

    notes: list[Problem] = []
    problems = run_check(folder, source, source_format, notes, fetched, _tenant_check(directory))
    for problem in problems + notes:
        typer.echo(str(problem))
    typer.echo(f"{counted(len(problems), 'problem')} in {folder}" if problems else f"{folder}: no problems")
    raise typer.Exit(1 if problems else 0)


def _tenant_check(directory: Path | None) -> TenantCheck:
    """The Graph half of --check for routes into existing channels and chats: the tenant of the MIGRATOR_* variables,
    else an emulator started for the check alone (its directory file's teams and chats are the existing ones)."""

    def check(resolved: ResolvedMappings, rows: list[UserMapping], source: Source) -> list[Problem]:
        """Ask the tenant (started only now, since only routes into existing targets need it) about those routes,
        with the permissions its token holds."""
        from migrator.graph import GraphClient
        from migrator.mapping.tenant import existing_target_problems
        from migrator.permissions import token_roles
        from migrator.target import graph_target

        with (
            tempfile.TemporaryDirectory(prefix="map-check-") as state,
            graph_target(Path(state), directory) as target,
            GraphClient(target.config) as client,
        ):
            typer.echo(f"looking up the existing channels and chats in {target.description}")
            return existing_target_problems(client, token_roles(target.config), resolved, rows, source)

    return check
