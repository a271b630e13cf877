"""What verify found, per conversation and in total: the content of verify.json and verify.html."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from migrator.stages.outcome import GraphCounts, total
from migrator.stages.verify.source import SourceCheck
from migrator.words import counted

PROBLEMS = ("missing", "duplicated", "mismatched")


@dataclass
class Finding:
    """One planned message that did not land as planned, or one message nobody planned."""

    conversation: str  # plan key of the channel or chat
    key: str | None  # plan key of the message (None for an unexpected message)
    createdDateTime: str
    ids: list[str]  # Teams message ids involved
    detail: str

    def describe(self, problem: str) -> str:
        """The line verify prints for it (and preflight's canary reports), `problem` being missing, duplicated…"""
        return f"{problem}: {self.conversation} {self.key} at {self.createdDateTime}: {self.detail}"


@dataclass
class ConversationCheck:
    key: str
    team: str
    name: str
    graph_id: str | None
    expected: int  # planned messages: the plan file's lines once read, the manifest's count until then
    found: int = 0  # planned messages present in Teams (once or more, not deleted)
    missing: list[Finding] = field(default_factory=list)
    duplicated: list[Finding] = field(default_factory=list)
    mismatched: list[Finding] = field(default_factory=list)
    unexpected: list[Finding] = field(default_factory=list)  # in Teams, not in the plan (e.g. posted after migration)
    images: int = 0  # inline images compared byte for byte
    error: str | None = None  # why the conversation could not be read

    @property
    def ok(self) -> bool:
        return self.error is None and not any(getattr(self, name) for name in PROBLEMS)

    def problems(self) -> list[str]:
        """One line per missing, duplicated or mismatched message."""
        return [finding.describe(name) for name in PROBLEMS for finding in getattr(self, name)]


@dataclass
class VerifyOutcome(GraphCounts):
    conversations: list[ConversationCheck] = field(default_factory=list)
    sources: list[SourceCheck] | None = None  # the ledger compared with Teams; None for a plan without a ledger

    @property
    def unaccounted(self) -> int:
        return sum(len(s.unaccounted) for s in self.sources or [])

    @property
    def ok(self) -> bool:
        """Clean: every planned message landed as planned, and no source record is unaccounted."""
        return all(c.ok for c in self.conversations) and self.unaccounted == 0

    def count(self, name: str) -> int:
        return sum(len(getattr(c, name)) for c in self.conversations)

    def total(self, name: str) -> int:
        return total(self.conversations, name)

    def as_json(self) -> dict[str, Any]:
        """`{"expected", "found", "missing", "duplicated", "mismatched"}` in total and per conversation."""
        findings = {
            name: [asdict(f) for c in self.conversations for f in getattr(c, name)]
            for name in (*PROBLEMS, "unexpected")
        }
        return {
            "ok": self.ok,
            "expected": self.total("expected"),
            "found": self.total("found"),
            **findings,
            "images": self.total("images"),
            "errors": [{"conversation": c.key, "error": c.error} for c in self.conversations if c.error],
            "conversations": [dict(asdict(c), ok=c.ok) for c in self.conversations],
            "unaccounted": self.unaccounted if self.sources is not None else None,
            "sources": [asdict(s) for s in self.sources] if self.sources is not None else None,
            "requests": self.requests,
            "throttled": self.throttled,
            "seconds": round(self.seconds, 3),
        }

    def _no_conversation(self) -> str:
        """The records the reader could not place in a conversation, named apart (`ledger.NO_CONVERSATION`)."""
        records = sum(s.records for s in self.sources or [] if not s.conversation)
        return f" ({records:,} in no conversation)" if records else ""

    def summary(self) -> str:
        errors = sum(1 for c in self.conversations if c.error)
        source = (
            f"{counted(sum(s.records for s in self.sources), 'source record')}"
            f"{self._no_conversation()}, {self.unaccounted:,} unaccounted"
            if self.sources is not None
            else "no ledger, so not compared with the source"
        )
        return (
            f"verify: {counted(len(self.conversations), 'conversation')}, "
            f"{counted(self.total('expected'), 'message')} expected, "
            f"{self.total('found'):,} found, {self.count('missing'):,} missing, {self.count('duplicated'):,} "
            "duplicated, "
            f"{self.count('mismatched'):,} mismatched, {self.count('unexpected'):,} unexpected, "
            f"{errors:,} not readable; {source}; {counted(self.total('images'), 'image')} compared; "
            f"{counted(self.requests, 'request')} ({self.throttled:,} throttled) in {self.seconds:.1f} s"
        )
