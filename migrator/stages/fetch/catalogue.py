"""Every file an export links to, and what the fetch does with each: fetch it, or count it apart and why.

The export is streamed once, conversation by conversation; a file shared in
several conversations is counted once, in the first. Only Slack-hosted links
(`links.download_url`) are ever fetched, with the token in the header: files
Slack deleted or hid before the export, external files (Google Drive, Box…,
kept as links), and canvases are counted apart, never requested.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from migrator.model import File, FileStatus, Message
from migrator.slack.config import SlackConfig
from migrator.slack.download import Wanted
from migrator.slack.links import download_url, team_of
from migrator.sources.slack import SlackExport

# Why a file is not fetched, per status it is counted under.
IN_EXPORT = "in_export"
DELETED = "deleted"
HIDDEN = "hidden"
EXTERNAL = "external"
FAILED = "failed"
_NO_FETCH = {
    "tombstone": (DELETED, "deleted in Slack before the export"),
    "hidden_by_limit": (HIDDEN, "hidden by the Slack plan's file limit (a paid plan shows it again)"),
    "external": (EXTERNAL, "stored outside Slack: kept as a link"),
}


@dataclass(slots=True)
class Entry:
    """One file of the export: what to fetch (`wanted`), or the status it is counted under and why."""

    id: str
    name: str
    conversation: str
    size: int | None
    wanted: Wanted | None = None
    status: str = ""
    reason: str = ""


@dataclass
class Catalogue:
    entries: list[Entry] = field(default_factory=list)
    teams: Counter[str] = field(default_factory=Counter)  # workspace ids in the files' links
    people: dict[str, set[str]] = field(default_factory=dict)  # conversation → its members and authors

    @property
    def team(self) -> str | None:
        """The workspace most of the export's file links belong to."""
        return self.teams.most_common(1)[0][0] if self.teams else None


def catalogue(source: SlackExport, config: SlackConfig) -> Catalogue:
    found = Catalogue()
    seen: set[str] = set()
    for conversation in source.conversations():
        people = found.people.setdefault(conversation.id, set(conversation.members))
        for message in source.messages(conversation):
            if message.user:
                people.add(message.user)
            for file in _files(message):
                key = file.id or f"{conversation.id}:{message.ts}:{file.name}"
                if key in seen:
                    continue
                seen.add(key)
                url = str(file.extra.get("url_private_download") or file.extra.get("url_private") or "")
                if url and (team := team_of(url)):
                    found.teams[team] += 1
                found.entries.append(_entry(file, conversation.id, url, config))
    return found


def _files(message: Message) -> Iterator[File]:
    yield from message.files
    if message.commented_file is not None:
        yield message.commented_file


def _entry(file: File, conversation: str, url: str, config: SlackConfig) -> Entry:
    entry = Entry(file.id, file.name, conversation, file.size)
    mode = str(file.extra.get("mode") or "")
    if file.status is FileStatus.AVAILABLE:
        entry.status, entry.reason = IN_EXPORT, "the export carries its bytes"
    elif mode in _NO_FETCH:
        entry.status, entry.reason = _NO_FETCH[mode]
    elif file.is_canvas:
        entry.status, entry.reason = EXTERNAL, "a Slack canvas, not a file: kept as a link"
    elif file.status is FileStatus.EXTERNAL:
        entry.status, entry.reason = _NO_FETCH["external"]
    elif not file.id:
        entry.status, entry.reason = FAILED, "the export gives the file no id"
    elif not url:
        entry.status, entry.reason = FAILED, "the export gives no download link"
    elif (fetch_from := download_url(url, config)) is None:
        entry.status, entry.reason = EXTERNAL, "its link is not a Slack file: kept as a link"
    else:
        entry.wanted = Wanted(file.id, file.name, fetch_from, file.size, file.mimetype)
    return entry
