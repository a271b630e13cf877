"""The `fetch` stage: what a standard Slack export only links to, fetched from Slack into a folder.

A standard export holds messages and *links* to files, and often no emails.
`fetch` asks Slack for both with the customer's token (`SLACK_TOKEN`): first
`auth.test`, so a token that is invalid, lacks a scope or belongs to another
workspace stops the run (exit 2) before any download; then `users.list` for
the missing emails (`DIR/users.json`); then every Slack-hosted file, streamed
in parallel at a steady pace into `DIR/__uploads/{FILE_ID}/{name}`, the layout
the Slack reader takes with `--fetched DIR`. A second run downloads only what
is missing or failed (present files are checked by size), and a `kill -9`
leaves no partial file under a final name. `DIR/fetch-report.json` and `.html`
say what became of every file, per conversation.
"""

from __future__ import annotations

import fcntl
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from migrator.errors import InputError
from migrator.fetch_report import FetchReport, Listed, People, Tally, TokenInfoRow
from migrator.graph.ratelimit import RateLimiter
from migrator.progress import NO_PROGRESS, FetchProgress
from migrator.reports.fetch import write
from migrator.slack.config import SlackConfig
from migrator.slack.download import Downloader, Result
from migrator.slack.web import TIER2_PER_MINUTE, SlackAuthError, SlackUnavailableError, SlackWeb, TokenInfo
from migrator.sources.fetched import PARTIAL_DIR, UPLOADS, USERS_FILE
from migrator.sources.slack import SlackExport
from migrator.stages.fetch.catalogue import IN_EXPORT, Catalogue, Entry, catalogue
from migrator.stages.fetch.people import without_email, write_users
from migrator.timestamps import format_ms, now_ms
from migrator.words import counted

LOCK_FILE = ".fetch.lock"
_STATUS = {Result.FETCHED: "fetched", Result.DELETED: "deleted", Result.REFUSED: "refused", Result.FAILED: "failed"}
_Item = TypeVar("_Item")


@dataclass(frozen=True)
class FetchOptions:
    """Downloads run on `workers` threads, starting at most `files_rps` a second all together (429s are honoured
    on top); users.list keeps to `users_per_minute` (Slack's Tier 2)."""

    workers: int = 4
    files_rps: float = 20.0
    users_per_minute: float = TIER2_PER_MINUTE


@dataclass(frozen=True)
class FetchResult:
    report: FetchReport
    report_json: Path
    report_html: Path
    users_json: Path

    @property
    def ok(self) -> bool:
        """Everything that could be fetched was: no download failed and users.list was read to the end."""
        return self.report["totals"]["failed"] == 0 and self.report["people"]["error"] is None


class FetchLockedError(InputError):
    """Another fetch is writing into the same folder: exit code 2."""


def fetch(
    source_path: Path,
    out: Path,
    config: SlackConfig,
    options: FetchOptions = FetchOptions(),
    progress: FetchProgress = NO_PROGRESS,
) -> FetchResult:
    """Fetch the files and emails `source_path` (a Slack export) lacks into `out`, and write the report there."""
    started = time.monotonic()
    with _locked(out), SlackExport(source_path) as source:
        web = SlackWeb(config, options.users_per_minute)
        export_team = source.workspace.id or None
        token = web.check_token(export_team) if export_team else None  # before reading every day file
        found = catalogue(source, config)
        if token is None:
            token = web.check_token(found.team)
        people, emails_of = _people(source, web, out)
        tally = Tally()
        downloader = Downloader(config, out / PARTIAL_DIR, RateLimiter(per_key=None, shared=options.files_rps))
        try:
            _download(found, out, downloader, options.workers, tally, progress)
        finally:
            downloader.close()
        conversations = [
            tally.row(c.id, c.name, len(found.people.get(c.id, set()) & emails_of)) for c in source.conversations()
        ]
    report: FetchReport = {
        "source": {"path": str(source_path), "team_id": export_team or found.team or ""},
        "folder": str(out),
        "fetched_at": format_ms(now_ms()),
        "seconds": round(time.monotonic() - started, 3),
        "token": _token_row(token),
        "totals": tally.totals(len(found.entries)),
        "people": people,
        "requests": {
            "api_calls": web.counts["calls"],
            "api_throttled": web.counts["throttled"],
            "api_retried": web.counts["retried"],
            "downloads": downloader.requests,
            "downloads_throttled": downloader.throttled,
        },
        "conversations": conversations,
        "not_fetched": tally.listed,
    }
    json_path, html_path = write(report, out)
    return FetchResult(report, json_path, html_path, out / USERS_FILE)


def summary(result: FetchResult) -> str:
    """The few lines the CLI prints."""
    totals, people, requests = result.report["totals"], result.report["people"], result.report["requests"]
    seconds = max(result.report["seconds"], 1e-6)
    lines = [
        f"fetch: {counted(totals['files'], 'file')} linked: {totals['fetched']:,} fetched, "
        f"{totals['already']:,} already fetched, {totals['in_export']:,} in the export, {totals['deleted']:,} deleted, "
        f"{totals['hidden']:,} hidden, {totals['external']:,} external, {totals['refused']:,} refused, "
        f"{totals['failed']:,} failed",
        f"people: {people['found']:,} of {counted(people['without_email'], 'person')} without an email in the export "
        f"found by users.list; {len(people['still_without']):,} still without",
        f"{counted(requests['downloads'], 'download')} ({requests['downloads_throttled']:,} throttled), "
        f"{counted(requests['api_calls'], 'Web API call')} ({requests['api_throttled']:,} throttled) in "
        f"{seconds:.1f} s: "
        f"{totals['bytes_this_run'] / seconds / 1e6:.1f} MB/s, {totals['fetched'] / seconds:.1f} files/s",
    ]
    if people["error"]:
        lines.append(f"users.list: {people['error']}")
    return "\n".join(lines)


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One fetch at a time writes into a folder; the lock goes with the process, even on kill -9."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK_FILE, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FetchLockedError(f"{out}: another fetch is writing into this folder; wait for it to end") from None
        shutil.rmtree(out / PARTIAL_DIR, ignore_errors=True)  # what a killed run was downloading
        yield


def _people(source: SlackExport, web: SlackWeb, out: Path) -> tuple[People, set[str]]:
    """Emails for the people the export gives none, into `out/users.json`; the report's part and who got one."""
    missing = without_email(source.users.values())
    emails: dict[str, str] = {}
    error = None
    try:
        for user_id, email in web.emails():
            if user_id in missing:
                emails[user_id] = email
    except (SlackUnavailableError, SlackAuthError) as failure:
        error = str(failure)  # the files are still worth fetching; the run ends incomplete (exit 1)
    filled = write_users(out / USERS_FILE, source.raw_users(), emails)
    people: People = {
        "total": len(source.users),
        "without_email": len(missing),
        "found": len(filled),
        "still_without": sorted(source.users[u].label for u in missing - filled),
        "error": error,
    }
    return people, filled


def _download(
    found: Catalogue, out: Path, downloader: Downloader, workers: int, tally: Tally, progress: FetchProgress
) -> None:
    """Count what is not fetched or already here, then download the rest on `workers` threads."""
    todo: list[tuple[Entry, Path]] = []
    for entry in found.entries:
        if entry.wanted is None:
            tally.add(entry.conversation, entry.status)
            if entry.status != IN_EXPORT:
                tally.list(_listed(entry, entry.status, entry.reason))
            continue
        target = out / UPLOADS / entry.id / safe_leaf(entry.name)
        if target.is_file() and (entry.size is None or target.stat().st_size == entry.size):
            tally.add(entry.conversation, "already", target.stat().st_size)
        else:
            todo.append((entry, target))
    progress.to_fetch(len(todo), sum(entry.size or 0 for entry, _ in todo))

    def one(item: tuple[Entry, Path]) -> None:
        entry, target = item
        assert entry.wanted is not None  # only entries with something to fetch are in `todo`
        done = downloader.fetch(entry.wanted, target, progress.received)
        status = _STATUS[done.result]
        tally.add(entry.conversation, status, done.bytes, new_bytes=done.bytes)
        if done.result is not Result.FETCHED:
            tally.list(_listed(entry, status, done.reason))
        progress.file_done()

    _each(todo, workers, one)


def _each(items: Sequence[_Item], workers: int, work: Callable[[_Item], None]) -> None:
    """`work` on every item, on up to `workers` threads taking the next item as they finish; a bug in `work` is
    raised here once the threads have stopped."""
    lock = threading.Lock()
    position = iter(items)
    errors: list[BaseException] = []

    def worker() -> None:
        while not errors:
            with lock:
                item = next(position, None)
            if item is None:
                return
            try:
                work(item)
            except BaseException as error:  # re-raised below, on the caller's thread
                errors.append(error)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, min(workers, len(items))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def safe_leaf(name: str) -> str:
    """A file name as one path component: no separators or NUL, never `.` or `..` (the readers take the single
    file of a folder whatever its name, so a changed name still matches)."""
    clean = name.replace("/", "_").replace("\\", "_").replace("\x00", "_").strip()
    return clean if clean not in {"", ".", ".."} else "file"


def _listed(entry: Entry, status: str, reason: str) -> Listed:
    return {
        "file": entry.id,
        "name": entry.name,
        "conversation": entry.conversation,
        "status": status,
        "reason": reason,
    }


def _token_row(token: TokenInfo) -> TokenInfoRow:
    return {
        "team_id": token.team_id,
        "team": token.team,
        "user": token.user,
        "bot": token.is_bot,
        "scopes": list(token.scopes),
    }
