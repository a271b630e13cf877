"""Coverage: windows asked for in any order add up to exactly their union, and nothing is reported done unfetched."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.stages.export import ExportOptions, Target, coverage, export
from migrator.stages.export.coverage import Span
from migrator.timestamps import parse_ms
from test_export import SampleTeam, archived, client_fixture, graph_fixture, team_fixture  # noqa: F401  (fixtures by name)

RANGE = range(-5, 45)  # the instants the property test reasons about; None stands beyond both ends


def instants(spans: list[Span]) -> set[int]:
    return {ms for ms in RANGE if coverage.contains(spans, ms)}


bound = st.one_of(st.none(), st.integers(min_value=0, max_value=40))


@st.composite
def windows(draw: st.DrawFn) -> tuple[int | None, int | None]:
    since, until = draw(bound), draw(bound)
    if since is not None and until is not None and since >= until:
        since, until = until, since + 1 if since == until else since
    return since, until


@settings(max_examples=300, deadline=None)
@given(st.lists(windows(), min_size=1, max_size=6))
def test_fetching_what_is_missing_of_each_window_covers_exactly_their_union(asked):
    covered: list[Span] = []
    wanted: set[int] = set()
    for since, until in asked:
        requested = coverage.window(since, until)
        gaps = coverage.missing(requested, covered)
        fetched = instants(gaps)
        assert not fetched & instants(covered), "a gap overlaps what is covered: fetched twice"
        assert fetched | (instants(covered) & instants([requested])) == instants([requested]), "a gap was skipped"
        for gap in gaps:  # each gap's filter selects exactly the gap
            low, high = coverage.bounds(gap)
            assert instants([gap]) == {ms for ms in RANGE if (low is None or ms > low) and (high is None or ms < high)}
        covered = coverage.merge([*covered, *gaps])
        wanted |= instants([requested])
        assert instants(covered) == wanted
        assert coverage.from_json(coverage.to_json(covered)) == covered


def test_merging_joins_spans_that_touch_but_not_those_a_millisecond_apart():
    assert coverage.merge([(5, 9), (None, 2), (10, 12)]) == [(None, 2), (5, 12)]
    assert coverage.merge([(1, 2), (4, None)]) == [(1, 2), (4, None)]
    assert coverage.missing(coverage.EVERYTHING, [(1, 2), (4, None)]) == [(None, 0), (3, 3)]
    assert coverage.describe([]) == "nothing" and coverage.describe([coverage.EVERYTHING]) == "everything"


# ------------------------------------------------------- against the emulator
def windows_over(team: SampleTeam) -> dict[str, tuple[int | None, int | None]]:
    """Named windows over the team's stamps: overlapping, disjoint, touching at a message's own stamp."""
    stamps = sorted(parse_ms(m["lastModifiedDateTime"]) for m in team.posted.values())
    return {
        "early": (stamps[10], stamps[30]),
        "overlapping": (stamps[25] - 1, stamps[50]),
        "touching": (stamps[50] - 1, stamps[60]),  # takes stamps[50], which `overlapping` leaves out (lt)
        "disjoint": (stamps[70], stamps[80]),
        "open start": (None, stamps[5]),
    }


def selected(team: SampleTeam, spans: list[tuple[int | None, int | None]]) -> set[str]:
    def inside(ms: int) -> bool:
        return any((s is None or ms > s) and (u is None or ms < u) for s, u in spans)

    return {m["id"] for m in team.posted.values() if inside(parse_ms(m["lastModifiedDateTime"]))}


ORDERS = [
    ("early", "overlapping", "touching", "disjoint", "open start"),
    ("disjoint", "touching", "open start", "overlapping", "early"),
    ("overlapping", "early", "disjoint", "open start", "touching"),
]


@pytest.mark.parametrize("order", ORDERS, ids=["forward", "backward", "mixed"])
def test_windows_in_any_order_add_up_to_exactly_their_union_and_then_everything(client, team, tmp_path, order):
    target, named = Target("team", team.id), windows_over(team)
    asked: list[tuple[int | None, int | None]] = []
    for name in order:
        since, until = named[name]
        result = export(client, [target], tmp_path, ExportOptions(since_ms=since, until_ms=until)).targets[0]
        fresh = selected(team, [(since, until)]) - selected(team, asked)
        asked.append((since, until))
        lines = archived(tmp_path, target)
        assert result.status == "done" and result.new == len(fresh) == result.messages, name
        assert [m["id"] for m in lines] == list({m["id"]: 1 for m in lines}), "a version was written twice"
        assert {m["id"] for m in lines} == selected(team, asked), name
    state = json.loads((tmp_path / "state.json").read_text())["targets"][target.key]
    assert coverage.from_json(state["covered"]) == coverage.merge(coverage.window(s, u) for s, u in asked)

    everything = export(client, [target], tmp_path, ExportOptions()).targets[0]
    assert everything.new == len(team.posted) - len(selected(team, asked)) == everything.messages
    assert sorted(m["id"] for m in archived(tmp_path, target)) == sorted(team.posted)
    assert everything.covered == "everything" or everything.covered.startswith("the beginning to ")

    for since, until in asked:  # every window asked for is now covered: nothing is fetched again
        again = export(client, [target], tmp_path, ExportOptions(since_ms=since, until_ms=until)).targets[0]
        assert again.pages == 0 and "exported by an earlier run" in again.notes[0]


def test_a_dated_run_then_an_undated_one_fetches_what_came_before_the_window(client, team, tmp_path):
    """The bug the issue reports: after a dated window, a run without dates fetched only what came after it."""
    target = Target("team", team.id)
    stamps = sorted(parse_ms(m["lastModifiedDateTime"]) for m in team.posted.values())
    window = ExportOptions(since_ms=stamps[40], until_ms=stamps[60])
    export(client, [target], tmp_path, window)
    after = export(client, [target], tmp_path, ExportOptions()).targets[0]
    assert len(after.fetched) == 2 and after.fetched[0].startswith("the beginning to ")
    assert sorted(m["id"] for m in archived(tmp_path, target)) == sorted(team.posted)
    earlier = ExportOptions(since_ms=stamps[0], until_ms=stamps[40])
    assert export(client, [target], tmp_path, earlier).targets[0].pages == 0  # covered by the undated run


def test_a_state_file_without_coverage_fetches_everything_once(client, team, tmp_path):
    """An archive of an earlier version kept only a watermark, which a dated run may have set: trust nothing."""
    target = Target("team", team.id)
    export(client, [target], tmp_path, ExportOptions())
    path = tmp_path / "state.json"
    saved = json.loads(path.read_text())
    del saved["targets"][target.key]["covered"]
    path.write_text(json.dumps(saved))
    again = export(client, [target], tmp_path, ExportOptions()).targets[0]
    assert again.messages == len(team.posted) and again.new == 0


def test_pairs_of_adjacent_windows_leave_no_instant_between_them():
    for since, middle, until in itertools.combinations((None, 3, 7, 11), 3):
        if middle is None:
            continue
        left, right = coverage.window(since, middle + 1), coverage.window(middle, until)
        assert coverage.merge([left, right]) == [coverage.window(since, until)]
