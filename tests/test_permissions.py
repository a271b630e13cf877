"""Permissions (issue 17, item 4): the emulator accepts per endpoint exactly what docs/permissions.md lists (from
Graph's permission pages), the README lists the same per command, and every command runs with an app that has
exactly the permissions listed for it, and no more."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from graphkit import ADA, GRACE, RawGraph, code
from migrator.emulator.routes import router
from migrator.emulator.runner import DEMO_SECRET, EmulatorProcess
from migrator.graph import GraphClient, RateLimiter
from migrator.graph.config import GraphConfig
from migrator.journal import Journal
from migrator.mapping.directory import graph_lookup
from migrator.plan import Manifest
from migrator.stages.export import ExportOptions, Target, export, export_limiter
from migrator.stages.load import LoadOptions, load
from migrator.stages.load.reset import reset_team, team_reset
from migrator.stages.verify import VerifyOptions, verify
from plankit import build_plan

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "permissions.md"
README = ROOT / "README.md"
SAMPLE_IDS = {
    "team": "00000000-0000-4000-8000-00000000000a",
    "channel": "19:abc@thread.tacv2",
    "chat": "19:def@thread.v2",
    "user": ADA,
    "op": "op-1",
    "group": "00000000-0000-4000-8000-00000000000a",
    "message": "1700000000000",
    "reply": "1700000000001",
    "hc": "aGM",
    "drive": "b!drive",
    "item": "item-1",
    "parent": "folder-1",
    "name": "report.txt",
    "share": "u!aHR0cHM6Ly9leGFtcGxl",
    "path": "Microsoft Teams Chat Files/report.txt",
}
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| ([^|]+) \|$")
COMMAND_ROW = re.compile(r"^\| `(\w+)` \| ([A-Z][\w.\-]+(?:, [A-Z][\w.\-]+)*) \|")


def documented_endpoints() -> list[tuple[str, str, set[str]]]:
    rows = [ROW.match(line) for line in DOC.read_text(encoding="utf-8").splitlines()]
    return [(m[1], m[2], {p.strip() for p in m[3].split(",")}) for m in rows if m]


def command_permissions(text: str) -> dict[str, set[str]]:
    rows = [COMMAND_ROW.match(line) for line in text.splitlines()]
    return {m[1]: {p.strip() for p in m[2].split(",")} for m in rows if m}


def test_the_emulator_accepts_per_endpoint_exactly_what_the_page_lists():
    covered = set()
    rows = documented_endpoints()
    assert len(rows) > 40
    for method, path, permissions in rows:
        concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_IDS[m[1]], path)
        found = router.match(method, concrete)
        assert found is not None, f"{method} {path} is documented but not served"
        route, _ = found
        assert set(route.roles) == permissions, f"{method} {path}: the emulator accepts {sorted(route.roles)}"
        covered.add(id(route))
    undocumented = [f"{r.method} {r.pattern.pattern}" for r in router.routes if id(r) not in covered]
    assert not undocumented, f"served but not in docs/permissions.md: {undocumented}"


def test_the_readme_lists_the_same_permissions_per_command_as_the_page():
    documented = command_permissions(DOC.read_text(encoding="utf-8"))
    assert set(documented) == {"map", "load", "reset", "verify", "export"}
    assert command_permissions(README.read_text(encoding="utf-8")) == documented


@pytest.fixture(scope="module")
def per_command(tmp_path_factory):
    """An emulator whose directory registers one app per command, each with exactly that command's permissions,
    and one with Teamwork.Migrate.All alone."""
    apps = {name: sorted(roles) for name, roles in command_permissions(DOC.read_text(encoding="utf-8")).items()}
    apps["migrate-only"] = ["Teamwork.Migrate.All"]
    folder = tmp_path_factory.mktemp("permissions")
    directory = folder / "directory.json"
    entries = [{"client_id": f"app-{name}", "secret": DEMO_SECRET, "roles": roles} for name, roles in apps.items()]
    full = json.loads((ROOT / "migrator" / "emulator" / "demo_directory.json").read_text(encoding="utf-8"))["apps"]
    directory.write_text(json.dumps({"apps": entries + full}), encoding="utf-8")
    with EmulatorProcess(directory=directory, tls_dir=folder / "tls") as emulator:
        emulator.operator("config", {"channel_rps": 10_000})
        yield emulator


def config(emulator: EmulatorProcess, command: str) -> GraphConfig:
    return emulator.graph_config(client_id=f"app-{command}")


def test_each_command_runs_with_exactly_the_permissions_listed_for_it(per_command, tmp_path):
    emulator = per_command
    with GraphClient(config(emulator, "map")) as client:
        assert graph_lookup(client)("ada@contoso.example")["id"] == ADA
    plan = tmp_path / "plan"
    build_plan(plan, channels=2, messages=6, private=True, chats=True)
    journal = tmp_path / "journal.sqlite"
    with Journal(journal) as j, GraphClient(config(emulator, "load"), limiter=RateLimiter.unlimited()) as client:
        j.bind("test")
        outcome = load(plan, client, j, LoadOptions(workers=2))
        assert outcome.ok, [(c.key, c.reasons) for c in outcome.conversations]
    with Journal(journal, readonly=True) as j, GraphClient(config(emulator, "verify"), limiter=export_limiter()) as c:
        assert verify(plan, c, j, VerifyOptions()).ok
    with Journal(journal, readonly=True) as j:
        team_id = j.team_id("acme")
    with GraphClient(config(emulator, "export"), limiter=export_limiter()) as client:
        exported = export(
            client, [Target("team", team_id), Target("user", GRACE)], tmp_path / "export", ExportOptions()
        )
        assert exported.ok, [(t.status, t.error) for t in exported.targets]
    with Journal(journal) as j, GraphClient(config(emulator, "reset")) as client:
        assert reset_team(client, j, team_reset(Manifest.read(plan), j, "Acme"))


def test_the_migration_permission_alone_creates_no_chat_and_reads_no_message(per_command):
    """`POST /chats` needs Chat.Create and reading messages ChannelMessage.Read.All or Chat.Read.All (their pages);
    Teamwork.Migrate.All is not enough for either."""
    full = RawGraph(per_command)
    team, channel = full.team_with_channel()
    only_migrate = RawGraph(per_command, "app-migrate-only", DEMO_SECRET)
    bind = "https://graph.microsoft.com/v1.0/users('{}')"
    members = [
        {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "roles": ["owner"],
            "user@odata.bind": bind.format(u),
        }
        for u in (ADA, GRACE)
    ]
    assert code(only_migrate.call("POST", "/chats", json={"chatType": "oneOnOne", "members": members})) == (
        403,
        "Forbidden",
    )
    chat = full.ok("POST", "/chats", json={"chatType": "oneOnOne", "members": members})["id"]
    for path in (f"/teams/{team}/channels/{channel}/messages", f"/chats/{chat}/messages", f"/teams/{team}"):
        assert code(only_migrate.call("GET", path)) == (403, "Forbidden"), path
