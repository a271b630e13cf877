"""`fetch-report.json`: what the fetch did with every file the export links to, per conversation and in total (the
record `migrator.stages.fetch` builds and `migrator.reports.fetch` writes).

Every file of the export is counted under exactly one status, so the report
adds up: `files = fetched + already + in_export + deleted + hidden + external + refused + failed`. Only `failed`
makes the run incomplete (running again retries those); the others are counted apart and listed with why.
The token is never in it: only what auth.test said about it (workspace, user, scopes).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TypedDict

STATUSES = {
    "fetched": "fetched in this run",
    "already": "fetched by an earlier run (present, size checked)",
    "in_export": "already in the export",
    "deleted": "deleted in Slack (tombstone before the export, or 404 now)",
    "hidden": "hidden by the Slack plan's file limit",
    "external": "stored outside Slack or a canvas: kept as a link",
    "refused": "the token may not read it (401/403)",
    "failed": "not fetched: the sign-in page, a wrong size, or Slack kept failing (run again to retry)",
}


class SourceInfo(TypedDict):
    path: str
    team_id: str  # the workspace the export is of ("" when nothing in it says)


class TokenInfoRow(TypedDict):
    """What auth.test said about SLACK_TOKEN, never the token itself."""

    team_id: str
    team: str
    user: str
    bot: bool
    scopes: list[str]


class StatusCounts(TypedDict):
    """Files under each of `STATUSES`."""

    fetched: int
    already: int
    in_export: int
    deleted: int
    hidden: int
    external: int
    refused: int
    failed: int


class Totals(StatusCounts):
    files: int
    bytes: int  # of every file in the folder (fetched now or before)
    bytes_this_run: int
    equation: str
    balanced: bool


class ConversationRow(StatusCounts):
    id: str
    name: str
    files: int
    bytes: int
    emails_found: int  # its members and authors whose email came from users.list


class Listed(TypedDict):
    """A file not fetched, and why."""

    file: str
    name: str
    conversation: str
    status: str
    reason: str


class People(TypedDict):
    total: int
    without_email: int  # people (not bots) the export gives no email
    found: int  # of those, whose email users.list gave
    still_without: list[str]
    error: str | None  # why users.list could not be read to the end, if it could not


class Requests(TypedDict):
    api_calls: int
    api_throttled: int  # 429s slack_sdk waited out
    api_retried: int
    downloads: int
    downloads_throttled: int


class FetchReport(TypedDict):
    """`fetch-report.json`, in the order its keys are written."""

    source: SourceInfo
    folder: str
    fetched_at: str
    seconds: float
    token: TokenInfoRow
    totals: Totals
    people: People
    requests: Requests
    conversations: list[ConversationRow]
    not_fetched: list[Listed]


class Tally:
    """Counts per conversation as downloads finish on several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, Counter[str]] = {}
        self.listed: list[Listed] = []

    def add(self, conversation: str, status: str, size: int = 0, *, new_bytes: int = 0) -> None:
        with self._lock:
            counts = self.counts.setdefault(conversation, Counter())
            counts[status] += 1
            counts["bytes"] += size
            counts["bytes_this_run"] += new_bytes

    def list(self, row: Listed) -> None:
        with self._lock:
            self.listed.append(row)

    def totals(self, files: int) -> Totals:
        """In total; `files` is how many files the export links to, which the statuses must add up to."""
        every: Counter[str] = Counter()
        for counts in self.counts.values():
            every.update(counts)
        parts = [every[s] for s in STATUSES]
        return {
            "files": files,
            **{s: every[s] for s in STATUSES},  # type: ignore[typeddict-item]  # the eight statuses, each a key
            "bytes": every["bytes"],
            "bytes_this_run": every["bytes_this_run"],
            "equation": f"{files:,} files = " + " + ".join(f"{n:,} {s}" for s, n in zip(STATUSES, parts, strict=True)),
            "balanced": files == sum(parts),
        }

    def row(self, conversation: str, name: str, emails_found: int) -> ConversationRow:
        counts = self.counts.get(conversation, Counter())
        return {
            "id": conversation,
            "name": name,
            "files": sum(counts[s] for s in STATUSES),
            **{s: counts[s] for s in STATUSES},  # type: ignore[typeddict-item]  # the eight statuses, each a key
            "bytes": counts["bytes"],
            "emails_found": emails_found,
        }
