"""transform for private channels and chats: members and owners, threads and files in chats, the archive
fallback of a chat whose people are not all in Entra."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from migrator.mapping import run_map
from migrator.plan import Manifest, read_lines
from migrator.stages.transform import transform
from slackkit import CHANNELS, message, write_export

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4 a plan\n"
DIRECTORY = {"ada@example.com": "e-ada", "grace@example.com": "e-grace", "migration@example.com": "e-migration"}


def file(file_id: str, name: str, mimetype: str, data: bytes) -> dict[str, Any]:
    return {
        "id": file_id,
        "name": name,
        "title": name,
        "mimetype": mimetype,
        "size": len(data),
        "mode": "hosted",
        "url_private": f"https://files.slack.com/files-pri/T1-{file_id}/{name}",
    }


def export(root: Path) -> Path:
    """#general; #secret (private: ada and grace, grace created it); a DM of ada and grace with a thread, an
    image and a PDF; a group DM with a deleted account, who has no Entra account."""
    dm = [
        message("1700000000.000100", "shall we?", thread_ts="1700000000.000100", reply_count=1),
        message("1700000060.000200", "yes", user="U2", thread_ts="1700000000.000100"),
        message(
            "1700000120.000300",
            "the chart and the plan",
            files=[file("F1", "chart.png", "image/png", PNG), file("F2", "plan.pdf", "application/pdf", PDF)],
        ),
    ]
    return write_export(
        root,
        {
            "groups.json": [
                {"id": "G1", "name": "secret", "created": 1699990000, "creator": "U2", "members": ["U1", "U2"]}
            ],
            "dms.json": [{"id": "D1", "created": 1699990000, "members": ["U1", "U2"]}],
            "mpims.json": [
                {"id": "G2", "name": "mpdm-ada--grace--old-1", "created": 1699990000, "members": ["U1", "U2", "U3"]}
            ],
            "channels.json": CHANNELS,
            "general/2023-11-14.json": [message("1700000000.000500", "hello all")],
            "secret/2023-11-14.json": [
                message(
                    "1700000000.000600",
                    "between us",
                    user="U2",
                    files=[file("F3", "budget.pdf", "application/pdf", PDF)],
                )
            ],
            "D1/2023-11-14.json": dm,
            "mpdm-ada--grace--old-1/2023-11-14.json": [message("1700000000.000700", "three of us")],
            "__uploads/F1/chart.png": PNG,
            "__uploads/F2/plan.pdf": PDF,
            "__uploads/F3/budget.pdf": PDF,
        },
    )


def lookup(mail: str):
    found = DIRECTORY.get(mail)
    return {"id": found, "mail": mail} if found else None


def test_private_channels_and_chats_in_the_plan(tmp_path: Path) -> None:
    source = export(tmp_path / "export")
    mappings = tmp_path / "mappings"
    run_map(source, mappings, lookup, fallback="migration@example.com")
    yaml_path = mappings / "migration.yaml"
    drafted = yaml_path.read_text(encoding="utf-8")
    assert "action: archive  # old has no Entra account in users.csv" in drafted  # the group DM, as drafted
    yaml_path.write_text(
        drafted.replace("    action: archive  # old has", "    target: chat  # old has"), encoding="utf-8"
    )

    result = transform(source, mappings, tmp_path / "plan", now_ms=1_800_000_000_000)
    plan = Manifest.read(tmp_path / "plan")
    (team,) = plan.teams
    secret = next(c for c in team.channels if c.display_name == "secret")
    assert secret.membership == "private" and [u.name for u in secret.uploads] == ["budget.pdf"]
    assert [(m.user_id, m.roles) for m in secret.members] == [("e-ada", []), ("e-grace", ["owner"])]  # grace created it
    assert [m.user_id for m in team.members] == ["e-ada", "e-grace"]  # every private-channel member is a team member

    (chat,) = plan.chats
    assert (chat.key, chat.membership, chat.display_name) == ("chats/D1", "oneOnOne", "Ada Lovelace, Grace Hopper")
    assert sorted(m.user_id for m in chat.members) == ["e-ada", "e-grace"]
    (upload,) = chat.uploads  # a chat's file goes to its sender's OneDrive, the migration account's if need be
    assert (upload.name, upload.owner, upload.fallback) == ("plan.pdf", "e-ada", "e-migration")
    lines = list(read_lines(tmp_path / "plan", chat))
    assert [(line["kind"], line["root_key"]) for line in lines] == [("root", None)] * 3  # chats have no replies
    assert "↪ reply in a thread started 2023-11-14 22:13 UTC" in lines[1]["body"]["content"]
    files = lines[2]
    assert len(files["hostedContents"]) == 1 and 'src="../hostedContents/1/$value"' in files["body"]["content"]
    (attachment,) = files["attachments"]
    assert (attachment["contentType"], attachment["name"], attachment["upload"]) == ("reference", "plan.pdf", "F2")
    assert f'<attachment id="{attachment["id"]}"></attachment>' in files["body"]["content"]
    assert files["uploads"] == ["F2"]

    (archived,) = plan.archive
    assert archived["conversation"] == "G2"
    assert (
        archived["reason"]
        == "not a chat: old has no Entra account in users.csv, and a Teams chat needs every participant"
    )
    report = result.report
    assert report["files"]["in_chat"] == 1 and report["conversions"]["chat_thread_replies"] == 1
    assert report["messages"]["balanced"] and report["lines"]["balanced"]
    rows = {row["id"]: (row["action"], row["target"]) for row in report["conversations"]}
    assert rows["D1"] == ("migrate", "chats/D1") and rows["G2"][0] == "archive"
    assert {t["membership"] for t in report["targets"]} == {"standard", "private", "oneOnOne"}
    assert "sent in chats" in (tmp_path / "plan" / "transform-report.html").read_text(encoding="utf-8")
    json.dumps(report)  # the report stays plain JSON
