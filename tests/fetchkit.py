"""A standard Slack export without its files' bytes, the folder a Slack emulator serves them from, and that
emulator: what the fetch tests and the end-to-end test run against.

The export is the sample's, as Slack's standard export would give it: no `__uploads/`, one link with a `?t=`
token, Søren's email left out, and two more files Slack itself no longer serves (one deleted, one hidden by
the plan's limit). The emulator's files folder has every hosted file's bytes (the architecture deck's too,
which the sample lacks) and the workspace's users with every address.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

from migrator.emulator.runner import SlackEmulatorProcess

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "slack"
TOKEN = "xoxb-emulator-fetch"
EXPORT_TOKEN = "xoxe-1-EXPORTLINKSECRET"  # the ?t= token of one of the export's links: sent nowhere, written nowhere
DECK_SIZE = 48213  # the size the sample's export gives F03DECK
HOSTED = ("F01CHART", "F02RUNBOOK", "F03DECK", "F05MOCKUP", "F06PHOTO", "F07PLAN")
GONE_DAY = {
    "random/2024-03-25.json": [
        {
            "type": "message",
            "user": "U02GRACE",
            "text": "old slides",
            "ts": "1711357200.000100",
            "files": [{"id": "F09GONE", "mode": "tombstone", "name": "slides.pdf", "mimetype": "application/pdf"}],
        },
        {
            "type": "message",
            "user": "U03ALAN",
            "text": "last year's photo",
            "ts": "1711357260.000100",
            "files": [
                {
                    "id": "F10HIDDEN",
                    "mode": "hidden_by_limit",
                    "name": "team.jpg",
                    "mimetype": "image/jpeg",
                    "url_private": "https://files.slack.com/files-pri/T01NORTHWIND-F10HIDDEN/team.jpg",
                }
            ],
        },
    ]
}


def standard_export(root: Path) -> Path:
    """The sample as a standard export gives it: links, no bytes (see the module's docstring)."""
    export = root / "export"
    shutil.copytree(SAMPLE, export, ignore=shutil.ignore_patterns("__uploads"))
    users = json.loads((export / "users.json").read_text())
    for user in users:
        if user["id"] == "U08SOREN":
            del user["profile"]["email"]
    (export / "users.json").write_text(json.dumps(users, indent=1))
    day = export / "engineering" / "2024-03-14.json"
    day.write_text(day.read_text().replace("download/signups.png", f"download/signups.png?t={EXPORT_TOKEN}"))
    for name, messages in GONE_DAY.items():
        (export / name).write_text(json.dumps(messages, indent=1))
    return export


def files_folder(root: Path) -> Path:
    """What Slack holds: every hosted file's bytes, and every person's address."""
    files = root / "slack-files"
    shutil.copytree(SAMPLE / "__uploads", files / "__uploads")
    deck = files / "__uploads" / "F03DECK"
    deck.mkdir()
    (deck / "architecture.key").write_bytes(bytes(range(256)) * (DECK_SIZE // 256) + b"k" * (DECK_SIZE % 256))
    users = json.loads((SAMPLE / "users.json").read_text())
    for user in users:
        if user["id"] == "U10ZOE":
            user["profile"]["email"] = "zoe@contoso.example"
    (files / "users.json").write_text(json.dumps(users, indent=1))
    return files


def full_export(root: Path, files: Path) -> Path:
    """The same export as if it carried its files (slackdump's or slack-advanced-exporter's): the reference."""
    full = root / "full-export"
    shutil.copytree(root / "export", full)
    shutil.copytree(files / "__uploads", full / "__uploads")
    return full


def every_file_under(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        yield from (p for p in folder.rglob("*") if p.is_file())


def slack_emulator(root: Path, *extra: str) -> SlackEmulatorProcess:
    """Not started: `with slack_emulator(root) as slack:`."""
    return SlackEmulatorProcess(
        root / "export", root / "slack-files", tls_dir=root / "slack-tls", extra_args=list(extra)
    )
