"""Helpers that build small Slack exports for the source, analyse and map tests.

Kept out of conftest.py (the lead's) and imported explicitly by the tests.
"""

from __future__ import annotations

import json
import shutil
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "slack"
SAMPLE_DIRECTORY = REPO / "sample_data" / "directory.json"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SLACK_FIXTURES = SHARED / "fixtures" / "slack"
ZULIP = SLACK_FIXTURES / "zulip"


def shared_fixtures() -> Path:
    """The real exports in ../shared, or a skip naming where they were expected."""
    if not SLACK_FIXTURES.is_dir():
        pytest.skip(f"real Slack exports not available: {SLACK_FIXTURES} is absent (shared/ is not beside the repo)")
    return SLACK_FIXTURES


USERS = [
    {
        "id": "U1",
        "name": "ada",
        "real_name": "Ada Lovelace",
        "profile": {"email": "ada@example.com", "display_name": "ada"},
    },
    {"id": "U2", "name": "grace", "real_name": "Grace Hopper", "profile": {"email": "grace@example.com"}},
    {"id": "U3", "name": "old", "deleted": True, "profile": {}},
    {"id": "B1", "name": "ci-bot", "is_bot": True, "profile": {}},
]
CHANNELS = [
    {"id": "C1", "name": "general", "created": 1700000000, "is_general": True, "members": ["U1", "U2"]},
    {"id": "C2", "name": "dev", "created": "1700000100", "members": ["U1"]},
]


def message(ts: str, text: str = "hi", user: str = "U1", **fields: Any) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": ts, **fields}


def write_export(root: Path, files: dict[str, Any], *, base: bool = True) -> Path:
    """Write an unpacked export; values are JSON-encoded unless they are bytes or str."""
    content: dict[str, Any] = {"users.json": USERS, "channels.json": CHANNELS} if base else {}
    content.update(files)
    for name, value in content.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, bytes):
            path.write_bytes(value)
        elif isinstance(value, str):
            path.write_text(value, encoding="utf-8")
        else:
            path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return root


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    """Zip an unpacked export the way Slack ships it (members relative to the top)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return target


def zip_members(target: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def patch_central_directory(path: Path, *, file_size: int | None = None, flag_bits: int | None = None) -> None:
    """Rewrite the first central-directory record, as a hostile archive would declare it."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    if flag_bits is not None:
        struct.pack_into("<H", data, at + 8, flag_bits)
    if file_size is not None:
        struct.pack_into("<I", data, at + 24, file_size)
    path.write_bytes(bytes(data))


def copy_tree(source: Path, target: Path) -> Path:
    """Copy read-only fixtures somewhere writable."""
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    target.chmod(0o755)
    return target


def zulip_export(tmp_path: Path) -> Path:
    """Zulip's upstream test_slack_importer folder with the workspace files beside it, as upstream zips them."""
    root = copy_tree(ZULIP / "test_slack_importer", tmp_path / "zulip-export")
    for name in ("channels.json", "dms.json", "mpims.json"):
        shutil.copy(ZULIP / name, root / name)
    return root


def sample_directory_lookup() -> Any:
    """The mail lookup the emulator would answer from sample_data/directory.json, without starting it."""
    users = json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))["users"]
    by_mail = {u["mail"].lower(): u for u in users if u.get("mail")}
    return lambda mail: by_mail.get(mail.lower())


def streaming_peak(reader: Callable[[Path], Any], root: Path, expected: int) -> int:
    """Peak traced memory while a reader streams every day of every conversation (and reads `expected` messages)."""
    tracemalloc.start()
    try:
        with reader(root) as export:
            assert sum(len(day.messages) for c in export.conversations() for day in export.days(c)) == expected
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
