"""The lines of messages an earlier pass landed unchanged, kept as they are instead of rendered again (issue 27).

A delta pass plans the whole newer export, and nearly all of it landed in Teams already: rendering those messages
again would cost the delta more than the first pass, and would describe, after a mapping changed, a message other
than the one Teams holds. So the plan now in the folder is set aside before the new one is written (`set_aside`),
and the request fields of a message the journal records as landed, whose source text and files are what they were
(`migrator.earlier.Versions.kept`: one-part lines without files), are taken from it as they stand (`KeptLines`).
versions.json says where each such line's fields lie and which plan file, by size and modification time, they lie
in; a file that is not that one keeps nothing, and its messages are rendered.
"""

from __future__ import annotations

import os
import shutil
from json.encoder import encode_basestring as _encode
from pathlib import Path
from typing import Any

from migrator.earlier import Planned, Versions, Where, plan_stamp
from migrator.plan import Manifest
from migrator.stages.transform.context import Footprint

EARLIER_PLAN = ".earlier-plan"  # in the plan folder while a transform runs: the plan it replaces
NOTE_FIELD = b',"note":'  # what follows a line's request fields when it has a reviewer's note (planner `_lines`)


def _decoded(raw: Any) -> Footprint | None:
    """A footprint as versions.json holds it; None for one it cannot be (the file is people's to edit)."""
    try:
        return Footprint.from_json(raw)
    except (TypeError, ValueError):
        return None


def set_aside(out_dir: Path, previous: Manifest | None) -> Path:
    """Move the plan files of `previous` (the plan in `out_dir`) into a folder of their own, where the new plan
    cannot overwrite them; returns that folder. A transform that stopped before it had planned every line left
    that folder behind, with the files of the same plan (the manifest is written after): what is in the plan's
    place instead is that transform's, and goes."""
    folder = out_dir / EARLIER_PLAN
    root = out_dir.resolve()
    for _, conversation in previous.conversations() if previous else []:
        path = (out_dir / conversation.file).resolve()
        if not (path.is_relative_to(root) and path.is_file()):
            continue
        moved = folder / conversation.file
        if moved.is_file():
            path.unlink()
        else:
            moved.parent.mkdir(parents=True, exist_ok=True)
            path.replace(moved)
    return folder


class KeptLines:
    """The set-aside plan files, read where versions.json says a kept line is. Targets are planned one after another,
    so one file is open at a time; lines are read, not mapped, so a huge plan file costs no memory."""

    def __init__(self, folder: Path | None, planned: Planned | None) -> None:
        self.folder = folder  # None: no earlier plan (`none`)
        self.plans = planned.plans if planned else {}  # conversation key -> [plan file, size, mtime_ns]
        self.footprints = [_decoded(raw) for raw in planned.footprints] if planned else []
        self._open: tuple[str, int | None] = ("", None)  # the target whose file is open, and its descriptor

    @classmethod
    def none(cls) -> KeptLines:
        """No earlier plan: nothing to keep."""
        return cls(None, None)

    def line(self, versions: Versions, target: str, key: str, head: bytes) -> tuple[bytes, Footprint] | None:
        """The request fields and footprint of the earlier line of `key` in `target`'s plan file, when `versions`
        says it may stand for the message again, it is where versions.json says, and its fields start with `head`
        (who it was posted as)."""
        found = versions.kept(key)
        if found is None:
            return None
        footprint = self.footprints[found[0]] if 0 <= found[0] < len(self.footprints) else None
        fields = self._take(target, key, found[1], head) if footprint is not None else None
        return (fields, footprint) if fields is not None and footprint is not None else None

    def _take(self, target: str, key: str, where: Where, head: bytes) -> bytes | None:
        """The request fields at `where`, when the line there is `key`'s and they are whole: they start with
        `head` and the line goes on with its note or ends right after them."""
        descriptor = self._open[1] if self._open[0] == target else self._reopen(target)
        if descriptor is None or where.line < 0 or where.fields <= 0 or where.length <= 0:
            return None
        data = os.pread(descriptor, where.fields + where.length + len(NOTE_FIELD), where.line)
        end = where.fields + where.length
        fields, after = data[where.fields : end], data[end:]
        if not (
            data[: where.fields].startswith(b'{"key":' + _encode(key).encode() + b",")
            and fields.startswith(head)
            and (after.startswith(NOTE_FIELD) or after[:2] in (b"}\n", b"}"))
        ):
            return None
        return fields

    def _reopen(self, target: str) -> int | None:
        """Close the file open and open `target`'s, when it is the one versions.json describes."""
        self.close()
        descriptor = None
        entry = self.plans.get(target)
        if self.folder is not None and isinstance(entry, list) and len(entry) == 3:
            path = self.folder / str(entry[0])
            try:
                if path.resolve().is_relative_to(self.folder.resolve()) and plan_stamp(path) == entry[1:]:
                    descriptor = os.open(path, os.O_RDONLY)
            except OSError:
                descriptor = None
        self._open = (target, descriptor)
        return descriptor

    def close(self) -> None:
        """Close the file open (the set-aside plan stays for a transform that stopped: `set_aside`)."""
        if self._open[1] is not None:
            os.close(self._open[1])
        self._open = ("", None)

    def discard(self) -> None:
        """Every line is planned: close and remove the set-aside plan."""
        self.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
