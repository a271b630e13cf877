"""`migrator emulator serve|slack|dump`: the local Microsoft Graph emulator, and the Slack one for `fetch`."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from migrator.cli.shell import step
from migrator.emulator.reading import Reading, switches

app = typer.Typer(help="The local Microsoft Graph and Slack emulators.", no_args_is_help=True)

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.

# The options both emulators take.
Host = Annotated[str, typer.Option(help="Loopback address to bind (only loopback is allowed).")]
Port = Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")]
TlsDir = Annotated[Path | None, typer.Option(help="Where ca.pem (and the CA key) live; reused across restarts.")]
Seed = Annotated[int | None, typer.Option(help="Seed for fault injection, for repeatable runs.")]


def _reading_options(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with one option per reading switch (emulator/reading.py) after its own; they arrive in
    `**switches` as None when not given, so the preset (`--lenient` or strict) decides them."""
    signature = inspect.signature(command, eval_str=True)  # the Annotated options, not their text (PEP 563)
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    added = []
    for s in switches():
        # One option per switch, a bool one taking true or false: a --x/--no-x pair leaves no room for option names at
        # 80 columns. What each models is README's table ("The Graph emulator"), too long for a help line.
        help_text = f"Reading switch: strict {_spelled(s.strict)}, lenient {_spelled(s.lenient)}."
        kind: Any = (
            Literal[("true", "false") if s.kind is bool else s.choices] if s.choices or s.kind is bool else s.kind
        )
        annotation = Annotated.__class_getitem__((kind | None, typer.Option(s.option, help=help_text)))  # type: ignore[attr-defined]
        added.append(inspect.Parameter(s.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation))
    command.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
    return command


def _spelled(value: object) -> str:
    """A switch's value as its option takes it."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _reading(lenient: bool, given: dict[str, Any]) -> Reading:
    preset = Reading.lenient() if lenient else Reading()
    return preset.with_changes({name: value for name, value in given.items() if value is not None})


@app.command("serve")
@_reading_options
def serve(
    host: Host = "127.0.0.1",
    port: Port = 0,
    tls_dir: TlsDir = None,
    directory: Annotated[Path | None, typer.Option(help="Directory JSON: tenant, apps, users, chats.")] = None,
    state: Annotated[Path | None, typer.Option(help="Persist all data to this file and reload it on start.")] = None,
    faults: Annotated[
        str, typer.Option(help='Fault spec, e.g. "500:0.02,429:0.05" or "drop:0.01" (README: faults).')
    ] = "",
    channel_rps: Annotated[float, typer.Option(help="Requests per second allowed per channel or chat.")] = 5,
    tenant_rps: Annotated[float, typer.Option(help="Export requests per second allowed per tenant.")] = 200,
    tenant_message_rps: Annotated[
        float,
        typer.Option(
            min=0,
            metavar="RPS",
            help="Imported messages per second allowed in the whole tenant, an undocumented cap some tenants show "
            "(0: none, as Graph documents).",
        ),
    ] = 0,
    seed: Seed = None,
    token_lifetime: Annotated[int, typer.Option(help="Access token lifetime in seconds.")] = 3599,
    membership_lag: Annotated[
        float,
        typer.Option(
            help="Seconds a just-added team member is not yet usable for a private channel (membership is eventually "
            "consistent; 0 keeps make migrate fast)."
        ),
    ] = 0.0,
    lenient: Annotated[
        bool,
        typer.Option(
            "--lenient",
            help="Serve the lenient reading of Graph where real tenants are uncertain (default: the strict one); "
            "each reading switch below overrides it.",
        ),
    ] = False,
    **switches: Any,
) -> None:
    """Run the Graph emulator over HTTPS; prints one READY line when listening."""
    from migrator.emulator.server import EmulatorSettings
    from migrator.emulator.server import serve as run_server

    settings = EmulatorSettings(
        host=host,
        port=port,
        tls_dir=tls_dir,
        directory=directory,
        state=state,
        faults=faults,
        channel_rps=channel_rps,
        tenant_rps=tenant_rps,
        tenant_message_rps=tenant_message_rps,
        seed=seed,
        token_lifetime=token_lifetime,
        membership_lag=membership_lag,
        reading=_reading(lenient, switches),
    )
    with step("emulator"):
        run_server(settings)


@app.command("slack")
def slack(
    export: Annotated[Path, typer.Option(help="The Slack export whose workspace, people and files to serve.")],
    files: Annotated[
        Path | None,
        typer.Option(help="Folder with __uploads/{FILE_ID}/{name} (and users.json with emails); default: the export."),
    ] = None,
    host: Host = "127.0.0.1",
    port: Port = 0,
    tls_dir: TlsDir = None,
    faults: Annotated[
        str,
        typer.Option(help='Fault spec, e.g. "500:0.02,429:0.05" or "drop:0.01,latency:20ms" (drop cuts a download).'),
    ] = "",
    seed: Seed = None,
    files_rps: Annotated[float, typer.Option(help="File downloads per second before 429 with Retry-After.")] = 50,
    users_per_minute: Annotated[float, typer.Option(help="users.list calls per minute (Tier 2) before 429.")] = 20,
) -> None:
    """Run the Slack emulator over HTTPS (auth.test, users.list, file downloads); prints one READY line."""
    from migrator.emulator.slack.server import SlackEmulatorSettings
    from migrator.emulator.slack.server import serve as run_server

    settings = SlackEmulatorSettings(
        export=export,
        files=files,
        host=host,
        port=port,
        tls_dir=tls_dir,
        faults=faults,
        seed=seed,
        files_rps=files_rps,
        users_per_minute=users_per_minute,
    )
    with step("emulator"):
        run_server(settings)


@app.command("dump")
def dump(
    url: Annotated[str, typer.Option(help="Base URL printed in the emulator's READY line.")],
    ca: Annotated[Path, typer.Option(help="The emulator's ca.pem.")],
) -> None:
    """Print everything the emulator holds (teams, channels, messages, files, members) as JSON."""
    from migrator.emulator.runner import operator_request

    typer.echo(json.dumps(operator_request(url, ca, "dump"), indent=2, ensure_ascii=False))


@app.command("conform")
def conform(
    trace: Annotated[Path, typer.Argument(help="A trace file (MIGRATOR_TRACE, or hand-written under tests/traces/).")],
    reading: Annotated[
        Literal["strict", "lenient"], typer.Option(help="The reading of Graph the fresh emulator serves.")
    ] = "strict",
    directory: Annotated[
        Path | None,
        typer.Option(help="The emulator's directory, whose people the trace's are mapped onto (default: as migrate)."),
    ] = None,
) -> None:
    """Replay a trace against a fresh emulator; print every exchange answered otherwise (exit 1 if any)."""
    from migrator.conform import Difference
    from migrator.conform import conform as replay

    def show(difference: Difference) -> None:
        exchange = difference.exchange
        typer.echo(f"{trace}:{exchange.line}: {exchange.method} {exchange.path}")
        for problem in difference.problems:
            typer.echo(f"    {problem}")

    with step("emulator"):
        result = replay(trace, Reading() if reading == "strict" else Reading.lenient(), directory, show)
    typer.echo(
        f"conform: {result.replayed} exchanges replayed against the {reading} reading, "
        f"{len(result.differences)} answered otherwise"
        + (f", {result.skipped} not replayed (429 and 5xx are timing, not rules)" if result.skipped else "")
    )
    if result.differences:
        raise typer.Exit(1)
