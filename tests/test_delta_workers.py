"""The delta pass through workers on a PostgreSQL journal (issue 27 with issue 22's `load --publish` and `worker`):
publishing a newer export's plan makes the units an earlier pass finished claimable again when they have new lines
or new members, and the workers land every new message once."""

from __future__ import annotations

import pytest

import deltakit
from migratekit import NOW_MS, demo_lookup, plan_sample
from migrator.mapping import source_reference
from migrator.mapping.update import run_update
from migrator.pgjournal import PostgresJournal
from migrator.stages.transform import transform
from services import fresh_schema, require_postgres
from test_pgjournal import migrator


@pytest.fixture
def journal_url():
    require_postgres()
    with fresh_schema() as url:
        yield url


def publish_and_work(plan, journal_url: str, out) -> None:
    published = migrator("load", str(plan), "--journal", journal_url, "--publish")
    assert published.returncode == 0, published.stdout + published.stderr
    worked = migrator("worker", "--journal", journal_url, "--workers", "2", "--out", str(out))
    assert worked.returncode == 0, worked.stdout + worked.stderr


def test_workers_move_only_what_a_newer_export_adds(emulator, tmp_path, tenant, journal_url) -> None:
    emulator.operator("config", {"channel_rps": 10_000})
    work = tmp_path / "out"
    plan_sample(deltakit.export(tmp_path / "early" / "acme", later=False), work)
    publish_and_work(work / "plan", journal_url, tmp_path / "first")
    later = deltakit.export(tmp_path / "late" / "acme", later=True)
    run_update(later, work / "mappings", demo_lookup, source_reference(later, work / "mappings"))
    since = ["--mappings", str(work / "mappings"), "--since", str(work), "--journal", journal_url]
    dry = migrator("analyse", str(later), "--out", str(tmp_path / "dry"), *since)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"{deltakit.new_messages()} new messages in 6 conversations (2 new)" in dry.stdout
    transform(later, work / "mappings", work / "plan", now_ms=NOW_MS)
    publish_and_work(work / "plan", journal_url, tmp_path / "delta")
    with PostgresJournal(journal_url, readonly=True) as journal:
        assert {state for (state,) in journal.query("SELECT state FROM work")} == {"done"}
        posted = journal.query("SELECT count(*) FROM messages WHERE state = 'posted'")[0][0]
    first_pass = len(deltakit.CHANNELS) * deltakit.PER_CHANNEL + deltakit.DM_MESSAGES
    assert posted == first_pass + deltakit.new_messages()  # the message deleted since stays in the journal
    verified = migrator("verify", str(work / "plan"), "--journal", journal_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    team = emulator.operator("dump")["teams"][0]
    assert {c["migrationMode"] for c in team["channels"]} == {"completed"}
