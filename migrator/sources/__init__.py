"""Readers that turn an export into the source model (`migrator.model`).

Stages call `open_source` and never import a reader directly, so adding a
source kind touches only this package. Without a kind the format is told
from the export's own layout, which each format documents: Slack's
`users.json`/`channels.json`, Mattermost's JSONL starting with a `version`
line (whatever it is called: mmctl writes the name it is given), `migrator
export`'s `teams/`/`users/` folders of JSONL and `meta.json`,
DiscordChatExporter's JSON objects with `guild`, `channel` and `messages`.
Exports of other tools that no reader reads but their content shows
(`foreign_export`: slackdump's archive and dump, other tools' Teams exports)
are refused with advice for that tool. A folder or zip that matches nothing
is handed to the Slack reader, whose errors say what a Slack export must
contain (the behaviour before other sources existed); a path that is no
export of any kind is refused with what each reader could read
(`products.ANY_EXPORT`).
"""

from __future__ import annotations

import gzip
import importlib
import re
import zipfile
from pathlib import Path

from migrator.model import Source, SourceError
from migrator.sources.archive import ExportTree, open_tree
from migrator.sources.common import SNIFF_BYTES, SingleFileTree, file_format, member_format, member_head
from migrator.sources.products import ANY_EXPORT, OTHER_TEAMS_EXPORT, SLACKDUMP_ARCHIVE, SLACKDUMP_DUMP, Foreign

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
_SLACKDUMP_CHUNKS = (".json.gz", ".jsonl.gz")  # slackdump archive: per conversation, a gzip stream of chunk lines
_SLACKDUMP_CHUNK = re.compile(r'^\{"t":\d+,"ts":\d+')  # a chunk's header: its type and when it was recorded
_SLACKDUMP_DATABASE = re.compile(r"(?:^|/)slackdump\.sqlite$")
_OTHER_TEAMS_FILE = re.compile(r"(?:^|/)(?:teams/[^/]+/[^/]*|messages_[^/]*)\.json$")
_PASCAL_MESSAGE = re.compile(r'"(?:Id|CreatedDateTime|MessageType)":')  # Graph's chatMessage, PascalCase


def open_source(path: Path | str, kind: str | None = None, fetched: Path | None = None) -> Source:
    """Open an export of the given kind, or of the kind its layout shows; the caller closes it. `fetched` is the
    folder `migrator fetch` wrote for a Slack export: its files and emails are read as if the export held them."""
    if kind is not None and kind not in _READERS:
        raise SourceError(f"unknown source format {kind!r}; use one of {', '.join(SOURCE_KINDS)}")
    path = Path(path)
    if kind is None and not (
        path.is_dir() or path.suffix.lower() in _SINGLE_FILES or zipfile.is_zipfile(path) or file_format(path)
    ):
        if path.is_file():
            _refuse_foreign(path, SingleFileTree(path))  # one file of another tool's export (a slackdump chunk file)
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
    if not path.exists():
        return "slack"
    single = path.is_file() and not zipfile.is_zipfile(path)
    tree: ExportTree = SingleFileTree(path) if single else open_tree(path)
    try:
        kind = (file_format(path) or _SINGLE_FILES.get(path.suffix.lower(), "slack")) if single else _detect_in(tree)
        if single or (kind == "slack" and not any(_SLACK_FILE.match(n) for n in tree.names())):
            _refuse_foreign(path, tree)
    finally:
        tree.close()
    return kind


def _refuse_foreign(path: Path, tree: ExportTree) -> None:
    """Stop, with advice for that tool, when the files are another tool's export."""
    foreign = foreign_export(tree)
    if foreign is not None:
        raise SourceError(foreign[0].refusal(str(path), foreign[1]))


def foreign_export(tree: ExportTree) -> tuple[Foreign, str] | None:
    """The other tool's export these files are, when their content shows one, with the member that shows it:
    slackdump's archive (gzip chunk streams or its database) and dump (one object per conversation), a Teams
    export in Graph's PascalCase. None when nothing does (the Slack reader then says what an export needs)."""
    for name in tree.names():
        if _SLACKDUMP_DATABASE.search(name) or (name.endswith(_SLACKDUMP_CHUNKS) and _slackdump_chunk(tree, name)):
            return SLACKDUMP_ARCHIVE, name
        if name.count("/") <= 1 and name.endswith(".json") and _is_slackdump_dump(member_head(tree, name)):
            return SLACKDUMP_DUMP, name
        if _OTHER_TEAMS_FILE.search(name) and _PASCAL_MESSAGE.search(member_head(tree, name)):
            return OTHER_TEAMS_EXPORT, name
    return None


def _slackdump_chunk(tree: ExportTree, name: str) -> bool:
    """Whether a gzip member starts with a slackdump chunk line."""
    try:
        with tree.open(name) as handle, gzip.GzipFile(fileobj=handle) as unpacked:
            head = unpacked.read(SNIFF_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile):
        return False
    return bool(_SLACKDUMP_CHUNK.match(re.sub(r"\s+", "", head.decode("utf-8", errors="replace"))))


def _is_slackdump_dump(start: str) -> bool:
    return start.startswith("{") and '"channel_id":' in start and '"messages":' in start


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
