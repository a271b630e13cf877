"""The bad input corpus: Slack exports broken the ways real ones (and hostile ones) are.

Each case is built from a small generated workspace (so the rest of the
export is valid and a mapping drafted from the original still applies) and
says what a user must get: `refused` (a clear error naming what is wrong,
exit 2: archives that must never be read) or `kept` (the run goes on with the
bad item quarantined or reported, never dropped silently; a clear error is
also acceptable). Big cases (a zip bomb, a 10 MB
message, a huge users.json) are written when needed, not stored.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from migrator.sample import SampleOptions, generate
from migrator.sample.generate import EXPORT_DIR

REFUSED, KEPT = "refused", "kept"
DEEP_BLOCKS = 50_000  # nesting levels of rich-text elements: far beyond any recursion limit
HUGE_USERS = 200_000  # users.json entries (~60 MB)
MESSAGE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    name: str
    expect: str  # REFUSED or KEPT
    build: Callable[[Path, Path], Path]  # (valid export folder, where to build) -> the export to read


def base_workspace(root: Path) -> Path:
    """A valid export (2 public channels, a private one, DMs) to break; returns its folder."""
    generate(root, SampleOptions(channels=3, messages=120, threads_ratio=0.3, files=4, seed=5))
    return root / EXPORT_DIR


def _zip(folder: Path, path: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def _copy(base: Path, where: Path) -> Path:
    shutil.copytree(base, where / "export")
    return where / "export"


def _day_file(export: Path) -> Path:
    """The first day file of #general: the one every case edits."""
    return sorted((export / "general").glob("*.json"))[0]


def _messages(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def _with_messages(base: Path, where: Path, edit: Callable[[list[dict]], None]) -> Path:
    export = _copy(base, where)
    day = _day_file(export)
    messages = _messages(day)
    edit(messages)
    day.write_text(json.dumps(messages), encoding="utf-8")
    return export


def truncated_zip(base: Path, where: Path) -> Path:
    whole = _zip(base, where / "whole.zip").read_bytes()
    (where / "truncated.zip").write_bytes(whole[: len(whole) * 2 // 3])
    return where / "truncated.zip"


def corrupt_zip(base: Path, where: Path) -> Path:
    """A zip whose compressed data was overwritten in the middle (a bad download): CRC and inflate errors."""
    data = bytearray(_zip(base, where / "whole.zip").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes(range(256)) * 16
    (where / "corrupt.zip").write_bytes(bytes(data))
    return where / "corrupt.zip"


def path_traversal(base: Path, where: Path) -> Path:
    return _zip(base, where / "traversal.zip", {"../../outside/evil.json": b"[]"})


def zip_bomb(base: Path, where: Path) -> Path:
    """A day file that inflates ~1000-fold (64 MB of spaces in a JSON list)."""
    return _zip(base, where / "bomb.zip", {"general/2020-01-01.json": b"[" + b" " * (64 * 1024 * 1024) + b"]"})


def non_utf8_day_file(base: Path, where: Path) -> Path:
    export = _copy(base, where)
    day = _day_file(export)
    day.write_bytes(day.read_text(encoding="utf-8").replace("a", "é").encode("latin-1", errors="replace"))
    return export


def invalid_json_day_file(base: Path, where: Path) -> Path:
    export = _copy(base, where)
    day = _day_file(export)
    day.write_text(day.read_text(encoding="utf-8")[:-40], encoding="utf-8")  # cut mid-message
    return export


def without_ts_or_user(base: Path, where: Path) -> Path:
    def edit(messages: list[dict]) -> None:
        messages[0].pop("ts")
        messages[1].pop("user")

    return _with_messages(base, where, edit)


def absurd_timestamps(base: Path, where: Path) -> Path:
    def edit(messages: list[dict]) -> None:
        for message, ts in zip(messages, ("99999999999.000001", "-1.000000", "not-a-time", "1e300"), strict=False):
            message["ts"] = ts

    return _with_messages(base, where, edit)


def huge_message(base: Path, where: Path) -> Path:
    def edit(messages: list[dict]) -> None:
        messages[0]["text"] = ("All the numbers. " * (MESSAGE_BYTES // 17 + 1))[:MESSAGE_BYTES]
        messages[0].pop("blocks", None)

    return _with_messages(base, where, edit)


def deep_blocks(base: Path, where: Path) -> Path:
    """Rich-text elements nested far deeper than any recursive parser survives (written as text: json.dumps
    recurses).
    """
    export = _copy(base, where)
    day = _day_file(export)
    messages = _messages(day)
    messages[0]["blocks"] = "DEEP"
    nested = (
        '{"type": "rich_text_list", "elements": [' * DEEP_BLOCKS
        + '{"type": "text", "text": "deep"}'
        + "]}" * DEEP_BLOCKS
    )
    day.write_text(
        json.dumps(messages).replace('"DEEP"', f'[{{"type": "rich_text", "elements": [{nested}]}}]', 1),
        encoding="utf-8",
    )
    return export


def huge_users_json(base: Path, where: Path) -> Path:
    export = _copy(base, where)
    users = json.loads((export / "users.json").read_text(encoding="utf-8"))
    template = users[-1]
    with open(export / "users.json", "w", encoding="utf-8") as out:
        out.write("[")
        out.write(", ".join(json.dumps(u) for u in users))
        for index in range(HUGE_USERS):
            extra = {
                **template,
                "id": f"UX{index:09d}",
                "name": f"extra.user.{index}",
                "profile": {
                    **template.get("profile", {}),
                    "email": f"extra.user.{index}@contoso.example",
                    "real_name": f"Extra User {index}",
                },
            }
            out.write(", " + json.dumps(extra))
        out.write("]")
    return export


CASES = [
    Case("truncated zip", REFUSED, truncated_zip),
    Case("corrupt zip", KEPT, corrupt_zip),
    Case("path traversal entry", REFUSED, path_traversal),
    Case("zip bomb", REFUSED, zip_bomb),
    Case("non-UTF-8 day file", KEPT, non_utf8_day_file),
    Case("invalid JSON day file", KEPT, invalid_json_day_file),
    Case("messages without ts or user", KEPT, without_ts_or_user),
    Case("absurd timestamps", KEPT, absurd_timestamps),
    Case("10 MB message", KEPT, huge_message),
    Case("deeply nested rich-text blocks", KEPT, deep_blocks),
    Case("huge users.json", KEPT, huge_users_json),
]
