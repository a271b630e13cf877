"""Timeline rules (docs/graph-contract.md#import-message-rules) as properties over any input, plus worked examples."""

from __future__ import annotations

from collections.abc import Hashable
from typing import NamedTuple

from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.stages.transform.timeline import (
    CHANNEL_COLLISION,
    FUTURE,
    REASONS,
    REPLY_BEFORE_ROOT,
    THREAD_ORDER,
    place,
    thread_order,
)


class Entry(NamedTuple):
    """A message to place (a `timeline.Placeable`), as the planner's own records are."""

    thread: Hashable
    us: int  # source time, UTC microseconds
    root: bool
    span: int = 1  # consecutive milliseconds it needs (parts of a split message)


NOW = 1_700_000_000_000  # ms
BASE_US = NOW * 1000 - 10_000  # 10 ms before now: crowded and close to the future on purpose


@st.composite
def targets(draw: st.DrawFn) -> tuple[list[Entry], int]:
    """Threads whose times crowd into a few milliseconds, some replies before their root, some in the future."""
    threads = draw(st.integers(1, 8))
    entries = []
    for thread in range(threads):
        root_us = BASE_US + draw(st.integers(-3000, 12_000))
        entries.append(Entry(thread, root_us, True, draw(st.sampled_from([1, 1, 1, 2, 3]))))
        for _ in range(draw(st.integers(0, 6))):
            entries.append(
                Entry(thread, root_us + draw(st.integers(-4000, 6000)), False, draw(st.sampled_from([1, 1, 2])))
            )
    order = draw(st.permutations(range(len(entries))))
    return [entries[i] for i in order], NOW


def milliseconds(entries: list[Entry], placements: list) -> list[int]:
    return [p.ms + k for e, p in zip(entries, placements, strict=True) for k in range(e.span)]


@settings(max_examples=400, deadline=None)
@given(targets())
def test_every_rule_holds_for_any_input(target: tuple[list[Entry], int]) -> None:
    entries, now = target
    placements = place(entries, now)
    assert len(placements) == len(entries)  # none dropped, none duplicated
    used = milliseconds(entries, placements)
    assert len(used) == len(set(used)), "a millisecond is used twice in the target"
    assert max(used) <= now, "a message is in the future"
    for members in thread_order(entries).values():
        ends = [(placements[i].ms, placements[i].ms + entries[i].span - 1) for i in members]
        for (_, previous_end), (start, _) in zip(ends, ends[1:], strict=False):
            assert start > previous_end, "a thread does not ascend"
        root = members[0]
        assert entries[root].root
        assert all(placements[i].ms > placements[root].ms for i in members[1:]), "a reply is not after its root"
    for entry, placement in zip(entries, placements, strict=True):
        assert placement.original == entry.us // 1000
        assert placement.moved == bool(placement.reasons), "an adjustment without its reason, or a reason without one"
        assert set(placement.reasons) <= set(REASONS)
        if placement.ms > placement.original:
            assert set(placement.reasons) & {THREAD_ORDER, REPLY_BEFORE_ROOT, CHANNEL_COLLISION}, (
                "moved later for no rule"
            )
        if placement.ms < placement.original:
            assert FUTURE in placement.reasons, "moved earlier although it was not in the future"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**12), min_size=1, max_size=50, unique_by=lambda us: us // 1000))
def test_distinct_roots_in_the_past_keep_their_time(times: list[int]) -> None:
    entries = [Entry(i, us, True) for i, us in enumerate(times)]
    assert all(not p.moved for p in place(entries, NOW))


def test_same_millisecond_in_a_thread_moves_one_ms_later() -> None:
    entries = [Entry(0, 5_000_100, True), Entry(0, 5_000_400, False), Entry(0, 5_000_900, False)]
    placed = place(entries, NOW)
    assert [p.ms for p in placed] == [5000, 5001, 5002]
    assert [p.reasons for p in placed] == [[], [THREAD_ORDER], [THREAD_ORDER]]


def test_reply_before_its_root_lands_just_after_it() -> None:
    placed = place([Entry(0, 9_000_000, True), Entry(0, 1_000_000, False), Entry(0, 2_000_000, False)], NOW)
    assert [p.ms for p in placed] == [9000, 9001, 9002]
    assert placed[1].reasons == [REPLY_BEFORE_ROOT] and placed[1].original == 1000


def test_two_threads_in_one_millisecond_are_told_apart_across_the_channel() -> None:
    placed = place([Entry(0, 7_000_000, True), Entry(1, 7_000_500, True), Entry(0, 7_001_000, False)], NOW)
    assert [p.ms for p in placed] == [7000, 7001, 7002]
    assert placed[1].reasons == [CHANNEL_COLLISION]
    assert placed[2].reasons == [CHANNEL_COLLISION]  # its own millisecond went to the other thread


def test_a_split_message_takes_consecutive_milliseconds() -> None:
    placed = place([Entry(0, 1_000_000, True, span=3), Entry(1, 1_001_000, True), Entry(0, 1_002_000, False)], NOW)
    assert [p.ms for p in placed] == [1000, 1003, 1004]  # parts at 1000, 1001, 1002


def test_future_messages_are_pulled_back_keeping_their_order() -> None:
    placed = place(
        [
            Entry(0, (NOW - 1) * 1000, True),
            Entry(0, (NOW + 5000) * 1000, False),
            Entry(1, (NOW + 60_000) * 1000, True, span=2),
        ],
        NOW,
    )
    # the latest goes first: the split message needs two free milliseconds, NOW-1 is the root's
    assert [p.ms - NOW for p in placed] == [-1, 0, -3]
    assert [p.reasons for p in placed] == [[], [FUTURE], [FUTURE]]


def test_a_reply_moved_after_its_root_and_back_onto_its_own_time_was_not_adjusted() -> None:
    placed = place([Entry(0, (NOW + 5000) * 1000, True), Entry(0, NOW * 1000, False)], NOW)
    assert [p.ms - NOW for p in placed] == [-1, 0]
    assert [p.reasons for p in placed] == [[FUTURE], []] and not placed[1].moved


def test_a_crowd_in_one_millisecond_is_spread_in_linear_time() -> None:
    entries = [Entry(i, 1_000_000, True) for i in range(50_000)]
    placed = place(entries, NOW)
    assert sorted(p.ms for p in placed) == list(range(1000, 51_000))


def test_a_crowd_in_the_future_is_pulled_back_in_linear_time() -> None:
    entries = [Entry(i, (NOW + 60_000) * 1000, True) for i in range(50_000)]
    placed = place(entries, NOW)
    assert sorted(p.ms for p in placed) == list(range(NOW - 49_999, NOW + 1))
