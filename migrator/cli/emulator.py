"""`migrator emulator serve|slack|dump`: the local Microsoft Graph emulator, and the Slack one for `fetch`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from migrator.cli.shell import step

app = typer.Typer(help="The local Microsoft Graph and Slack emulators.", no_args_is_help=True)

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.

# The options both emulators take.
Host = Annotated[str, typer.Option(help="Loopback address to bind (only loopback is allowed).")]
Port = Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")]
TlsDir = Annotated[Path | None, typer.Option(help="Where ca.pem (and the CA key) live; reused across restarts.")]
Seed = Annotated[int | None, typer.Option(help="Seed for fault injection, for repeatable runs.")]


@app.command("serve")
def serve(
    host: Host = "127.0.0.1",
    port: Port = 0,
    tls_dir: TlsDir = None,
    directory: Annotated[Path | None, typer.Option(help="Directory JSON: tenant, apps, users, chats.")] = None,
    state: Annotated[Path | None, typer.Option(help="Persist all data to this file and reload it on start.")] = None,
    faults: Annotated[
        str, typer.Option(help='Fault spec, e.g. "500:0.02,503:0.01,429:0.05,drop:0.01,latency:20ms".')
    ] = "",
    channel_rps: Annotated[float, typer.Option(help="Requests per second allowed per channel or chat.")] = 5,
    tenant_rps: Annotated[float, typer.Option(help="Export requests per second allowed per tenant.")] = 200,
    seed: Seed = None,
    token_lifetime: Annotated[int, typer.Option(help="Access token lifetime in seconds.")] = 3599,
    inline_image_max_bytes: Annotated[
        int, typer.Option(help="Largest inline image accepted, in raw bytes (real tenants refuse far smaller ones).")
    ] = 262_144,
    inline_image_refusal: Annotated[
        int, typer.Option(help="Status a larger inline image is refused with: 400 or 403 (both seen on real tenants).")
    ] = 400,
    membership_lag: Annotated[
        float, typer.Option(help="Seconds a just-added team member is not yet usable for a private channel.")
    ] = 0.0,
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
        seed=seed,
        token_lifetime=token_lifetime,
        inline_image_max_bytes=inline_image_max_bytes,
        inline_image_refusal=inline_image_refusal,
        membership_lag=membership_lag,
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
        str, typer.Option(help='Fault spec, e.g. "500:0.02,429:0.05,drop:0.01,latency:20ms" (drop cuts a download).')
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
