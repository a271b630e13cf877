"""The folder `migrator fetch` writes, read beside a Slack export (`--fetched DIR`).

A standard Slack export links to its files and often lacks people's emails;
`migrator fetch` puts the bytes in `DIR/__uploads/{FILE_ID}/{name}` (the
layout an export that carries its files has, and slack-advanced-exporter
writes) and the export's users with their addresses filled in into
`DIR/users.json`. With `--fetched DIR` the Slack reader takes both as if the
export held them, and marks each file and address it took from here
(`FROM_FETCH` in its `extra`) so every report can say which came from the fetch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from migrator.model import SourceError

UPLOADS = "__uploads"
USERS_FILE = "users.json"
PARTIAL_DIR = ".partial"  # downloads in progress, renamed into UPLOADS once checked; never read


class FetchedFolder:
    """The bytes and addresses of one fetch folder, indexed once when the export is opened."""

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise SourceError(f"--fetched {folder}: no such folder; run `migrator fetch SOURCE --out {folder}` first")
        self.folder = folder
        self._uploads = _index(folder / UPLOADS)
        self.emails = _emails(folder / USERS_FILE)

    def file(self, file_id: str, name: str) -> Path | None:
        """The fetched bytes of a file: its name, or the one file of its folder (names are made safe to store)."""
        stored = self._uploads.get(file_id, {})
        if name in stored:
            return stored[name]
        return next(iter(stored.values())) if len(stored) == 1 else None


def _index(uploads: Path) -> dict[str, dict[str, Path]]:
    """`{file id: {name: path}}`: two levels of scandir, no per-file stat beyond what scandir knows."""
    found: dict[str, dict[str, Path]] = {}
    if not uploads.is_dir():
        return found
    with os.scandir(uploads) as folders:
        for folder in folders:
            if folder.is_dir(follow_symlinks=False):
                with os.scandir(folder.path) as files:
                    names = {f.name: Path(f.path) for f in files if f.is_file(follow_symlinks=False)}
                if names:
                    found[folder.name] = names
    return found


def _emails(path: Path) -> dict[str, str]:
    """User id → email from the fetch's users.json (the export's users with the addresses Slack gave)."""
    if not path.is_file():
        return {}
    try:
        data: Any = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise SourceError(f"{path}: not valid JSON ({error}); run `migrator fetch` again to rewrite it") from None
    if isinstance(data, dict):
        data = data.get("members")
    emails: dict[str, str] = {}
    for user in data if isinstance(data, list) else []:
        profile = user.get("profile") if isinstance(user, dict) else None
        email = profile.get("email") if isinstance(profile, dict) else None
        if isinstance(email, str) and email.strip() and isinstance(user.get("id"), str):
            emails[user["id"]] = email.strip()
    return emails
