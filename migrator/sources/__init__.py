"""Readers that turn an export into the source model (`migrator.model`).

Stages call `open_source` and never import a reader directly, so adding a
source kind touches only this package.
"""

from __future__ import annotations

from pathlib import Path

from migrator.model import Source
from migrator.sources.slack import SlackExport

SOURCE_KINDS = ("slack",)


def open_source(path: Path | str, kind: str = "slack") -> Source:
    """Open an export of the given kind; the caller closes it."""
    if kind != "slack":
        raise ValueError(f"unknown source kind {kind!r}; known: {', '.join(SOURCE_KINDS)}")
    return SlackExport(path)
