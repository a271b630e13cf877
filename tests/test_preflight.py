"""`migrator preflight` against the emulator: a tenant that accepts the migration, and each way one does not."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from conftest import DEFAULT_CONFIG, tenant_env
from graphkit import RawGraph
from migrator.cli import app
from migrator.critical import critical_path, planned_requests
from migrator.emulator.directory import SAMPLE_DIRECTORY
from migrator.emulator.faults import Faults, FaultSpecError
from migrator.emulator.runner import EmulatorProcess
from migrator.plan import Manifest
from migrator.stages.load.provision import Provisioner
from migrator.stages.preflight import checks
from migrator.stages.preflight.outcome import Step
from test_report_chromium import chromium, headless

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "slack"
MAPPINGS = ROOT / "mappings"
READER_ID = "b1f1c0de-0000-4000-8000-000000000002"  # README's export-only demo app
READER_SECRET = "reader-secret-not-for-production"
ADA = "c0a80000-0000-4000-8000-000000000002"
GRACE = "c0a80000-0000-4000-8000-000000000003"


def run(*args: str | Path):
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert "Traceback" not in result.output, result.output
    return result


def report(out: Path) -> dict:
    return json.loads((out / "preflight.json").read_text(encoding="utf-8"))


def statuses(out: Path) -> dict[str, str]:
    return {step["name"]: step["status"] for step in report(out)["steps"]}


def test_the_sample_passes_on_the_embedded_emulator_and_the_plan_is_sized(no_credentials, tmp_path: Path) -> None:
    assert run("transform", SAMPLE, "--mappings", MAPPINGS, "--out", tmp_path / "plan").exit_code == 0
    result = run("preflight", "--mappings", MAPPINGS, "--plan", tmp_path / "plan", "--out", tmp_path / "pf")
    assert result.exit_code == 0, result.output
    assert statuses(tmp_path / "pf") == {
        "credentials and consent": "passed",
        "directory": "passed",
        "export licence": "passed",
        "canary migration": "passed",
        "capacity": "passed",
    }
    capacity = report(tmp_path / "pf")["steps"][4]["facts"]
    manifest = json.loads((tmp_path / "plan" / "manifest.json").read_text(encoding="utf-8"))
    assert capacity["conversations"] == sum(len(t["channels"]) for t in manifest["teams"]) + len(manifest["chats"])
    plan = Manifest.read(tmp_path / "plan")
    path = critical_path(plan.teams, plan.chats)
    assert capacity["critical_path_seconds"] == round(path.seconds, 1) > 0
    assert capacity["requests"] == sum(planned_requests(c) for _, c in plan.conversations()) > capacity["conversations"]
    assert capacity["app_registrations_that_would_shorten_it"] == 0  # the sample is far below one app's budget
    assert f"critical path {path.seconds:,.0f} s" in result.output
    html = (tmp_path / "pf" / "preflight.html").read_text(encoding="utf-8")
    assert "Preflight: ready" in html and "http" not in html.split("</head>")[1].replace(
        "https://127.0.0.1", ""
    )  # self-contained: nothing fetched


def test_the_export_only_app_fails_with_exactly_the_missing_permissions(tenant, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MIGRATOR_CLIENT_ID", READER_ID)
    monkeypatch.setenv("MIGRATOR_CLIENT_SECRET", READER_SECRET)
    result = run("preflight", "--mappings", MAPPINGS, "--out", tmp_path / "pf")
    assert result.exit_code == 1, result.output
    consent = report(tmp_path / "pf")["steps"][0]
    html = tmp_path / "pf" / "preflight.html"
    assert consent["status"] == "failed"
    assert consent["facts"]["missing_by_stage"] == {
        "import": [
            "Channel.Create or Directory.ReadWrite.All or Group.ReadWrite.All or Teamwork.Migrate.All",
            "Directory.ReadWrite.All or Group.ReadWrite.All or Team.Create or Teamwork.Migrate.All",
            "Teamwork.Migrate.All",
        ],
        "files": [
            "Files.Read.All or Files.ReadWrite.All or Group.Read.All or Group.ReadWrite.All",
            "Files.ReadWrite.All or Sites.ReadWrite.All",
        ],
        "members": ["ChannelMember.ReadWrite.All", "TeamMember.ReadWrite.All"],
        "chats": ["Chat.Create", "Teamwork.Migrate.All"],  # docs/permissions.md: as Graph's pages list them
        "reset": ["Group.ReadWrite.All"],
    }
    dom = BeautifulSoup(headless(chromium(), tmp_path / "profile", "--dump-dom", html.as_uri()).stdout, "html.parser")
    shown = [h2.get_text(" ", strip=True) for h2 in dom.find_all("h2")]
    assert shown == [f"{n}. {s['name']}: {s['status']}" for n, s in enumerate(report(tmp_path / "pf")["steps"], 1)]
    listed = [li.get_text() for li in dom.select("#step-1 ul.problems li")]
    assert listed == consent["details"] and listed  # every missing permission on the page, in a real browser
    url = f"{tenant['MIGRATOR_LOGIN_URL']}/{tenant['MIGRATOR_TENANT_ID']}/adminconsent?client_id={READER_ID}"
    assert consent["facts"]["consent_url"] == url and url in result.output
    assert "import: POST /teams/{team}/completeMigration needs one of Teamwork.Migrate.All" in result.output
    assert READER_SECRET not in result.output + (tmp_path / "pf" / "preflight.json").read_text(encoding="utf-8")


def test_disabled_missing_and_unlicensed_people_are_named_by_their_line(no_credentials, tmp_path: Path) -> None:
    directory = json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    for user in directory["users"]:
        user["licensed"] = user["id"] != "c0a80000-0000-4000-8000-000000000001"  # the fallback account: no licence
        user["accountEnabled"] = user["id"] != ADA
    directory["users"] = [user for user in directory["users"] if user["id"] != GRACE]
    (tmp_path / "directory.json").write_text(json.dumps(directory), encoding="utf-8")
    mappings = shutil.copytree(MAPPINGS, tmp_path / "mappings")
    result = run(
        "preflight",
        "--mappings",
        mappings,
        "--model",
        "A",
        "--directory",
        tmp_path / "directory.json",
        "--out",
        tmp_path / "pf",
    )
    assert result.exit_code == 1, result.output
    users = (mappings / "users.csv").as_posix()
    assert report(tmp_path / "pf")["steps"][1]["details"] == [
        f"{users}:2: Ada Lovelace (ada@contoso.example): {ADA} is disabled (accountEnabled false)",
        f"{users}:3: Grace Hopper (grace@contoso.example): {GRACE} is not a user of this tenant",
    ]
    licence = report(tmp_path / "pf")["steps"][2]
    assert licence["status"] == "failed" and licence["code"] and licence["request_id"]
    assert "402 Payment Required" in licence["reason"] and "--model B" in licence["reason"]


def test_bad_input_is_exit_2(no_credentials, tmp_path: Path) -> None:
    missing = run("preflight", "--mappings", tmp_path / "nowhere", "--out", tmp_path / "pf")
    assert missing.exit_code == 2 and "preflight: " in missing.output
    no_plan = run("preflight", "--mappings", MAPPINGS, "--plan", tmp_path / "noplan", "--out", tmp_path / "pf")
    assert no_plan.exit_code == 2 and "no plan here" in no_plan.output
    assert not (tmp_path / "pf" / "preflight.json").exists()


@pytest.fixture(scope="module")
def sample_tenant(tmp_path_factory):
    """An emulator holding the sample's directory, so the repository's mappings name its people."""
    with EmulatorProcess(directory=SAMPLE_DIRECTORY, tls_dir=tmp_path_factory.mktemp("tls")) as emu:
        yield emu


@pytest.fixture
def sample_env(sample_tenant, monkeypatch: pytest.MonkeyPatch):
    sample_tenant.operator("reset", {})
    sample_tenant.operator("faults", {"spec": ""})
    sample_tenant.operator("config", DEFAULT_CONFIG)
    for name, value in tenant_env(sample_tenant).items():
        monkeypatch.setenv(name, value)
    return sample_tenant


CANARY_FAULTS = [
    ("POST", "/teams", "create the team"),
    ("POST", "/teams/*/channels", "create the channel"),
    ("GET", "/teams/*/channels/*/filesFolder", "import the messages"),
    ("PUT", "/drives/*/items/*:/preflight-canary.txt:/content", "import the messages"),
    ("POST", "/teams/*/channels/*/messages", "import the messages"),
    ("POST", "/teams/*/channels/*/messages/*/replies", "import the messages"),
    ("POST", "/teams/*/completeMigration", "complete the channel and the team"),
    ("POST", "/teams/*/members/add", "add the migration account as member"),  # load adds members in bulk
    ("GET", "/teams/*/channels/getAllMessages", "read the messages back"),
]


@pytest.mark.parametrize(("method", "path", "doing"), CANARY_FAULTS, ids=[f"{m} {p}" for m, p, _ in CANARY_FAULTS])
def test_a_canary_step_refused_is_reported_and_cleaned_up(sample_env, tmp_path: Path, method, path, doing) -> None:
    rule = {"method": method, "path": path, "status": 403, "code": "Forbidden", "message": "refused by the test"}
    sample_env.operator("faults", {"spec": "", "refuse": [rule]})
    result = run("preflight", "--mappings", MAPPINGS, "--out", tmp_path / "pf")
    assert result.exit_code == 1, result.output
    canary = report(tmp_path / "pf")["steps"][3]
    assert canary["name"] == "canary migration" and canary["status"] == "failed"
    assert canary["facts"]["failed_at"] == doing and canary["code"] == "Forbidden" and canary["request_id"]
    assert f"canary: could not {doing}" in result.output
    assert sample_env.operator("dump")["teams"] == [] or all(
        team.get("deleted") for team in sample_env.operator("dump")["teams"]
    )
    if method != "POST" or path != "/teams":
        assert canary["facts"]["deleted"] == canary["facts"]["team_id"]


def test_a_canary_that_cannot_be_deleted_names_the_team_and_the_command(sample_env, tmp_path: Path) -> None:
    rule = {"method": "DELETE", "path": "/groups/*", "status": 403, "code": "Forbidden"}
    sample_env.operator("faults", {"spec": "", "refuse": [rule]})
    result = run("preflight", "--mappings", MAPPINGS, "--out", tmp_path / "pf")
    assert result.exit_code == 1, result.output
    canary = report(tmp_path / "pf")["steps"][3]
    team = canary["facts"]["team_id"]
    assert canary["facts"]["left_behind"] == team
    assert f"az rest --method delete --url {sample_env.url}/v1.0/groups/{team}" in canary["reason"]
    assert [t["id"] for t in sample_env.operator("dump")["teams"]] == [team]


def test_keep_leaves_the_canary_and_no_canary_skips_it(sample_env, tmp_path: Path) -> None:
    kept = run("preflight", "--mappings", MAPPINGS, "--keep", "--out", tmp_path / "kept")
    assert kept.exit_code == 0, kept.output
    team = sample_env.operator("dump")["teams"]
    assert len(team) == 1 and team[0]["displayName"].startswith("teams-migrator preflight ")
    skipped = run("preflight", "--mappings", MAPPINGS, "--no-canary", "--out", tmp_path / "skipped")
    assert skipped.exit_code == 0 and statuses(tmp_path / "skipped")["canary migration"] == "skipped"


def test_a_fault_aimed_at_a_route_in_the_spec_fails_the_canary_at_that_step(sample_env, tmp_path: Path) -> None:
    sample_env.operator("faults", {"spec": "400@POST /teams/*/completeMigration"})
    assert sample_env.operator("faults")["refuse"][0]["status"] == 400
    result = run("preflight", "--mappings", MAPPINGS, "--out", tmp_path / "pf")
    assert result.exit_code == 1, result.output
    canary = report(tmp_path / "pf")["steps"][3]
    assert canary["facts"]["failed_at"] == "complete the channel and the team" and canary["code"] == "BadRequest"
    assert canary["facts"]["deleted"] == canary["facts"]["team_id"]


def test_route_aimed_faults_parse_beside_the_probabilities() -> None:
    faults = Faults.parse("503:0.1,500@POST /teams/*/completeMigration")
    assert faults.rates == {"503": 0.1}
    refusal = faults.refusal("POST", "/teams/abc/completeMigration", b"")
    assert refusal is not None and (refusal.status, refusal.code) == (500, "InternalServerError")
    assert faults.refusal("POST", "/teams/abc/channels/def/completeMigration", b"") is None
    second = Faults.parse("400@POST /teams/*/channels/*/messages#2")
    assert [second.refusal("POST", "/teams/t/channels/c/messages", b"") is not None for _ in range(4)] == [
        False,
        True,
        False,
        False,
    ]
    with pytest.raises(FaultSpecError, match="STATUS@METHOD PATH"):
        Faults.parse("500@/teams")
    with pytest.raises(FaultSpecError, match="400-599"):
        Faults.parse("302@GET /teams")


def test_the_canary_chat_is_migrated_read_back_and_said_to_stay(sample_env, tmp_path: Path) -> None:
    result = run("preflight", "--mappings", MAPPINGS, "--canary-chat", "--out", tmp_path / "pf")
    assert result.exit_code == 0, result.output
    canary = report(tmp_path / "pf")["steps"][3]
    chats = [
        c for c in sample_env.operator("dump")["chats"] if c.get("topic", "").startswith("teams-migrator preflight")
    ]
    assert (
        len(chats) == 1 and canary["facts"]["chat_stays"] == f"chat {chats[0]['id']} stays: Graph cannot delete a chat"
    )
    assert sample_env.operator("dump")["teams"] == []
    assert canary["facts"]["compared"] == {"messages": 5, "images": 1, "files": 1}  # the chat's message too


def test_a_plan_the_budget_bounds_names_the_app_registrations_that_would_shorten_it(
    no_credentials, monkeypatch, tmp_path: Path
) -> None:
    assert run("transform", SAMPLE, "--mappings", MAPPINGS, "--out", tmp_path / "plan").exit_code == 0
    plan = Manifest.read(tmp_path / "plan")
    path, requests = critical_path(plan.teams, plan.chats), sum(planned_requests(c) for _, c in plan.conversations())
    budget = requests / path.seconds / 3.5  # one app would need 3.5 times the critical path: 4 apps bring it back
    monkeypatch.setattr(checks, "IMPORT_BUDGET_RPS", budget)
    step = Step("capacity")
    checks.capacity(tmp_path / "plan", step)
    assert step.facts["app_registrations_that_would_shorten_it"] == 3
    assert "3 more app registrations would bring the load to its critical path" in step.reason


@pytest.mark.parametrize("nth", [2, 3], ids=["the inline image", "the file"])
def test_the_nth_message_refused_fails_the_canary_and_cleans_up(sample_env, tmp_path: Path, nth: int) -> None:
    sample_env.operator("faults", {"spec": f"400@POST /teams/*/channels/*/messages#{nth}"})
    result = run("preflight", "--mappings", MAPPINGS, "--out", tmp_path / "pf")
    assert result.exit_code == 1, result.output
    canary = report(tmp_path / "pf")["steps"][3]
    assert canary["facts"]["failed_at"] == "import the messages" and canary["code"] == "BadRequest"
    assert canary["facts"]["deleted"] == canary["facts"]["team_id"]
    assert sample_env.operator("dump")["teams"] == []


def _canary_messages(emulator: EmulatorProcess) -> tuple[str, dict[str, dict]]:
    """The canary channel's id and its messages by their text ("root", "reply", "image", "file")."""
    channel = emulator.operator("dump")["teams"][0]["channels"][-1]
    found = {}
    for root in channel["messages"]:
        for message in [root, *root["replies"]]:
            found[message["body"]["content"].split("preflight canary: ")[1].split("<")[0]] = message
    return channel["id"], found


def _altered_after_import(monkeypatch, emulator: EmulatorProcess, change) -> None:
    """Once the canary is imported and completed (its members being added), the tenant changes what it holds."""
    add_members = Provisioner.add_members

    def then_alter(provisioner, *args, **kwargs):
        added = add_members(provisioner, *args, **kwargs)
        change(emulator, *_canary_messages(emulator))
        return added

    monkeypatch.setattr(Provisioner, "add_members", then_alter)


def _mutate(op):
    """A change by the emulator's operator `mutate`; `op` makes its fields from the canary's messages by text."""
    return lambda emulator, channel, messages: emulator.operator("mutate", {"conversation": channel, **op(messages)})


def _replace_the_file(emulator: EmulatorProcess, channel: str, messages: dict[str, dict]) -> None:
    """Someone puts other bytes in the canary's file, in place: its name and link stay."""
    (item,) = [f for f in emulator.operator("dump")["files"] if f["name"] == "preflight-canary.txt"]
    folder = f"/drives/{item['parentReference']['driveId']}/items/{item['parentReference']['id']}"
    RawGraph(emulator).ok("PUT", f"{folder}:/preflight-canary.txt:/content", data=b"other bytes\n")
    assert [f["id"] for f in emulator.operator("dump")["files"] if f["name"] == item["name"]] == [item["id"]]


OTHER_PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n not the canary's image").decode()
ALTERATIONS = [
    (_mutate(lambda m: {"op": "edit", "message": m["reply"]["id"], "content": "<p>altered</p>"}), "body differs"),
    (
        _mutate(lambda m: {"op": "image", "message": m["image"]["id"], "contentBytes": OTHER_PIXEL}),
        "inline image 1 differs",
    ),
    (_mutate(lambda m: {"op": "move", "message": m["reply"]["id"], "to": m["file"]["id"]}), "under root"),
    (_mutate(lambda m: {"op": "delete", "message": m["file"]["id"]}), "deleted in Teams"),
    (_replace_the_file, "attachment preflight-canary.txt: its bytes differ"),
]


@pytest.mark.parametrize(("change", "named"), ALTERATIONS, ids=[named for _, named in ALTERATIONS])
def test_a_canary_message_altered_after_import_fails_the_canary_by_what_differs(
    sample_env, monkeypatch, tmp_path: Path, change, named: str
) -> None:
    _altered_after_import(monkeypatch, sample_env, change)
    result = run("preflight", "--mappings", MAPPINGS, "--out", tmp_path / "pf")
    assert result.exit_code == 1, result.output
    canary = report(tmp_path / "pf")["steps"][3]
    assert canary["status"] == "failed" and canary["facts"]["failed_at"] == "compare what was read back"
    assert canary["reason"].startswith("canary: read back differs: ") and named in canary["reason"], canary["reason"]
    assert len(canary["details"]) == 1 and named in canary["details"][0] and named in result.output
    assert named in (tmp_path / "pf" / "preflight.html").read_text(encoding="utf-8")
    assert canary["facts"]["deleted"] == canary["facts"]["team_id"] and sample_env.operator("dump")["teams"] == []


def test_the_clean_canary_compares_every_message_its_image_and_its_file(sample_env, tmp_path: Path) -> None:
    result = run("preflight", "--mappings", MAPPINGS, "--out", tmp_path / "pf")
    assert result.exit_code == 0, result.output
    compared = report(tmp_path / "pf")["steps"][3]["facts"]["compared"]
    assert compared == {"messages": 4, "images": 1, "files": 1}


def test_the_canary_chat_s_message_altered_after_import_fails_the_canary(sample_env, monkeypatch, tmp_path) -> None:
    complete_chat = Provisioner.complete_chat

    def then_alter(provisioner, chat_id: str) -> None:
        complete_chat(provisioner, chat_id)
        (chat,) = [c for c in sample_env.operator("dump")["chats"] if c["id"] == chat_id]
        change = {"op": "edit", "conversation": chat_id, "message": chat["messages"][0]["id"], "content": "<p>x</p>"}
        sample_env.operator("mutate", change)

    monkeypatch.setattr(Provisioner, "complete_chat", then_alter)
    result = run("preflight", "--mappings", MAPPINGS, "--canary-chat", "--out", tmp_path / "pf")
    assert result.exit_code == 1, result.output
    canary = report(tmp_path / "pf")["steps"][3]
    assert canary["reason"].startswith("canary: read back differs: chat: body differs: planned '<p>preflight canary")
    assert canary["facts"]["failed_at"] == "migrate the canary chat" and canary["facts"]["deleted"]
