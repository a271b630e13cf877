import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from migrator.graph import RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps, recording every sleep."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake():
    return FakeTime()


def limiter(fake, **kwargs):
    return RateLimiter(clock=fake.clock, sleep=fake.sleep, **kwargs)


def run(lim, key, fake, duration=0.0):
    """One request that takes `duration`; returns when it started."""
    with lim.slot(key):
        started = fake.now
        fake.now += duration
    return started


def test_five_per_key_then_wait_one_period(fake):
    lim = limiter(fake, per_key=5, period=1.0)
    starts = [run(lim, "a", fake) for _ in range(11)]
    assert starts == [100.0] * 5 + [101.0] * 5 + [102.0]
    assert fake.sleeps == [1.0, 1.0]


def test_window_runs_from_start_until_period_after_finish(fake):
    lim = limiter(fake, per_key=1, period=1.0)
    run(lim, "a", fake, duration=0.5)  # starts at 100.0, finishes at 100.5
    # A start-based window would allow 101.0; the server may have seen it as late as 100.5.
    assert run(lim, "a", fake) == pytest.approx(101.5)


def test_wait_is_for_the_earliest_entry_that_frees_the_budget(fake):
    lim = limiter(fake, per_key=5, period=1.0)
    run(lim, "a", fake, duration=0.5)  # counts until 101.5
    fake.now = 100.0
    for _ in range(4):
        run(lim, "a", fake)  # each counts until 101.0
    assert run(lim, "a", fake) == pytest.approx(101.0)
    assert fake.sleeps == [pytest.approx(1.0)]


def test_in_flight_requests_count_until_they_finish(fake):
    lim = limiter(fake, per_key=1, period=1.0)
    started = threading.Event()
    with lim.slot("a"):
        fake.now += 5.0  # far past the period: the open request must still block
        waiter = threading.Thread(target=lambda: (lim.slot("a").__enter__(), started.set()))
        waiter.start()
        assert not started.wait(0.05)
        fake.now += 0.25  # the request finishes at 105.25
    waiter.join(2)
    assert started.is_set()
    assert fake.now == pytest.approx(106.25)


def test_keys_are_independent(fake):
    lim = limiter(fake, per_key=5, period=1.0)
    for _ in range(5):
        run(lim, "channel:a", fake)
    assert [run(lim, "channel:b", fake) for _ in range(5)] == [100.0] * 5
    assert fake.sleeps == []


def test_shared_cap_spans_keys(fake):
    lim = limiter(fake, per_key=5, shared=3, shared_period=2.0)
    starts = [run(lim, f"k{i}", fake) for i in range(7)]
    assert starts == [100.0] * 3 + [102.0] * 3 + [104.0]


def test_key_none_counts_only_against_shared_cap(fake):
    lim = limiter(fake, per_key=1, shared=4)
    assert [run(lim, None, fake) for _ in range(3)] == [100.0] * 3
    assert run(lim, "a", fake) == 100.0  # the per-key budget of "a" is untouched by None
    assert run(lim, None, fake) == 101.0  # but the shared cap is now full


def test_no_shared_cap_means_key_none_is_free(fake):
    lim = limiter(fake, per_key=1)
    assert [run(lim, None, fake) for _ in range(50)] == [100.0] * 50


def test_unlimited(fake):
    lim = RateLimiter.unlimited()
    for _ in range(100):
        with lim.slot("a"):
            pass
    assert lim.active_keys == 0


def test_idle_keys_are_dropped(fake):
    lim = limiter(fake, per_key=5, period=1.0)
    for i in range(2000):
        run(lim, f"channel:{i}", fake)
    assert lim.active_keys == 2000
    fake.now += 1.5
    run(lim, "channel:last", fake)
    assert lim.active_keys == 1


def test_real_threads_never_exceed_limit_in_any_window():
    """3 keys x 12 requests with jittery durations: no window of `period` ever sees more than 5 per key."""
    period, per_key, per_run = 0.05, 5, 12
    lim = RateLimiter(per_key=per_key, period=period)
    record = {key: [] for key in ("a", "b", "c")}
    lock = threading.Lock()

    def request(key, i):
        with lim.slot(key):
            start = time.monotonic()
            time.sleep(0.001 * (i % 4))  # network jitter
            finish = time.monotonic()
        with lock:
            record[key].append((start, finish))

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=36) as pool:
        for future in [pool.submit(request, key, i) for key in record for i in range(per_run)]:
            future.result()
    elapsed = time.monotonic() - began

    for intervals in record.values():
        assert len(intervals) == per_run
        edges = [t for interval in intervals for t in interval]
        for a in edges:  # any window's worst case starts at an edge
            seen = sum(1 for start, finish in intervals if start < a + period and finish >= a)
            assert seen <= per_key
    # 12 requests at 5 per window need at least 2 full windows; keys run in parallel, not one after another
    # (checked by overlap, not by a wall-clock bound that a busy machine would break).
    assert elapsed >= 2 * period
    first_starts = [min(start for start, _ in intervals) for intervals in record.values()]
    last_finishes = [max(finish for _, finish in intervals) for intervals in record.values()]
    assert max(first_starts) < min(last_finishes)
