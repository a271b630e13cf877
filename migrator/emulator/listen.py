"""Serve an ASGI application over HTTPS on loopback and announce it with one READY line.

Both emulators (Microsoft Graph, `server.py`, and Slack, `slack/server.py`) listen the same
way, so a test, `make migrate` or a benchmark starts either with `runner.py` and reads the
same line: `READY https://127.0.0.1:PORT ca=PATH`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import uvicorn

from migrator.emulator import tls
from migrator.errors import InputError


class EmulatorConfigError(InputError):
    """An option the emulator cannot start with (a host that is not loopback, a port in use): exit code 2."""


def loopback_socket(host: str, port: int) -> socket.socket:
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


def serve_https(app: Any, host: str, port: int, tls_dir: Path | None) -> None:
    """Run `app` (an ASGI application) until stopped; print the READY line once it listens.

    The CA in `tls_dir` (a temporary folder when None) is reused across restarts, so running clients keep
    trusting a restarted emulator.
    """
    try:
        folder = Path(tls_dir) if tls_dir else Path(tempfile.mkdtemp(prefix="emulator-tls-"))
        files = tls.prepare(folder)
        sock = loopback_socket(host, port)
    except OSError as error:  # a port in use, a TLS folder that cannot be written: settings to fix
        raise EmulatorConfigError(str(error)) from error
    bound_host, bound_port = sock.getsockname()[:2]
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
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            print(f"READY https://{shown}:{bound_port} ca={files.ca.resolve()}", flush=True)
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
