"""What load did per conversation: the numbers of the report and of the summary."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from migrator.stages.outcome import total


@dataclass
class ConversationOutcome:
    key: str
    team: str
    name: str
    planned: int
    posted: int = 0  # landed during this run
    already: int = 0  # had landed before (journal, or a 409 reconciled)
    failed: int = 0
    uploads: int = 0
    images_moved: int = 0  # inline images Teams refused, posted again as files (docs/graph-contract.md#inline-images)
    images_left_out: int = 0  # the same in a chat, which has no files folder: a line names each
    completed: bool = False
    reasons: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0

    def start(self) -> None:
        self.started = time.monotonic()

    def finish(self) -> None:
        self.finished = time.monotonic()

    @property
    def seconds(self) -> float:
        return max(0.0, self.finished - self.started)

    @property
    def rate(self) -> float:
        """Import requests per second achieved for this conversation in this run."""
        return (self.posted + self.uploads) / self.seconds if self.seconds > 0 else 0.0

    def fail(self, reason: str) -> None:
        self.failed += 1
        self.reasons[reason] += 1


@dataclass
class LoadOutcome:
    conversations: list[ConversationOutcome] = field(default_factory=list)
    teams_completed: list[str] = field(default_factory=list)
    teams_blocked: dict[str, str] = field(default_factory=dict)  # team → why it was not completed
    chats_stuck: dict[str, str] = field(default_factory=dict)  # chat → what Teams answered and what to do
    members_added: int = 0
    seconds: float = 0.0

    def total(self, name: str) -> int:
        return total(self.conversations, name)

    @property
    def ok(self) -> bool:
        return self.total("failed") == 0 and not self.teams_blocked and not self.chats_stuck
