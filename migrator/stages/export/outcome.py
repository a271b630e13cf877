"""What an export run did, per target and overall: the numbers of the summary line and export-summary.json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from migrator.stages.outcome import GraphCounts, total
from migrator.words import counted

DONE, PAYMENT_REQUIRED, FAILED = "done", "payment required", "failed"


@dataclass(frozen=True)
class Target:
    """A team (its channels) or a user (their chats)."""

    kind: str  # "team" | "user"
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def path(self) -> str:
        """The getAllMessages collection (v1.0) that holds every message of the target."""
        if self.kind == "team":
            return f"/teams/{self.id}/channels/getAllMessages"
        return f"/users/{self.id}/chats/getAllMessages"

    @property
    def folder(self) -> str:
        return "teams" if self.kind == "team" else "users"


@dataclass
class TargetOutcome:
    target: Target
    name: str = ""
    status: str = ""  # done | payment required | failed
    error: str | None = None
    filter: str | None = None  # the $filter of the first span fetched
    resumed: bool = False  # continued an interrupted run from its cursor
    pages: int = 0
    messages: int = 0  # chatMessages received (versions, including repeats after an interruption)
    new: int = 0  # versions written for the first time
    deleted: int = 0  # received with deletedDateTime set
    conversations: int = 0
    attachments: int = 0  # links listed in the target's attachments.csv
    images: int = 0  # downloaded in this run
    images_present: int = 0  # already on disk
    image_failures: list[str] = field(default_factory=list)
    files: int = 0  # attached files downloaded in this run (--attachments download)
    files_present: int = 0  # already on disk
    file_failures: list[str] = field(default_factory=list)  # not fetched, with the reason; the target completes
    notes: list[str] = field(default_factory=list)  # what could not be looked up, e.g. names without a permission
    watermark: str | None = None
    fetched: list[str] = field(default_factory=list)  # the spans of lastModifiedDateTime this run asked for
    covered: str = ""  # what the archive holds once this run ended (coverage.describe)
    gaps: bool = False  # the archive holds only parts of the history: covered says which
    seconds: float = 0.0


@dataclass
class ExportOutcome(GraphCounts):
    targets: list[TargetOutcome] = field(default_factory=list)
    stopped: str | None = None  # why the whole run stopped (a tenant-wide 402), said once
    retries: int = 0
    errors: int = 0

    def total(self, name: str) -> int:
        return total(self.targets, name)

    def count(self, status: str) -> int:
        return sum(1 for t in self.targets if t.status == status)

    @property
    def ok(self) -> bool:
        return all(t.status == DONE and not t.image_failures for t in self.targets)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        done, paid, failed = self.count(DONE), self.count(PAYMENT_REQUIRED), self.count(FAILED)
        gaps = sum(1 for t in self.targets if t.status == DONE and t.gaps)
        return (
            f"export: {counted(len(self.targets), 'target')} ({done:,} done, {paid:,} payment required, "
            f"{failed:,} failed), {counted(self.total('messages'), 'message')} ({self.total('new'):,} new, "
            f"{self.total('deleted'):,} deleted), {counted(self.total('pages'), 'page')}, "
            f"{counted(self.total('images'), 'image')}, {counted(self.total('files'), 'file')}, "
            f"{counted(self.requests, 'request')}, {self.throttled:,} throttled, {counted(self.errors, 'error')} in "
            f"{self.seconds:.1f} s: {self.requests_per_second:.1f} requests/s"
            + (f"; coverage has gaps in {gaps:,} of {counted(len(self.targets), 'target')}" if gaps else "")
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "targets": [dict(asdict(t), target=t.target.key) for t in self.targets],
            "stopped": self.stopped,
            "totals": {
                name: self.total(name)
                for name in ("pages", "messages", "new", "deleted", "images", "attachments", "files")
            },
            "requests": self.requests,
            "throttled": self.throttled,
            "retries": self.retries,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.requests_per_second, 1),
        }
