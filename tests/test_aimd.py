"""The tenant-wide adaptive import rate (migrator.graph.aimd), on a fake clock."""

from __future__ import annotations

from migrator.graph.aimd import AdaptiveRate


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def rate_with(clock: FakeClock, **options: float) -> AdaptiveRate:
    return AdaptiveRate(1500.0, clock=clock, sleep=clock.sleep, **options)  # type: ignore[arg-type]


def test_429s_on_one_conversation_alone_leave_the_tenant_rate_alone():
    clock = FakeClock()
    pace = rate_with(clock)
    for _ in range(5):
        pace.throttled("channel:a")
    assert pace.rate == 1500.0


def test_429s_on_several_conversations_cut_the_rate_to_a_fraction_of_what_was_admitted():
    clock = FakeClock()
    pace = rate_with(clock, decrease=0.9)
    for _ in range(60):  # 60 requests in 0.6 s, of which 10 answered 429 on two conversations
        pace.acquire()
        clock.now += 0.01
    for index in range(10):
        pace.throttled(f"channel:{index % 2}")
    # Cut at the second 429 (2% of 60 is 1.2, and it is the second conversation's), to 90% of the 58 admitted: not
    # 1500 × 0.9, the first cut lands near the cap; the eight after it, in the same window, cut nothing more.
    assert pace.rate == (60 - 2) * 0.9


def test_scattered_429s_say_nothing_about_the_rate():
    """A few percent of requests answered 429 here and there (as `--faults 429:0.05` does): the first cut leaves them
    as they were, so it is undone, and they never cut the rate again."""
    clock = FakeClock()
    pace = rate_with(clock)
    rates = []
    for sent in range(1, 2001):
        pace.acquire()
        clock.now += 0.01
        if sent % 20 == 0:
            pace.throttled(f"channel:{sent % 7}")
        rates.append(pace.rate)
    assert min(rates) < 1500.0 and rates[300:] == [1500.0] * (len(rates) - 300)  # cut once, for two seconds at most


def test_a_cut_that_removed_the_429s_stays():
    """429s that stop once the rate is cut were about the rate: no noise is learnt, the cut holds."""
    clock = FakeClock()
    pace = rate_with(clock, increase=0.0)
    for index in range(50):
        pace.acquire()
        clock.now += 0.01
        if index >= 40:
            pace.throttled(f"channel:{index % 3}")
    cut = pace.rate
    assert cut < 50
    for _ in range(300):  # three seconds more, no 429
        pace.acquire()
        clock.now += 0.01
    assert pace.rate == cut


def test_the_rate_rises_additively_while_no_429_comes_up_to_the_ceiling():
    clock = FakeClock()
    pace = rate_with(clock, increase=2.0)
    for _ in range(10):
        pace.acquire()
    pace.throttled("a")
    pace.throttled("b")
    cut = pace.rate
    assert cut == 8 * 0.9
    clock.now += 3.5
    assert pace.rate == cut + 3 * 2.0
    clock.now += 10_000
    assert pace.rate == 1500.0


def test_requests_are_spaced_at_the_rate_and_it_never_falls_below_the_floor():
    clock = FakeClock()
    pace = rate_with(clock, floor=4.0, decrease=0.1)
    pace.acquire()
    pace.throttled("a")
    pace.throttled("b")  # everything sent was refused
    assert pace.rate == 4.0
    starts = []
    for _ in range(4):
        pace.acquire()
        starts.append(clock.now)
    assert [round(b - a, 9) for a, b in zip(starts, starts[1:], strict=False)] == [0.25, 0.25, 0.25]


def test_it_converges_on_a_tenant_cap_with_few_429s():
    """A simulated tenant admitting 50 requests/s in each second, conversations sending as fast as allowed: after the
    first second (the budget's burst, cut at once), at least 90% of the cap with at most 1% of requests answered 429
    (issue 19's target)."""
    clock = FakeClock()
    pace = rate_with(clock)
    admitted: dict[int, int] = {}
    sent: dict[int, int] = {}
    throttled: dict[int, int] = {}
    while clock.now < 200.0:
        pace.acquire()
        second = int(clock.now)
        sent[second] = sent.get(second, 0) + 1
        if admitted.get(second, 0) >= 50:
            throttled[second] = throttled.get(second, 0) + 1
            pace.throttled(f"conversation-{sent[second] % 20}")
        else:
            admitted[second] = admitted.get(second, 0) + 1
    steady = range(101, 200)
    assert sum(admitted[s] for s in steady) / len(steady) >= 0.9 * 50
    assert sum(throttled.get(s, 0) for s in steady) <= 0.01 * sum(sent[s] for s in steady)


def test_a_load_against_a_tenant_cap_slows_down_tenant_wide_and_lands_everything_once(emulator, tmp_path):
    """The emulator's tenant_message_rps (serve --tenant-message-rps) caps imports below what 4 channels at 5/s send:
    the client's tenant rate comes down from the budget, and nothing is lost or doubled."""
    from pathlib import Path

    from conftest import DEFAULT_CONFIG
    from migrator.graph import GraphClient
    from migrator.journal import Journal
    from migrator.stages.load import LoadOptions, load
    from plankit import assert_landed_exactly, build_plan

    build_plan(tmp_path, channels=4, messages=30)
    emulator.operator("config", {**DEFAULT_CONFIG, "tenant_message_rps": 8})
    try:
        with (
            Journal(Path(tmp_path) / "journal.sqlite") as journal,
            GraphClient(emulator.graph_config(), backoff_base=0.05) as client,
        ):
            journal.bind("test")
            outcome = load(tmp_path, client, journal, LoadOptions())
            assert outcome.ok
            assert emulator.operator("stats")["totals"]["throttled"] > 0
            assert client.pace.rate < 100  # cut from 1,500 towards the cap
    finally:
        emulator.operator("config", DEFAULT_CONFIG)
    assert_landed_exactly(emulator.operator("dump"), tmp_path)
