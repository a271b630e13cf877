"""The emulator's data: named collections of JSON records, optionally persisted.

With `--state FILE` every change is appended to FILE as one JSON line before
the request is answered, so the emulator can be stopped (even killed) and
restarted mid-migration without losing anything it acknowledged. On start the
log is replayed and rewritten compactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

Record = dict[str, Any]


class Store:
    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path else None
        self.collections: dict[str, dict[str, Record]] = {}
        self._log: TextIO | None = None
        if self.path is not None:
            self._replay(self.path)
            self.compact()

    # -- reads -------------------------------------------------------------
    def get(self, collection: str, key: str) -> Record | None:
        return self.collections.get(collection, {}).get(key)

    def values(self, collection: str) -> Iterator[Record]:
        return iter(list(self.collections.get(collection, {}).values()))

    # -- writes ------------------------------------------------------------
    def put(self, collection: str, key: str, record: Record) -> Record:
        self.collections.setdefault(collection, {})[key] = record
        self._append(["put", collection, key, record])
        return record

    def patch(self, collection: str, key: str, fields: Record) -> Record:
        record = self.collections[collection][key]
        record.update(fields)
        self._append(["patch", collection, key, fields])
        return record

    def delete(self, collection: str, key: str) -> None:
        if self.collections.get(collection, {}).pop(key, None) is not None:
            self._append(["del", collection, key])

    def clear(self) -> None:
        self.collections.clear()
        if self.path is not None:
            self.compact()

    # -- persistence -------------------------------------------------------
    def compact(self) -> None:
        """Rewrite the log as one `put` per live record (atomically) and reopen it."""
        if self.path is None:
            return
        if self._log:
            self._log.close()
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            for collection, records in self.collections.items():
                for key, record in records.items():
                    out.write(json.dumps(["put", collection, key, record], separators=(",", ":")) + "\n")
        os.replace(tmp, self.path)
        self._log = open(self.path, "a", encoding="utf-8")  # noqa: SIM115  (the append log stays open until close())

    def close(self) -> None:
        if self._log:
            self.compact()
            self._log.close()
            self._log = None

    def _append(self, entry: list[Any]) -> None:
        if self._log is not None:
            self._log.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self._log.flush()

    def _replay(self, path: Path) -> None:
        if not path.exists():
            return
        with open(path, encoding="utf-8") as log:
            for line in log:
                try:
                    op, collection, key, *rest = json.loads(line)
                except ValueError:
                    break  # a torn last line from a kill: everything before it was acknowledged
                if op == "put":
                    self.collections.setdefault(collection, {})[key] = rest[0]
                elif op == "patch" and key in self.collections.get(collection, {}):
                    self.collections[collection][key].update(rest[0])
                elif op == "del":
                    self.collections.get(collection, {}).pop(key, None)
