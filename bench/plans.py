"""Plans of a known, even shape for the load benchmarks, written with migrator.plan.

The load rate figures measure pacing: every channel must have the same
amount of work so that `requests/s ÷ (5 × channels)` is about the loader and
not about one busy channel finishing last. (Workspaces from the generator,
through the real transform, are skewed like real ones; the growth table uses
those.)
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from pathlib import Path

from migrator.emulator.directory import load_directory
from migrator.plan import Manifest, PlannedConversation, PlannedMember, PlannedTeam, PlannedUpload, write_lines
from migrator.sample.files import png
from migrator.timestamps import format_ms, parse_ms

START = parse_ms("2022-03-01T09:00:00.000Z")
REPLY_EVERY = 4  # one message in four answers the root before it
IMAGE_EVERY = 50  # one message in fifty carries an inline image


def even_plan(plan_dir: Path, channels: int, messages: int, team: str = "Bench") -> Manifest:
    """One team whose `channels` channels (the first is General) hold `messages` messages and one file each."""
    authors = [(u["id"], u["displayName"]) for u in load_directory(None).users.values()]
    image = base64.b64encode(png(16, 16, random.Random(0))).decode()
    planned = []
    for index in range(channels):
        name = "General" if index == 0 else f"channel-{index:03d}"
        key = f"bench/{name}"
        data = f"file of {name}\n".encode()
        upload = PlannedUpload(
            key=f"F{index}",
            name=f"notes-{index}.txt",
            path=f"files/{index}/notes-{index}.txt",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        (plan_dir / upload.path).parent.mkdir(parents=True, exist_ok=True)
        (plan_dir / upload.path).write_bytes(data)
        count = write_lines(plan_dir / f"bench/{name}.jsonl", _lines(key, index, messages, authors, image))
        planned.append(
            PlannedConversation(
                key=key,
                display_name=name,
                file=f"bench/{name}.jsonl",
                created=format_ms(START - 60_000),
                messages=count,
                general=index == 0,
                uploads=[upload],
            )
        )
    manifest = Manifest(
        source={"path": "bench.plans.even_plan", "kind": "bench"},
        teams=[
            PlannedTeam(
                key="bench",
                display_name=team,
                created=format_ms(START - 3_600_000),
                description="benchmark team",
                members=[PlannedMember(authors[0][0], authors[0][1], ["owner"])],
                channels=planned,
            )
        ],
    )
    manifest.write(plan_dir)
    return manifest


def _lines(conv_key: str, channel: int, messages: int, authors: list[tuple[str, str]], image: str):
    root_key = None
    for i in range(messages):
        user, name = authors[(i + channel) % len(authors)]
        key = f"{conv_key}:{i}"
        content = f"<p>Message {i} of {conv_key}: the quarterly numbers are <b>ready</b> for review.</p>"
        line = {
            "key": key,
            "kind": "root",
            "root_key": None,
            "source_ts": str(i),
            "createdDateTime": format_ms(START + i * 1000 + channel),
            "from": {"user": {"id": user, "displayName": name, "userIdentityType": "aadUser"}},
            "body": {"contentType": "html", "content": content},
        }
        if i % REPLY_EVERY == REPLY_EVERY - 1 and root_key:
            line.update(kind="reply", root_key=root_key)
        else:
            root_key = key
        if i % IMAGE_EVERY == 1:
            line["body"]["content"] += '<img src="../hostedContents/1/$value">'
            line["hostedContents"] = [
                {"@microsoft.graph.temporaryId": "1", "contentBytes": image, "contentType": "image/png"}
            ]
        if i == 2:
            attachment = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
            line["attachments"] = [
                {"id": attachment, "contentType": "reference", "name": f"notes-{channel}.txt", "upload": f"F{channel}"}
            ]
            line["body"]["content"] += f'<attachment id="{attachment}"></attachment>'
            line["uploads"] = [f"F{channel}"]
        yield line


def chat_files_plan(plan_dir: Path, chats: int, messages: int, file_every: int = 3) -> Manifest:
    """`chats` group chats of three demo users, each of `messages` messages, one in `file_every` carrying a file:
    each such file is an upload to its sender's OneDrive and a grant to the chat before its message."""
    authors = [(u["id"], u["displayName"]) for u in load_directory(None).users.values()][1:4]
    planned = []
    for index in range(chats):
        key = f"chats/bench-{index:03d}"
        uploads, lines = [], []
        for i in range(messages):
            user, name = authors[(i + index) % len(authors)]
            line = {
                "key": f"{key}:{i}",
                "kind": "root",
                "root_key": None,
                "source_ts": str(i),
                "createdDateTime": format_ms(START + i * 1000 + index),
                "from": {"user": {"id": user, "displayName": name, "userIdentityType": "aadUser"}},
                "body": {"contentType": "html", "content": f"<p>Message {i} of {key}.</p>"},
            }
            if i % file_every == 0:
                data = f"file {i} of {key}\n".encode()
                upload = PlannedUpload(
                    key=f"{key}/F{i}",
                    name=f"file-{i}.txt",
                    path=f"files/chat-{index}/file-{i}.txt",
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    owner=user,
                    fallback=authors[0][0],
                )
                (plan_dir / upload.path).parent.mkdir(parents=True, exist_ok=True)
                (plan_dir / upload.path).write_bytes(data)
                uploads.append(upload)
                attachment = str(uuid.uuid5(uuid.NAMESPACE_URL, upload.key))
                line["attachments"] = [
                    {"id": attachment, "contentType": "reference", "name": upload.name, "upload": upload.key}
                ]
                line["body"]["content"] += f'<attachment id="{attachment}"></attachment>'
                line["uploads"] = [upload.key]
            lines.append(line)
        planned.append(
            PlannedConversation(
                key=key,
                display_name=f"Bench {index}",
                file=f"{key}.jsonl",
                created=format_ms(START - 60_000),
                messages=write_lines(plan_dir / f"{key}.jsonl", lines),
                membership="group",
                members=[PlannedMember(user_id) for user_id, _ in authors],
                uploads=uploads,
            )
        )
    manifest = Manifest(source={"path": "bench.plans.chat_files_plan", "kind": "bench"}, chats=planned)
    manifest.write(plan_dir)
    return manifest
