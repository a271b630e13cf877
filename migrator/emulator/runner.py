"""Start and stop an emulator in its own process: for tests, `make migrate` and benchmarks.

A separate process is what a client really meets (its own event loop, real
sockets, can be killed -9 and restarted from its state file).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import requests

from migrator.errors import InputError

if TYPE_CHECKING:
    from migrator.graph.config import GraphConfig

DEMO_TENANT = "5d7f6c2a-1b3e-4c8d-9a0f-e00000000001"
DEMO_CLIENT_ID = "b1f1c0de-0000-4000-8000-000000000001"
DEMO_SECRET = "demo-secret-not-for-production"


class EmulatorStartError(InputError):
    """The embedded emulator did not start: exit code 2. It carries the emulator's own error, which names what to
    fix (most often the --directory file, or a state folder another emulator holds)."""


class EmulatorProcess:
    """`with EmulatorProcess(directory=...) as emu:` gives `emu.url`, `emu.ca`, `emu.graph_config()`."""

    def __init__(
        self,
        directory: Path | None = None,
        state: Path | None = None,
        tls_dir: Path | None = None,
        faults: str = "",
        extra_args: list[str] | None = None,
        startup_timeout: float = 60.0,
    ):
        self.directory = directory
        self.state = state
        self.tls_dir = Path(tls_dir) if tls_dir else Path(tempfile.mkdtemp(prefix="graph-emulator-"))
        self.faults = faults
        self.extra_args = extra_args or []
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.ca = Path()

    def start(self) -> EmulatorProcess:
        args = [sys.executable, "-m", "migrator", "emulator", "serve", "--port", "0", "--tls-dir", str(self.tls_dir)]
        if self.directory:
            args += ["--directory", str(self.directory)]
        if self.state:
            args += ["--state", str(self.state)]
        if self.faults:
            args += ["--faults", self.faults]
        args += self.extra_args
        self.process = process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None and process.stderr is not None  # both were asked for as pipes
        line = self._read_ready_line(process.stdout, process.stderr)
        _, url, ca = line.split(" ", 2)
        self.url, self.ca = url, Path(ca.removeprefix("ca="))
        threading.Thread(target=self._drain, args=(process.stderr,), daemon=True).start()
        return self

    def _read_ready_line(self, stdout: IO[str], stderr: IO[str]) -> str:
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        line = found[0].strip() if found else ""
        if not line.startswith("READY "):
            self.kill()
            errors = stderr.read()
            raise EmulatorStartError(f"the Graph emulator did not start: {line or 'no READY line'}\n{errors[-2000:]}")
        return line

    @staticmethod
    def _drain(stderr: IO[str]) -> None:
        """Keep reading the pipes so a chatty emulator never blocks on a full pipe."""
        for _ in iter(stderr.readline, ""):
            pass

    def stop(self) -> None:
        """Graceful stop (SIGTERM): the emulator compacts its state file."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def graph_config(self, client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_SECRET) -> GraphConfig:
        """A client configuration for one of the demo apps of this emulator."""
        from migrator.graph.config import GraphConfig

        return GraphConfig(
            graph_url=self.url,
            login_url=self.url,
            tenant_id=DEMO_TENANT,
            client_id=client_id,
            client_secret=secret,
            ca_bundle=str(self.ca),
        )

    def operator(self, name: str, payload: dict[str, Any] | None = None) -> Any:
        return operator_request(self.url, self.ca, name, payload)


def operator_request(url: str, ca: Path, name: str, payload: dict[str, Any] | None = None) -> Any:
    """GET (or POST with a payload) one of the emulator's /_emulator/ endpoints."""
    target = f"{url.rstrip('/')}/_emulator/{name}"
    if payload is None:
        response = requests.get(target, verify=str(ca), timeout=60)
    else:
        response = requests.post(target, json=payload, verify=str(ca), timeout=60)
    response.raise_for_status()
    return response.json() if response.content else None
