"""Several app registrations (MIGRATOR_APPS): the apps file, the spread of teams and chats over the apps, and
workers that keep every team and chat with one app from creation to completion (Graph allows one app per import
session)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DEFAULT_CONFIG
from graphkit import RawGraph, code
from migrator.emulator.directory import DEMO_PATH
from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT, EmulatorProcess
from migrator.graph.config import GraphConfig, apps_from_env
from migrator.graph.errors import ConfigError
from migrator.pgjournal import PostgresJournal
from migrator.plan import Manifest, PlannedConversation, PlannedTeam
from migrator.workqueue import spread_apps
from plankit import assert_landed_exactly, build_plan
from services import REDIS_URL, fresh_schema, require_postgres, require_redis
from test_pgjournal import migrator

CHANNEL = {
    "@microsoft.graph.channelCreationMode": "migration",
    "displayName": "Imported",
    "membershipType": "standard",
    "createdDateTime": "2020-01-02T00:00:00.000Z",
}
SECOND_APP, SECOND_SECRET = "b1f1c0de-0000-4000-8000-0000000000a2", "second-secret-not-for-production"


def apps_file(path: Path) -> Path:
    path.write_text(
        f"- client_id: {DEMO_CLIENT_ID}\n  client_secret: {DEMO_SECRET}\n"
        f"- client_id: {SECOND_APP}\n  client_secret: {SECOND_SECRET}\n",
        encoding="utf-8",
    )
    return path


def test_the_apps_file_gives_one_configuration_per_app_and_counts_as_credentials(tmp_path: Path) -> None:
    env = {"MIGRATOR_APPS": str(apps_file(tmp_path / "apps.yaml")), "MIGRATOR_TENANT_ID": DEMO_TENANT}
    apps = apps_from_env(env)
    assert [(a.client_id, a.client_secret, a.tenant_id) for a in apps] == [
        (DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT),
        (SECOND_APP, SECOND_SECRET, DEMO_TENANT),
    ]
    assert GraphConfig.has_credentials(env) and GraphConfig.from_env(env) == apps[0]
    assert not GraphConfig.has_credentials({"MIGRATOR_APPS": env["MIGRATOR_APPS"]})


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("client_id: x\n", "a YAML list of apps"),
        ("- client_secret: s3cr3t-value\n", "app 1: give client_id"),
        ("- client_id: a\n  client_secret: s3cr3t-value\n  client_cert: c.pem\n", r"app 1 \(a\): give exactly one"),
        ("- client_id: a\n  client_cert: missing.pem\n", "app 1's client_cert points to"),
        ("- client_id: a\n  client_secret: s3cr3t-value\n- client_id: a\n  client_secret: s3cr3t-value\n", "twice"),
    ],
)
def test_a_bad_apps_file_is_refused_with_the_item_and_never_the_secret(tmp_path: Path, text: str, why: str) -> None:
    (tmp_path / "apps.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=why) as refused:
        apps_from_env({"MIGRATOR_APPS": str(tmp_path / "apps.yaml"), "MIGRATOR_TENANT_ID": DEMO_TENANT})
    assert "s3cr3t" not in str(refused.value)


@settings(max_examples=100, deadline=None)
@given(
    teams=st.lists(st.integers(0, 500), max_size=12),
    chats=st.lists(st.integers(0, 50), max_size=12),
    apps=st.integers(1, 4),
)
def test_each_team_and_chat_goes_to_one_app_and_the_apps_fill_evenly(teams, chats, apps) -> None:
    manifest = Manifest(
        source={},  # type: ignore[typeddict-item]
        teams=[
            PlannedTeam(f"t{i}", f"T{i}", "", channels=[PlannedConversation(f"t{i}/c", "c", "", "", messages=n)])
            for i, n in enumerate(teams)
        ],
        chats=[
            PlannedConversation(f"chats/{i}", "", "", "", messages=n, membership="group") for i, n in enumerate(chats)
        ],
    )
    names = [f"app-{i}" for i in range(apps)]
    owners = spread_apps(manifest, names)
    assert set(owners) == {t.key for t in manifest.teams} | {c.key for c in manifest.chats}
    sizes = {f"t{i}": n for i, n in enumerate(teams)} | {f"chats/{i}": n for i, n in enumerate(chats)}
    load = dict.fromkeys(names, 0)
    for key, app in owners.items():
        load[app] += sizes[key]
    largest = max([*teams, *chats], default=0)
    assert max(load.values()) - min(load.values()) <= largest, "greedy: no app more than one scope ahead"
    if len(owners) >= apps:
        assert set(owners.values()) == set(names), "every app gets work"


@pytest.fixture
def two_app_emulator(tmp_path_factory):
    """An emulator whose directory registers a second app with the demo app's permissions."""
    demo = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    second = {**demo["apps"][0], "client_id": SECOND_APP, "secret": SECOND_SECRET, "display_name": "second migrator"}
    directory = tmp_path_factory.mktemp("directory") / "directory.json"
    directory.write_text(json.dumps({**demo, "apps": [*demo["apps"], second]}), encoding="utf-8")
    with EmulatorProcess(directory=directory, tls_dir=tmp_path_factory.mktemp("tls")) as emu:
        emu.operator("config", DEFAULT_CONFIG)
        yield emu


def test_a_second_app_cannot_create_a_migration_channel_in_a_team_the_first_created(two_app_emulator) -> None:
    first, second = RawGraph(two_app_emulator), RawGraph(two_app_emulator, SECOND_APP, SECOND_SECRET)
    team = first.create_team()
    refused = second.call("POST", f"/teams/{team}/channels", json=CHANNEL)
    assert code(refused) == (403, "Forbidden") and "Only 1 application" in refused.text
    assert first.call("POST", f"/teams/{team}/channels", json=CHANNEL).status_code == 202


def test_workers_with_two_apps_keep_each_team_and_chat_with_one_app(two_app_emulator, tmp_path) -> None:
    """... and share each app's budget through Redis (--rate-store): both apps' windows are there."""
    require_postgres()
    require_redis()
    import redis

    build_plan(tmp_path / "plan", channels=2, messages=8, private=True, chats=True)
    emulator = two_app_emulator
    env = {
        "MIGRATOR_APPS": str(apps_file(tmp_path / "apps.yaml")),
        "MIGRATOR_TENANT_ID": DEMO_TENANT,
        "MIGRATOR_GRAPH_URL": emulator.url,
        "MIGRATOR_LOGIN_URL": emulator.url,
        "MIGRATOR_CA_BUNDLE": str(emulator.ca),
    }
    with fresh_schema() as url:
        published = migrator("load", str(tmp_path / "plan"), "--journal", url, "--publish", **env)
        assert "spread over 2 apps" in published.stdout, published.stdout + published.stderr
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(match=f"LIMITS:LIMITER/migrator/{DEMO_TENANT}/*"):
            store.delete(key)
        command = [sys.executable, "-m", "migrator", "worker", "--journal", url, "--workers", "2"]
        command += ["--rate-store", REDIS_URL]
        workers = [
            subprocess.Popen(
                [*command, "--out", str(tmp_path / name)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**_clean_env(), **env},
            )
            for name in ("a", "b")
        ]
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, out.decode() + err.decode()
        with PostgresJournal(url) as journal:
            owners = journal.query("SELECT coalesce(team_key, conv_key), array_agg(DISTINCT app) FROM work GROUP BY 1")
        assert all(len(apps) == 1 for _, apps in owners), owners
        assert {apps[0] for _, apps in owners} == {DEMO_CLIENT_ID, SECOND_APP}
        windows = {
            key.decode().split("/")[3] for key in store.scan_iter(match=f"LIMITS:LIMITER/migrator/{DEMO_TENANT}/*")
        }
        assert windows == {DEMO_CLIENT_ID, SECOND_APP}
    assert_landed_exactly(emulator.operator("dump"), tmp_path / "plan")


def _clean_env() -> dict[str, str]:
    import os

    return {name: value for name, value in os.environ.items() if not name.startswith("MIGRATOR_")}
