"""The loader against the emulator over HTTPS: order, exactly-once, faults, kill -9, reset, dry run."""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Container
from pathlib import Path

import pytest

from migrator.cli.progress import LoadBars
from migrator.graph import ConnectionLostError, GraphClient
from migrator.journal import Journal, JournalError
from migrator.plan import Manifest, PlannedConversation, PlannedUpload, write_lines
from migrator.stages.load import LoadOptions, load
from migrator.stages.load.conversation import ConversationLoader
from migrator.stages.load.outcome import ConversationOutcome
from migrator.stages.load.uploads import upload
from migrator.timestamps import parse_ms
from plankit import assert_landed_exactly, build_plan
from test_graph_client import GRAPH, MESSAGES, client_fixture, rsps_fixture, sleeps_fixture  # noqa: F401  (fixtures: a mocked Graph)


def run_load(emulator, plan_dir: Path, journal: Path, **options):
    with Journal(journal) as j, GraphClient(emulator.graph_config(), backoff_base=0.05) as client:
        j.bind("test")
        return load(plan_dir, client, j, LoadOptions(**options))


def test_a_plan_lands_exactly_once_at_five_per_second(emulator, tmp_path):
    build_plan(tmp_path, channels=3, messages=12)
    outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite", workers=3)
    assert outcome.ok and outcome.total("posted") == 36 and outcome.total("uploads") == 3
    assert_landed_exactly(emulator.operator("dump"), tmp_path)
    stats = emulator.operator("stats")
    assert stats["totals"]["throttled"] == 0
    assert max(c["peak_1s"] for c in stats["conversations"].values()) <= 5
    again = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert again.ok and again.total("posted") == 0 and again.total("already") == 36
    assert_landed_exactly(emulator.operator("dump"), tmp_path)


def test_a_load_scans_each_plan_file_for_its_landed_keys_once(emulator, tmp_path, monkeypatch):
    """A delta's plan file holds every earlier line: load reads what of a conversation landed once, for the accounts
    check, the critical path and the import alike (delta.read_landed), not once for each."""
    from migrator.stages.load import delta

    build_plan(tmp_path, channels=2, messages=4)
    assert run_load(emulator, tmp_path, tmp_path / "journal.sqlite").ok
    scans: Counter[str] = Counter()
    count_landed = delta.count_landed

    def counted(plan_dir: Path, conv: PlannedConversation, posted: Container[str]) -> int:
        scans[conv.key] += 1
        return count_landed(plan_dir, conv, posted)

    monkeypatch.setattr(delta, "count_landed", counted)
    again = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert again.ok and again.total("already") == 8
    assert scans == {conv.key: 1 for _, conv in Manifest.read(tmp_path).conversations()}


class RecordedProgress:
    """What the load stage told its progress (migrator.progress.LoadProgress)."""

    def __init__(self) -> None:
        self.added: dict[str, int] = {}
        self.advanced: Counter[str] = Counter()

    def add(self, key: str, name: str, messages: int) -> None:
        assert not self.advanced, "every conversation is added before the first message"
        self.added[key] = messages

    def advance(self, key: str, started: float) -> None:
        assert started <= time.monotonic()
        self.advanced[key] += 1

    def chains(self, chains: list[tuple[list[str], list[str]]]) -> None:
        assert not self.advanced, "the chains are known before the first message"
        self.chains_told = chains


def test_load_reports_every_conversation_and_message_through_the_progress_interface(emulator, tmp_path):
    manifest = build_plan(tmp_path, channels=2, messages=4, private=True, chats=True)
    progress = RecordedProgress()
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        assert load(tmp_path, client, journal, LoadOptions(), progress).ok
    planned = {c.key: c.messages for _, c in manifest.conversations()}
    assert progress.added == planned and progress.advanced == planned
    assert progress.chains_told[0] == (["acme/General", "acme/channel-1"], ["acme/private"])  # the team, then chats


def test_load_progress_without_a_terminal_prints_counts_rate_and_time_left():
    stream = io.StringIO()
    with LoadBars(every=0.01, stream=stream) as progress:
        progress.add("acme/general", "General", 3)
        progress.add("chats/ada-alan", "Ada, Alan", 1)
        progress.advance("acme/general", time.monotonic())
        deadline = time.monotonic() + 30
        while "load: 1/4 messages" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert re.search(r"load: 1/4 messages, [\d.]+/s, about \d+s left", stream.getvalue())


def test_load_progress_shows_the_critical_paths_time_left_the_tenant_rate_and_recent_429s():
    stream = io.StringIO()
    throttled = [3]
    with LoadBars(every=60, stream=stream, pacing=lambda: (42.0, throttled[0])) as progress:
        _general_20_of_50_then_private_and_a_chat(progress)
        assert progress.critical_left() == (30 + 10) / 5  # the team's chain: 30 left in General, then 10
        first = progress.line()
        throttled[0] = 8
        assert "about 8s left (critical path); tenant rate 42/s, 0 429s in the last minute" in first
        assert progress.line().endswith("5 429s in the last minute")


def _general_20_of_50_then_private_and_a_chat(progress: LoadBars) -> None:
    """A team's General (50 messages, 20 posted) then its private channel (10), and a chat (40)."""
    progress.add("acme/general", "General", 50)
    progress.add("acme/private", "private", 10)
    progress.add("chats/ada-alan", "Ada, Alan", 40)
    progress.chains([(["acme/general"], ["acme/private"]), (["chats/ada-alan"], [])])
    for _ in range(20):
        progress.advance("acme/general", time.monotonic())


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_load_bars_on_a_terminal_show_the_critical_paths_time_left_and_each_conversations_own():
    with LoadBars(stream=Terminal()) as progress:
        progress.REFRESH = 0.0
        _general_20_of_50_then_private_and_a_chat(progress)
        assert progress._bars is not None
        left = {task.description: task.fields["left"] for task in progress._bars.tasks}
    # not 80 messages at the rate so far: the team's chain, 30 left in General then 10 in its private channel
    assert left == {
        "all conversations": "about 8s left (critical path)",
        "General": "6s left",
        "private": "2s left",
        "Ada, Alan": "8s left",
    }


def test_faults_never_duplicate_or_lose(emulator, tmp_path):
    build_plan(tmp_path, channels=2, messages=15, private=True, chats=True)
    emulator.operator("faults", {"spec": "500:0.05,503:0.05,429:0.05,drop:0.08", "seed": 11})
    for _ in range(6):
        outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite", workers=2)
        if outcome.ok:
            break
    assert outcome.ok
    assert emulator.operator("faults")["injected"].get("drop", 0) > 0
    with Journal(tmp_path / "journal.sqlite") as journal:
        reconciled = [
            e
            for c in Manifest.read(tmp_path).teams[0].channels
            for e in journal.messages(c.key).values()
            if e.how == "reconciled"
        ]
    assert reconciled, "a dropped answer to a message post must have been reconciled through its 409"
    emulator.operator("faults", {"spec": ""})
    assert_landed_exactly(emulator.operator("dump"), tmp_path)


def conversation_requests(emulator) -> int:
    """Requests the emulator counted against channels so far."""
    return sum(c["requests"] for c in emulator.operator("stats")["conversations"].values())


def test_kill_minus_nine_never_duplicates_or_loses(emulator, tmp_path, tenant):
    build_plan(tmp_path, channels=2, messages=40)  # 8 s of posting at 5/s: every kill lands mid-run
    command = [sys.executable, "-m", "migrator", "load", str(tmp_path), "--workers", "2"]
    rng = random.Random(5)
    for _ in range(4):
        posted = conversation_requests(emulator)
        loader = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
        while conversation_requests(emulator) == posted and loader.poll() is None:
            time.sleep(0.05)  # a busy machine starts Python slowly: kill only once this run is posting
        time.sleep(rng.uniform(0.0, 2.0))
        loader.send_signal(signal.SIGKILL)
        loader.wait()
    final = subprocess.run(command, capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert final.returncode == 0, final.stdout + final.stderr
    assert "0 failed" in final.stdout
    assert_landed_exactly(emulator.operator("dump"), tmp_path)
    already = int(re.search(r"(\d+) already present", final.stdout).group(1))
    assert 0 < already < 80, "the killed runs must have landed part of the plan, and not all of it"


def test_reset_then_load_migrates_the_team_again(emulator, tmp_path, tenant):
    build_plan(tmp_path, channels=2, messages=4)
    first = subprocess.run(
        [sys.executable, "-m", "migrator", "load", str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    old_team = emulator.operator("dump")["teams"][0]["id"]
    reset = subprocess.run(
        [sys.executable, "-m", "migrator", "reset", str(tmp_path), "--team", "Acme", "--yes"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reset.returncode == 0, reset.stderr
    assert emulator.operator("dump")["teams"] == []
    second = subprocess.run(
        [sys.executable, "-m", "migrator", "load", str(tmp_path)], capture_output=True, text=True, timeout=300
    )
    assert second.returncode == 0, second.stderr
    assert emulator.operator("dump")["teams"][0]["id"] != old_team
    assert_landed_exactly(emulator.operator("dump"), tmp_path)
    assert (tmp_path / "load-report.csv").read_text().count("\n") == 3
    assert "Load report" in (tmp_path / "load-report.html").read_text()


def test_dry_run_sends_nothing(emulator, tmp_path, tenant):
    build_plan(tmp_path, channels=2, messages=10, private=True, chats=True)
    before = emulator.operator("stats")["totals"]["requests"]
    result = subprocess.run(
        [sys.executable, "-m", "migrator", "load", str(tmp_path), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "nothing is sent" in result.stdout and "channel: Acme / channel-1: 10 of 10 messages to post" in result.stdout
    )
    assert (
        "private channel: Acme / leadership: 5 of 5" in result.stdout and "chat: Launch crew: 4 of 4" in result.stdout
    )
    assert "1 team: 2 channels, 1 private channel; 2 chats" in result.stdout
    decided = next(line for line in result.stdout.splitlines() if line.startswith("dry run: decided by "))
    assert decided.startswith("dry run: decided by Acme: ") and decided.endswith(" then acme/private (1 s at 5/s)")
    assert emulator.operator("stats")["totals"]["requests"] == before


def test_a_journal_belongs_to_one_target(tmp_path):
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.bind("tenant-a@graph.microsoft.com")
        with pytest.raises(JournalError, match="use another --journal"):
            journal.bind("tenant-b@graph.microsoft.com")


def test_a_bad_plan_is_refused_with_its_file(tmp_path, tenant):
    result = subprocess.run(
        [sys.executable, "-m", "migrator", "load", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and "manifest.json" in result.stderr and "transform" in result.stderr
    assert "Traceback" not in result.stderr


def test_private_channels_and_chats_land_for_their_members_only(emulator, tmp_path):
    from graphkit import ADA, ALAN, GRACE, KATHERINE, RawGraph

    build_plan(tmp_path, channels=1, messages=3, private=True, chats=True)
    outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.total("posted") == 3 + 5 + 4 + 4
    dump = emulator.operator("dump")
    private = next(c for c in dump["teams"][0]["channels"] if c["displayName"] == "leadership")
    assert private["membershipType"] == "private" and private["migrationMode"] == "completed"
    assert sorted(m["userId"] for m in private["members"]) == sorted([ADA, GRACE])
    assert parse_ms(private["createdDateTime"]) < parse_ms(private["messages"][0]["createdDateTime"])
    chats = {c["chatType"]: c for c in dump["chats"] if c["migrationMode"] == "completed"}
    assert len(chats["oneOnOne"]["messages"]) == 4 and chats["group"]["topic"] == "Launch crew"
    graph = RawGraph(emulator)
    seen = {}
    for user in (ADA, GRACE, ALAN, KATHERINE):
        page = graph.ok("GET", f"/users/{user}/chats/getAllMessages", params={"model": "B", "$top": "50"})
        seen[user] = {
            m["body"]["content"].split(" of ")[1][:-4] for m in page["value"] if "secret" in m["body"]["content"]
        }
    assert seen == {
        ADA: {"chats/ada-alan", "chats/trio"},
        GRACE: {"chats/trio"},
        ALAN: {"chats/ada-alan", "chats/trio"},
        KATHERINE: set(),
    }
    again = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert again.ok and again.total("posted") == 0
    assert len([c for c in emulator.operator("dump")["chats"] if c["migrationMode"]]) == 2


def test_reset_a_channel_then_load_fills_it_again_and_chats_refuse(emulator, tmp_path, tenant):
    build_plan(tmp_path, channels=2, messages=4, private=True, chats=True)
    load_command = [sys.executable, "-m", "migrator", "load", str(tmp_path)]
    assert subprocess.run(load_command, capture_output=True, text=True, timeout=300).returncode == 0

    def channels() -> dict:
        return {c["displayName"]: c for c in emulator.operator("dump")["teams"][0]["channels"]}

    old = channels()["channel-1"]["id"]
    reset = [sys.executable, "-m", "migrator", "reset", str(tmp_path), "--yes"]
    done = subprocess.run(reset + ["--channel", "acme/channel-1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "channel-1" not in channels()  # deleted, and renamed first so that its name is free again
    again = subprocess.run(load_command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    channel = channels()["channel-1"]
    assert channel["id"] != old and channel["migrationMode"] == "completed" and len(channel["messages"]) == 3
    assert_landed_exactly(emulator.operator("dump"), tmp_path)
    chat = subprocess.run(reset + ["--chat", "Launch crew"], capture_output=True, text=True, timeout=120)
    assert chat.returncode == 2 and "cannot delete a chat" in chat.stderr and "startMigration" in chat.stderr
    general = subprocess.run(reset + ["--channel", "General"], capture_output=True, text=True, timeout=120)
    assert general.returncode == 2 and "cannot be deleted; reset the team" in general.stderr
    both = subprocess.run(
        reset + ["--team", "Acme", "--channel", "General"], capture_output=True, text=True, timeout=120
    )
    assert both.returncode == 2 and "exactly one of --team, --channel or --chat" in both.stderr


def test_a_group_chat_whose_creation_answer_was_lost_is_found_not_created_twice(emulator, tmp_path):
    from migrator.journal import REQUESTED
    from migrator.stages.load.provision import Provisioner

    trio = build_plan(tmp_path, channels=1, messages=3, chats=True).chats[1]
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        provisioner = Provisioner(client, journal)
        journal.set_conversation(trio.key, None, REQUESTED)  # the mark load makes before POST /chats...
        landed = provisioner._create_chat(trio)  # ...the POST that landed, whose answer was lost
        assert provisioner.chat(trio) == landed
    groups = [c for c in emulator.operator("dump")["chats"] if c["chatType"] == "group" and c["topic"] == "Launch crew"]
    assert len(groups) == 1 and groups[0]["migrationMode"] == "inProgress"


def test_a_message_answered_without_its_id_fails_and_the_rest_is_still_posted(rsps, client, tmp_path):  # noqa: F811
    """Graph applied the post (2xx) but did not say which message it made: the message is counted failed (a later
    load meets the 409 of its millisecond and reconciles it), the conversation stays open, the next one is posted."""
    plan_dir = tmp_path / "plan"
    lines = [
        {
            "key": f"acme/general:{n}",
            "kind": "root",
            "createdDateTime": f"2021-01-04T09:00:0{n}.000Z",
            "body": {"contentType": "html", "content": f"<p>message {n}</p>"},
        }
        for n in (1, 2)
    ]
    write_lines(plan_dir / "acme" / "general.jsonl", iter(lines))
    conv = PlannedConversation("acme/general", "General", "acme/general.jsonl", "2021-01-04T08:00:00.000Z", messages=2)
    rsps.add("POST", MESSAGES, status=201, body=b"")
    rsps.add("POST", MESSAGES, status=201, json={"id": "m2"})
    outcome, completed = ConversationOutcome(conv.key, "Acme", "General", 2), []
    with Journal(tmp_path / "journal.sqlite") as journal:
        loader = ConversationLoader(client, journal, plan_dir)
        loader.run("/teams/t1/channels/c1", conv, outcome, lambda: completed.append(conv.key))
        assert journal.posted(conv.key) == {"acme/general:2": "m2"}
    assert (outcome.posted, outcome.failed, outcome.completed, completed) == (1, 1, False, [])
    assert "no JSON object" in next(iter(outcome.reasons))


def test_an_upload_answered_without_its_drive_item_is_a_lost_answer(rsps, client, tmp_path):  # noqa: F811
    """The file's message names its driveItem, so an answer without one cannot be used: the upload counts failed."""
    folder = {"id": "folder-1", "parentReference": {"driveId": "drive-1"}}
    planned = PlannedUpload("F1", "notes.txt", "files/notes.txt", 5, hashlib.sha256(b"notes").hexdigest())
    rsps.add("PUT", f"{GRAPH}/drives/drive-1/items/folder-1:/notes.txt:/content", status=200, body=b"")
    with pytest.raises(ConnectionLostError, match="no JSON object"):
        upload(client, folder, planned, b"notes", "channel:t1/c1")


@pytest.mark.parametrize(
    ("held_by", "posted"),
    [("<p>message 1</p>", True), ("<p>other words</p>", False)],
)
def test_a_409_is_this_message_only_with_its_author_and_body(rsps, client, tmp_path, held_by, posted):  # noqa: F811
    """A 409 whose millisecond holds a message by the same author is the lost answer of an earlier post only when the
    body is the same too; with other words it is someone else's (the plan changed), never journaled as this one."""
    plan_dir = tmp_path / "plan"
    author = {"user": {"id": "u1", "displayName": "Ada", "userIdentityType": "aadUser"}}
    body = {"contentType": "html", "content": "<p>message 1</p>"}
    line = {"key": "acme/general:1", "kind": "root", "createdDateTime": "2021-01-04T09:00:01.000Z", "from": author}
    write_lines(plan_dir / "acme" / "general.jsonl", iter([{**line, "body": body}]))
    conv = PlannedConversation("acme/general", "General", "acme/general.jsonl", "2021-01-04T08:00:00.000Z", messages=1)
    rsps.add("POST", MESSAGES, status=409, json={"error": {"code": "Conflict", "message": "taken"}})
    held = {**line, "id": "m1", "body": {**body, "content": held_by}}
    rsps.add("GET", MESSAGES, json={"value": [held]})
    outcome = ConversationOutcome(conv.key, "Acme", "General", 1)
    with Journal(tmp_path / "journal.sqlite") as journal:
        ConversationLoader(client, journal, plan_dir).run("/teams/t1/channels/c1", conv, outcome, None)
        assert journal.posted(conv.key) == ({"acme/general:1": "m1"} if posted else {})
    assert (outcome.already, outcome.failed) == ((1, 0) if posted else (0, 1))


@pytest.mark.parametrize("first_landed", ["in an earlier load", "in this load"])
def test_a_409_held_by_what_another_line_landed_as_is_not_this_message(rsps, client, tmp_path, first_landed):  # noqa: F811
    """Two lines by one author with the same words: the message holding the second's millisecond is the first's
    (landed before this load, or in it a moment ago), so it is someone else's, never journaled for both."""
    plan_dir = tmp_path / "plan"
    author = {"user": {"id": "u1", "displayName": "Ada", "userIdentityType": "aadUser"}}
    body = {"contentType": "html", "content": "<p>same words</p>"}
    lines = [
        {"key": f"acme/general:{n}", "kind": "root", "createdDateTime": f"2021-01-04T09:00:0{n}.000Z", "from": author}
        for n in (1, 2)
    ]
    write_lines(plan_dir / "acme" / "general.jsonl", iter({**line, "body": body} for line in lines))
    conv = PlannedConversation("acme/general", "General", "acme/general.jsonl", "2021-01-04T08:00:00.000Z", messages=2)
    if first_landed == "in this load":
        rsps.add("POST", MESSAGES, status=201, json={"id": "m1"})
    rsps.add("POST", MESSAGES, status=409, json={"error": {"code": "Conflict", "message": "taken"}})
    rsps.add("GET", MESSAGES, json={"value": [{**lines[1], "id": "m1", "body": body}]})
    outcome = ConversationOutcome(conv.key, "Acme", "General", 2)
    with Journal(tmp_path / "journal.sqlite") as journal:
        if first_landed == "in an earlier load":
            journal.mark_posted(conv.key, "acme/general:1", "m1")
        ConversationLoader(client, journal, plan_dir).run("/teams/t1/channels/c1", conv, outcome, None)
        assert journal.posted(conv.key) == {"acme/general:1": "m1"}
    assert outcome.failed == 1 and "another message already uses this millisecond" in next(iter(outcome.reasons))
