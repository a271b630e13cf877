"""Pre-stage, then a delta pass (issue 27): the same plan folder and journal, a newer export of the same workspace.

Through the emulator over HTTPS: the later export's new messages land once, in conversations completed by the
first pass (reopened with startMigration) and in new ones; late replies under the root migrated earlier; the
counts say what was posted now and what had landed before, never more.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import deltakit
from migratekit import NOW_MS, demo_lookup, migrate_sample, plan_sample
from migrator.cli import app
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.ledger import read_ledger
from migrator.mapping import run_map, source_reference
from migrator.mapping.update import run_update
from migrator.plan import Manifest, PlannedConversation, read_lines
from migrator.reports.load import write as write_load_report
from migrator.stages.export import export_limiter
from migrator.stages.load import LoadOptions, LoadOutcome, load
from migrator.stages.load.delta import count_landed, read_landed
from migrator.stages.load.estimate import estimate
from migrator.stages.load.reset import reset_team, team_reset
from migrator.stages.transform import TransformError, summary, transform
from migrator.stages.verify import VerifyOptions, verify
from migrator.stages.verify.outcome import VerifyOutcome
from migrator.target import Target

FIRST_PASS = len(deltakit.CHANNELS) * deltakit.PER_CHANNEL + deltakit.DM_MESSAGES


def load_again(emulator, work: Path) -> LoadOutcome:
    with (
        Journal(work / "journal.sqlite") as journal,
        GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client,
    ):
        journal.bind(Target(emulator.graph_config(), None).fingerprint)
        return load(work / "plan", client, journal, LoadOptions(workers=4))


def verify_again(emulator, work: Path) -> VerifyOutcome:
    with (
        Journal(work / "journal.sqlite", readonly=True) as journal,
        GraphClient(emulator.graph_config(), limiter=export_limiter()) as client,
    ):
        return verify(work / "plan", client, journal, VerifyOptions())


CONSULTANT_EDIT = "Acme, pre-staged by the consultant"


def first_pass_then_newer_export(emulator, tmp_path: Path) -> Path:
    """The earlier export migrated cleanly, the consultant's edits in the mappings; then the later one: the
    mappings updated (`map --update`) and planned into the same folder."""
    work, later = first_pass_then_mappings_updated(emulator, tmp_path)
    transform(later, work / "mappings", work / "plan", now_ms=NOW_MS)
    return work


def first_pass_then_mappings_updated(emulator, tmp_path: Path) -> tuple[Path, Path]:
    """The earlier pass into `out`, and the later export with the mappings updated for it (not planned yet)."""
    work = tmp_path / "out"
    first = migrate_sample(emulator, deltakit.export(tmp_path / "early" / "acme", later=False), work)
    assert first.loaded.ok and first.loaded.total("posted") == FIRST_PASS
    mappings = work / "mappings"
    yaml = (mappings / "migration.yaml").read_text(encoding="utf-8")
    edited = yaml.replace("description: Migrated from the Slack workspace acme", f"description: {CONSULTANT_EDIT}")
    (mappings / "migration.yaml").write_text(edited.replace("teams:\n", "teams:  # reviewed with IT\n", 1))
    later = deltakit.export(tmp_path / "late" / "acme", later=True)
    updated = run_update(later, mappings, demo_lookup, source_reference(later, mappings))
    assert (updated.added, updated.gone, updated.teams_added) == (["#design (C4)", "#secret (G1)"], [], [])
    assert (updated.people_added, updated.people_gone) == (["Katherine Johnson (U4)"], [])
    return work, later


def test_the_delta_dry_run_says_what_the_delta_pass_will_send_and_touches_nothing(emulator, tmp_path: Path) -> None:
    work, later = first_pass_then_mappings_updated(emulator, tmp_path)
    plan_before = (work / "plan" / "manifest.json").read_bytes()
    requests = emulator.operator("stats")["totals"]["requests"]
    dry = tmp_path / "dry"
    args = ["analyse", str(later), "--out", str(dry), "--mappings", str(work / "mappings"), "--since", str(work)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "  new channel: acme / design: 10 new messages" in result.output
    assert "  new private channel: acme / secret: 10 new messages" in result.output
    assert "  channel: acme / dev: 20 new messages" in result.output
    assert f"delta since {work}: {deltakit.new_messages()} new messages in 6 conversations (2 new)" in result.output
    assert "1 edited, 1 deleted, 1 renamed, 1 archived, 1 left" in result.output
    delta = json.loads((dry / "delta.json").read_text())
    assert sum(row["new"] for row in delta["rows"]) == deltakit.new_messages()
    assert 0 < delta["limit_seconds"] <= delta["seconds"]
    assert (work / "plan" / "manifest.json").read_bytes() == plan_before
    assert emulator.operator("stats")["totals"]["requests"] == requests  # nothing sent to Teams


def test_map_update_keeps_the_consultants_edits_and_adds_what_is_new(emulator, tmp_path: Path) -> None:
    work = first_pass_then_newer_export(emulator, tmp_path)
    yaml = (work / "mappings" / "migration.yaml").read_text(encoding="utf-8")
    assert CONSULTANT_EDIT in yaml and "teams:  # reviewed with IT" in yaml
    assert "source: ../../late/acme" in yaml and "- source: C4" in yaml
    assert "channel: dev\n" in yaml  # the channel renamed in the source still fills the channel it filled
    users = (work / "mappings" / "users.csv").read_text(encoding="utf-8")
    assert users.count("\n") == 1 + len(deltakit.USERS) + len(deltakit.NEW_USERS) and "U4,Katherine" in users


def test_the_delta_pass_posts_every_new_message_once_and_counts_only_what_landed(emulator, tmp_path: Path) -> None:
    work = first_pass_then_newer_export(emulator, tmp_path)
    delta = load_again(emulator, work)
    assert delta.total("posted") == deltakit.new_messages()
    assert delta.total("already") == FIRST_PASS - 1  # the message deleted in the source is in no plan line
    assert delta.total("failed") == 0 and delta.ok, delta.blocked_conversations
    assert all(c.completed for c in delta.conversations)
    assert delta.members_added == len(deltakit.NEW_USERS) and delta.teams_completed == ["acme"]
    dump = emulator.operator("dump")
    conversations = [
        *(c for team in dump["teams"] for c in team["channels"]),
        *(c for c in dump["chats"] if c["migrationMode"]),
    ]
    assert len(conversations) == len(deltakit.CHANNELS + deltakit.NEW_CHANNELS + deltakit.NEW_GROUPS + deltakit.DMS)
    assert {c["migrationMode"] for c in conversations} == {"completed"}
    verified = verify_again(emulator, work)
    assert verified.ok, verified.summary()
    ops = next(c for c in verified.conversations if c.key == "acme/ops")
    assert ops.unexpected == []  # the message deleted in the source is expected in Teams (the chat holds demo ones)


def test_what_changed_since_the_earlier_pass_is_listed_with_its_fate(emulator, tmp_path: Path) -> None:
    work = first_pass_then_newer_export(emulator, tmp_path)
    report = json.loads((work / "plan" / "transform-report.json").read_text())
    changes = report["changes"]
    assert report["earlier_note"] is None
    edited, deleted = f"C2:{deltakit.ts(deltakit.EARLY, 5, 1)}", f"C3:{deltakit.ts(deltakit.EARLY, 6, 2)}"
    assert [(c["kind"], c["id"], c["conversation"], c["what"]) for c in changes] == [
        ("edited", edited, "acme/dev", "text changed"),
        ("deleted", deleted, "acme/ops", "no longer in the export"),
        ("renamed", "C2", "acme/dev", "renamed from 'dev' to 'development'"),
        ("archived", "C3", "acme/ops", "archived in the source"),
        ("left", "U3", "", "deactivated in the source"),
    ]
    fates = {}
    for line in read_ledger(work / "plan"):
        fates[line["fate"]] = fates.get(line["fate"], 0) + 1
        if line["fate"] in ("changed-in-source", "deleted-in-source"):
            assert line["keys"] == [edited if line["fate"] == "changed-in-source" else deleted]
    assert fates == {
        "already-migrated": FIRST_PASS - 2,
        "changed-in-source": 1,
        "deleted-in-source": 1,
        "planned": deltakit.new_messages(),
    }
    report = json.loads((work / "plan" / "transform-report.json").read_text())["ledger"]
    assert report["balanced"] and report["records"] == FIRST_PASS - 1 + deltakit.new_messages()
    loaded = load_again(emulator, work)
    assert loaded.changes == changes
    _, load_html = write_load_report(loaded, tmp_path / "reports")
    for page in (work / "plan" / "transform-report.html", load_html):
        html = page.read_text(encoding="utf-8")
        assert "Changed since the earlier pass" in html and edited in html and deleted in html, page


def test_what_was_planned_but_never_landed_is_compared_as_new_not_as_changed(emulator, tmp_path: Path) -> None:
    """A first pass whose chat was planned but never loaded (`load --only` the team): the newer export edits a message
    of that chat. It is not in Teams, so it is neither "already migrated" nor "changed": the delta posts it as it is
    now. The edit of a message that did land is still listed."""
    work = tmp_path / "out"
    emulator.operator("config", {"channel_rps": 10_000})  # not about pacing (migrate_sample raises it the same way)
    plan_sample(deltakit.export(tmp_path / "early" / "acme", later=False), work)
    with (
        Journal(work / "journal.sqlite") as journal,
        GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client,
    ):
        journal.bind(Target(emulator.graph_config(), None).fingerprint)
        assert load(work / "plan", client, journal, LoadOptions(workers=4, only="acme")).ok
    later = deltakit.export(tmp_path / "late" / "acme", later=True)
    dm = later / "D1" / "2023-11-15.json"
    messages = json.loads(dm.read_text(encoding="utf-8"))
    messages[0]["text"] = "edited before it ever reached Teams"
    dm.write_text(json.dumps(messages), encoding="utf-8")
    run_update(later, work / "mappings", demo_lookup, source_reference(later, work / "mappings"))
    transform(later, work / "mappings", work / "plan", now_ms=NOW_MS)
    changes = json.loads((work / "plan" / "changes.json").read_text(encoding="utf-8"))
    assert [(c["kind"], c["conversation"]) for c in changes if c["kind"] == "edited"] == [("edited", "acme/dev")]
    chat_fates = {line["fate"] for line in read_ledger(work / "plan") if line["conversation"] == "D1"}
    assert chat_fates == {"planned"}
    delta = load_again(emulator, work)
    assert delta.ok and delta.total("posted") == deltakit.new_messages() + deltakit.DM_MESSAGES
    chat = next(c for c in emulator.operator("dump")["chats"] if c["migrationMode"])
    assert any("edited before it ever reached Teams" in m["body"]["content"] for m in chat["messages"])
    assert verify_again(emulator, work).ok


def test_an_earlier_pass_planned_by_an_older_migrator_is_said_to_hide_its_changes_in_every_later_pass(
    emulator, tmp_path: Path
) -> None:
    """A plan folder whose first pass left no versions.json (an older migrator's): the edit and the deletion of its
    messages cannot be listed, and the transform says so (summary and report), again in the pass after, instead of
    listing nothing as if nothing had changed. What is posted still follows the journal."""
    work, later = first_pass_then_mappings_updated(emulator, tmp_path)
    (work / "plan" / "versions.json").unlink()
    second = transform(later, work / "mappings", work / "plan", now_ms=NOW_MS)
    assert [c["kind"] for c in second.report["changes"]] == ["renamed", "archived", "left"]
    assert second.report["earlier_note"] is not None and "older migrator" in second.report["earlier_note"]
    assert second.report["earlier_note"] in summary(second)
    assert second.report["earlier_note"] in (work / "plan" / "transform-report.html").read_text(encoding="utf-8")
    third = transform(later, work / "mappings", work / "plan", now_ms=NOW_MS)
    assert third.report["earlier_note"] == second.report["earlier_note"]


def test_a_plans_landed_lines_are_passed_over_by_key_and_only_the_others_parsed(tmp_path: Path) -> None:
    """`read_lines(skip=…)` and `count_landed` read keys without parsing lines where transform wrote them first, and
    parse the line where it could not (a key with an escape, a line whose key is not first)."""
    conv = PlannedConversation("t/c", "c", "c.jsonl", "2022-01-01T00:00:00.000Z", 4)
    made = '"createdDateTime":"2022-01-02T00:00:00.000Z"'
    rows = ['{"key":"a:1",' + made + "}", '{"key":"b:\\"2",' + made + "}", "{" + made + ',"key":"c:3"}']
    (tmp_path / "c.jsonl").write_text("\n".join([*rows, '{"key":"d:4",' + made + "}"]) + "\n", encoding="utf-8")
    landed = {"a:1", 'b:"2', "c:3"}
    assert [line["key"] for line in read_lines(tmp_path, conv, skip=landed)] == ["d:4"]
    assert count_landed(tmp_path, conv, landed) == 3
    (tmp_path / "c.jsonl").write_text("\n".join(f'{{"key":"k:{n}",{made}}}' for n in range(5)), encoding="utf-8")
    assert [line["key"] for line in read_lines(tmp_path, conv, skip={"k:0", "k:3"})] == ["k:1", "k:2", "k:4"]
    assert count_landed(tmp_path, conv, {"k:0", "k:3", "gone"}) == 2


def test_a_late_reply_lands_under_the_root_the_first_pass_migrated(emulator, tmp_path: Path) -> None:
    work = first_pass_then_newer_export(emulator, tmp_path)
    load_again(emulator, work)
    team = emulator.operator("dump")["teams"][0]
    general = next(c for c in team["channels"] if c["displayName"] == "General")
    root = next(m for m in general["messages"] if "general message 0 of" in m["body"]["content"])
    assert [r["body"]["content"].count("late reply") for r in root["replies"]] == [0, 1, 1]
    assert not [m for m in general["messages"] if "late reply" in m["body"]["content"]]


def test_the_estimate_counts_only_new_lines_and_the_reopening(emulator, tmp_path: Path) -> None:
    work = first_pass_then_newer_export(emulator, tmp_path)
    manifest = Manifest.read(work / "plan")
    with Journal(work / "journal.sqlite", readonly=True) as journal:
        rows, _, _ = estimate(work / "plan", manifest, manifest.teams, journal, workers=4)
    by_name = {row.channel: row for row in rows}
    assert sum(row.messages - row.already for row in rows) == deltakit.new_messages()
    # #dev: 20 new messages, startMigration and the read of its creation, completeMigration
    assert by_name["dev"].requests == deltakit.PER_CHANNEL + 3
    assert by_name["design"].requests == deltakit.NEW_CHANNEL + 1


def test_a_third_pass_without_change_sends_nothing_to_any_conversation(emulator, tmp_path: Path) -> None:
    work = first_pass_then_newer_export(emulator, tmp_path)
    load_again(emulator, work)
    before = emulator.operator("stats")["conversations"]
    third = load_again(emulator, work)
    assert emulator.operator("stats")["conversations"] == before
    assert third.total("posted") == 0 and third.ok
    assert third.total("already") == FIRST_PASS - 1 + deltakit.new_messages()
    with Journal(work / "journal.sqlite", readonly=True) as journal:
        rows, _, _ = estimate(work / "plan", Manifest.read(work / "plan"), [], journal, workers=4)
    assert [row.requests for row in rows] == [0]  # the DM


def test_someone_who_joined_a_private_channel_migrated_earlier_is_added_to_it(emulator, tmp_path: Path) -> None:
    """A third export in which Katherine (new in the second, a member of the team since) joined #secret, which the
    second pass created: the next pass adds her to the channel, and a pass after it sends nothing for her."""
    work = first_pass_then_newer_export(emulator, tmp_path)
    load_again(emulator, work)
    later = Path(Manifest.read(work / "plan").source["path"])
    groups = json.loads((later / "groups.json").read_text(encoding="utf-8"))
    groups[0]["members"].append("U4")
    (later / "groups.json").write_text(json.dumps(groups), encoding="utf-8")
    transform(later, work / "mappings", work / "plan", now_ms=NOW_MS)
    joined = load_again(emulator, work)
    assert joined.ok and joined.total("posted") == 0 and joined.members_added == 1
    people = [demo_lookup(f"{u['name']}@contoso.example") for u in deltakit.USERS[:2] + deltakit.NEW_USERS]
    secret = next(c for c in emulator.operator("dump")["teams"][0]["channels"] if c["displayName"] == "secret")
    assert sorted(m["userId"] for m in secret["members"]) == sorted(p["id"] for p in people if p)
    before = emulator.operator("stats")["conversations"]
    again = load_again(emulator, work)
    assert again.ok and again.members_added == 0
    assert emulator.operator("stats")["conversations"] == before


def test_map_update_on_the_command_line_lists_what_it_added_and_refuses_force_beside_it(
    no_credentials: None, tmp_path: Path
) -> None:
    early, later = (deltakit.export(tmp_path / name / "acme", later=name == "late") for name in ("early", "late"))
    mappings = tmp_path / "mappings"
    assert CliRunner().invoke(app, ["map", str(early), "--out", str(mappings)]).exit_code == 0
    refused = CliRunner().invoke(app, ["map", str(later), "--out", str(mappings)])
    assert refused.exit_code == 2 and "--force" in refused.output
    both = CliRunner().invoke(app, ["map", str(later), "--out", str(mappings), "--update", "--force"])
    assert both.exit_code == 2 and "not both" in both.output
    result = CliRunner().invoke(app, ["map", str(later), "--out", str(mappings), "--update"])
    assert result.exit_code == 0, result.output
    assert "conversations added: #design (C4), #secret (G1)" in result.output
    assert "people added: Katherine Johnson (U4)" in result.output
    checked = CliRunner().invoke(app, ["map", "--check", str(mappings)])
    assert checked.exit_code == 0, checked.output


def test_kill_minus_nine_during_the_delta_pass_then_resume_lands_every_new_message_once(
    emulator, tenant, tmp_path: Path
) -> None:
    """Real kills at random moments of the delta pass (reopening, posting, completing); the last run completes, and
    verify finds every message once, the late replies under their root."""
    work = first_pass_then_newer_export(emulator, tmp_path)
    emulator.operator("config", {"channel_rps": 5})  # the delta at the real pace, so that the kills land inside it
    command = [sys.executable, "-m", "migrator", "load", str(work / "plan"), "--journal", str(work / "journal.sqlite")]
    rng = random.Random(27)
    for _ in range(3):
        started = emulator.operator("stats")["totals"]["requests"]
        loader = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
        while emulator.operator("stats")["totals"]["requests"] < started + 5 and loader.poll() is None:
            time.sleep(0.05)  # kill only once this run is working
        time.sleep(rng.uniform(0.0, 0.7))  # at most ~3 s of the ~4 s the delta takes at 5/s, over the three runs
        loader.send_signal(signal.SIGKILL)
        loader.wait()
    with Journal(work / "journal.sqlite", readonly=True) as journal:
        manifest = Manifest.read(work / "plan")
        landed = sum(read_landed(work / "plan", conv, journal).count for _, conv in manifest.conversations())
    assert landed < FIRST_PASS - 1 + deltakit.new_messages(), "the kills must have stopped the runs part way"
    final = subprocess.run(command, capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert final.returncode == 0, final.stdout + final.stderr
    verified = verify_again(emulator, work)
    assert verified.ok, verified.summary()
    assert verified.total("found") == FIRST_PASS - 1 + deltakit.new_messages()
    team = emulator.operator("dump")["teams"][0]
    assert {c["migrationMode"] for c in team["channels"]} == {"completed"}


def test_a_conversation_the_mappings_do_not_name_stops_the_delta_before_anything_is_sent(tmp_path: Path) -> None:
    early, later = (deltakit.export(tmp_path / name / "acme", later=name == "late") for name in ("early", "late"))
    run_map(early, tmp_path / "mappings", demo_lookup, fallback="migration@contoso.example")
    with pytest.raises(TransformError) as stopped:
        transform(later, tmp_path / "mappings", tmp_path / "plan", now_ms=NOW_MS)
    assert "conversation C4 (public design) has no entry" in str(stopped.value)
    assert "migrator map SOURCE --out DIR --update" in str(stopped.value)
    assert not (tmp_path / "plan" / "manifest.json").exists()


def test_a_team_reset_between_the_passes_is_migrated_in_full_again(emulator, tmp_path: Path) -> None:
    work = first_pass_then_newer_export(emulator, tmp_path)
    manifest = Manifest.read(work / "plan")
    with (
        Journal(work / "journal.sqlite") as journal,
        GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client,
    ):
        assert reset_team(client, journal, team_reset(manifest, journal, "acme"))
    delta = load_again(emulator, work)
    channels = sum(c.messages for c in manifest.teams[0].channels)
    assert delta.ok and delta.total("posted") == channels + deltakit.DM_MESSAGES  # the chat keeps its first pass
    assert verify_again(emulator, work).ok
