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

    def chains(self, chains: list[tuple[list[str], list[str]]]) -> None:
        """The conversations that follow one another (migrator.critical): per team its standard channels,
        then its private ones; per chat itself. The longest chain left is the time the load still needs."""


class ExportProgress(Protocol):
    """What `export` reports per target; the outcome carries the counts so far (messages, pages, status)."""

    def started(self, target: TargetOutcome) -> None:
        """The target's export began."""

    def page(self, target: TargetOutcome) -> None:
        """One more page of the target's messages is stored."""

    def finished(self, target: TargetOutcome) -> None:
        """The target is done, or failed: its status and error say which."""


class FetchProgress(Protocol):
    """What `fetch` reports: the files it will download, their bytes as they arrive, and each file as it ends."""

    def to_fetch(self, files: int, size: int) -> None:
        """The downloads of this run and their bytes as the export gives them; called once, before the first."""

    def received(self, size: int) -> None:
        """Bytes written to disk (negative when a download is undone to be tried again); called from workers."""

    def file_done(self) -> None:
        """One more download ended, fetched or not."""


class _Silent:
    """Progress that goes nowhere: satisfies every protocol."""

    def add(self, key: str, name: str, messages: int) -> None:
        pass

    def advance(self, key: str, started: float) -> None:
        pass

    def chains(self, chains: list[tuple[list[str], list[str]]]) -> None:
        pass

    def started(self, target: TargetOutcome) -> None:
        pass

    page = finished = started

    def to_fetch(self, files: int, size: int) -> None:
        pass

    def received(self, size: int) -> None:
        pass

    def file_done(self) -> None:
        pass


NO_PROGRESS = _Silent()
