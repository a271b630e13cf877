"""Which Microsoft Graph a command talks to: the customer's tenant, or the embedded emulator.

With MIGRATOR_TENANT_ID, MIGRATOR_CLIENT_ID and a secret or certificate set,
the real tenant (or whatever MIGRATOR_GRAPH_URL names); without them, an
emulator started for the command, whose data lives in `state_dir` so that a
second run (a resumed load, a verify) finds what the first one created.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from migrator.emulator.directory import embedded_directory
from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphConfig


@dataclass(frozen=True)
class Target:
    config: GraphConfig
    emulator: EmulatorProcess | None

    @property
    def fingerprint(self) -> str:
        """Tenant and host a journal belongs to; any emulator on loopback counts as one host."""
        host = urlsplit(self.config.graph_url).hostname or ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        return f"{self.config.tenant_id}@{'loopback-emulator' if loopback else host}"

    @property
    def description(self) -> str:
        if self.emulator is not None:
            directory = self.emulator.directory or "its built-in demo directory"
            return f"the embedded Graph emulator at {self.emulator.url} with {directory}"
        return f"tenant {self.config.tenant_id} at {self.config.graph_url}"


@contextmanager
def graph_target(state_dir: Path, directory: Path | None = None, faults: str = "") -> Iterator[Target]:
    if GraphConfig.has_credentials(os.environ):
        yield Target(GraphConfig.from_env(), None)
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    with EmulatorProcess(
        directory=embedded_directory(directory),
        state=state_dir / "state.jsonl",
        tls_dir=state_dir / "tls",
        faults=faults,
    ) as emu:
        yield Target(emu.graph_config(), emu)
