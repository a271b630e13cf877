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

import mmap
import shutil
from json.encoder import encode_basestring as _encode
from pathlib import Path
from typing import Any

from migrator.earlier import Planned, Versions, Where, plan_stamp
from migrator.plan import Manifest
from migrator.stages.transform.context import Footprint

EARLIER_PLAN = ".earlier-plan"  # in the plan folder while a transform runs: the plan it replaces
REQUEST_HEAD = b'"from":'  # how the request fields of every line start (planner `_part`)


def _decoded(raw: Any) -> Footprint | None:
    try:
        return Footprint.from_json(raw)
    except (TypeError, ValueError):
        return None


def set_aside(out_dir: Path, previous: Manifest | None) -> Path:
    """Move the plan files of `previous` (the plan in `out_dir`) into a folder of their own, where the new plan
    cannot overwrite them; returns that folder. A transform stopped midway may have moved some already."""
    folder = out_dir / EARLIER_PLAN
    root = out_dir.resolve()
    for _, conversation in previous.conversations() if previous else []:
        path = (out_dir / conversation.file).resolve()
        if path.is_relative_to(root) and path.is_file():
            moved = folder / conversation.file
            moved.parent.mkdir(parents=True, exist_ok=True)
            path.replace(moved)
    return folder


class KeptLines:
    """The set-aside plan files, mapped as each conversation first asks for a line of its own file."""

    def __init__(self, folder: Path, planned: Planned | None) -> None:
        self.folder = folder
        self.plans = planned.plans if planned else {}  # conversation key -> [plan file, size, mtime_ns]
        self.footprints = [_decoded(raw) for raw in planned.footprints] if planned else []
        self._maps: dict[str, mmap.mmap | None] = {}

    def line(self, versions: Versions, conversation: str, key: str) -> tuple[bytes, Footprint] | None:
        """The request fields and footprint of the earlier line of `key` in `conversation`, when `versions` says it
        may stand for the message again and it is where versions.json says."""
        found = versions.kept(key)
        if found is None:
            return None
        footprint = self._footprint(found[0])
        fields = self._take(conversation, key, found[1]) if footprint is not None else None
        return (fields, footprint) if fields is not None and footprint is not None else None

    def _take(self, conversation: str, key: str, where: Where) -> bytes | None:
        """The request fields of `key`'s line at `where` in the earlier plan file of `conversation`; None when that
        file is not the one versions.json describes, or holds no such line there."""
        view = self._maps[conversation] if conversation in self._maps else self._map(conversation)
        if view is None or not all(type(n) is int for n in where):  # versions.json is a file people can edit
            return None
        start, end = where.line + where.fields, where.line + where.fields + where.length
        if where.line < 0 or where.fields <= 0 or where.length <= 0 or end > len(view):
            return None
        head = view[where.line : start]
        fields = view[start:end]
        if not (head.startswith(b'{"key":' + _encode(key).encode() + b",") and fields.startswith(REQUEST_HEAD)):
            return None
        return fields

    def _footprint(self, number: int) -> Footprint | None:
        """The footprint numbered so in versions.json; None for a number it does not have."""
        return self.footprints[number] if 0 <= number < len(self.footprints) else None

    def _map(self, conversation: str) -> mmap.mmap | None:
        view = None
        entry = self.plans.get(conversation)
        if isinstance(entry, list) and len(entry) == 3:
            path = self.folder / str(entry[0])
            try:
                if path.resolve().is_relative_to(self.folder.resolve()) and plan_stamp(path) == entry[1:] and entry[1]:
                    with open(path, "rb") as file:
                        view = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            except OSError:
                view = None
        self._maps[conversation] = view
        return view

    def close(self) -> None:
        """Unmap the files and remove the set-aside plan: the new plan replaces it."""
        for view in self._maps.values():
            if view is not None:
                view.close()
        self._maps.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
