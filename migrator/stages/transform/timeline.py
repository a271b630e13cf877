"""Millisecond times every message of a target channel or chat can be imported at.

The import API keeps `createdDateTime` to the millisecond, refuses one already
used anywhere in the channel or chat (409), refuses a reply older than its
root and anything in the future (docs/graph-contract.md#import-message-rules). Slack times are
microseconds, several source channels may merge into one target, and exports
contain duplicates and replies stamped before their root. So, in order:

1. every source time is truncated to its millisecond (as Graph would);
2. within a thread (root first, then replies by source time) a time equal to
   or before the previous one becomes previous + 1 ms; a reply stamped
   before its root therefore lands at root + 1 ms;
3. across the whole target, in time order, a millisecond already taken moves
   to the next free one that keeps its thread ascending;
4. anything after `now` is pulled back, latest first, to the latest free
   millisecond that keeps its thread ascending.

A split message occupies `span` consecutive milliseconds, one per part. Every
moved message keeps its original time and the rules that moved it, for the
report; a message that ends where it started (a reply moved after its root,
then pulled back with it out of the future) was not adjusted and has no
reasons. Pure functions of times, spans and thread identities, so the property tests can hammer them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

THREAD_ORDER = "thread_order"  # same millisecond as, or before, the previous message of its thread
REPLY_BEFORE_ROOT = "reply_before_root"
CHANNEL_COLLISION = "channel_collision"  # its millisecond was taken elsewhere in the target
FUTURE = "future"
REASONS = {
    THREAD_ORDER: "same millisecond as (or earlier than) the previous message of its thread: moved just after it",
    REPLY_BEFORE_ROOT: "reply stamped before its thread's first message: moved just after it",
    CHANNEL_COLLISION: "millisecond already used in the target channel or chat: moved to the next free one",
    FUTURE: "time in the future: moved back to the latest free millisecond before the transform ran",
}


class Placeable(Protocol):
    """What placing reads of a message, and all it reads: the planner's own per-message records are
    placed as they are, without a copy per message."""

    @property
    def thread(self) -> Hashable: ...  # which thread of the target it belongs to

    @property
    def us(self) -> int: ...  # source time, UTC microseconds

    @property
    def root(self) -> bool: ...

    @property
    def span(self) -> int: ...  # consecutive milliseconds it needs (parts of a split message)


@dataclass(slots=True)
class Placement:
    ms: int  # planned createdDateTime of its first part, UTC milliseconds
    original: int  # the source time truncated to the millisecond
    reasons: list[str] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        return self.ms != self.original


def place(entries: Sequence[Placeable], now_ms: int) -> list[Placement]:
    """A placement per entry, in the same order, meeting every rule above."""
    placements = [Placement(e.us // 1000, e.us // 1000, []) for e in entries]
    threads = thread_order(entries)
    _order_threads(entries, threads, placements)
    if _unique(entries, placements) > now_ms:
        _pull_back(entries, placements, now_ms)
    for placement in placements:
        if placement.ms == placement.original:
            placement.reasons.clear()  # moved forward, then back onto its own time: not an adjustment
    return placements


def thread_order(entries: Sequence[Placeable]) -> dict[Hashable, list[int]]:
    """Entry indexes per thread in the order they must ascend: the root, then replies by source time."""
    threads: dict[Hashable, list[int]] = defaultdict(list)
    for index, entry in enumerate(entries):
        threads[entry.thread].append(index)
    for members in threads.values():
        if len(members) > 1:  # most threads are a lone message; indexes are already ascending, the sort is stable
            members.sort(key=lambda i: (not entries[i].root, entries[i].us))
    return threads


def _order_threads(
    entries: Sequence[Placeable], threads: dict[Hashable, list[int]], placements: list[Placement]
) -> None:
    for members in threads.values():
        if len(members) == 1:  # a lone message has nothing to be ordered after
            continue
        first = entries[members[0]]
        root_us = first.us if first.root else None
        previous_end: int | None = None
        for index in members:
            entry, placement = entries[index], placements[index]
            if previous_end is not None and placement.ms <= previous_end:
                before_root = root_us is not None and not entry.root and entry.us < root_us
                placement.reasons.append(REPLY_BEFORE_ROOT if before_root else THREAD_ORDER)
                placement.ms = previous_end + 1
            previous_end = placement.ms + entry.span - 1


def _unique(entries: Sequence[Placeable], placements: list[Placement]) -> int:
    """Step 3: in time order, each entry takes the first free milliseconds at or after its own.

    Returns the latest millisecond taken (-1 without entries), so step 4 runs only when it must.
    """
    taken = _Taken(1)
    thread_end: dict[Hashable, int] = {}
    latest = -1
    for index in time_order(placements):
        entry, placement = entries[index], placements[index]
        lower = placement.ms
        previous = thread_end.get(entry.thread)
        if previous is not None and previous >= lower:
            lower = previous + 1
        start = taken.free_run(lower, entry.span)
        if start != placement.ms:
            placement.reasons.append(CHANNEL_COLLISION)
            placement.ms = start
        end = thread_end[entry.thread] = start + entry.span - 1
        taken.take(start, end)
        if end > latest:
            latest = end
    return latest


def _pull_back(entries: Sequence[Placeable], placements: list[Placement], now_ms: int) -> None:
    """Step 4: latest first, so each entry only ever needs to stay below what follows it in its thread.

    An entry that moves lands strictly below its old milliseconds, and every
    entry handled after it lies below those too, so the milliseconds it
    leaves are never wanted again: they stay marked, and the search for the
    latest free run can use the same jump table as step 3, walking down.
    """
    taken = _Taken(-1)
    for entry, placement in zip(entries, placements, strict=True):
        taken.take(placement.ms, placement.ms + entry.span - 1)
    next_start: dict[Hashable, int] = {}
    for index in reversed(time_order(placements)):
        entry, placement = entries[index], placements[index]
        upper = now_ms - entry.span + 1
        if entry.thread in next_start:
            upper = min(upper, next_start[entry.thread] - entry.span)
        if placement.ms > upper:
            start = taken.free_run(upper + entry.span - 1, entry.span) - entry.span + 1
            placement.reasons.append(FUTURE)
            placement.ms = start
            taken.take(start, start + entry.span - 1)
        next_start[entry.thread] = placement.ms


def time_order(placements: list[Placement]) -> list[int]:
    """Indexes by placed ms, ties in entry order (the sort is stable, so no (ms, index) tuples are built)."""
    return sorted(range(len(placements)), key=[p.ms for p in placements].__getitem__)


class _Taken:
    """Used milliseconds, with a jump table so a crowd in one millisecond costs linear, not quadratic, time.

    `step` is the direction searches walk: +1 finds the first free millisecond
    at or after one, -1 the last at or before it.
    """

    def __init__(self, step: int) -> None:
        self.step = step
        self._next: dict[int, int] = {}  # taken ms -> a ms further along `step` to look at next

    def free(self, ms: int) -> int:
        jumps = self._next
        if ms not in jumps:  # most times are free: no path to compress
            return ms
        path = []
        while ms in jumps:
            path.append(ms)
            ms = jumps[ms]
        for visited in path:
            jumps[visited] = ms
        return ms

    def free_run(self, ms: int, span: int) -> int:
        """The nearest ms at or beyond `ms` (along `step`) where `span` free milliseconds follow in a row."""
        start = self.free(ms)
        offset = 1
        while offset < span:
            probe = start + offset * self.step
            found = self.free(probe)
            if found != probe:
                start, offset = found, 1
            else:
                offset += 1
        return start

    def take(self, first: int, last: int) -> None:
        for ms in range(first, last + 1):
            self._next[ms] = ms + self.step
