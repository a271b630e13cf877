"""Run the emulator over HTTPS on loopback and announce it with one READY line."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import tempfile
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from migrator.emulator import tls
from migrator.emulator.app import EmulatorApp, Limits
from migrator.emulator.directory import load_directory
from migrator.emulator.faults import Faults
from migrator.emulator.identity import Identity
from migrator.emulator.models import Graph
from migrator.emulator.store import Store
from migrator.errors import InputError


@dataclass
class EmulatorSettings:
    host: str = "127.0.0.1"
    port: int = 0
    tls_dir: Path | None = None
    directory: Path | None = None
    state: Path | None = None
    faults: str = ""
    channel_rps: float = 5.0
    tenant_rps: float = 200.0
    seed: int | None = None
    token_lifetime: int = 3599
    provision_delay: float = 0.2


class EmulatorConfigError(InputError):
    """An option the emulator cannot start with (a host that is not loopback, a port in use): exit code 2."""


def build_app(settings: EmulatorSettings) -> EmulatorApp:
    directory = load_directory(settings.directory)
    graph = Graph(directory, Store(settings.state), provision_delay=settings.provision_delay)
    limits = Limits(channel_rps=settings.channel_rps, tenant_rps=settings.tenant_rps)
    return EmulatorApp(
        graph, Identity(directory, settings.token_lifetime), Faults.parse(settings.faults, settings.seed), limits
    )


def _loopback_socket(host: str, port: int) -> socket.socket:
    """Bind before serving so port 0 resolves to a real port we can announce."""
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host) if host == "localhost" else host)
    except ValueError:
        raise EmulatorConfigError(f"--host {host!r} is not an IP address; use 127.0.0.1 (loopback only)") from None
    if not address.is_loopback:
        raise EmulatorConfigError(f"--host {host} is not a loopback address: the emulator binds to loopback only")
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, a response's header and body
    # writes meet Nagle and delayed ACKs and every request takes ~40 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((str(address), port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: EmulatorSettings) -> None:
    try:
        app = build_app(settings)
        tls_dir = Path(settings.tls_dir) if settings.tls_dir else Path(tempfile.mkdtemp(prefix="graph-emulator-tls-"))
        files = tls.prepare(tls_dir)
        sock = _loopback_socket(settings.host, settings.port)
    except OSError as error:  # a port in use, a TLS or state folder that cannot be written: settings to fix
        raise EmulatorConfigError(str(error)) from error
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        ssl_certfile=str(files.cert),
        ssl_keyfile=str(files.key),
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=30,
        backlog=2048,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            shown = f"[{host}]" if ":" in host else host
            print(f"READY https://{shown}:{port} ca={files.ca.resolve()}", flush=True)
        await task

    try:
        _event_loop_runner()(run())
    finally:
        sys.stdout.flush()


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    """uvloop when installed (uvicorn[standard] brings it): its TLS path costs about half of asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run
