"""The critical path of a load (migrator.critical): the physical limit, and the order it gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from migrator.critical import chain_requests, critical_path, planned_requests
from migrator.plan import PlannedConversation, PlannedTeam, PlannedUpload


def conv(key: str, messages: int, membership: str = "standard", uploads: int = 0) -> PlannedConversation:
    files = [
        PlannedUpload(key=f"{key}-F{i}", name=f"f{i}", path=f"files/{i}", size=1, sha256="0") for i in range(uploads)
    ]
    return PlannedConversation(
        key, key, f"{key}.jsonl", "2022-01-01T00:00:00.000Z", messages, membership=membership, uploads=files
    )


def team(key: str, *channels: PlannedConversation) -> PlannedTeam:
    return PlannedTeam(key, key.upper(), "2022-01-01T00:00:00.000Z", channels=list(channels))


def test_planned_requests_count_messages_files_the_folder_read_and_the_completion():
    assert planned_requests(conv("a", 10)) == 11
    assert planned_requests(conv("a", 10, uploads=3)) == 10 + 3 + 1 + 1


def test_a_team_chain_is_its_largest_standard_channel_then_its_largest_private_one():
    t = team("t", conv("t/big", 99), conv("t/small", 9), conv("t/p1", 49, "private"), conv("t/p2", 4, "private"))
    path = critical_path([t], [conv("chat", 199, "group")])
    assert path.seconds == 200 / 5  # the chat: 40 s beats the team's 100/5 + 50/5 = 30 s
    assert [round(chain.seconds, 3) for chain in path.chains] == [30.0, 40.0]
    assert path.longest is not None and path.longest.name == "chat"
    # A standard channel carries its team's private chain; a private channel only itself (it starts later).
    assert path.priority("t/big") == 100 / 5 + 50 / 5
    assert path.priority("t/small") == 10 / 5 + 50 / 5
    assert path.priority("t/p1") == 50 / 5
    assert path.priority("chat") == 40.0


def test_the_order_puts_a_small_channel_of_a_long_chain_before_a_bigger_lone_one():
    """A team whose private channel is long: its standard channels must start before a bigger chat."""
    t = team("t", conv("t/general", 19), conv("t/private", 299, "private"))
    path = critical_path([t], [conv("chat", 99, "group")])
    ordered = sorted(["chat", "t/general"], key=path.priority, reverse=True)
    assert ordered == ["t/general", "chat"]
    assert path.seconds == (20 + 300) / 5


def test_a_private_channel_an_earlier_pass_opened_runs_alongside_the_standard_ones():
    """A delta pass (issue 27): the private channel exists in a completed team, so it waits for nothing."""
    t = team("t", conv("t/general", 19), conv("t/private", 19, "private"))
    assert critical_path([t], []).seconds == (20 + 20) / 5
    path = critical_path([t], [], open_private=frozenset({"t/private"}))
    assert path.seconds == 20 / 5 and path.priority("t/general") == path.priority("t/private") == 20 / 5


def test_remaining_requests_and_the_rate_are_the_callers():
    t = team("t", conv("t/a", 99))
    path = critical_path([t], [], requests=lambda c: 10, rps=1.0)
    assert path.seconds == 10.0


def test_an_empty_plan_takes_no_time():
    assert critical_path([], []).seconds == 0.0
    assert critical_path([], []).longest is None


@given(st.lists(st.tuples(st.integers(0, 500), st.booleans()), min_size=1, max_size=12))
def test_the_limit_is_at_least_every_conversation_and_at_most_all_of_a_team(sizes):
    channels = [conv(f"t/{i}", n, "private" if private else "standard") for i, (n, private) in enumerate(sizes)]
    path = critical_path([team("t", *channels)], [])
    each = [planned_requests(c) / 5 for c in channels]
    assert max(each) <= path.seconds <= sum(each) + 1e-9
    assert all(path.priority(c.key) <= path.seconds + 1e-9 for c in channels)


def test_a_chain_in_requests_is_the_largest_standard_then_the_largest_private():
    assert chain_requests([10, 30, 20], [5, 7]) == 37
    assert chain_requests([12], []) == 12
    assert chain_requests([], []) == 0
