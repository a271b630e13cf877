"""The emulator's readings of Graph (migrator/emulator/reading.py) and the loader against each.

Where real tenants and Microsoft's pages leave room for doubt the emulator serves the strict reading by default
and the lenient one behind switches; the loader must work against both (docs/graph-contract.md#observed-behaviour).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import tenant_env
from graphkit import ADA, GRACE, RawGraph, code, message
from migrator.cli import app
from migrator.emulator.reading import Reading, switches
from migrator.emulator.runner import EmulatorProcess
from migrator.graph import BadRequestError, GraphClient
from migrator.journal import COMPLETED, Journal
from migrator.plan import (
    Manifest,
    PlannedConversation,
    PlannedMember,
    PlannedTeam,
    read_lines,
    to_request,
    write_lines,
)
from migrator.stages.export import export_limiter
from migrator.stages.load.errors import ProvisionError
from migrator.stages.load.provision import Provisioner
from migrator.stages.verify import VerifyOptions, verify
from migrator.target import graph_target
from migrator.timestamps import format_ms, parse_ms
from plankit import assert_landed_exactly, build_plan
from test_load import run_load

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SAMPLE_DIRECTORY = ROOT / "sample_data" / "directory.json"


def set_reading(emulator: EmulatorProcess, **switches_: object) -> None:
    emulator.operator("config", {"reading": switches_})


# ------------------------------------------------------------------ the switches themselves
def test_strict_is_the_default_and_lenient_the_preset():
    assert all(getattr(Reading(), s.name) == s.strict for s in switches())
    assert all(getattr(Reading.lenient(), s.name) == s.lenient for s in switches())
    assert Reading.lenient() != Reading()


def test_every_switch_takes_its_values_spelled_as_text():
    """As a JSON body or a command line may spell them."""
    for s in switches():
        for value in (s.strict, s.lenient):
            assert getattr(Reading().with_changes({s.name: str(value)}), s.name) == value


def test_a_switch_is_refused_with_its_name_when_unknown_or_of_the_wrong_type():
    first = next(switches())
    with pytest.raises(ValueError, match="no_such_switch"):
        Reading().with_changes({"no_such_switch": True})
    with pytest.raises(ValueError, match=first.name):
        Reading().with_changes({first.name: object()})


def test_emulator_serve_takes_the_lenient_preset_and_each_switch_as_an_option(tmp_path):
    """`EmulatorProcess(reading=...)` spells the reading as `emulator serve` options; the process serves it."""
    lenient = Reading.lenient()
    first = next(switches())
    with EmulatorProcess(tls_dir=tmp_path / "tls", reading=lenient) as emu:
        assert emu.operator("config")["reading"] == lenient.as_dict()
    with EmulatorProcess(tls_dir=tmp_path / "tls", extra_args=["--lenient", *first.args(first.strict)]) as emu:
        assert emu.operator("config")["reading"] == lenient.with_changes({first.name: first.strict}).as_dict()


def test_the_operator_endpoint_changes_the_reading_and_names_a_bad_switch(emulator):
    set_reading(emulator, location="article")
    assert emulator.operator("config")["reading"]["location"] == "article"
    emulator.operator("config", {"reading": "strict"})
    assert emulator.operator("config")["reading"] == Reading().as_dict()
    with pytest.raises(Exception, match="400"):
        set_reading(emulator, no_such_switch=True)


def test_readme_lists_every_switch_with_its_default_and_source():
    section = README.read_text(encoding="utf-8").split("## The Graph emulator", 1)[1].split("\n## ", 1)[0]
    for s in switches():
        row = next((line for line in section.splitlines() if f"`{s.option}`" in line), None)
        assert row is not None, f"README's 'The Graph emulator' has no row for {s.option}"
        assert f"`{s.strict}`" in row and f"`{s.lenient}`" in row, row
        assert re.search(r"graph-contract\.md#|msteams-docs|microsoft-graph-docs-contrib", row), row


# ------------------------------------------------------------------ item 3: Location of POST /teams
@pytest.mark.parametrize(
    ("form", "pattern"),
    [
        ("reference", r"^/teams\('([^']+)'\)/operations\('([^']+)'\)$"),
        ("article", r"^/teams/([^/]+)/operations/([^/]+)$"),
    ],
)
def test_post_teams_answers_the_location_in_the_form_the_reading_names(emulator, form, pattern):
    set_reading(emulator, location=form)
    raw = RawGraph(emulator)
    response = raw.call("POST", "/teams", json=_team_body())
    assert response.status_code == 202
    team_id, _ = re.fullmatch(pattern, response.headers["Location"]).groups()
    assert response.headers["Content-Location"] == response.headers["Location"].split("/operations")[0]
    assert raw.ok("GET", response.headers["Location"])["targetResourceId"] == team_id


@pytest.mark.parametrize("form", ["reference", "article"])
def test_the_loader_reads_the_team_id_from_either_location_form(emulator, tmp_path, form):
    """The team id the journal keeps while the creation is still running is the team's, in either form."""
    set_reading(emulator, location=form)
    emulator.operator("config", {"provision_delay": 30})
    team = PlannedTeam(key="acme", display_name="Acme", created="2021-01-04T08:00:00.000Z")
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        with pytest.raises(ProvisionError, match="not ready"):
            Provisioner(client, journal, operation_timeout=0.5).team(team)
        entry = journal.team("acme")
    [created] = [t["id"] for t in emulator.operator("dump")["teams"]]
    assert entry is not None and entry.team_id == created


def _team_body() -> dict[str, object]:
    return {
        "@microsoft.graph.teamCreationMode": "migration",
        "template@odata.bind": "https://graph.microsoft.com/v1.0/teamsTemplates('standard')",
        "displayName": "Acme",
        "createdDateTime": "2021-01-04T08:00:00.000Z",
    }


# ------------------------------------------------------------------ item 1: migrationMode, General, team completion
def test_v1_answers_carry_no_migration_mode_unless_the_reading_serves_it(emulator):
    raw = RawGraph(emulator)
    team, channel = raw.team_with_channel()
    base = f"/teams/{team}/channels/{channel}"
    assert "migrationMode" not in raw.ok("GET", base)
    assert all("migrationMode" not in c for c in raw.ok("GET", f"/teams/{team}/channels")["value"])
    assert raw.ok("GET", base, version="beta")["migrationMode"] == "inProgress"
    set_reading(emulator, migration_mode_on_v1=True)
    assert raw.ok("GET", base)["migrationMode"] == "inProgress"


def test_primary_channel_is_general_and_team_completion_waits_for_it(emulator):
    raw = RawGraph(emulator)
    team, channel = raw.team_with_channel()
    general = raw.ok("GET", f"/teams/{team}/primaryChannel")
    assert general["displayName"] == "General" and general["id"] == raw.general(team)
    raw.ok("POST", f"/teams/{team}/channels/{channel}/completeMigration")
    refused = raw.call("POST", f"/teams/{team}/completeMigration")
    assert code(refused) == (400, "BadRequest")
    assert refused.json()["error"]["message"] == "All channels must be finalized before team."
    raw.ok("POST", f"/teams/{team}/channels/{general['id']}/completeMigration")
    assert raw.call("POST", f"/teams/{team}/completeMigration").status_code == 204
    assert raw.ok("GET", f"/teams/{team}", version="beta")["migrationMode"] == "completed"


@pytest.mark.parametrize("reading", ["strict", "lenient"])
def test_a_team_without_a_planned_general_is_completed_with_its_general_and_gets_its_members(
    emulator, tmp_path, reading
):
    """An own_team target, a second team, or a source without a general channel: no plan line maps to General,
    yet the team (General included) must leave migration mode and take its members."""
    emulator.operator("config", {"reading": reading})
    build_plan(tmp_path, channels=2, general=False)
    outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.teams_completed == ["Acme"], outcome.teams_blocked
    dump = emulator.operator("dump")
    assert_landed_exactly(dump, tmp_path)
    [general] = [c for c in dump["teams"][0]["channels"] if c["displayName"] == "General"]
    assert general["migrationMode"] == "completed"


def test_a_refused_team_completion_is_an_error_not_a_completed_team(emulator, tmp_path):
    """A channel the journal does not know keeps the team open: Graph's 400 must not be recorded as done (the
    first member is refused too, so nothing proves the team completed) and stays Graph's error, request-id and all."""
    build_plan(tmp_path, channels=2, general=True)
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        provisioner = Provisioner(client, journal)
        team = Manifest.read(tmp_path).teams[0]
        team_id = provisioner.team(team)
        RawGraph(emulator).create_channel(team_id, "made-elsewhere", created=team.created)
        with pytest.raises(BadRequestError, match="All channels must be finalized before team") as refused:
            provisioner.complete_team(team, team_id)
        entry = journal.team(team.key)
    assert entry is not None and entry.state != COMPLETED
    assert refused.value.request_id


# ------------------------------------------------------------------ item 2: startMigration always carries its time
def test_start_migration_without_a_timestamp_starts_the_session_now(emulator):
    """The demo tenant's 1:1 chat of Ada and Grace exists since 2024-01-10; a message of 2024-06 is refused."""
    raw = RawGraph(emulator)
    chat_id = raw.ok("POST", "/chats", json=_chat_body(ADA, GRACE))["id"]
    assert raw.ok("GET", f"/chats/{chat_id}")["createdDateTime"] == "2024-01-10T09:00:00.000Z"
    raw.ok("POST", f"/chats/{chat_id}/startMigration", json={})
    refused = raw.call("POST", f"/chats/{chat_id}/messages", json=message("2024-06-01T00:00:00Z"))
    assert code(refused) == (400, "BadRequest") and "conversationCreationDateTime" in refused.json()["error"]["message"]


def test_an_existing_chat_older_than_the_plan_is_opened_just_before_its_creation(emulator, tmp_path):
    """The demo tenant's 1:1 chat of Ada and Grace exists since 2024-01-10T09:00:00Z; the plan's messages are later."""
    _chat_plan(tmp_path, "2025-03-01T09:00:00.000Z", [ADA, GRACE])
    outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.total("posted") == 3
    [chat] = [c for c in emulator.operator("dump")["chats"] if c["migrationMode"] == "completed"]
    assert chat["createdDateTime"] == "2024-01-10T08:59:59.999Z"
    assert len([m for m in chat["messages"] if "pair" in m["body"]["content"]]) == 3


# ------------------------------------------------------------------ item 7: General completed last
def test_after_general_completed_no_new_migration_channel_is_created(emulator):
    raw = RawGraph(emulator)
    team = raw.create_team()
    raw.ok("POST", f"/teams/{team}/channels/{raw.general(team)}/completeMigration")
    body = {
        "@microsoft.graph.channelCreationMode": "migration",
        "displayName": "late",
        "membershipType": "standard",
        "createdDateTime": "2020-01-02T00:00:00.000Z",
    }
    refused = raw.call("POST", f"/teams/{team}/channels", json=body)
    assert code(refused) == (400, "BadRequest")
    assert refused.json()["error"]["message"] == "Migration channels can only be created in a team under migration."


def test_general_waits_for_its_team_so_a_channel_added_after_a_partial_run_is_still_created(emulator, tmp_path):
    """Run 1 leaves a channel open (one message fails); General must not be completed yet, or the channel the
    next plan adds could never be created in migration mode."""
    build_plan(tmp_path, channels=2, general=True)
    emulator.operator("faults", {"spec": "", "refuse": [{"path": "/teams/*/channels/*/messages", "body": "channel-1"}]})
    first = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert not first.ok and "Acme" in first.teams_blocked
    emulator.operator("faults", {"spec": "", "refuse": []})
    build_plan(tmp_path, channels=3, general=True)  # the same plan with one more channel
    second = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert second.ok, second.teams_blocked
    assert_landed_exactly(emulator.operator("dump"), tmp_path)


def test_a_channel_planned_after_general_was_completed_is_created_then_opened_for_import(emulator, tmp_path):
    """A run stopped between General's completion and the team's, and the next plan has one more channel: Graph
    refuses it as a migration channel, so it is created as usual and opened with startMigration, then completed
    before the team."""
    team = build_plan(tmp_path, channels=3, general=True).teams[0]
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        provisioner = Provisioner(client, journal)
        team_id = provisioner.team(team)
        provisioner.channel(team.key, team_id, team.channels[1])
        provisioner.complete_channel(team_id, provisioner.general_channel(team_id))
        late = provisioner.channel(team.key, team_id, team.channels[2])
        shown = client.get_json(f"/teams/{team_id}/channels/{late}", version="beta")
        assert shown["migrationMode"] == "inProgress" and shown["createdDateTime"] == team.channels[2].created
        provisioner.complete_team(team, team_id)
    [landed] = emulator.operator("dump")["teams"]
    assert landed["migrationMode"] == "completed"
    assert {c["displayName"]: c["migrationMode"] for c in landed["channels"]} == {
        "General": "completed",
        "channel-1": "completed",
        "channel-2": "completed",
    }


def _chat_body(*people: str) -> dict[str, object]:
    return {
        "chatType": "oneOnOne" if len(people) == 2 else "group",
        "members": [
            {
                "@odata.type": "#microsoft.graph.aadUserConversationMember",
                "roles": ["owner"],
                "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{person}')",
            }
            for person in people
        ],
    }


def _chat_plan(plan_dir: Path, created: str, people: list[str]) -> None:
    start = parse_ms(created)
    lines = [
        {
            "key": f"chats/pair:{i}",
            "kind": "root",
            "root_key": None,
            "source_ts": str(i),
            "createdDateTime": format_ms(start + 1 + i * 1000),
            "from": {"user": {"id": people[i % 2], "displayName": "someone", "userIdentityType": "aadUser"}},
            "body": {"contentType": "html", "content": f"<p>pair {i}</p>"},
        }
        for i in range(3)
    ]
    count = write_lines(plan_dir / "chats/pair.jsonl", iter(lines))
    chat = PlannedConversation(
        key="chats/pair",
        display_name="",
        file="chats/pair.jsonl",
        created=created,
        messages=count,
        membership="oneOnOne",
        members=[PlannedMember(p) for p in people],
    )
    Manifest(source={"path": "hand-made", "kind": "test"}, chats=[chat]).write(plan_dir)


# ------------------------------------------------------------------ item 6: opaque ids, varying precision
@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ("2021-03-01T10:00:15.580Z", "2021-03-01T10:00:15.58Z"),
        ("2021-03-01T10:00:16.000Z", "2021-03-01T10:00:16Z"),
        ("2021-03-01T10:00:17.511Z", "2021-03-01T10:00:17.5110000Z"),
    ],
)
def test_strict_answers_opaque_ids_and_times_of_varying_precision(emulator, sent, answered):
    raw = RawGraph(emulator)
    team, channel = raw.team_with_channel()
    posted = raw.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=message(sent))
    assert posted["createdDateTime"] == answered and posted["id"] != str(parse_ms(sent))
    set_reading(emulator, opaque_message_ids=False, varying_time_precision=False)
    later = format_ms(parse_ms(sent) + 1)
    posted = raw.ok("POST", f"/teams/{team}/channels/{channel}/messages", json=message(later))
    assert posted["createdDateTime"] == later and posted["id"] == str(parse_ms(later))


@pytest.mark.parametrize("reading", ["strict", "lenient"])
def test_a_message_whose_answer_was_lost_is_found_by_its_time_and_not_posted_twice(emulator, tmp_path, reading):
    """The 409 after a lost answer: the loader finds the landed message by its parsed time, in either reading."""
    emulator.operator("config", {"reading": reading})
    manifest = build_plan(tmp_path, channels=2, messages=6)
    channel = manifest.teams[0].channels[1]
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        provisioner = Provisioner(client, journal)
        team_id = provisioner.team(manifest.teams[0])
        channel_id = provisioner.channel(manifest.teams[0].key, team_id, channel)
        lines = list(read_lines(tmp_path, channel))
        base = f"/teams/{team_id}/channels/{channel_id}"
        assert lines[2]["kind"] == "reply" and lines[2]["root_key"] == lines[1]["key"]
        root = client.create(f"{base}/messages", to_request(lines[1], {}))  # landed, answer lost: not journaled
        client.create(f"{base}/messages/{root}/replies", to_request(lines[2], {}))  # its reply too
    outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.total("failed") == 0
    assert_landed_exactly(emulator.operator("dump"), tmp_path)


# ------------------------------------------------------------------ the sample migration, both readings
@pytest.fixture(scope="module")
def sample_tenant(tmp_path_factory):
    with EmulatorProcess(directory=SAMPLE_DIRECTORY, tls_dir=tmp_path_factory.mktemp("sample-tenant")) as emu:
        yield emu


@pytest.mark.parametrize("reading", ["strict", "lenient"])
def test_the_sample_migrates_and_verifies_clean_in_both_readings(
    sample_tenant, reading, monkeypatch, tmp_path, unpaced
):
    """`make migrate`'s job (`migrator migrate` on the Slack sample) against a tenant in each reading; the strict one
    also with a membership lag of a few seconds, so the sample's private channel waits for its members."""
    sample_tenant.operator("reset", {})
    lag = 3 if reading == "strict" else 0
    sample_tenant.operator("config", {"reading": reading, "channel_rps": 10_000, "membership_lag": lag})
    for name, value in tenant_env(sample_tenant).items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["migrate", str(ROOT / "sample_data" / "slack"), "--mappings", str(ROOT / "mappings"), "--out", str(out)]
        + ["--directory", str(SAMPLE_DIRECTORY)],
    )
    assert result.exit_code == 0, result.output
    verified = json.loads((out / "verify" / "verify.json").read_text(encoding="utf-8"))
    assert verified["ok"], verified
    assert_landed_exactly(sample_tenant.operator("dump"), out / "plan")


def test_make_migrate_meets_the_strict_reading(no_credentials, tmp_path):
    """Without credentials commands start the embedded emulator: in the strict reading, as `make migrate` does."""
    with graph_target(tmp_path / "emulator") as target:
        assert target.emulator is not None
        assert target.emulator.operator("config")["reading"] == Reading().as_dict()


# ------------------------------------------------------------------ item 5: the inline image cap
@pytest.mark.parametrize(("reading", "inline"), [("strict", False), ("lenient", True)])
def test_an_image_between_the_caps_lands_inline_or_as_a_file_as_the_reading_says(emulator, tmp_path, reading, inline):
    """A 300,000-byte image (planned inline, as by a transform whose cap was raised): the strict reading refuses it
    and the loader posts its message again with the image as a file; the lenient one takes it inline. Both verify
    clean."""
    emulator.operator("config", {"reading": reading, "channel_rps": 10_000})
    plan = tmp_path / "plan"
    build_plan(plan, channels=1, messages=3)
    channel = Manifest.read(plan).teams[0].channels[0]
    lines = list(read_lines(plan, channel))
    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(300_000 - 8)).decode()
    lines[1]["hostedContents"][0]["contentBytes"] = big
    write_lines(plan / channel.file, lines)
    journal = tmp_path / "journal.sqlite"
    outcome = run_load(emulator, plan, journal)
    assert outcome.ok and outcome.total("images_moved") == (0 if inline else 1)
    (team,) = emulator.operator("dump")["teams"]
    posted = next(
        m
        for c in team["channels"]
        for m in c["messages"]
        if parse_ms(m["createdDateTime"]) == parse_ms(lines[1]["createdDateTime"])
    )
    assert [h["size"] for h in posted["hostedContents"]] == ([300_000] if inline else [])
    assert bool(posted["attachments"]) is not inline
    with Journal(journal, readonly=True) as j, GraphClient(emulator.graph_config(), limiter=export_limiter()) as c:
        assert verify(plan, c, j, VerifyOptions()).ok
