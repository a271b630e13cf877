"""Workers on one PostgreSQL journal: the published plan's units are claimed once at a time, in dependency order,
and a killed worker's units go to another after its leases expire; nothing is lost or posted twice."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest

from migrator.journal import JournalError
from migrator.pgjournal import PostgresJournal
from migrator.workqueue import WorkQueue
from migrator.workstatus import read_status
from plankit import assert_landed_exactly, build_plan
from services import fresh_schema, require_postgres
from test_pgjournal import migrator


@pytest.fixture
def journal_url():
    require_postgres()
    with fresh_schema() as url:
        yield url


def test_units_are_claimed_once_after_what_they_wait_on_and_a_lapsed_lease_goes_to_another(tmp_path, journal_url):
    build_plan(tmp_path, channels=2, messages=3, private=True, chats=True)
    with PostgresJournal(journal_url) as journal:
        queue = WorkQueue(journal)
        assert queue.publish(tmp_path)[1] == 2 + 2 + 1 + 2  # team, 2 channels, finish, private channel, 2 chats
        first = queue.claim("a", 60, ["app"])
        assert first is not None and first.unit.name == "team:acme"  # a team's creation comes first
        taken = [queue.claim("b", 60, ["app"]) for _ in range(2)]
        assert {c.unit.kind for c in taken if c} == {"chat"}, "channels wait on their team, chats on nothing"
        assert queue.claim("b", 60, ["app"]) is None and queue.open_units() == 7
        queue.done("a", "team:acme")
        channels = [queue.claim("b", 0.2, ["app"]), queue.claim("b", 60, ["app"])]
        assert sorted(c.unit.name for c in channels if c) == ["conv:acme/General", "conv:acme/channel-1"]
        assert queue.claim("b", 60, ["app"]) is None, "the finish waits on every standard channel"
        time.sleep(0.3)
        resumed = queue.claim("c", 60, ["app"])  # the lease of 0.2 s expired: another worker resumes the unit
        assert resumed is not None and resumed.previous == "b" and resumed.unit == channels[0].unit
        assert queue.renew("b", [channels[0].unit.name, channels[1].unit.name], 60) == {channels[0].unit.name}
        queue.failed("c", resumed.unit.name, "refused")
        assert {state for (state,) in journal.query("SELECT state FROM work WHERE kind IN ('finish', 'private')")} == {
            "blocked"
        }
        queue.publish(tmp_path)  # publishing again reopens what failed, and keeps what is done
        states = dict(journal.query("SELECT unit, state FROM work"))
        assert states["team:acme"] == "done" and states[resumed.unit.name] == "todo" and states["finish:acme"] == "todo"
        again = queue.claim("d", 60, ["app"])  # claimable at once: the failed unit's worker holds no lease on it
        assert again is not None and again.unit == resumed.unit and again.previous is None


def test_a_worker_killed_mid_run_loses_its_units_to_the_other_which_finishes_exactly_once(
    emulator, tmp_path, tenant, journal_url
):
    build_plan(tmp_path, channels=4, messages=20, private=True, chats=True)
    published = migrator("load", str(tmp_path), "--journal", journal_url, "--publish")
    assert published.returncode == 0 and "published" in published.stdout, published.stdout + published.stderr
    command = [sys.executable, "-m", "migrator", "worker", "--journal", journal_url, "--workers", "2", "--lease", "3"]
    doomed = subprocess.Popen(
        [*command, "--out", str(tmp_path / "a")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    survivor = subprocess.Popen(
        [*command, "--out", str(tmp_path / "b")], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with PostgresJournal(journal_url) as journal:
        deadline = time.monotonic() + 120
        while not _posting(journal, doomed.pid) and time.monotonic() < deadline and doomed.poll() is None:
            time.sleep(0.1)
        assert doomed.poll() is None, "the first worker must still be working when it is killed"
        assert _posting(journal, doomed.pid), "the first worker never held a conversation with messages posted"
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        out, err = survivor.communicate(timeout=300)
        assert survivor.returncode == 0, out.decode() + err.decode()
        assert int(re.search(r"\((\d+) resumed after", out.decode()).group(1)) >= 1, out.decode()
        resumed = [n for (n,) in journal.query("SELECT unit FROM work WHERE claims > 1")]
        assert resumed, "a unit the killed worker held was claimed again"
        assert dict(journal.query("SELECT state, count(*) FROM work GROUP BY state")) == {"done": 9}
    assert_landed_exactly(emulator.operator("dump"), tmp_path)
    verified = migrator("verify", str(tmp_path), "--journal", journal_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shown = migrator("status", "--journal", journal_url, timeout=120)
    assert "units 9 done of 9, 0 failed, 0 blocked, 0 stuck" in shown.stdout, shown.stdout + shown.stderr


def _posting(journal: PostgresJournal, pid: int) -> bool:
    """Whether the worker process `pid` holds a conversation some of whose messages already landed."""
    rows = journal.query(
        "SELECT 1 FROM work w JOIN messages m ON m.conv_key = w.conv_key WHERE w.state = 'todo' AND w.owner LIKE %s "
        "LIMIT 1",
        f"%:{pid}:%",
    )
    return bool(rows)


def test_status_shows_owner_app_progress_rate_and_stuck_leases(tmp_path, journal_url):
    build_plan(tmp_path, channels=2, messages=6, chats=True)
    with PostgresJournal(journal_url) as journal:
        queue = WorkQueue(journal)
        queue.publish(tmp_path)
        assert queue.claim("worker-a", 60, ["app-1"]).unit.name == "team:acme"
        queue.done("worker-a", "team:acme")
        held = queue.claim("worker-a", 60, ["app-1"])
        lapsed = queue.claim("worker-b", 0.1, ["app-1"])
        for index in range(4):
            journal.mark_posted(held.unit.conv_key, f"m{index}", f"id{index}")
        journal.mark_posted(lapsed.unit.conv_key, "m0", "id0")
        failing = queue.claim("worker-a", 60, ["app-1"])
        queue.failed("worker-a", failing.unit.name, "not created: Forbidden (request-id r-9)")
        time.sleep(0.2)
        found = read_status(journal)
    by_name = {unit.unit: unit for unit in found.units}
    mine = by_name[held.unit.name]
    assert (mine.owner, mine.app, mine.posted, mine.planned, mine.working) == ("worker-a", "app-1", 4, 6, True)
    assert mine.rate == pytest.approx(4 / 60) and mine.eta == pytest.approx(2 / (4 / 60))
    assert [u.unit for u in found.stuck] == [lapsed.unit.name] and by_name[lapsed.unit.name].owner == "worker-b"
    assert found.posted == 5 and found.planned == 6 + 6 + 4 + 4  # two channels and two chats
    shown = migrator("status", "--journal", journal_url, "--out", str(tmp_path / "status.html"), timeout=120)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "5 of 20 messages posted" in shown.stdout and "1 failed" in shown.stdout and "1 stuck" in shown.stdout
    assert "worker worker-b, STUCK: expired" in shown.stdout, shown.stdout
    assert "not created: Forbidden (request-id r-9)" in shown.stdout
    page = (tmp_path / "status.html").read_text()
    assert "Stuck leases" in page and "worker-b" in page and "STUCK: expired" in page


def test_a_worker_fetches_the_published_plan_and_only_what_its_cache_lacks(tmp_path, journal_url):
    build_plan(tmp_path / "plan", channels=2, messages=3)
    with PostgresJournal(journal_url) as journal:
        queue = WorkQueue(journal)
        with pytest.raises(JournalError, match="no plan published"):
            queue.fetch_plan(tmp_path / "cache")
        files, _ = queue.publish(tmp_path / "plan")
        assert files == 1 + 2 + 2  # manifest, two request files, two uploads
        manifest = queue.fetch_plan(tmp_path / "cache")
        assert [c.key for _, c in manifest.conversations()] == ["acme/General", "acme/channel-1"]
        for _, conv in manifest.conversations():
            assert (tmp_path / "cache" / conv.file).read_bytes() == (tmp_path / "plan" / conv.file).read_bytes()
        changed = tmp_path / "cache" / manifest.teams[0].channels[0].file
        changed.write_text("edited\n")
        queue.fetch_plan(tmp_path / "cache")
        assert changed.read_bytes() == (tmp_path / "plan" / manifest.teams[0].channels[0].file).read_bytes()
        journal.execute("UPDATE plan_files SET sha256 = 'x' WHERE path = %s", manifest.teams[0].channels[1].file)
        with pytest.raises(JournalError, match="does not match its digest"):
            queue.fetch_plan(tmp_path / "cache")


def test_worker_and_status_refuse_what_they_cannot_use_with_exit_2(tmp_path, journal_url, tenant):
    out = ("--out", str(tmp_path / "worker"))  # worker.log goes there, not into the folder the tests run from
    sqlite = migrator("worker", "--journal", str(tmp_path / "journal.sqlite"), *out, timeout=120)
    assert sqlite.returncode == 2 and "worker: a worker needs the PostgreSQL journal" in sqlite.stderr
    unpublished = migrator("worker", "--journal", journal_url, *out, timeout=120)
    assert unpublished.returncode == 2 and "no plan published" in unpublished.stderr, unpublished.stderr
    empty = migrator("status", "--journal", journal_url.replace("?schema=", "?schema=nothing_"), timeout=120)
    assert empty.returncode == 2 and "no journal here" in empty.stderr, empty.stderr
    build_plan(tmp_path / "plan", channels=1, messages=1)
    assert migrator("load", str(tmp_path / "plan"), "--journal", journal_url, "--publish").returncode == 0
    no_redis = migrator("worker", "--journal", journal_url, "--rate-store", "redis://127.0.0.1:1/0", *out, timeout=120)
    assert no_redis.returncode == 2 and "no Redis answers at 127.0.0.1:1" in no_redis.stderr, no_redis.stderr
    bare = {name: "" for name in tenant}  # an empty variable counts as unset
    anonymous = migrator("worker", "--journal", journal_url, *out, timeout=120, **bare)
    assert anonymous.returncode == 2 and "MIGRATOR_* credentials" in anonymous.stderr, anonymous.stderr


def test_a_worker_whose_lease_another_took_stops_that_conversation_and_resumes_it_later(
    emulator, tmp_path, tenant, journal_url
):
    build_plan(tmp_path / "plan", channels=2, messages=30)
    assert migrator("load", str(tmp_path / "plan"), "--journal", journal_url, "--publish").returncode == 0
    command = ["worker", "--journal", journal_url, "--workers", "1", "--lease", "3", "--out", str(tmp_path)]
    worker = subprocess.Popen(
        [sys.executable, "-m", "migrator", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    with PostgresJournal(journal_url) as journal:
        deadline, stolen = time.monotonic() + 120, None
        while stolen is None and time.monotonic() < deadline and worker.poll() is None:
            rows = journal.query(
                "SELECT w.unit FROM work w JOIN messages m ON m.conv_key = w.conv_key WHERE w.state = 'todo' "
                "AND w.owner IS NOT NULL GROUP BY w.unit HAVING count(*) >= 3"
            )
            stolen = rows[0][0] if rows else None
            time.sleep(0.05)
        assert stolen is not None, "the worker never got 3 messages into a conversation"
        journal.execute(
            "UPDATE work SET owner = 'thief', expires = extract(epoch from clock_timestamp()) + 5 WHERE unit = %s",
            stolen,
        )
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, out.decode() + err.decode()
        ((claims, owner),) = journal.query("SELECT claims, owner FROM work WHERE unit = %s", stolen)
    log = (tmp_path / "worker.log").read_text()
    assert f"stopped {stolen}: another worker holds its lease now" in log, log[-2000:]
    assert claims == 2 and owner != "thief", "the worker claimed it again once the thief's lease expired"
    assert_landed_exactly(emulator.operator("dump"), tmp_path / "plan")
