"""verify from the source: the plan's ledger compared with Teams finds what a comparison with the plan cannot —
a record with no fate, a record planned but never posted, a reply under another thread than its source's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from migratekit import migrate_sample
from migrator.cli import app
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.ledger import LEDGER, read_ledger
from migrator.plan import Manifest, read_lines, write_lines
from migrator.reports.verify import write
from migrator.stages.export import export_limiter
from migrator.stages.load import LoadOptions, load
from migrator.stages.verify import VerifyOptions, VerifyOutcome, verify
from migrator.target import Target as GraphTarget
from tests.slackkit import REPO

SAMPLE = REPO / "sample_data" / "mattermost"  # threads in channels, an archived private channel and DMs


def run_verify(emulator: Any, plan: Path, journal: Path) -> VerifyOutcome:
    with Journal(journal, readonly=True) as j, GraphClient(emulator.graph_config(), limiter=export_limiter()) as client:
        return verify(plan, client, j, VerifyOptions())


def unaccounted(outcome: VerifyOutcome) -> list[tuple[str, str | None, str]]:
    return [(u.conversation, u.id, u.detail) for s in outcome.sources or [] for u in s.unaccounted]


def plan_lines(plan: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every plan line by its key, with the plan key of its channel or chat."""
    manifest = Manifest.read(plan)
    return {line["key"]: (c.key, line) for _, c in manifest.conversations() for line in read_lines(plan, c)}


def test_a_migration_verifies_clean_from_the_source_and_a_moved_reply_is_unaccounted(emulator, tmp_path) -> None:
    migration = migrate_sample(emulator, SAMPLE, tmp_path)
    plan = migration.plan.plan_dir
    assert migration.verified.ok and migration.verified.unaccounted == 0
    sources = {s.conversation: s for s in migration.verified.sources or []}
    assert sum(s.records for s in sources.values()) == 33
    assert sum(s.landed for s in sources.values()) == sum(s.planned for s in sources.values()) == 23
    assert sources["northwind.leadership"].fates == {"archived": 3}  # nobody could read it in Teams

    ledger = list(read_ledger(plan))
    reply = next(line for line in ledger if "thread" in line)
    lines = plan_lines(plan)
    target, _ = lines[reply["keys"][0]]
    own_root = lines[reply["keys"][0]][1]["root_key"]
    other_root = next(
        key for key, (where, line) in lines.items() if where == target and line["kind"] == "root" and key != own_root
    )
    with Journal(migration.journal, readonly=True) as journal:
        ids, channel = journal.posted(target), journal.conversation_id(target)
    emulator.operator(
        "mutate", {"op": "move", "conversation": channel, "message": ids[reply["keys"][0]], "to": ids[other_root]}
    )
    outcome = run_verify(emulator, plan, migration.journal)
    [(conversation, record, detail)] = unaccounted(outcome)
    assert (conversation, record) == (reply["conversation"], reply["id"])
    assert detail.startswith(f"landed under {ids[other_root]}; its source thread {reply['thread']} became ")
    assert not outcome.ok

    json_path, html_path = write(outcome, tmp_path / "verify")
    assert json.loads(json_path.read_text(encoding="utf-8"))["unaccounted"] == 1
    page = html_path.read_text(encoding="utf-8")
    assert 'id="sources"' in page and 'id="unaccounted-list"' in page and reply["id"] in page


def test_a_record_dropped_from_the_plan_or_the_ledger_is_unaccounted(emulator, tenant, tmp_path) -> None:
    """A record transform planned but left out of the plan file passes the comparison with the plan (the plan
    does not have it); the ledger still does. A record with no ledger line is counted against what was read."""
    migration = migrate_sample(emulator, SAMPLE, tmp_path / "clean")
    plan = migration.plan.plan_dir
    ledger = list(read_ledger(plan))
    lines = plan_lines(plan)
    replied = {line["root_key"] for _, line in lines.values() if line["root_key"]}
    dropped = next(line for line in ledger if line["fate"] == "planned" and line["keys"][0] not in replied)
    target, _ = lines[dropped["keys"][0]]
    conversation = next(c for _, c in Manifest.read(plan).conversations() if c.key == target)
    kept = [line for line in read_lines(plan, conversation) if line["key"] != dropped["keys"][0]]
    write_lines(plan / conversation.file, iter(kept))
    emulator.operator("reset", {})
    journal = tmp_path / "clean" / "journal.sqlite"
    journal.unlink()
    reloaded = load_and_verify(emulator, plan, journal)
    assert all(c.ok for c in reloaded.conversations), "the comparison with the plan sees nothing wrong"
    assert unaccounted(reloaded) == [
        (dropped["conversation"], dropped["id"], f"planned as {dropped['keys'][0]}, not in Teams")
    ]

    without = [line for line in read_ledger(plan) if line != dropped]
    (plan / LEDGER).write_text("".join(json.dumps(line) + "\n" for line in without), encoding="utf-8")
    outcome = run_verify(emulator, plan, journal)
    assert unaccounted(outcome) == [(dropped["conversation"], None, "read but without a line in the ledger: 1 record")]
    assert not outcome.ok
    command = CliRunner().invoke(app, ["verify", str(plan), "--journal", str(journal), "--out", str(tmp_path / "v")])
    assert command.exit_code == 1, command.output
    assert f"unaccounted: {dropped['conversation']}: read but without a line in the ledger: 1 record" in command.output
    assert ", 1 unaccounted;" in command.output


def load_and_verify(emulator: Any, plan: Path, journal: Path) -> VerifyOutcome:
    """Load a plan as it is now into the emulator, as `migrator load` does, then verify it."""
    emulator.operator("config", {"channel_rps": 10_000})
    with Journal(journal) as j, GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        j.bind(GraphTarget(emulator.graph_config(), None).fingerprint)
        assert load(plan, client, j, LoadOptions(workers=4)).ok
    return run_verify(emulator, plan, journal)
