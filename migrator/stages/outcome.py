"""What every stage's outcome shares: rows (a conversation, an export target) whose counts add up to the run's."""

from __future__ import annotations

from collections.abc import Iterable


def total(rows: Iterable[object], name: str) -> int:
    """One count (`posted`, `found`, `pages`…) summed over an outcome's rows."""
    return sum(getattr(row, name) for row in rows)
