"""Readers that turn an export into the source model (`migrator.model`).

Stages call `open_source` and never import a reader directly, so adding a
source kind touches only this package. Without a kind the format is told
from the export's own layout, which each format documents: Slack's
`users.json`/`channels.json`, Mattermost's JSONL starting with a `version`
line (whatever it is called: mmctl writes the name it is given), `migrator
export`'s `teams/`/`users/` folders of JSONL and `meta.json`,
DiscordChatExporter's JSON objects with `guild`, `channel` and `messages`.
A folder or zip that matches none is handed to the Slack reader, whose errors
say what a Slack export must contain (the behaviour before other sources
existed); a path that is no export of any kind is refused with what each
reader could read (`products.ANY_EXPORT`).
"""

from __future__ import annotations

import importlib
import re
import zipfile
from pathlib import Path

from migrator.model import Source, SourceError
from migrator.sources.archive import ExportTree, open_tree
from migrator.sources.common import file_format, member_format
from migrator.sources.products import ANY_EXPORT

# Each reader's module and class, imported when chosen: a run reads one format.
_READERS = {
    "slack": ("migrator.sources.slack", "SlackExport"),
    "mattermost": ("migrator.sources.mattermost", "MattermostExport"),
    "discord": ("migrator.sources.discord", "DiscordExport"),
    "teams": ("migrator.sources.teams", "TeamsExport"),
}
SOURCE_KINDS = tuple(_READERS)
_SINGLE_FILES = {".jsonl": "mattermost", ".json": "discord"}  # formats whose export may be one bare file
_TEAMS_FILE = re.compile(r"(?:^|/)(?:teams|users)/[^/]+/(?:meta\.json|[^/]+\.jsonl)$")
_SLACK_FILE = re.compile(r"^(?:[^/]+/)?(?:users|channels)\.json$")


def open_source(path: Path | str, kind: str | None = None, fetched: Path | None = None) -> Source:
    """Open an export of the given kind, or of the kind its layout shows; the caller closes it. `fetched` is the
    folder `migrator fetch` wrote for a Slack export: its files and emails are read as if the export held them."""
    if kind is not None and kind not in _READERS:
        raise SourceError(f"unknown source format {kind!r}; use one of {', '.join(SOURCE_KINDS)}")
    path = Path(path)
    if kind is None and not (
        path.is_dir() or path.suffix.lower() in _SINGLE_FILES or zipfile.is_zipfile(path) or file_format(path)
    ):
        # No format to detect, so no reader's advice: what any of them could read.
        found = "not a zip archive or a folder" if path.exists() else "no such file or folder"
        raise SourceError(f"{path}: {found}; give {ANY_EXPORT}")
    chosen = kind or detect_format(path)
    module, reader = _READERS[chosen]
    if fetched is not None and chosen != "slack":
        raise SourceError(f"--fetched is for Slack exports (`migrator fetch` reads Slack only); {path} is {chosen}")
    options = {"fetched": fetched} if fetched is not None else {}
    opened: Source = getattr(importlib.import_module(module), reader)(path, **options)  # a class named in _READERS
    return opened


def detect_format(path: Path) -> str:
    """The source kind an export's files show (their content before their names); "slack" when none matches, so
    its reader explains what is missing."""
    if path.is_file() and not zipfile.is_zipfile(path):
        return file_format(path) or _SINGLE_FILES.get(path.suffix.lower(), "slack")
    if not path.exists():
        return "slack"
    tree = open_tree(path)
    try:
        return _detect_in(tree)
    finally:
        tree.close()


def _detect_in(tree: ExportTree) -> str:
    names = tree.names()
    if any(_SLACK_FILE.match(n) for n in names):
        return "slack"
    if any(_TEAMS_FILE.search(n) for n in names):
        return "teams"
    for name in names:
        if name.endswith((".json", ".jsonl")) and (found := member_format(tree, name)):
            return found
    return "slack"
