"""A chat's files through load, against the emulator over HTTPS (docs/graph-contract.md#chat-files): each in its
sender's OneDrive (the migration account's when the sender has none), shared read-only with exactly the chat's
members, journalled so that a re-run after a crash uploads and grants nothing twice."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from graphkit import ADA, ALAN, GRACE, KATHERINE, RawGraph
from migrator.graph import GraphClient
from migrator.journal import UPLOADED, UPLOADING, Journal
from migrator.plan import Manifest, PlannedConversation, PlannedMember, PlannedUpload, write_lines
from migrator.stages.export.files import share_id
from migrator.stages.load import LoadOptions, load
from migrator.stages.load.chatfiles import CHAT_FILES_FOLDER, SHARE, ChatFiles, onedrive_target
from migrator.stages.load.estimate import estimate
from migrator.stages.load.uploads import upload_to
from migrator.timestamps import format_ms, parse_ms
from test_load import run_load
from test_verify import findings, run_verify

MIGRATION = "a0000000-0000-4000-8000-000000000001"  # the demo directory's migration account
START = parse_ms("2021-03-01T09:00:00.000Z")
NAMES = {ADA: "Ada Lovelace", GRACE: "Grace Hopper", ALAN: "Alan Turing"}
BIG = bytes(range(256)) * (4 * 4096 + 512)  # 4 MiB + 128 KiB: an upload session
# (chat key, kind, members, [(sender, file name, bytes)])
CHATS = [
    ("chats/ada-alan", "oneOnOne", [ADA, ALAN], [(ADA, "notes.txt", b"ada's notes"), (ALAN, "turing.txt", b"alan")]),
    ("chats/trio", "group", [ADA, GRACE, ALAN], [(GRACE, "big.bin", BIG), (ADA, "notes.txt", b"other notes")]),
]


def chat_plan(
    plan_dir: Path, planned: list[tuple[str, str, list[str], list[tuple[str, str, bytes]]]] = CHATS
) -> Manifest:
    """Chats whose files are each their own message; by default two, Ada sending a 'notes.txt' in both (a name
    taken in her folder)."""
    chats = []
    for number, (key, kind, members, files) in enumerate(planned):
        uploads, lines = [], []
        for index, (sender, name, data) in enumerate(files):
            upload = PlannedUpload(
                key=f"{key}/F{index}",
                name=name,
                path=f"files/{number}-{index}/{name}",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                owner=sender,
                fallback=MIGRATION,
            )
            (plan_dir / upload.path).parent.mkdir(parents=True, exist_ok=True)
            (plan_dir / upload.path).write_bytes(data)
            uploads.append(upload)
            attachment = str(uuid.uuid5(uuid.NAMESPACE_URL, upload.key))
            lines.append(
                {
                    "key": f"{key}:{index}",
                    "kind": "root",
                    "root_key": None,
                    "source_ts": str(index),
                    "createdDateTime": format_ms(START + number * 60_000 + index * 1000),
                    "from": {"user": {"id": sender, "displayName": NAMES[sender], "userIdentityType": "aadUser"}},
                    "body": {
                        "contentType": "html",
                        "content": f'<p>file</p><attachment id="{attachment}"></attachment>',
                    },
                    "attachments": [{"id": attachment, "contentType": "reference", "name": name, "upload": upload.key}],
                    "uploads": [upload.key],
                }
            )
        count = write_lines(plan_dir / f"{key}.jsonl", lines)
        chats.append(
            PlannedConversation(
                key=key,
                display_name="",
                file=f"{key}.jsonl",
                created=format_ms(START - 1000),
                messages=count,
                membership=kind,
                members=[PlannedMember(p) for p in members],
                uploads=uploads,
            )
        )
    manifest = Manifest(source={"path": "hand-made", "kind": "test"}, chats=chats)
    manifest.write(plan_dir)
    return manifest


@pytest.fixture
def graph(emulator) -> RawGraph:
    emulator.operator("config", {"users_without_drive": 0.2})  # of the demo users, only Alan lacks a OneDrive
    return RawGraph(emulator)


def landed_files(graph: RawGraph, journal: Path, keys: list[str] | None = None) -> list[tuple[str, ...]]:
    """(chat type/attachment name, sha256 of the bytes read back, owner, people it is shared with, stored name) of
    every attachment of the chats `keys` (by default CHATS), in message order."""
    found = []
    with Journal(journal, readonly=True) as read:
        chat_ids = [read.conversation_id(key) for key in keys or [key for key, *_ in CHATS]]
    for chat in (graph.ok("GET", f"/chats/{chat_id}") for chat_id in chat_ids):
        for message in graph.ok("GET", f"/chats/{chat['id']}/messages")["value"]:
            for attachment in message["attachments"]:
                share = share_id(attachment["contentUrl"])
                item = graph.ok("GET", f"/shares/{share}/driveItem")
                data = graph.call("GET", f"/shares/{share}/driveItem/content").content
                base = f"/drives/{item['parentReference']['driveId']}/items/{item['id']}"
                permissions = graph.ok("GET", f"{base}/permissions")["value"]
                (owner,) = [p["grantedToV2"]["user"]["id"] for p in permissions if p["roles"] == ["owner"]]
                shared = {p["grantedToV2"]["user"]["id"] for p in permissions if p["roles"] == ["read"]}
                assert all(p["invitation"]["signInRequired"] for p in permissions if p["roles"] == ["read"])
                found.append(
                    (
                        f"{chat['chatType']}/{attachment['name']}",
                        hashlib.sha256(data).hexdigest(),
                        owner,
                        shared,
                        item["name"],
                    )
                )
    return found


def folder_names(graph: RawGraph, user: str) -> list[str]:
    folder = graph.ok("GET", f"/users/{user}/drive/root:/{CHAT_FILES_FOLDER}")
    children = graph.ok("GET", f"/drives/{folder['parentReference']['driveId']}/items/{folder['id']}/children")
    return sorted(child["name"] for child in children["value"])


def test_chat_files_land_in_the_senders_onedrive_shared_with_exactly_the_chat(graph, emulator, tmp_path):
    chat_plan(tmp_path)
    outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.total("posted") == 4 and outcome.total("uploads") == 4
    assert outcome.total("chat_files_fallback") == 1  # Alan has no OneDrive
    assert sorted(landed_files(graph, tmp_path / "journal.sqlite")) == [
        ("group/big.bin", hashlib.sha256(BIG).hexdigest(), GRACE, {ADA, ALAN}, "big.bin"),
        ("group/notes.txt", hashlib.sha256(b"other notes").hexdigest(), ADA, {GRACE, ALAN}, "notes 1.txt"),
        ("oneOnOne/notes.txt", hashlib.sha256(b"ada's notes").hexdigest(), ADA, {ALAN}, "notes.txt"),
        ("oneOnOne/turing.txt", hashlib.sha256(b"alan").hexdigest(), MIGRATION, {ADA, ALAN}, "turing.txt"),
    ]
    assert folder_names(graph, ADA) == ["notes 1.txt", "notes.txt"]  # renamed, never overwritten
    again = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert again.ok and again.total("posted") == 0 and again.total("uploads") == 0
    assert folder_names(graph, ADA) == ["notes 1.txt", "notes.txt"]


def test_a_rerun_after_a_crash_between_upload_and_journal_uploads_nothing_twice(graph, emulator, tmp_path):
    """kill -9 after the upload's request was sent and journalled as `uploading`, before its answer was."""
    manifest = chat_plan(tmp_path)
    chat = manifest.chats[0]
    planned = chat.uploads[0]  # Ada's notes.txt
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        journal.set_drive_file(chat.key, planned.key, UPLOADING, ADA)
        upload_to(client, onedrive_target(ADA, planned.name), planned, b"ada's notes", "chat:x", "rename")
    outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.total("uploads") == 3  # the fourth was found, not sent again
    assert folder_names(graph, ADA) == ["notes 1.txt", "notes.txt"]


def test_a_rerun_after_a_crash_between_grant_and_journal_grants_nothing_twice(graph, emulator, tmp_path):
    """kill -9 after the invitation was sent, before `shared` was journalled: the repeated invitation adds nobody."""
    manifest = chat_plan(tmp_path)
    chat = manifest.chats[1]
    planned = chat.uploads[0]  # Grace's big.bin
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        item = upload_to(client, onedrive_target(GRACE, planned.name), planned, BIG, "chat:x", "rename")
        drive = item["parentReference"]["driveId"]
        journal.set_drive_file(chat.key, planned.key, UPLOADED, GRACE, (drive, item["id"], item["webUrl"]))
        client.post_json(
            f"/drives/{drive}/items/{item['id']}/invite",
            {**SHARE, "recipients": [{"objectId": ADA}, {"objectId": ALAN}]},
        )
    outcome = run_load(emulator, tmp_path, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.total("uploads") == 3
    assert folder_names(graph, GRACE) == ["big.bin"]
    permissions = graph.ok("GET", f"/drives/{drive}/items/{item['id']}/permissions")["value"]
    assert sorted(p["grantedToV2"]["user"]["id"] for p in permissions) == sorted([GRACE, ADA, ALAN])


def test_a_file_whose_sender_and_migration_account_lack_onedrive_fails_with_its_message(graph, emulator, tmp_path):
    emulator.operator("config", {"users_without_drive": 1})
    chat_plan(tmp_path)
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("test")
        outcome = load(tmp_path, client, journal, LoadOptions())
    assert not outcome.ok and outcome.total("posted") == 0 and outcome.total("failed") == 4
    reasons = " ".join(r for c in outcome.conversations for r in c.reasons)
    assert "has no OneDrive, and neither has the migration account" in reasons


def test_verify_reads_chat_files_back_and_names_a_wrong_audience_or_changed_bytes(graph, emulator, tmp_path):
    """The privacy proof for chat files: verify fails when a file is shared beyond its chat, or not with a member."""
    chat_plan(tmp_path)
    journal = tmp_path / "journal.sqlite"
    assert run_load(emulator, tmp_path, journal).ok
    clean = run_verify(emulator, tmp_path, journal)
    assert clean.ok and findings(clean)["mismatched"] == []
    with Journal(journal, readonly=True) as read:
        files = read.drive_files("chats/trio")
    big, notes = files["chats/trio/F0"], files["chats/trio/F1"]
    graph.ok(
        "POST",
        f"/drives/{big.drive_id}/items/{big.item_id}/invite",
        json={**SHARE, "recipients": [{"objectId": KATHERINE}]},
    )
    put = graph.call(
        "PUT",
        f"/users/{ADA}/drive/root:/{CHAT_FILES_FOLDER}/notes 1.txt:/content",
        params={"@microsoft.graph.conflictBehavior": "replace"},
        data=b"changed",
    )
    assert put.status_code == 200 and put.json()["id"] == notes.item_id
    mismatched = findings(run_verify(emulator, tmp_path, journal))["mismatched"]
    details = " | ".join(detail for conversation, _, detail in mismatched if conversation == "chats/trio")
    assert f"attachment big.bin: shared with people outside the chat: {KATHERINE}" in details
    assert "attachment notes.txt: its bytes differ" in details
    assert all(conversation == "chats/trio" for conversation, _, _ in mismatched)


def test_kill_minus_nine_during_chat_files_uploads_and_grants_nothing_twice(graph, emulator, tmp_path, tenant):
    """Real kills at random moments of uploading, sharing and posting; the last run completes, and every file, grant
    and message exists exactly once."""
    people = [ADA, GRACE, ALAN]
    files = [(people[i % 3], f"file-{i % 4}.txt", f"file {i}".encode()) for i in range(18)]
    chat_plan(tmp_path, [("chats/trio", "group", people, files)])
    command = [sys.executable, "-m", "migrator", "load", str(tmp_path)]
    rng = random.Random(30)
    for _ in range(3):
        started = emulator.operator("stats")["totals"]["requests"]
        loader = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
        while emulator.operator("stats")["totals"]["requests"] < started + 10 and loader.poll() is None:
            time.sleep(0.05)  # kill only once this run is working
        time.sleep(rng.uniform(0.0, 2.0))
        loader.send_signal(signal.SIGKILL)
        loader.wait()
    with Journal(tmp_path / "journal.sqlite", readonly=True) as read:
        assert len(read.uploads("chats/trio")) < len(files), "the kills must have stopped the runs part way"
    final = subprocess.run(command, capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert final.returncode == 0, final.stdout + final.stderr
    stored = {user: folder_names(graph, user) for user in (ADA, GRACE, MIGRATION)}
    assert sum(len(names) for names in stored.values()) == len(files), f"a file uploaded twice: {stored}"
    landed = landed_files(graph, tmp_path / "journal.sqlite", keys=["chats/trio"])
    assert sorted(sha for _, sha, *_ in landed) == sorted(hashlib.sha256(data).hexdigest() for *_, data in files)
    for _, _, owner, shared, _ in landed:
        assert shared == set(people) - {owner}, "each other member holds exactly one read permission"


def test_the_estimate_counts_a_chat_files_upload_and_its_grant(tmp_path):
    manifest = chat_plan(tmp_path)
    rows, _, _ = estimate(tmp_path, manifest, [], None, workers=1)
    assert [(row.messages, row.uploads, row.grants, row.requests) for row in rows] == [(2, 2, 2, 8), (2, 2, 2, 8)]


def test_a_lost_upload_is_recognised_by_its_content_when_graph_records_no_sha256(graph, emulator, tmp_path):
    """OneDrive for Business records a quickXorHash, not a sha256: the file is then compared by size and content."""
    planned = chat_plan(tmp_path).chats[0].uploads[0]  # Ada's notes.txt
    with Journal(tmp_path / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        item = upload_to(client, onedrive_target(ADA, planned.name), planned, b"ada's notes", "chat:x", "rename")
        item["file"]["hashes"] = {"quickXorHash": "not compared"}
        files = ChatFiles(client, journal, tmp_path, drives={})
        assert files._same_bytes(item, planned, "chat:x")
        assert not files._same_bytes(item, dataclasses.replace(planned, sha256="0" * 64), "chat:x")
        assert not files._same_bytes(item, dataclasses.replace(planned, size=planned.size + 1), "chat:x")


def test_reset_of_a_chat_deletes_its_files_verify_says_so_and_the_next_load_uploads_them_again(
    graph, emulator, tmp_path, tenant
):
    """Graph cannot delete a chat; `reset --chat` deletes what can go: the files load put in OneDrive for it."""
    chat_plan(tmp_path)
    journal = tmp_path / "journal.sqlite"
    load_again = [sys.executable, "-m", "migrator", "load", str(tmp_path)]
    assert subprocess.run(load_again, capture_output=True, timeout=300, env=os.environ.copy()).returncode == 0
    before = landed_files(graph, journal, keys=["chats/trio"])
    reset = [sys.executable, "-m", "migrator", "reset", str(tmp_path), "--yes", "--chat", "chats/trio"]
    done = subprocess.run(reset, capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 files of chat 'chats/trio' deleted from OneDrive; the chat and its messages stay" in done.stdout
    with Journal(journal, readonly=True) as read:
        chat_id = read.conversation_id("chats/trio")
    messages = graph.ok("GET", f"/chats/{chat_id}/messages")["value"]
    links = [a["contentUrl"] for m in messages for a in m["attachments"]]
    assert len(links) == 2
    assert all(graph.call("GET", f"/shares/{share_id(link)}/driveItem").status_code == 404 for link in links)
    mismatched = findings(run_verify(emulator, tmp_path, journal))["mismatched"]
    assert [(c, detail.count("by `reset --chat`")) for c, _, detail in mismatched] == [("chats/trio", 1)] * 2
    again = subprocess.run(reset, capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert again.returncode == 2 and "has none" in again.stderr  # nothing left to delete
    assert subprocess.run(load_again, capture_output=True, timeout=300, env=os.environ.copy()).returncode == 0
    assert folder_names(graph, ADA) == ["notes 1.txt", "notes.txt"]  # the next load put them back, once
    assert landed_files(graph, journal, keys=["chats/trio"]) == before
    assert findings(run_verify(emulator, tmp_path, journal))["mismatched"] == []
