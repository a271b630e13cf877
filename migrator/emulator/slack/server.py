"""Run the Slack emulator over HTTPS on loopback (`migrator.emulator.listen`), with the Graph emulator's READY line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migrator.emulator.faults import Faults
from migrator.emulator.listen import serve_https
from migrator.emulator.slack.app import SlackEmulatorApp, SlackLimits
from migrator.emulator.slack.workspace import load_workspace


@dataclass
class SlackEmulatorSettings:
    export: Path
    files: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    tls_dir: Path | None = None
    faults: str = ""
    seed: int | None = None
    files_rps: float = SlackLimits.files_rps
    users_per_minute: float = SlackLimits.users_per_minute


def serve(settings: SlackEmulatorSettings) -> None:
    app = SlackEmulatorApp(
        load_workspace(settings.export, settings.files),
        Faults.parse(settings.faults, settings.seed),
        SlackLimits(files_rps=settings.files_rps, users_per_minute=settings.users_per_minute),
    )
    serve_https(app, settings.host, settings.port, settings.tls_dir)
