"""Run the Graph emulator over HTTPS on loopback (`listen.py`) and announce it with one READY line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migrator.emulator.app import EmulatorApp, Limits
from migrator.emulator.directory import load_directory
from migrator.emulator.faults import Faults
from migrator.emulator.identity import Identity
from migrator.emulator.listen import EmulatorConfigError, serve_https
from migrator.emulator.models import Graph
from migrator.emulator.reading import Reading
from migrator.emulator.store import Store


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
    tenant_message_rps: float = 0.0  # off: Graph documents no tenant-wide import cap
    seed: int | None = None
    token_lifetime: int = 3599
    provision_delay: float = 0.2
    membership_lag: float = 0.0
    reading: Reading = field(default_factory=Reading)


def build_app(settings: EmulatorSettings) -> EmulatorApp:
    directory = load_directory(settings.directory)
    graph = Graph(directory, Store(settings.state), provision_delay=settings.provision_delay, reading=settings.reading)
    graph.membership_lag = settings.membership_lag
    limits = Limits(
        channel_rps=settings.channel_rps,
        tenant_rps=settings.tenant_rps,
        tenant_message_rps=settings.tenant_message_rps,
    )
    return EmulatorApp(
        graph, Identity(directory, settings.token_lifetime), Faults.parse(settings.faults, settings.seed), limits
    )


def serve(settings: EmulatorSettings) -> None:
    try:
        app = build_app(settings)
    except OSError as error:  # a state folder that cannot be written: a setting to fix
        raise EmulatorConfigError(str(error)) from error
    serve_https(app, settings.host, settings.port, settings.tls_dir)
