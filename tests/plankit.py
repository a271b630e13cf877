"""Small hand-made plans for load tests, independent of transform."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from pathlib import Path

from graphkit import ADA, ALAN, GRACE
from migrator.plan import (
    Manifest,
    PlannedConversation,
    PlannedMember,
    PlannedTeam,
    PlannedUpload,
    read_lines,
    write_lines,
)
from migrator.timestamps import format_ms, parse_ms

PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")).decode()
AUTHORS = [(ADA, "Ada Lovelace"), (GRACE, "Grace Hopper"), (ALAN, "Alan Turing")]
IMG = re.compile(r'src="[^"]*hostedContents/[^"]*"')
START = parse_ms("2021-01-04T09:00:00.000Z")


def build_plan(
    plan_dir: Path,
    channels: int = 2,
    messages: int = 12,
    team: str = "Acme",
    general: bool = True,
    private: bool = False,
    chats: bool = False,
) -> Manifest:
    """A team whose channels each hold `messages` lines: roots with a reply every third, an image, a file.

    `private` adds a private channel for Ada (owner) and Grace; `chats` a 1:1 chat of Ada and Alan and
    a group chat of all three.
    """
    planned = []
    for index in range(channels):
        name = "General" if general and index == 0 else f"channel-{index}"
        key = f"acme/{name}"
        upload_bytes = f"report of {name}\n".encode()
        upload = PlannedUpload(
            key=f"F{index}",
            name=f"report-{index}.txt",
            path=f"files/{index}/report-{index}.txt",
            size=len(upload_bytes),
            sha256=hashlib.sha256(upload_bytes).hexdigest(),
        )
        (plan_dir / "files" / str(index)).mkdir(parents=True, exist_ok=True)
        (plan_dir / upload.path).write_bytes(upload_bytes)
        count = write_lines(plan_dir / f"acme/{name}.jsonl", _lines(key, index, messages, upload))
        planned.append(
            PlannedConversation(
                key=key,
                display_name=name,
                file=f"acme/{name}.jsonl",
                created=format_ms(START - 60_000 * (index + 1)),
                messages=count,
                general=general and index == 0,
                uploads=[upload],
            )
        )
    if private:
        count = write_lines(plan_dir / "acme/private.jsonl", _plain("acme/private", 5, 100, [ADA, GRACE]))
        planned.append(
            PlannedConversation(
                key="acme/private",
                display_name="leadership",
                file="acme/private.jsonl",
                created=format_ms(START - 1000),
                messages=count,
                membership="private",
                members=[PlannedMember(ADA, "Ada Lovelace", ["owner"]), PlannedMember(GRACE, "Grace Hopper", [])],
            )
        )
    planned_chats = []
    if chats:
        for key, kind, topic, people in [
            ("chats/ada-alan", "oneOnOne", "", [ADA, ALAN]),
            ("chats/trio", "group", "Launch crew", [ADA, GRACE, ALAN]),
        ]:
            count = write_lines(plan_dir / f"{key}.jsonl", _plain(key, 4, 200, people))
            planned_chats.append(
                PlannedConversation(
                    key=key,
                    display_name=topic,
                    file=f"{key}.jsonl",
                    created=format_ms(START - 1000),
                    messages=count,
                    membership=kind,
                    members=[PlannedMember(p) for p in people],
                )
            )
    manifest = Manifest(
        source={"path": "hand-made", "kind": "test"},
        teams=[
            PlannedTeam(
                key="acme",
                display_name=team,
                created=format_ms(START - 3_600_000),
                description="test team",
                members=[PlannedMember(ADA, "Ada Lovelace", ["owner"]), PlannedMember(GRACE, "Grace Hopper", [])],
                channels=planned,
            )
        ],
        chats=planned_chats,
    )
    manifest.write(plan_dir)
    return manifest


def _lines(conv_key: str, channel: int, messages: int, upload: PlannedUpload):
    root_key = None
    for i in range(messages):
        user, name = AUTHORS[i % len(AUTHORS)]
        key = f"{conv_key}:{i}"
        line = {
            "key": key,
            "kind": "root",
            "root_key": None,
            "source_ts": str(i),
            "createdDateTime": format_ms(START + i * 1000 + channel),
            "from": {"user": {"id": user, "displayName": name, "userIdentityType": "aadUser"}},
            "body": {"contentType": "html", "content": f"<p>message {i} in {conv_key}</p>"},
        }
        if i % 3 == 2 and root_key:
            line.update(kind="reply", root_key=root_key)
        else:
            root_key = key
        if i == 1:
            line["body"]["content"] += '<img src="../hostedContents/1/$value">'
            line["hostedContents"] = [
                {"@microsoft.graph.temporaryId": "1", "contentBytes": PNG, "contentType": "image/png"}
            ]
        if i == 4:
            attachment_id = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
            line["body"]["content"] += f'<attachment id="{attachment_id}"></attachment>'
            line["attachments"] = [
                {"id": attachment_id, "contentType": "reference", "name": upload.name, "upload": upload.key}
            ]
            line["uploads"] = [upload.key]
        yield line


def _plain(conv_key: str, count: int, offset: int, people: list[str]):
    """Root messages only, as chats have no threads; each names its conversation so leaks are visible."""
    names = dict(AUTHORS)
    for i in range(count):
        user = people[i % len(people)]
        yield {
            "key": f"{conv_key}:{i}",
            "kind": "root",
            "root_key": None,
            "source_ts": str(i),
            "createdDateTime": format_ms(START + offset * 1000 + i * 1000),
            "from": {"user": {"id": user, "displayName": names[user], "userIdentityType": "aadUser"}},
            "body": {"contentType": "html", "content": f"<p>secret {i} of {conv_key}</p>"},
        }


def assert_landed_exactly(dump: dict, plan_dir: Path) -> None:
    """The emulator's dump holds the plan's teams and chats exactly: every planned message once, same time, same
    body, under the right root, its images and files there; channels, chats and teams completed, members added."""
    manifest = Manifest.read(plan_dir)
    teams = {team["displayName"]: team for team in dump["teams"]}
    assert sorted(teams) == sorted(t.display_name for t in manifest.teams), (
        "no missing team, no orphan from a lost creation"
    )
    files = {f["webUrl"] for f in dump["files"]}
    for planned_team in manifest.teams:
        team = teams[planned_team.display_name]
        assert team["migrationMode"] == "completed"
        assert sorted((m["userId"], m["roles"]) for m in team["members"]) == sorted(
            (m.user_id, m.roles) for m in planned_team.members
        )
        channels = {c["displayName"]: c for c in team["channels"]}
        for planned in planned_team.channels:
            channel = channels[planned.display_name]
            assert channel["migrationMode"] == "completed"
            _assert_messages(channel["messages"], list(read_lines(plan_dir, planned)), files)
    chats = {tuple(sorted(m["userId"] for m in c["members"])): c for c in dump["chats"] if c["migrationMode"]}
    assert len(chats) == len(manifest.chats), "every planned chat, and no other, was migrated"
    for planned in manifest.chats:
        chat = chats[tuple(sorted(m.user_id for m in planned.members))]
        assert chat["migrationMode"] == "completed" and chat["chatType"] == planned.membership
        _assert_messages(chat["messages"], list(read_lines(plan_dir, planned)), files)


def _assert_messages(roots: list[dict], lines: list[dict], files: set[str]) -> None:
    # By the instant: Graph answers times with varying precision (the emulator's strict reading).
    landed = {}
    for root in roots:
        landed[parse_ms(root["createdDateTime"])] = (root, None)
        for reply in root["replies"]:
            landed[parse_ms(reply["createdDateTime"])] = (reply, parse_ms(root["createdDateTime"]))
    assert len(landed) == sum(1 + len(r["replies"]) for r in roots) == len(lines)
    created_of = {line["key"]: parse_ms(line["createdDateTime"]) for line in lines}
    for line in lines:
        message, root_time = landed[parse_ms(line["createdDateTime"])]
        assert IMG.sub("IMG", message["body"]["content"]) == IMG.sub("IMG", line["body"]["content"])
        assert root_time == (created_of[line["root_key"]] if line["kind"] == "reply" else None)
        assert len(message["hostedContents"]) == len(line.get("hostedContents", []))
        assert [(m["id"], m["mentioned"]["user"]["id"]) for m in message["mentions"]] == [
            (m["id"], m["mentioned"]["user"]["id"]) for m in line.get("mentions", [])
        ]
        assert [(r["reactionType"], r["user"]["user"]["id"]) for r in message["reactions"]] == [
            (r["reactionType"], r["user"]["user"]["id"]) for r in line.get("reactions", [])
        ]
        for attachment in message["attachments"]:
            assert attachment["contentUrl"] in files
