"""Proof of privacy: the sample workspace (a private channel, two DMs and a group DM) goes through
transform and load into the emulator, and the export APIs, asked as every user of the directory, show each
private message to exactly the people who could read it in Slack: no more, no fewer. The files sent in the
DMs, kept in their sender's OneDrive, are found from the exported messages' links (not from the journal) and
open to exactly those people too."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.mapping import load_all, mapped_members
from migrator.plan import Manifest, read_lines
from migrator.sources import open_source
from migrator.stages.export.files import share_id
from migrator.stages.load import LoadOptions, load
from migrator.stages.transform import transform
from migrator.target import Target as GraphTarget
from migrator.timestamps import parse_ms
from slackkit import REPO, SAMPLE, SAMPLE_DIRECTORY

MAPPINGS = REPO / "mappings"
EXPORT = {"model": "B", "$top": "50"}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> tuple[Path, Path, dict[str, dict]]:
    """The sample transformed with the committed mappings and loaded; (plan, journal, what each user exports)."""
    work = tmp_path_factory.mktemp("privacy")
    plan, journal = work / "plan", work / "journal.sqlite"
    transform(SAMPLE, MAPPINGS, plan)
    with (
        EmulatorProcess(directory=SAMPLE_DIRECTORY, tls_dir=work / "tls", extra_args=["--channel-rps", "10000"]) as emu,
        GraphClient(emu.graph_config(), limiter=RateLimiter.unlimited()) as client,
    ):
        with Journal(journal) as j:
            j.bind(GraphTarget(emu.graph_config(), None).fingerprint)
            assert load(plan, client, j, LoadOptions(workers=8)).ok
        users = [u["id"] for u in client.paginate("/users")]
        readers: dict[str, set[str]] = defaultdict(set)  # Teams message (conversation id, time) -> who reads it
        links: dict[str, str] = {}  # a chat file's link -> the chat whose message carries it
        for user in users:
            for found in client.paginate(f"/users/{user}/chats/getAllMessages", params=EXPORT):
                readers[(found["chatId"], parse_ms(found["createdDateTime"]))].add(user)
                for attachment in found.get("attachments") or []:
                    if attachment.get("contentType") == "reference":
                        links[attachment["contentUrl"]] = found["chatId"]
        file_readers = {link: (chat, _file_audience(client, link)) for link, chat in links.items()}
        with Journal(journal, readonly=True) as j:
            teams = {t.key: j.team_id(t.key) for t in Manifest.read(plan).teams}
        for team_id in teams.values():
            members = {m["userId"] for m in client.paginate(f"/teams/{team_id}/members")}
            channels = {c["id"]: c for c in client.paginate(f"/teams/{team_id}/channels")}
            for found in client.paginate(f"/teams/{team_id}/channels/getAllMessages", params=EXPORT):
                channel = channels[found["channelIdentity"]["channelId"]]
                if channel["membershipType"] == "private":  # readable by its own members, who are team members
                    path = f"/teams/{team_id}/channels/{channel['id']}/members"
                    who = {m["userId"] for m in client.paginate(path)} & members
                else:
                    who = members
                readers[(channel["id"], parse_ms(found["createdDateTime"]))] |= who
        return plan, journal, {"readers": readers, "users": users, "files": file_readers}


def _file_audience(client: GraphClient, link: str) -> set[str]:
    """Who can open a OneDrive file: its owner and everyone its permissions name (Graph's shares API)."""
    item = client.get_json(f"/shares/{share_id(link)}/driveItem")
    drive = item["parentReference"]["driveId"]
    permissions = client.paginate(f"/drives/{drive}/items/{item['id']}/permissions")
    return {p["grantedToV2"]["user"]["id"] for p in permissions}


def slack_readers() -> dict[str, set[str]]:
    """Per private Slack conversation, the Entra ids of its members who have one (users.csv `map`)."""
    files = load_all(MAPPINGS)
    rows = files.rows
    assert files.problems == [] and files.notes == []
    source = open_source(SAMPLE)
    try:
        return {
            c.id: {m.entra_id for m in mapped_members(c, rows)}
            for c in source.conversations()
            if c.kind.value != "public"
        }
    finally:
        source.close()


def test_every_private_message_is_read_by_exactly_its_slack_readers(migrated) -> None:
    plan, journal, exported = migrated
    expected = slack_readers()
    manifest = Manifest.read(plan)
    checked = defaultdict(int)
    with Journal(journal, readonly=True) as j:
        for _, conversation in manifest.conversations():
            (source,) = conversation.sources
            if source not in expected:
                continue
            teams_id = j.conversation_id(conversation.key)
            for line in read_lines(plan, conversation):
                seen = exported["readers"].get((teams_id, parse_ms(line["createdDateTime"])))
                assert seen == expected[source], (
                    f"{conversation.key} {line['key']}: read by {seen}, in Slack by {expected[source]}"
                )
                checked[source] += 1
    # the private channel and all three DMs landed (as a private channel and chats), none archived
    assert set(checked) == set(expected) == {"G01LEADERSHIP", "G02MPIM", "D01ADAGRACE", "D02ALANMEI"}
    assert {c.membership for c in manifest.chats} == {"oneOnOne", "group"} and manifest.archive == []
    assert sum(checked.values()) == sum(c.messages for _, c in manifest.conversations() if c.sources[0] in expected)


def test_every_chat_file_opens_to_exactly_its_slack_readers(migrated) -> None:
    plan, journal, exported = migrated
    expected = slack_readers()
    with Journal(journal, readonly=True) as j:
        source_of = {j.conversation_id(c.key): c.sources[0] for c in Manifest.read(plan).chats}
    audiences = {link: (source_of[chat], who) for link, (chat, who) in exported["files"].items()}
    assert audiences and all(who == expected[source] for source, who in audiences.values()), audiences
    # the sample's two chat files (a DM's and the group DM's), each found through a message every reader exports
    assert sorted(source for source, _ in audiences.values()) == ["D02ALANMEI", "G02MPIM"]


def test_nobody_else_reads_anything_private(migrated) -> None:
    """Counted the other way round: every exported message a user can read is public or one of theirs."""
    plan, journal, exported = migrated
    expected = slack_readers()
    manifest = Manifest.read(plan)
    with Journal(journal, readonly=True) as j:
        private_ids = {
            j.conversation_id(c.key): expected[c.sources[0]]
            for _, c in manifest.conversations()
            if c.sources[0] in expected
        }
    directory = json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))
    assert set(exported["users"]) == {u["id"] for u in directory["users"]}
    leaks = [
        (conversation, created, sorted(who - private_ids[conversation]))
        for (conversation, created), who in exported["readers"].items()
        if conversation in private_ids and who - private_ids[conversation]
    ]
    assert leaks == []
    assert all(
        c in private_ids or c.endswith("@thread.tacv2") for c, _ in exported["readers"]
    )  # chats are all planned ones
