"""History imported into a Teams channel and a chat people already use (`action: existing`, issue 21), end to end over
the emulator's HTTPS: map --check looks the targets up, load reopens them with startMigration and completes them
without creating anything or touching their team or members, their live messages stay as they were and the imported
ones interleave by time, verify is clean; map --check refuses a private channel whose readers would change, and reset
refuses an existing target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import tenant_env
from graphkit import ADA, ALAN, GRACE, KATHERINE, RawGraph
from migratekit import FALLBACK, NOW_MS, demo_lookup
from migrator.cli import app
from migrator.emulator.directory import DEMO_PATH
from migrator.emulator.runner import EmulatorProcess
from migrator.existing_rules import Audience, channel_readers, refusals
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.mapping import Problem, ResolvedMappings, UserMapping, run_check, run_map
from migrator.mapping.document import dump_document, load_document
from migrator.mapping.tenant import existing_target_problems
from migrator.model import Source
from migrator.permissions import token_roles
from migrator.pgjournal import PostgresJournal
from migrator.plan import Manifest, read_lines, to_request
from migrator.stages.export import export_limiter
from migrator.stages.load import LoadOptions, load
from migrator.stages.load.errors import SelectionError
from migrator.stages.load.reset import channel_reset, chat_files_reset, team_reset
from migrator.stages.transform import transform
from migrator.stages.verify import VerifyOptions, verify
from migrator.target import Target as GraphTarget
from migrator.timestamps import parse_ms
from services import fresh_schema, require_postgres
from test_pgjournal import migrator

SLACK = Path(__file__).resolve().parents[1] / "sample_data" / "slack"
TEAM, CHANNEL = "e0000000-0000-4000-8000-0000000000bb", "19:design0000000000000000000000@thread.tacv2"
COMPANY, BOARD = "e0000000-0000-4000-8000-0000000000cc", "e0000000-0000-4000-8000-0000000000dd"
NOTES = "19:notes00000000000000000000000@thread.tacv2"  # Company's channel
LIVE = ["2024-03-12T12:00:00.000Z", "2024-03-19T12:00:00.000Z"]  # between #design's messages of 5–22 March 2024
CHANNEL_CREATED = "2024-03-10T00:00:00.000Z"  # after #design's first message: startMigration moves it back
DEMO = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
CHAT = DEMO["chats"][0]["id"]  # the demo directory's 1:1 chat of Ada and Grace, with live messages of January 2024


def _directory(folder: Path, live: list[dict] | None = None) -> Path:
    """The demo directory with teams people use: Product (private, Ada owns it, Grace is a member, #design has two live
    messages, and `live` too), Company (public) and Board (private), both of Ada, Grace and Alan: #leadership's
    audience."""
    directory = dict(DEMO)
    directory["teams"] = [
        {
            "id": TEAM,
            "displayName": "Product",
            "createdDateTime": "2024-01-01T00:00:00Z",
            "owners": [ADA],
            "members": [GRACE],
            "channels": [
                {
                    "id": CHANNEL,
                    "displayName": "Design reviews",
                    "createdDateTime": CHANNEL_CREATED,
                    "messages": [
                        {"from": ADA, "createdDateTime": LIVE[0], "body": "<p>live: review at noon</p>"},
                        {"from": GRACE, "createdDateTime": LIVE[1], "body": "<p>live: mockups approved</p>"},
                        *(live or []),
                    ],
                }
            ],
        },
        {  # public: anyone in the organisation may join it, whoever its members are now
            "id": COMPANY,
            "displayName": "Company",
            "visibility": "public",
            "owners": [ADA],
            "members": [GRACE, ALAN],
            "channels": [{"id": NOTES, "displayName": "Leadership notes", "createdDateTime": CHANNEL_CREATED}],
        },
        {  # private, exactly #leadership's audience until someone joins
            "id": BOARD,
            "displayName": "Board",
            "owners": [ADA],
            "members": [GRACE, ALAN],
            "channels": [{"displayName": "Minutes", "createdDateTime": CHANNEL_CREATED}],
        },
    ]
    path = folder / "directory.json"
    path.write_text(json.dumps(directory), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def existing_tenant(tmp_path_factory):
    folder = tmp_path_factory.mktemp("existing-targets")
    directory = _directory(folder)
    with EmulatorProcess(directory=directory, tls_dir=folder / "tls") as emu:
        emu.operator("config", {"channel_rps": 10_000})
        yield emu, directory


def _route(mappings: Path, routes: dict[str, dict[str, str]]) -> None:
    """migration.yaml with `routes` (source id -> its new keys) for those conversations and `action: skip` for the
    others, as a consultant importing only into existing targets edits the draft."""
    path = mappings / "migration.yaml"
    data, problems = load_document(path)
    assert not problems
    for entry in data["conversations"]:
        for key in ("team", "channel", "target", "merge", "existing_team", "existing_channel", "existing_chat"):
            entry.pop(key, None)
        entry.update(routes.get(entry["source"], {"action": "skip"}))
    dump_document(data, path)


def _mappings(work: Path, routes: dict[str, dict[str, str]]) -> Path:
    mappings = work / "mappings"
    run_map(SLACK, mappings, demo_lookup, fallback=FALLBACK, force=True)
    _route(mappings, routes)
    return mappings


def _tenant_check(emu: EmulatorProcess, roles: frozenset[str] | None = None):
    """map --check's Graph half against the fixture's emulator, with the app's own roles unless `roles` are given."""

    def check(resolved: ResolvedMappings, rows: list[UserMapping], source: Source) -> list[Problem]:
        with GraphClient(emu.graph_config()) as client:
            granted = token_roles(emu.graph_config()) if roles is None else roles
            return existing_target_problems(client, granted, resolved, rows, source)

    return check


def _export(graph: RawGraph, path: str) -> list[dict]:
    return graph.ok("GET", path, params={"model": "A", "$top": "50"})["value"]


@pytest.fixture(scope="module")
def imported(existing_tenant, tmp_path_factory):
    emu, _ = existing_tenant
    work = tmp_path_factory.mktemp("import")
    graph = RawGraph(emu)
    channels = f"/teams/{TEAM}/channels/getAllMessages"
    before = {
        "groups": graph.ok("GET", "/groups")["value"],
        "channels": graph.ok("GET", f"/teams/{TEAM}/channels")["value"],
        "members": graph.ok("GET", f"/teams/{TEAM}/members")["value"],
        "team": graph.ok("GET", f"/teams/{TEAM}", version="beta"),
        "chat": graph.ok("GET", f"/chats/{CHAT}"),
        "channel_messages": _export(graph, channels),
        "chat_messages": [m for m in _export(graph, f"/users/{ADA}/chats/getAllMessages") if m["chatId"] == CHAT],
    }
    mappings = _mappings(
        work,
        {
            "C04DESIGN": {"action": "existing", "existing_team": "Product", "existing_channel": "design reviews"},
            "D01ADAGRACE": {"action": "existing", "existing_chat": CHAT},
        },
    )
    problems = run_check(mappings, tenant=_tenant_check(emu))
    planned = transform(SLACK, mappings, work / "plan", now_ms=NOW_MS)
    journal = work / "journal.sqlite"
    with Journal(journal) as j, GraphClient(emu.graph_config(), limiter=RateLimiter.unlimited()) as client:
        j.bind(GraphTarget(emu.graph_config(), None).fingerprint)
        loaded = load(planned.plan_dir, client, j, LoadOptions(workers=2))
        again = load(planned.plan_dir, client, j, LoadOptions(workers=2))  # a second run finds everything landed
    with Journal(journal, readonly=True) as j, GraphClient(emu.graph_config(), limiter=export_limiter()) as client:
        verified = verify(planned.plan_dir, client, j, VerifyOptions())
    return {
        "graph": graph,
        "before": before,
        "problems": problems,
        "plan": planned.plan_dir,
        "journal": journal,
        "loaded": loaded,
        "again": again,
        "verified": verified,
    }


def test_map_check_finds_the_existing_targets(imported):
    assert imported["problems"] == []


def test_the_plan_records_the_existing_targets(imported):
    manifest = Manifest.read(imported["plan"])
    [team] = manifest.teams
    assert (team.existing, team.members, [c.existing for c in team.channels]) == ("Product", [], ["design reviews"])
    [chat] = manifest.chats
    assert chat.existing == CHAT
    assert sorted(m.user_id for m in chat.members) == sorted([ADA, GRACE])  # the audience map --check compared
    assert team.channels[0].audiences == []  # a public channel: anyone of the workspace could read it
    first = min(parse_ms(line["createdDateTime"]) for line in read_lines(imported["plan"], chat))
    assert parse_ms(chat.created) == first - 1  # not the DM's Slack creation (3 March 2024): load takes the earlier
    [audience] = chat.audiences  # what load compares with the chat's members again
    assert (audience.source, audience.made_by, sorted(m.user_id for m in audience.members)) == (
        "D01ADAGRACE",
        "Slack",
        sorted([ADA, GRACE]),
    )


def test_history_lands_beside_the_live_messages_without_creating_anything(imported):
    graph, before, loaded = imported["graph"], imported["before"], imported["loaded"]
    assert loaded.ok, loaded.teams_blocked
    assert loaded.teams_completed == [] and loaded.members_added == 0
    assert [c.completed for c in loaded.conversations] == [True, True]
    assert graph.ok("GET", "/groups")["value"] == before["groups"]  # no team created
    assert graph.ok("GET", f"/teams/{TEAM}/members")["value"] == before["members"]  # members as they were
    channels = graph.ok("GET", f"/teams/{TEAM}/channels")["value"]
    assert [c["id"] for c in channels] == [c["id"] for c in before["channels"]]  # no channel created
    assert graph.ok("GET", f"/teams/{TEAM}", version="beta") == before["team"]  # never completed nor changed
    channel = graph.ok("GET", f"/teams/{TEAM}/channels/{CHANNEL}", version="beta")
    assert channel["migrationMode"] == "completed"
    exported = _export(graph, f"/teams/{TEAM}/channels/getAllMessages")
    design = [m for m in exported if m["channelIdentity"]["channelId"] == CHANNEL]
    first = min(parse_ms(m["createdDateTime"]) for m in design)
    # the history is older than the channel: opened 1 ms before its first message (not at #design's Slack creation)
    assert parse_ms(channel["createdDateTime"]) == first - 1 and first < parse_ms(CHANNEL_CREATED)
    after = {m["id"]: m for m in exported}
    assert all(after[m["id"]] == m for m in before["channel_messages"])  # the live messages untouched
    roots = sorted((m for m in design if not m["replyToId"]), key=lambda m: parse_ms(m["createdDateTime"]))
    live = {m["id"] for m in before["channel_messages"]}
    places = [index for index, m in enumerate(roots) if m["id"] in live]
    assert len(places) == 2 and all(0 < p < len(roots) - 1 for p in places)  # imported ones before, between, after
    assert all(roots[p - 1]["id"] not in live and roots[p + 1]["id"] not in live for p in places)


def test_loading_again_leaves_the_existing_targets_alone(imported):
    again = imported["again"]
    assert again.ok and again.total("posted") == 0 and again.total("failed") == 0
    assert again.total("already") == imported["loaded"].total("posted") == 51
    assert [c.completed for c in again.conversations] == [True, True]


def test_a_dm_lands_in_the_existing_chat_beside_its_live_messages(imported):
    graph, before = imported["graph"], imported["before"]
    chat = graph.ok("GET", f"/chats/{CHAT}", version="beta")
    assert chat["migrationMode"] == "completed"
    # the history is newer than the chat (January 2024): opened 1 ms before the chat's own creation
    assert parse_ms(chat["createdDateTime"]) == parse_ms(before["chat"]["createdDateTime"]) - 1
    assert sorted(m["userId"] for m in chat["members"]) == sorted(m["userId"] for m in before["chat"]["members"])
    messages = [m for m in _export(graph, f"/users/{ADA}/chats/getAllMessages") if m["chatId"] == CHAT]
    after = {m["id"]: m for m in messages}
    assert all(after[m["id"]] == m for m in before["chat_messages"])
    imported_ones = [m for m in messages if m["id"] not in {b["id"] for b in before["chat_messages"]}]
    assert "Do you have 10 minutes for a quick chat?" in " ".join(m["body"]["content"] for m in imported_ones)


def test_verify_compares_only_what_the_plan_put_there(imported):
    verified = imported["verified"]
    assert verified.ok, verified.summary()
    assert [c.found for c in verified.conversations] == [c.expected for c in verified.conversations]
    assert all(not c.unexpected for c in verified.conversations)  # the live messages are not counted against it


def test_reset_refuses_an_existing_target(imported):
    manifest = Manifest.read(imported["plan"])
    with Journal(imported["journal"]) as journal:
        for reset, name in (
            (team_reset, "Product"),
            (channel_reset, "design reviews"),
            (chat_files_reset, manifest.chats[0].key),
        ):
            with pytest.raises(SelectionError, match="cannot be reset: Microsoft Graph cannot delete") as refused:
                reset(manifest, journal, name)
            assert "preflight" in str(refused.value) and "dry run" in str(refused.value)


def test_map_check_refuses_a_private_channel_into_a_channel_read_by_others(existing_tenant, tmp_path, monkeypatch):
    """#leadership (Ada, Grace, Alan) into the existing channel of a team of Ada and Grace: Alan could no longer read
    it; and G02MPIM (Ada, José, Mei) into the chat of Ada and Grace: Grace could read it, José and Mei not. The
    command asks the emulator as a customer's tenant (MIGRATOR_* credentials)."""
    emu, _ = existing_tenant
    for name, value in tenant_env(emu).items():
        monkeypatch.setenv(name, value)
    mappings = _mappings(
        tmp_path,
        {
            "G01LEADERSHIP": {"action": "existing", "existing_team": TEAM, "existing_channel": CHANNEL},
            "G02MPIM": {"action": "existing", "existing_chat": CHAT},
        },
    )
    result = CliRunner().invoke(app, ["map", "--check", str(mappings)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if "members are not exactly its own" in line]
    assert len(lines) == 2, result.output
    leadership, mpim = lines
    assert "private conversation leadership" in leadership
    assert "Alan" in leadership and "could read it in Slack but is not a member there" in leadership
    assert "Grace Hopper could read it there but not in Slack" in mpim
    assert all("must not become readable by people who could not read it" in line for line in lines)


def test_map_check_refuses_a_target_not_there_or_closed_to_the_app(existing_tenant, tmp_path):
    emu, _ = existing_tenant
    mappings = _mappings(
        tmp_path,
        {
            "C04DESIGN": {"action": "existing", "existing_team": "Product", "existing_channel": "Design"},
            "D01ADAGRACE": {"action": "existing", "existing_chat": CHAT},
        },
    )
    problems = run_check(mappings, tenant=_tenant_check(emu, roles=frozenset({"User.Read.All"})))
    design, chat = (p.message for p in problems)
    assert design == (
        f"conversation C04DESIGN: no channel is named 'Design' in team {TEAM}; give existing_channel its id or exact "
        "display name"
    )
    assert chat.startswith(
        f"conversation D01ADAGRACE: the app may not import into existing chat {CHAT}: "
        "POST /chats/{chat}/startMigration needs one of "
    )


def test_workers_import_into_the_existing_targets_as_load_does(tmp_path):
    """`load --publish` and a worker: the existing team's finish unit completes nothing and adds nobody."""
    require_postgres()
    routes = {
        "C04DESIGN": {"action": "existing", "existing_team": TEAM, "existing_channel": CHANNEL},
        "D01ADAGRACE": {"action": "existing", "existing_chat": CHAT},
    }
    with fresh_schema() as url, EmulatorProcess(directory=_directory(tmp_path), tls_dir=tmp_path / "tls") as emu:
        emu.operator("config", {"channel_rps": 10_000})
        graph, env = RawGraph(emu), tenant_env(emu)
        team, members = graph.ok("GET", f"/teams/{TEAM}", version="beta"), graph.ok("GET", f"/teams/{TEAM}/members")
        plan = transform(SLACK, _mappings(tmp_path, routes), tmp_path / "plan", now_ms=NOW_MS).plan_dir
        published = migrator("load", str(plan), "--journal", url, "--publish", **env)
        assert published.returncode == 0, published.stdout + published.stderr
        worked = migrator("worker", "--journal", url, "--out", str(tmp_path / "worker"), **env)
        assert worked.returncode == 0, worked.stdout + worked.stderr
        with PostgresJournal(url) as journal:
            assert dict(journal.query("SELECT kind, state FROM work")) == {
                "team": "done",
                "channel": "done",
                "finish": "done",
                "chat": "done",
            }
        verified = migrator("verify", str(plan), "--journal", url, **env)
        assert verified.returncode == 0 and " 0 unexpected" in verified.stdout, verified.stdout + verified.stderr
        assert graph.ok("GET", f"/teams/{TEAM}", version="beta") == team
        assert graph.ok("GET", f"/teams/{TEAM}/members") == members
        assert sorted(g["id"] for g in graph.ok("GET", "/groups")["value"]) == [TEAM, COMPANY, BOARD]


def test_map_check_reports_an_incomplete_existing_route_once_without_looking_it_up(existing_tenant, tmp_path):
    """The file rules refuse `action: existing` without existing_channel; the tenant's half passes over it (no
    traceback), and a complete route beside it is still looked up."""
    emu, _ = existing_tenant
    mappings = _mappings(
        tmp_path,
        {
            "C04DESIGN": {"action": "existing", "existing_team": "Product"},
            "G01LEADERSHIP": {"action": "existing", "existing_chat": CHAT, "existing_team": "Product"},
            "C01GENERAL": {"action": "existing", "existing_team": "Product", "existing_channel": "Nowhere"},
        },
    )
    messages = [p.message for p in run_check(mappings, tenant=_tenant_check(emu))]
    assert [m for m in messages if "C04DESIGN" in m] == [
        "conversation C04DESIGN: `action: existing` has no existing_channel: name the existing team and channel "
        "(each an id or a display name), or an existing chat with existing_chat (its id)"
    ]
    assert [m for m in messages if "G01LEADERSHIP" in m] == [
        "conversation G01LEADERSHIP: give existing_chat (a chat) or existing_team with existing_channel (a channel), "
        "not both"
    ]
    assert any(m.startswith("conversation C01GENERAL: no channel is named 'Nowhere'") for m in messages), messages


def test_map_check_refuses_a_private_channel_into_a_public_team(existing_tenant, tmp_path):
    """Company's members are exactly #leadership's (Ada, Grace, Alan), but the team is public: anyone in the
    organisation could join it and read the history."""
    emu, _ = existing_tenant
    mappings = _mappings(
        tmp_path,
        {"G01LEADERSHIP": {"action": "existing", "existing_team": "Company", "existing_channel": "Leadership notes"}},
    )
    [problem] = run_check(mappings, tenant=_tenant_check(emu))
    assert problem.message == (
        "conversation G01LEADERSHIP: private conversation leadership would go into existing channel 'Leadership notes' "
        "of team 'Company', and team 'Company' is public: anyone in the organisation can join it and read the "
        "channel. Imported history must not become readable by people who could not read it; choose a target with "
        "exactly its members, let the migration create one (action: migrate), or archive it"
    )


def test_a_public_channel_may_go_into_a_public_team(existing_tenant, tmp_path):
    emu, _ = existing_tenant
    mappings = _mappings(
        tmp_path,
        {"C02RANDOM": {"action": "existing", "existing_team": COMPANY, "existing_channel": "Leadership notes"}},
    )
    assert run_check(mappings, tenant=_tenant_check(emu)) == []


@pytest.mark.parametrize(
    ("team", "channel", "refused"),
    [
        ({"visibility": "private"}, {"membershipType": "shared"}, "it is a shared channel"),
        ({"visibility": "public"}, {"membershipType": "standard"}, "is public: anyone in the organisation can join"),
        ({"visibility": "public"}, {"membershipType": "private"}, ""),  # a private channel's own members read it
        ({"visibility": "hiddenMembership"}, {}, ""),
    ],
)
def test_who_else_could_read_an_existing_channel(team, channel, refused):
    """The rule apart from Graph: a private conversation whose audience is exactly the channel's member list still
    may not go where others can read it without being on that list."""
    members = [{"userId": ADA, "displayName": "Ada"}]
    audience = Audience("private conversation x", "Slack", True, {ADA: "Ada"})
    reasons = channel_readers({"displayName": "T", **team}, {"displayName": "C", **channel}, members, audience)
    assert (refused in reasons[0]) if refused else reasons == []


def test_map_check_and_load_give_an_existing_targets_refusals_in_one_order():
    """`existing_rules.refusals`, which both ask: Teams imports nothing there first, then each audience whose readers
    would change (an audience read exactly by the target's members adds nothing)."""
    members = [{"userId": ADA, "displayName": "Ada"}]
    alone = Audience("private conversation alone", "Slack", True, {ADA: "Ada"})
    pair = Audience("private conversation pair", "Slack", True, {ADA: "Ada", GRACE: "Grace"})
    team = {"displayName": "T", "isArchived": True, "visibility": "private"}
    channel = refusals({"displayName": "C", "membershipType": "private"}, [alone, pair], team, members)
    assert [reason.split(" ")[:3] for reason in channel] == [["team", "'T'", "is"], ["private", "conversation", "pair"]]
    chat = refusals({"id": "19:m", "chatType": "meeting", "members": members}, [pair, alone])
    assert chat[0] == "existing chat 19:m is a meeting chat, and Teams imports into none"
    assert len(chat) == 2 and chat[1].startswith("private conversation pair would go into existing chat 19:m")


def test_load_checks_the_existing_targets_again_before_reopening_them(existing_tenant, tmp_path):
    """map --check finds Board's channel fit for #leadership, then Katherine joins Board; the group DM of Ada, José and
    Mei goes into the chat of Ada and Grace, and nobody ran map --check for it. Load refuses both right before
    startMigration, saying why: nothing is imported, neither is reopened, the chat keeps its messages."""
    emu, _ = existing_tenant
    graph = RawGraph(emu)
    mappings = _mappings(
        tmp_path,
        {
            "G01LEADERSHIP": {"action": "existing", "existing_team": "Board", "existing_channel": "Minutes"},
            "G02MPIM": {"action": "existing", "existing_chat": CHAT},
        },
    )
    assert all("G01LEADERSHIP" not in p.message for p in run_check(mappings, tenant=_tenant_check(emu)))
    graph.ok(
        "POST",
        f"/teams/{BOARD}/members",
        json={
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "roles": [],
            "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{KATHERINE}')",
        },
    )
    chat_before = graph.ok("GET", f"/chats/{CHAT}", version="beta")
    planned = transform(SLACK, mappings, tmp_path / "plan", now_ms=NOW_MS)
    with Journal(tmp_path / "journal.sqlite") as j, GraphClient(emu.graph_config()) as client:
        j.bind(GraphTarget(emu.graph_config(), None).fingerprint)
        loaded = load(planned.plan_dir, client, j, LoadOptions(workers=2))
    assert not loaded.ok and loaded.total("posted") == 0
    reasons = {c.key: " ".join(c.reasons) for c in loaded.conversations}
    mpim, minutes = (reasons[key] for key in sorted(reasons))  # chats/…, existing/…
    assert "Katherine Johnson could read it there but not in Slack" in minutes, reasons
    assert minutes.startswith("not created: existing target 'Minutes' not reopened for import (checked again")
    assert "Grace Hopper could read it there but not in Slack" in mpim, reasons
    channels = graph.ok("GET", f"/teams/{BOARD}/channels")["value"]
    [minutes_channel] = [c for c in channels if c["displayName"] == "Minutes"]
    reopened = graph.ok("GET", f"/teams/{BOARD}/channels/{minutes_channel['id']}", version="beta")
    assert reopened.get("migrationMode") is None
    assert graph.ok("GET", f"/chats/{CHAT}", version="beta") == chat_before


@pytest.fixture(scope="module")
def clashing(tmp_path_factory):
    """#design into Design reviews, where people posted at two of its planned milliseconds: one by someone else than
    the planned author, one by the same person with other words. Loaded, then loaded again with a fresh journal (as
    after a crash that lost it), then verified."""
    work = tmp_path_factory.mktemp("clashing")
    routes = {"C04DESIGN": {"action": "existing", "existing_team": TEAM, "existing_channel": CHANNEL}}
    planned = transform(SLACK, _mappings(work, routes), work / "plan", now_ms=NOW_MS)
    [channel] = Manifest.read(planned.plan_dir).teams[0].channels
    roots = [line for line in read_lines(planned.plan_dir, channel) if line["kind"] == "root"]
    users = {u["id"] for u in DEMO["users"]}
    other = next(line for line in roots if _author(line) in users)
    same = next(line for line in roots if line is not other and _author(line) in users)
    live = [
        {"from": next(u for u in sorted(users) if u != _author(other)), "createdDateTime": other["createdDateTime"]},
        {"from": _author(same), "createdDateTime": same["createdDateTime"]},
    ]
    for message in live:
        message["body"] = "<p>live: posted at a planned millisecond</p>"
    with EmulatorProcess(directory=_directory(work, live), tls_dir=work / "tls") as emu:
        emu.operator("config", {"channel_rps": 10_000})
        results = {"graph": RawGraph(emu), "plan": planned.plan_dir, "clashes": [other, same], "live": live}
        results["emu"], results["journal"] = emu, work / "loaded.sqlite"
        for run in ("loaded", "again"):
            with (
                Journal(work / f"{run}.sqlite") as j,
                GraphClient(emu.graph_config(), limiter=RateLimiter.unlimited()) as client,
            ):
                j.bind(GraphTarget(emu.graph_config(), None).fingerprint)
                results[run] = load(planned.plan_dir, client, j, LoadOptions(workers=2))
        with Journal(work / "loaded.sqlite", readonly=True) as j, GraphClient(emu.graph_config()) as client:
            results["verified"] = verify(planned.plan_dir, client, j, VerifyOptions())
        results["exported"] = _export(results["graph"], f"/teams/{TEAM}/channels/getAllMessages")
        yield results


def _author(line: dict) -> str:
    return line["from"]["user"]["id"]


def test_a_message_steps_past_a_live_one_holding_its_millisecond(clashing):
    loaded, again = clashing["loaded"], clashing["again"]
    assert loaded.ok and loaded.total("failed") == 0, loaded.conversations[0].reasons
    assert loaded.total("posted") == loaded.conversations[0].planned
    at = {}
    for message in clashing["exported"]:
        at.setdefault(parse_ms(message["createdDateTime"]), []).append(message)
    for line, live in zip(clashing["clashes"], clashing["live"], strict=True):
        planned = parse_ms(line["createdDateTime"])
        [kept] = at[planned]
        assert (kept["body"]["content"], kept["from"]["user"]["id"]) == (live["body"], live["from"])  # untouched
        [moved] = at[planned + 1]  # ours, 1 ms later, still before the next planned message
        assert (moved["body"]["content"], _author(moved)) == (line["body"]["content"], _author(line))
    # a fresh journal (as after a crash that lost it): every message is found where it landed, none posted twice
    assert again.ok and again.total("posted") == 0 and again.total("already") == loaded.total("posted")


def test_one_existing_channel_named_two_ways_is_refused_by_map_check_and_load(existing_tenant, tmp_path):
    """#random names Company's channel by name, #announcements by ids: two imports into one channel, the first to
    complete closing the other's session. map --check refuses the second route once the ids are resolved (as it
    refuses a second conversation into one chat), and load, which may run without it, imports only the first."""
    emu, _ = existing_tenant
    routes = {
        "C02RANDOM": {"action": "existing", "existing_team": "Company", "existing_channel": "leadership notes"},
        "C05ANNOUNCE": {"action": "existing", "existing_team": COMPANY, "existing_channel": NOTES},
        "D01ADAGRACE": {"action": "existing", "existing_chat": CHAT},
        "D02ALANMEI": {"action": "existing", "existing_chat": CHAT},
    }
    mappings = _mappings(tmp_path, routes)
    twice = [
        p.message
        for p in run_check(mappings, tenant=_tenant_check(emu))
        if "the one conversation" in p.message or "already conversation" in p.message
    ]
    assert twice == [
        f"conversation C05ANNOUNCE: existing channel {NOTES!r} of team {COMPANY!r} is the one conversation C02RANDOM "
        "names as 'leadership notes' of team 'Company': name it the same way in both routes, so that they merge "
        "into one import",
        f"conversation D02ALANMEI: existing chat {CHAT} is already conversation D01ADAGRACE's target: two imports "
        "into one chat would close each other's session; send only one conversation there",
    ]
    _route(mappings, {key: value for key, value in routes.items() if key.startswith("C")})
    planned = transform(SLACK, mappings, tmp_path / "plan", now_ms=NOW_MS)
    with (
        Journal(tmp_path / "journal.sqlite") as j,
        GraphClient(emu.graph_config(), limiter=RateLimiter.unlimited()) as client,
    ):
        j.bind(GraphTarget(emu.graph_config(), None).fingerprint)
        loaded = load(planned.plan_dir, client, j, LoadOptions(workers=1))
    done, refused = sorted(loaded.conversations, key=lambda c: not c.completed)
    assert done.completed and done.failed == 0 and done.posted == done.planned
    assert (refused.posted, refused.completed) == (0, False)
    assert f"also the target of {done.key!r}, named otherwise in migration.yaml" in " ".join(refused.reasons)


def test_verify_finds_a_stepped_message_and_passes_over_the_live_ones(clashing):
    """The live messages at planned milliseconds are neither duplicates nor mismatches nor unexpected; the planned
    ones load stepped past them are found by their journaled ids."""
    verified = clashing["verified"]
    assert verified.ok, verified.summary()
    [check] = verified.conversations
    assert check.found == check.expected and not (check.missing or check.duplicated or check.mismatched)
    assert not check.unexpected


def test_verify_still_finds_a_stray_copy_the_migration_posted_in_an_existing_channel(clashing):
    """A copy of a planned message (its author and body) at a time the plan does not hold, unknown to the journal, as
    a load posted after its journal was lost: unexpected, while the live messages still are not."""
    graph, emu = clashing["graph"], clashing["emu"]
    line = clashing["clashes"][0]
    base = f"/teams/{TEAM}/channels/{CHANNEL}"
    graph.ok("POST", f"{base}/startMigration", json={"conversationCreationDateTime": "2024-01-01T00:00:00.000Z"})
    stray = graph.ok(
        "POST",
        f"{base}/messages",
        json={**to_request(line, {}), "createdDateTime": "2024-03-30T12:00:00.000Z"},
    )
    with Journal(clashing["journal"], readonly=True) as j, GraphClient(emu.graph_config()) as client:
        verified = verify(clashing["plan"], client, j, VerifyOptions())
    [check] = verified.conversations
    assert [f.ids for f in check.unexpected] == [[stray["id"]]]
    assert not (check.missing or check.duplicated or check.mismatched)


def test_load_refuses_an_existing_target_whose_plan_does_not_say_who_could_read_it(existing_tenant, tmp_path):
    """A plan an older transform made has no `audiences`: load cannot check the readers, so it imports nothing."""
    emu, _ = existing_tenant
    routes = {"D01ADAGRACE": {"action": "existing", "existing_chat": CHAT}}
    plan = transform(SLACK, _mappings(tmp_path, routes), tmp_path / "plan", now_ms=NOW_MS).plan_dir
    manifest = json.loads((plan / "manifest.json").read_text(encoding="utf-8"))
    for chat in manifest["chats"]:
        del chat["audiences"]
    (plan / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with Journal(tmp_path / "journal.sqlite") as j, GraphClient(emu.graph_config()) as client:
        j.bind(GraphTarget(emu.graph_config(), None).fingerprint)
        loaded = load(plan, client, j, LoadOptions(workers=1))
    [chat] = loaded.conversations
    assert (chat.posted, chat.completed) == (0, False)
    assert "the plan does not say who could read its sources" in " ".join(chat.reasons)
    assert "transform again" in " ".join(chat.reasons)
