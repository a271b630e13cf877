"""What load did per conversation: the numbers of the report and of the summary.

A refusal for good (a 4xx no retry mends, a team Teams would not create, a
completion it would not take) is recorded here with Graph's request-id and the
run goes on with everything else; only what the user must fix first (refused
credentials, a missing permission: `InputError`) stops it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from migrator.earlier import Change
from migrator.errors import InputError
from migrator.graph import GraphError
from migrator.plan import CHAT_TYPES, PlannedConversation
from migrator.reports.html import duration
from migrator.stages.load.errors import ProvisionError
from migrator.stages.load.uploads import UploadError
from migrator.stages.outcome import total
from migrator.words import counted

T = TypeVar("T")
REQUEST_IDS_KEPT = 3  # per reason: enough for Microsoft support, few enough for a report line


@dataclass(frozen=True)
class Refusal:
    """What Graph answered, without its request-id (so equal answers count together), and the request-id."""

    what: str
    request_id: str | None = None

    @classmethod
    def of(cls, error: GraphError | ProvisionError) -> Refusal:
        if isinstance(error, GraphError):
            return cls(error.summary(), error.request_id)
        return cls(str(error), error.request_id)

    def __str__(self) -> str:
        return f"{self.what} (request-id {self.request_id})" if self.request_id else self.what


def attempt(call: Callable[[], T]) -> T | Refusal:
    """The call's result, or Graph's refusal of it; errors the user must fix (exit 2) still stop the run."""
    try:
        return call()
    except (GraphError, ProvisionError) as error:
        if isinstance(error, InputError):
            raise
        return Refusal.of(error)


@dataclass
class ConversationOutcome:
    key: str
    team: str
    name: str
    planned: int
    kind: str = "channel"  # channel | private channel | chat, as the reports count them
    posted: int = 0  # landed during this run
    already: int = 0  # had landed before (journal, or a 409 reconciled)
    failed: int = 0
    uploads: int = 0
    grants: int = 0  # chat files shared with their chat (one invite each)
    chat_files_fallback: int = 0  # chat files put in the migration account's OneDrive: their sender has none
    images_moved: int = 0  # inline images Teams refused, posted again as files (docs/graph-contract.md#inline-images)
    images_left_out: int = 0  # the same in a chat: a line names each
    sent_as_text: int = 0  # messages whose real mentions or reactions Teams refused, posted in their text form
    completed: bool = False
    ready: bool = False  # General: everything landed, completed with its team (Provisioner.complete_team)
    reasons: Counter[str] = field(default_factory=Counter)
    request_ids: dict[str, list[str]] = field(default_factory=dict)  # reason → Graph's request-ids (the first few)
    started: float = 0.0
    finished: float = 0.0

    @classmethod
    def of(cls, team: str, conv: PlannedConversation) -> ConversationOutcome:
        """A channel's outcome (`team` its team's display name) or a chat's (`team` "(chats)"), nothing done yet."""
        kind = (
            "chat"
            if conv.membership in CHAT_TYPES
            else "private channel"
            if conv.membership == "private"
            else "channel"
        )
        return cls(conv.key, team, conv.display_name, conv.messages, kind)

    def start(self) -> None:
        self.started = time.monotonic()

    def finish(self) -> None:
        self.finished = time.monotonic()

    @property
    def seconds(self) -> float:
        return max(0.0, self.finished - self.started)

    @property
    def rate(self) -> float:
        """Import requests (messages, uploads, a chat file's grant) per second achieved for this conversation in this
        run."""
        return (self.posted + self.uploads + self.grants) / self.seconds if self.seconds > 0 else 0.0

    def fail(self, reason: str, request_id: str | None = None) -> None:
        """A planned message that did not land."""
        self.failed += 1
        self.note(reason, request_id)

    def note(self, reason: str, request_id: str | None = None) -> None:
        """A problem that is not one message's (an upload, the conversation's creation or completion)."""
        self.reasons[reason] += 1
        if request_id:
            kept = self.request_ids.setdefault(reason, [])
            if len(kept) < REQUEST_IDS_KEPT:
                kept.append(request_id)

    def refused(self, step: str, refusal: Refusal) -> None:
        self.note(f"{step}: {refusal.what}", refusal.request_id)

    def upload_failed(self, name: str, error: GraphError | UploadError) -> None:
        """A file that did not land: Graph's refusal with its request-id, or what was wrong with the upload."""
        if isinstance(error, GraphError):
            self.refused(f"upload {name}", Refusal.of(error))
        else:
            self.note(f"upload {name}: {error}")

    def described_reasons(self) -> list[str]:
        """Each reason with its count and Graph's request-ids, most frequent first."""
        described = []
        for reason, count in self.reasons.most_common():
            ids = self.request_ids.get(reason, [])
            more = "" if len(ids) >= count or not ids else ", …"
            suffix = f"; request-id {', '.join(ids)}{more}" if ids else ""
            described.append(f"{reason} (×{count}{suffix})")
        return described


@dataclass
class LoadOutcome:
    conversations: list[ConversationOutcome] = field(default_factory=list)
    teams_completed: list[str] = field(default_factory=list)
    teams_blocked: dict[str, str] = field(default_factory=dict)  # team → why it was not completed or not finished
    members_added: int = 0
    seconds: float = 0.0
    started: float = 0.0  # time.monotonic() when the load began: the timeline's zero
    critical_seconds: float = 0.0  # the physical limit (migrator.critical) of what this run had to send
    changes: list[Change] = field(default_factory=list)  # changed since the earlier pass (from the plan's transform)

    def count(self, kind: str) -> int:
        """Conversations of one kind: channel, private channel or chat."""
        return sum(1 for c in self.conversations if c.kind == kind)

    def total(self, name: str) -> int:
        return total(self.conversations, name)

    @property
    def blocked_conversations(self) -> list[ConversationOutcome]:
        """Channels and chats left open or never created, each with its reasons."""
        return [c for c in self.conversations if not c.completed]

    @property
    def ok(self) -> bool:
        return self.total("failed") == 0 and not self.teams_blocked and not self.blocked_conversations

    def summary(self) -> str:
        """The line the CLI prints."""
        return (
            f"load: {self.total('posted'):,} posted, {self.total('already'):,} already present, "
            f"{self.total('failed'):,} failed, {counted(self.total('uploads'), 'file')}, "
            f"{counted(self.total('images_moved'), 'image')} moved to files, "
            f"{counted(self.total('sent_as_text'), 'message')} with mentions/reactions sent as text, "
            f"{counted(self.members_added, 'member')} added in {duration(self.seconds)}"
        )
