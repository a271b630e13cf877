"""How a long stage reports its progress without drawing it.

Stages call these methods as their work advances; the command line implements
them with rich bars on a terminal and a plain line every few seconds otherwise
(`migrator.cli.progress`). Library callers, tests and benchmarks leave the
stage's default, `NO_PROGRESS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from migrator.stages.export.outcome import TargetOutcome


class LoadProgress(Protocol):
    """What `load` reports: each conversation it will post to, then every message it handled."""

    def add(self, key: str, name: str, messages: int) -> None:
        """A conversation to load and the messages it plans; called for each one before the first message."""

    def advance(self, key: str, started: float) -> None:
        """One more message of conversation `key` handled; `started` (time.monotonic) is when that conversation's
        loading began, for its rate."""


class ExportProgress(Protocol):
    """What `export` reports per target; the outcome carries the counts so far (messages, pages, status)."""

    def started(self, target: TargetOutcome) -> None:
        """The target's export began."""

    def page(self, target: TargetOutcome) -> None:
        """One more page of the target's messages is stored."""

    def finished(self, target: TargetOutcome) -> None:
        """The target is done, or failed: its status and error say which."""


class _Silent:
    """Progress that goes nowhere: satisfies both protocols."""

    def add(self, key: str, name: str, messages: int) -> None:
        pass

    def advance(self, key: str, started: float) -> None:
        pass

    def started(self, target: TargetOutcome) -> None:
        pass

    page = finished = started


NO_PROGRESS = _Silent()
