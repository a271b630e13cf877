"""One app's import budget shared by several workers through a real Redis (migrator.graph.sharedrate)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from migrator.graph.sharedrate import SharedRate
from services import REDIS_URL, require_redis


@pytest.fixture
def app():
    """An app id of its own, so that tests never share windows; its Redis keys are deleted afterwards."""
    require_redis()
    import redis

    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    store = redis.Redis.from_url(REDIS_URL)
    for key in store.scan_iter(match=f"*{name}*"):
        store.delete(key)


def test_two_workers_of_one_app_share_its_window(app):
    workers = [SharedRate(REDIS_URL, "tenant", app, 1000.0, window=(20, 1)) for _ in range(2)]
    started: list[float] = []
    lock = threading.Lock()

    def send(worker: SharedRate) -> None:
        for _ in range(20):
            worker.acquire()
            with lock:
                started.append(time.monotonic())

    threads = [threading.Thread(target=send, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started.sort()
    assert len(started) == 40
    busiest = max(sum(1 for t in started if first <= t < first + 1.0) for first in started)
    # Unshared, each worker would send its 20 at once: 40 in the first second. Times are taken after acquire returns,
    # so on a loaded machine a few land late; the shared window still keeps any second far from 40.
    assert busiest <= 25, "within any second both workers together stay in the app's 20 (and recording's jitter)"
    assert started[-1] - started[0] >= 0.9, "the second 20 waited for the first to leave the window"


def test_another_app_has_a_window_of_its_own(app):
    mine = SharedRate(REDIS_URL, "tenant", app, 1000.0, window=(5, 10))
    other = SharedRate(REDIS_URL, "tenant", app + "-other", 1000.0, window=(5, 10))
    began = time.monotonic()
    for _ in range(5):
        mine.acquire()
        other.acquire()
    assert time.monotonic() - began < 2.0, "each app's 5 fit its own window at once"


def test_a_cut_one_worker_makes_on_tenant_wide_429s_is_followed_by_the_others(app):
    cutting = SharedRate(REDIS_URL, "tenant", app, 1000.0)
    following = SharedRate(REDIS_URL, "tenant", app, 1000.0)
    for _ in range(50):
        cutting.acquire()
    for index in range(10):  # 429s on two conversations, a fifth of what was sent: the tenant is over its cap
        cutting.throttled(f"channel:{index % 2}")
    assert cutting.rate < 1000.0
    factor = cutting.rate / 1000.0
    following.acquire()
    assert following.rate == pytest.approx(1000.0 * factor, rel=0.01)
    late = SharedRate(REDIS_URL, "tenant", app, 1000.0)  # started after the cut: not news to it
    late.acquire()
    assert late.rate == 1000.0
