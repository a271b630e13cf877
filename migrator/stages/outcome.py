"""What the stages' outcomes share: rows (a conversation, an export target) whose counts add up to the run's,
and the Graph counters of a run."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class GraphCounts:
    """What a run that reads Graph cost: requests sent (retries included), 429 answers, and its wall time."""

    requests: int = 0
    throttled: int = 0
    seconds: float = 0.0


def total(rows: Iterable[object], name: str) -> int:
    """One count (`posted`, `found`, `pages`…) summed over an outcome's rows."""
    return sum(getattr(row, name) for row in rows)
