"""Which stretches of `lastModifiedDateTime` a target's archive already holds, and which a run must still fetch.

A run asks for a window (all time by default) and must come back with every
message changed in it: it fetches each part of the window no earlier run
completed, and records what it completed. Windows that overlap, touch or
leave gaps between them, asked for in any order, then add up to exactly
their union; nothing is reported "done" that was never fetched.

Graph's filter is `lastModifiedDateTime gt A and lt B` and stamps have
millisecond precision, so a window is kept as the closed range of whole
milliseconds it selects, `[A+1, B-1]`: two windows that meet at an instant
join without that instant being skipped (`lt T` then `gt T`) or fetched twice.
"""

from __future__ import annotations

from collections.abc import Iterable

from migrator.timestamps import format_ms, parse_ms

Span = tuple[int | None, int | None]
"""Closed range of ms; None on a side: unbounded (the beginning, or whatever is changed next)."""

EVERYTHING: Span = (None, None)


def window(since_ms: int | None, until_ms: int | None) -> Span:
    """The span `lastModifiedDateTime gt since and lt until` selects."""
    return (None if since_ms is None else since_ms + 1, None if until_ms is None else until_ms - 1)


def bounds(span: Span) -> tuple[int | None, int | None]:
    """The `gt` and `lt` values that select exactly `span`."""
    low, high = span
    return (None if low is None else low - 1, None if high is None else high + 1)


_FIRST, _LAST = -(2**62), 2**62  # stand for the open sides while computing


def _closed(span: Span) -> tuple[int, int]:
    return (_FIRST if span[0] is None else span[0], _LAST if span[1] is None else span[1])


def _open(low: int, high: int) -> Span:
    return (None if low <= _FIRST else low, None if high >= _LAST else high)


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union as disjoint spans in time order; spans that overlap or touch become one."""
    out: list[list[int]] = []
    for low, high in sorted(_closed(s) for s in spans):
        if out and low <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], high)
        else:
            out.append([low, high])
    return [_open(low, high) for low, high in out]


def missing(requested: Span, covered: Iterable[Span]) -> list[Span]:
    """The parts of `requested` that no covered span holds, in time order."""
    low, high = _closed(requested)
    gaps = []
    for start, end in (_closed(s) for s in merge(covered)):
        if start > low:
            gaps.append(_open(low, min(high, start - 1)))
        low = max(low, end + 1)
        if low > high:
            break
    else:
        gaps.append(_open(low, high))
    return [g for g in gaps if _closed(g)[0] <= _closed(g)[1]]


def contains(spans: Iterable[Span], ms: int) -> bool:
    return any((low is None or low <= ms) and (high is None or ms <= high) for low, high in spans)


def to_json(spans: Iterable[Span]) -> list[list[str | None]]:
    """As state.json keeps them: ISO times to the millisecond, null for an open side."""
    return [[_iso(low), _iso(high)] for low, high in spans]


def from_json(raw: object) -> list[Span]:
    """Raises ValueError or TypeError for anything to_json did not write."""
    if not isinstance(raw, list):
        raise TypeError(f"covered must be a list, not {type(raw).__name__}")
    spans = []
    for item in raw:
        low, high = item
        spans.append((_ms(low), _ms(high)))
    return merge(spans)


def from_the_beginning(spans: list[Span]) -> bool:
    """One span that starts at the beginning: no message before its end was left out."""
    return len(spans) == 1 and spans[0][0] is None


def describe(spans: list[Span]) -> str:
    """The coverage in words, for the summary: 'everything', 'nothing', or the spans."""
    if not spans:
        return "nothing"
    if spans == [EVERYTHING]:
        return "everything"
    return ", ".join(
        f"{'the beginning' if low is None else format_ms(low)} to {'now' if high is None else format_ms(high)}"
        for low, high in spans
    )


def _iso(ms: int | None) -> str | None:
    return None if ms is None else format_ms(ms)


def _ms(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"a coverage bound must be a time or null, not {value!r}")
    return parse_ms(value)
