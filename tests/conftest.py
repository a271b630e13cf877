"""Shared fixtures: one real HTTPS Graph emulator process per test session, reset per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT, EmulatorProcess

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEFAULT_CONFIG = {
    "channel_rps": 5,
    "tenant_rps": 200,
    "app_export_rps": 600,
    "teams_calls_per_10s": 15000,
    "channel_writes_per_s": 30,
    "team_creates_per_s": 6,
    "team_reads_per_s": 60,
    "tenant_message_rps": 0,  # off: test_aimd sets it, and config changes only what it names
    "clock_offset_ms": 0,
    "evaluation_capacity": 10000,
    "provision_delay": 0.05,
    "token_lifetime": 3599,
    "membership_lag": 0,
    "reading": "strict",
}


@pytest.fixture(scope="session")
def emulator_process(tmp_path_factory):
    with EmulatorProcess(tls_dir=tmp_path_factory.mktemp("emulator-tls")) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_process):
    """The session's emulator, emptied and back to default limits, faults and clock."""
    emulator_process.operator("reset", {})
    emulator_process.operator("faults", {"spec": ""})
    emulator_process.operator("config", DEFAULT_CONFIG)
    return emulator_process


def tenant_env(emulator: EmulatorProcess) -> dict[str, str]:
    """The MIGRATOR_* settings that point the commands at `emulator` as if it were a customer's tenant."""
    return {
        "MIGRATOR_TENANT_ID": DEMO_TENANT,
        "MIGRATOR_CLIENT_ID": DEMO_CLIENT_ID,
        "MIGRATOR_CLIENT_SECRET": DEMO_SECRET,
        "MIGRATOR_GRAPH_URL": emulator.url,
        "MIGRATOR_LOGIN_URL": emulator.url,
        "MIGRATOR_CA_BUNDLE": str(emulator.ca),
    }


@pytest.fixture
def tenant(emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The commands talk to the test's emulator as if it were a customer's tenant (MIGRATOR_* credentials)."""
    env = tenant_env(emulator)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared is absent ({SHARED}): the real Slack fixtures live only in the project's workspace")
    return SHARED


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MIGRATOR_* settings: commands start their embedded emulator, as on a laptop without a tenant."""
    for name in [name for name in os.environ if name.startswith("MIGRATOR_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def unpaced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client without its 5 requests/s per conversation, for in-process runs whose test is not about pacing (the
    test raises the emulator's own limits too); make test stays minutes shorter."""
    monkeypatch.setattr("migrator.graph.client.CHANNEL_RPS", 10_000.0)


class FastEmulator(EmulatorProcess):
    """The embedded emulator without its pacing (5 requests/s per conversation, 200/s per tenant)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, extra_args=["--channel-rps", "10000", "--tenant-rps", "10000"], **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def unpaced_embedded(unpaced: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`unpaced`, and the embedded emulator commands start without credentials without its pacing either."""
    monkeypatch.setattr("migrator.target.EmulatorProcess", FastEmulator)
