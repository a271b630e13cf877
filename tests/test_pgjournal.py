"""The commands on a PostgreSQL journal (--journal URL or MIGRATOR_JOURNAL_URL): load, verify, a dry run, reset and
a kill -9 land the same as on SQLite, exactly once."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time

import pytest

from migrator.journals import open_journal
from plankit import assert_landed_exactly, build_plan
from services import fresh_schema, require_postgres
from test_load import conversation_requests


@pytest.fixture
def journal_url():
    require_postgres()
    with fresh_schema() as url:
        yield url


def migrator(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migrator", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )


def test_load_verify_dry_run_and_reset_on_a_postgresql_journal(emulator, tmp_path, tenant, journal_url):
    build_plan(tmp_path, channels=2, messages=6, private=True, chats=True)
    loaded = migrator("load", str(tmp_path), MIGRATOR_JOURNAL_URL=journal_url)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert not (tmp_path / "journal.sqlite").exists(), "the URL, not the plan folder's SQLite file, holds the journal"
    assert_landed_exactly(emulator.operator("dump"), tmp_path)
    verified = migrator("verify", str(tmp_path), "--journal", journal_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    dry = migrator("load", str(tmp_path), "--journal", journal_url, "--dry-run")
    assert "channel: Acme / channel-1: 0 of 6 messages to post" in dry.stdout, dry.stdout + dry.stderr
    with open_journal(journal_url, readonly=True) as journal:
        assert journal.team("acme") is not None and journal.team("acme").state == "done"
    reset = migrator("reset", str(tmp_path), "--team", "Acme", "--yes", "--journal", journal_url)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert emulator.operator("dump")["teams"] == []
    again = migrator("load", str(tmp_path), "--journal", journal_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_landed_exactly(emulator.operator("dump"), tmp_path)


def test_verify_refuses_a_schema_that_holds_no_journal(tmp_path, tenant, journal_url):
    build_plan(tmp_path, channels=1, messages=1)
    result = migrator("verify", str(tmp_path), "--journal", journal_url, timeout=120)
    assert result.returncode == 2 and "no journal here" in result.stderr, result.stdout + result.stderr


def test_kill_minus_nine_on_a_postgresql_journal_never_duplicates_or_loses(emulator, tmp_path, tenant, journal_url):
    build_plan(tmp_path, channels=2, messages=30)
    command = [sys.executable, "-m", "migrator", "load", str(tmp_path), "--workers", "2", "--journal", journal_url]
    rng = random.Random(7)
    for _ in range(3):
        posted = conversation_requests(emulator)
        loader = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while conversation_requests(emulator) == posted and loader.poll() is None:
            time.sleep(0.05)  # kill only once this run is posting
        time.sleep(rng.uniform(0.0, 2.0))
        loader.send_signal(signal.SIGKILL)
        loader.wait()
    final = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0 and "0 failed" in final.stdout, final.stdout + final.stderr
    assert_landed_exactly(emulator.operator("dump"), tmp_path)
    already = int(re.search(r"(\d+) already present", final.stdout).group(1))
    assert 0 < already < 60, "the killed runs must have landed part of the plan, and not all of it"
