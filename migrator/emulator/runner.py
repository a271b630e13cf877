"""Start and stop an emulator in its own process: for tests, `make migrate` and benchmarks.

A separate process is what a client really meets (its own event loop, real
sockets, can be killed -9 and restarted from its state file). Both emulators,
Microsoft Graph's (`EmulatorProcess`) and Slack's (`SlackEmulatorProcess`),
announce themselves with the same READY line and answer the same operator
endpoints under `/_emulator/`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import requests

from migrator.errors import InputError

if TYPE_CHECKING:
    from migrator.emulator.reading import Reading
    from migrator.graph.config import GraphConfig

DEMO_TENANT = "5d7f6c2a-1b3e-4c8d-9a0f-e00000000001"
DEMO_CLIENT_ID = "b1f1c0de-0000-4000-8000-000000000001"
DEMO_SECRET = "demo-secret-not-for-production"


class EmulatorStartError(InputError):
    """The embedded emulator did not start: exit code 2. It carries the emulator's own error, which names what to
    fix (most often the --directory file, or a state folder another emulator holds)."""


class _Process:
    """One emulator process: `start()` runs `migrator emulator COMMAND…` and reads its READY line."""

    name = "emulator"

    def __init__(self, tls_dir: Path | None, extra_args: list[str] | None, startup_timeout: float) -> None:
        self.tls_dir = Path(tls_dir) if tls_dir else Path(tempfile.mkdtemp(prefix="emulator-"))
        self.extra_args = extra_args or []
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.ca = Path()

    def command(self) -> list[str]:
        """The `migrator emulator …` arguments after `emulator`, without the port, TLS folder and extra arguments."""
        raise NotImplementedError

    def start(self) -> Self:
        args = [sys.executable, "-m", "migrator", "emulator", *self.command()]
        args += ["--port", "0", "--tls-dir", str(self.tls_dir), *self.extra_args]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self._read_ready_line(self.process)
        _, url, ca = line.split(" ", 2)
        self.url, self.ca = url, Path(ca.removeprefix("ca="))
        threading.Thread(target=self._drain, args=(self.process,), daemon=True).start()
        return self

    def _read_ready_line(self, process: subprocess.Popen[str]) -> str:
        found: list[str] = []
        stdout = process.stdout
        assert stdout is not None  # Popen was given stdout=PIPE
        reader = threading.Thread(target=lambda: found.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        line = found[0].strip() if found else ""
        if not line.startswith("READY "):
            self.kill()
            errors = process.stderr.read() if process.stderr else ""
            raise EmulatorStartError(f"the {self.name} did not start: {line or 'no READY line'}\n{errors[-2000:]}")
        return line

    @staticmethod
    def _drain(process: subprocess.Popen[str]) -> None:
        """Keep reading the pipes so a chatty emulator never blocks on a full pipe."""
        if process.stderr is not None:
            for _ in iter(process.stderr.readline, ""):
                pass

    def stop(self) -> None:
        """Graceful stop (SIGTERM): the Graph emulator compacts its state file."""
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def operator(self, name: str, payload: dict[str, Any] | None = None) -> Any:
        return operator_request(self.url, self.ca, name, payload)


class EmulatorProcess(_Process):
    """`with EmulatorProcess(directory=...) as emu:` gives `emu.url`, `emu.ca`, `emu.graph_config()`.

    `reading` chooses how strictly it reads Graph (emulator/reading.py); the default is the strict reading."""

    name = "Graph emulator"

    def __init__(
        self,
        directory: Path | None = None,
        state: Path | None = None,
        tls_dir: Path | None = None,
        faults: str = "",
        extra_args: list[str] | None = None,
        startup_timeout: float = 60.0,
        reading: Reading | None = None,
    ):
        super().__init__(tls_dir, extra_args, startup_timeout)
        self.directory = directory
        self.state = state
        self.faults = faults
        self.reading = reading

    def command(self) -> list[str]:
        args = ["serve"]
        if self.directory:
            args += ["--directory", str(self.directory)]
        if self.state:
            args += ["--state", str(self.state)]
        if self.faults:
            args += ["--faults", self.faults]
        if self.reading is not None:
            args += self.reading.cli_args()
        return args

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


class SlackEmulatorProcess(_Process):
    """`with SlackEmulatorProcess(export, files) as slack:` gives `slack.url`, `slack.ca` and `slack.env(token)`,
    the settings that point `migrator fetch` at it."""

    name = "Slack emulator"

    def __init__(
        self,
        export: Path,
        files: Path | None = None,
        tls_dir: Path | None = None,
        extra_args: list[str] | None = None,
        startup_timeout: float = 60.0,
    ):
        super().__init__(tls_dir, extra_args, startup_timeout)
        self.export = export
        self.files = files

    def command(self) -> list[str]:
        return ["slack", "--export", str(self.export), *(["--files", str(self.files)] if self.files else [])]

    def env(self, token: str) -> dict[str, str]:
        """SLACK_TOKEN and the MIGRATOR_SLACK_* settings that send `migrator fetch` here instead of Slack."""
        return {"SLACK_TOKEN": token, "MIGRATOR_SLACK_URL": self.url, "MIGRATOR_SLACK_CA_BUNDLE": str(self.ca)}


def operator_request(url: str, ca: Path, name: str, payload: dict[str, Any] | None = None) -> Any:
    """GET (or POST with a payload) one of the emulator's /_emulator/ endpoints."""
    target = f"{url.rstrip('/')}/_emulator/{name}"
    if payload is None:
        response = requests.get(target, verify=str(ca), timeout=60)
    else:
        response = requests.post(target, json=payload, verify=str(ca), timeout=60)
    response.raise_for_status()
    return response.json() if response.content else None
