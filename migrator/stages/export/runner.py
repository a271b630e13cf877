"""The export core: many targets in parallel on one Graph client, each paged to the end and resumable.

Targets run on a thread pool and share one GraphClient, whose limiter holds
the whole run under the tenant's export budget (200 requests/s unless told
otherwise) and paces image downloads per channel or chat; the client honours
Retry-After on 429s. A 402 (billing) or any other error that survives the
client's retries stops only its own target.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.graph import (
    AuthenticationError,
    BadRequestError,
    GraphClient,
    GraphError,
    PaymentRequiredError,
    RateLimiter,
    ThrottledError,
)
from migrator.limits import CHANNEL_RPS, EXPORT_MAX_TOP, EXPORT_TENANT_RPS
from migrator.progress import NO_PROGRESS, ExportProgress
from migrator.stages.export import coverage
from migrator.stages.export.archive import ArchiveError, Message, TargetArchive, safe_name
from migrator.stages.export.billing import MODELS, explain, tenant_wide
from migrator.stages.export.coverage import Span
from migrator.stages.export.files import MODES as FILE_MODES
from migrator.stages.export.files import FileTally, download_files
from migrator.stages.export.filters import FilterError, MessageFilter, build_filter
from migrator.stages.export.images import ImageTally, download_images
from migrator.stages.export.outcome import DONE, FAILED, PAYMENT_REQUIRED, ExportOutcome, Target, TargetOutcome
from migrator.stages.export.people import add_member, by_object_id, look_up, named_in
from migrator.stages.export.state import Cursor, ExportState
from migrator.timestamps import format_ms, now_ms, parse_ms

log = logging.getLogger("migrator.export")

# How far before the newest stamp received a run's coverage ends. Graph indexes a message a little after it
# is written, so a message stamped just before the newest one seen can appear after the run read past it;
# the next run fetches the overlap again for such stragglers, and the archive keeps each version once.
WATERMARK_OVERLAP_MS = 5 * 60_000


@dataclass(frozen=True)
class ExportOptions:
    message_filter: MessageFilter = field(default_factory=MessageFilter)
    since_ms: int | None = None  # lastModifiedDateTime gt
    until_ms: int | None = None  # lastModifiedDateTime lt
    model: str | None = None  # A | B | None (evaluation mode)
    full: bool = False  # ignore the coverage: fetch the whole window again (the archive adds no duplicate)
    attachments: str = "links"  # links | download: also fetch each file attached by link (files.py)
    workers: int = 16
    checkpoint_seconds: float = 2.0  # how often a target's cursor is saved; a resumed run repeats at most this much

    def check(self) -> None:
        """Raise FilterError before any request for options Graph would refuse."""
        if self.model is not None and self.model not in MODELS:
            raise FilterError(f"--model {self.model!r}: use A or B, or leave it out for evaluation mode")
        if self.attachments not in FILE_MODES:
            raise FilterError(f"--attachments {self.attachments!r}: use {' or '.join(FILE_MODES)}")
        build_filter(self.message_filter, self.since_ms, self.until_ms)


def export(
    client: GraphClient,
    targets: list[Target],
    out_dir: Path,
    options: ExportOptions,
    progress: ExportProgress = NO_PROGRESS,
) -> ExportOutcome:
    """Export every target into `out_dir`; returns per-target outcomes and the run's request counts.

    Pass a client built with `export_limiter()` so the whole run stays within the tenant's budget.
    """
    options.check()
    sender = options.message_filter.clause()
    with ExportState(out_dir, flush_seconds=options.checkpoint_seconds) as state:
        before = client.stats.snapshot()
        started = time.monotonic()
        targets = by_object_id(client, targets)  # the same team or person named twice is exported once
        for target in targets:
            state.check_filter(target.key, sender)
        halt = _Halt()
        runs = [_TargetRun(client, state, Path(out_dir), target, options, sender, progress, halt) for target in targets]
        with ThreadPoolExecutor(
            max_workers=max(1, min(options.workers, len(runs) or 1)), thread_name_prefix="export"
        ) as pool:
            results = list(pool.map(_TargetRun.run, runs))
    after = client.stats.snapshot()
    return ExportOutcome(
        targets=results,
        stopped=halt.reason,
        seconds=time.monotonic() - started,
        **{name: after[name] - before[name] for name in ("requests", "throttled", "retries", "errors")},
    )


EXPORT_MAX_RETRIES = 12  # an export can afford minutes of Graph's Retry-After before a target gives up
EXPORT_BACKOFF_CAP = 120.0


def export_limiter(tenant_rps: float = EXPORT_TENANT_RPS) -> RateLimiter:
    """The tenant's export budget for the whole run, plus each channel's pace for image downloads."""
    return RateLimiter(per_key=CHANNEL_RPS, shared=tenant_rps)


def directory_users(client: GraphClient) -> list[str]:
    """Every user id of the directory, paged (`export users --all`)."""
    return [user["id"] for user in client.paginate("/users", params={"$select": "id", "$top": "999"})]


class _Halt:
    """Why the whole run stops (a tenant-wide 402), said once; every target saves its place and stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: str | None = None

    def stop(self, reason: str) -> None:
        with self._lock:
            self.reason = self.reason or reason

    @property
    def stopped(self) -> bool:
        return self.reason is not None


class _Stopped(Exception):
    """Raised in a target when another one stopped the run; its place is saved."""


STOPPED = (
    "stopped with the run: the evaluation capacity is used up (explained once, above); this target's place is saved"
)
THROTTLED = (
    "Graph kept answering 429 (too many requests) after every retry; run the same command again to resume: "
    "this target continues from its last saved page"
)


class _TargetRun:
    def __init__(
        self,
        client: GraphClient,
        state: ExportState,
        out_dir: Path,
        target: Target,
        options: ExportOptions,
        sender: str | None,
        progress: ExportProgress,
        halt: _Halt,
    ) -> None:
        self.client = client
        self.halt = halt
        self.state = state
        self.target = target
        self.options = options
        self.sender = sender
        self.progress = progress
        self.archive = TargetArchive(out_dir / target.folder / safe_name(target.id))
        self.outcome = TargetOutcome(target, name=target.id)
        self.named: dict[str, str] = {}  # people the fetched messages name, looked up at the end
        self.started_ms = now_ms()
        self.files = FileTally()

    def run(self) -> TargetOutcome:
        started = time.monotonic()
        self.progress.started(self.outcome)
        try:
            if self.halt.stopped:
                raise _Stopped()
            self._export()
            self.outcome.status = DONE
        except PaymentRequiredError as error:
            if tenant_wide(error):
                self.halt.stop(explain(error, self.options.model))
                self.outcome.status, self.outcome.error = PAYMENT_REQUIRED, STOPPED
            else:
                self.outcome.status, self.outcome.error = PAYMENT_REQUIRED, explain(error, self.options.model)
        except _Stopped:
            self.outcome.status, self.outcome.error = PAYMENT_REQUIRED, STOPPED
        except ThrottledError as error:
            self.outcome.status, self.outcome.error = FAILED, f"{error}. {THROTTLED}"
        except AuthenticationError:
            raise  # the sign-in is refused for every target alike: the run stops, the user fixes the credentials
        except (GraphError, ArchiveError, OSError) as error:
            self.outcome.status, self.outcome.error = FAILED, str(error)
        self.outcome.seconds = time.monotonic() - started
        if self.outcome.error:
            log.warning("%s: %s", self.target.key, self.outcome.error)
        self.progress.finished(self.outcome)
        return self.outcome

    def _export(self) -> None:
        known = self.state.target(self.target.key)
        requested = coverage.window(self.options.since_ms, self.options.until_ms)
        covered = list(known.covered)
        gaps = [requested] if self.options.full else coverage.missing(requested, covered)
        self.archive.open(min((coverage.bounds(g)[0] for g in gaps), key=_lowest, default=None))
        meta = self._describe()
        tally = ImageTally()
        watermark = known.watermark
        if not gaps:
            self.outcome.notes.append(
                "nothing to fetch: every message changed in this window was exported by an earlier run; "
                "use --full to fetch this window again"
            )
        for gap in gaps:
            seen_max = self._fetch(gap, known.cursor, tally, meta)
            watermark = _newest(watermark, seen_max)
            done = self._completed(gap, seen_max)
            if done is not None:
                covered = coverage.merge([*covered, done])
            self.archive.sync()  # the lines first: the coverage must never claim what is not on disk
            self.state.cover(self.target.key, self.sender, covered, watermark)
        note = look_up(self.client, meta.setdefault("people", {}), self.named)
        if note:
            self.outcome.notes.append(note)
        self.archive.write_meta(meta)
        self.archive.sync()
        if self.options.attachments == "download":  # every file the archive links, so turning it on later fills in
            download_files(self.client, self.archive, list(self.archive.linked.values()), self.files)
        self.outcome.attachments = self.archive.finish()
        self.outcome.images, self.outcome.images_present, self.outcome.image_failures = (
            tally.downloaded,
            tally.present,
            tally.failed,
        )
        self.outcome.files, self.outcome.files_present, self.outcome.file_failures = (
            self.files.downloaded,
            self.files.present,
            self.files.failed,
        )
        self.outcome.conversations = len(self.archive.lines)
        self.outcome.watermark = watermark
        self.outcome.covered = coverage.describe(covered)
        self.outcome.gaps = not coverage.from_the_beginning(covered)
        self.state.complete(self.target.key, self.sender, watermark, format_ms(now_ms()))

    def _fetch(self, gap: Span, cursor: Cursor | None, tally: ImageTally, meta: dict[str, Any]) -> str | None:
        """Every page of one uncovered span; returns the newest lastModifiedDateTime received."""
        query = build_filter(self.options.message_filter, *coverage.bounds(gap))
        self.outcome.fetched.append(coverage.describe([gap]))
        if self.outcome.filter is None:
            self.outcome.filter = query
        seen_max = link = None
        checkpoint = time.monotonic()
        try:
            for page, seen_max in self._pages(cursor, query):
                link = None
                self._store(page, tally)
                if self.outcome.pages == 1:
                    self.archive.write_meta(meta)  # names next to the first files, even if the run stops later
                link = page.get("@odata.nextLink")
                if link and time.monotonic() - checkpoint >= self.options.checkpoint_seconds:
                    self._save_cursor(link, query, seen_max)
                    checkpoint = time.monotonic()
                if link and self.halt.stopped:
                    raise _Stopped()
                self.progress.page(self.outcome)
        except (GraphError, _Stopped):
            if link:  # Graph gave up (429s, 402) or the run stopped: resume at the first page not written
                self._save_cursor(link, query, seen_max)
            raise
        return seen_max

    def _save_cursor(self, link: str, query: str | None, seen_max: str | None) -> None:
        self.archive.sync()  # the lines first: the cursor must never point past what is on disk
        saved = Cursor(url=link, filter=query, model=self.options.model, seen_max=seen_max)
        self.state.save_cursor(self.target.key, self.sender, saved)

    def _completed(self, gap: Span, seen_max: str | None) -> Span | None:
        """The part of a fetched span no later change can still land in, or None.

        A span that ended more than the overlap before this run started is complete. Otherwise Graph may
        still index a message stamped a moment before the newest one seen, so the span counts as covered
        only up to the newest stamp received less the overlap (Graph's clock, not ours); a span in which
        nothing was received adds nothing and is asked for again next time.
        """
        low, high = gap
        if high is not None and high + WATERMARK_OVERLAP_MS < self.started_ms:
            return gap
        if seen_max is None:
            return None
        settled = parse_ms(seen_max) - WATERMARK_OVERLAP_MS
        end = settled if high is None else min(high, settled)
        return None if low is not None and end < low else (low, end)

    def _pages(self, cursor: Cursor | None, query: str | None) -> Iterator[tuple[dict[str, Any], str | None]]:
        """Each page with the newest lastModifiedDateTime so far; from the cursor when it is for this query."""
        seen_max = None
        if cursor and cursor.filter == query and cursor.model == self.options.model:
            self.outcome.resumed = True
            seen_max = cursor.seen_max
            pages = 0
            try:
                for page in self._walk(cursor.url, None, seen_max):
                    pages += 1
                    yield page
                return
            except BadRequestError as error:
                if pages:
                    raise
                # A paging link Graph no longer accepts: start the window again; the archive drops repeats.
                self.outcome.notes.append(
                    f"the saved paging link was refused ({error.message}); fetched the window again"
                )
        params = {"$top": str(EXPORT_MAX_TOP)}
        if query:
            params["$filter"] = query
        if self.options.model:
            params["model"] = self.options.model
        yield from self._walk(self.target.path, params, seen_max)

    def _walk(
        self, url: str, params: dict[str, str] | None, seen_max: str | None
    ) -> Iterator[tuple[dict[str, Any], str | None]]:
        for page in self.client.pages(url, params):
            stamps = [m["lastModifiedDateTime"] for m in page.get("value", []) if m.get("lastModifiedDateTime")]
            if stamps:  # each stamp parsed once: at 200 pages/s, parsing is a visible share of the exporter's CPU
                seen_max = _newest(seen_max, max(stamps, key=parse_ms))
            yield page, seen_max

    def _store(self, page: dict[str, Any], tally: ImageTally) -> None:
        messages: list[Message] = page.get("value", [])
        new = self.archive.write(messages)
        for message in messages:
            self.named.update(named_in(message))
        download_images(self.client, self.archive, messages, tally)
        out = self.outcome
        out.pages += 1
        out.messages += len(messages)
        out.new += len(new)
        out.deleted += sum(1 for m in messages if m.get("deletedDateTime"))

    def _describe(self) -> dict[str, Any]:
        """Names for the summary and the HTML archive; without the permission to read them, ids do."""
        meta = self.archive.read_meta()
        try:
            if self.target.kind == "team":
                meta["name"] = self.client.get_json(f"/teams/{self.target.id}").get("displayName") or self.target.id
                for channel in self.client.paginate(f"/teams/{self.target.id}/channels"):
                    meta["conversations"][channel["id"]] = {
                        "name": channel.get("displayName") or channel["id"],
                        "kind": channel.get("membershipType") or "standard",
                    }
            else:
                meta["name"] = self.client.get_json(f"/users/{self.target.id}").get("displayName") or self.target.id
                for chat in self.client.paginate(f"/users/{self.target.id}/chats", params={"$expand": "members"}):
                    members = [m for m in chat.get("members") or [] if m.get("userId")]
                    meta["conversations"][chat["id"]] = {
                        "name": _chat_name(chat),
                        "kind": chat.get("chatType") or "chat",
                        "members": [m["userId"] for m in members],
                    }
                    for member in members:
                        add_member(meta.setdefault("people", {}), member)
        except GraphError as error:
            self.outcome.notes.append(f"names not looked up ({error.status} {error.code}): the archive shows ids")
        meta.update(kind=self.target.kind, id=self.target.id)
        self.outcome.name = meta.get("name") or self.target.id
        return meta


def _chat_name(chat: dict[str, Any]) -> str:
    topic = chat.get("topic")
    if isinstance(topic, str) and topic:
        return topic
    people = [m.get("displayName") for m in chat.get("members") or [] if m.get("displayName")]
    return ", ".join(people) or chat["id"]


def _lowest(since_ms: int | None) -> float:
    return float("-inf") if since_ms is None else since_ms


def _newest(current: str | None, candidate: str | None) -> str | None:
    if candidate is None:
        return current
    if current is None or parse_ms(candidate) > parse_ms(current):
        return candidate
    return current
