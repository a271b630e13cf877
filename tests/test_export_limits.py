"""Billing (402) and throttling (429) during export: one target stops, the others finish; Graph is never overrun."""

from __future__ import annotations

import json

import pytest

from graphkit import ADA, GRACE, KATHERINE
from migrator.graph import GraphClient, RateLimiter
from migrator.stages.export import ExportOptions, Target, export
from test_export import SampleTeam, archived, client_fixture, graph_fixture, team_fixture  # noqa: F401  (fixtures by name)


def test_a_licence_402_stops_only_its_target_and_explains_the_billing_models(client, tmp_path):
    outcome = export(client, [Target("user", KATHERINE), Target("user", ADA)], tmp_path, ExportOptions(model="A"))
    katherine, ada = outcome.targets
    assert ada.status == "done" and ada.messages == 6
    assert katherine.status == "payment required" and not outcome.ok
    for words in ("needs a valid license", "--model B", "model A", "evaluation mode", "Azure subscription"):
        assert words in katherine.error
    state = json.loads((tmp_path / "state.json").read_text())
    assert f"user:{KATHERINE}" not in state["targets"]  # no watermark for a target that did not finish


def test_evaluation_capacity_402_mid_target_keeps_what_was_written_and_model_b_completes_it(
    client, emulator, team, tmp_path
):
    emulator.operator("config", {"evaluation_capacity": 50})
    target = Target("team", team.id)
    run = export(client, [target], tmp_path, ExportOptions(checkpoint_seconds=0))
    stopped = run.targets[0]
    assert stopped.status == "payment required" and "evaluation mode capacity has been exceeded" in run.stopped
    assert "rerun with --model A" in run.stopped and stopped.pages == 1
    assert len(archived(tmp_path, target)) == 50
    state = json.loads((tmp_path / "state.json").read_text())["targets"][target.key]
    assert state["watermark"] is None and state["cursor"]["model"] is None
    finished = export(client, [target], tmp_path, ExportOptions(model="B")).targets[0]
    assert finished.status == "done" and not finished.resumed  # the evaluation-mode cursor is not reused for model B
    assert finished.new == len(team.posted) - 50
    lines = archived(tmp_path, target)
    assert len(lines) == len({m["id"] for m in lines}) == len(team.posted)


def test_throttled_by_graph_the_export_waits_as_told_and_completes(emulator, team, tmp_path):
    emulator.operator("config", {"tenant_rps": 2})
    with GraphClient(emulator.graph_config(), limiter=RateLimiter(per_key=5, shared=200), backoff_base=0.05) as greedy:
        targets = [Target("team", team.id), Target("user", ADA), Target("user", GRACE)]
        outcome = export(greedy, targets, tmp_path, ExportOptions())
    assert (
        outcome.ok and outcome.throttled > 0 and outcome.throttled == emulator.operator("stats")["totals"]["throttled"]
    )
    assert len(archived(tmp_path, targets[0])) == len(team.posted)
    assert f"{outcome.throttled:,} throttled" in outcome.summary()


def test_injected_429s_are_retried_without_losing_or_repeating_a_page(client, emulator, team, tmp_path):
    emulator.operator("faults", {"spec": "429:0.3", "seed": 7})
    targets = [Target("team", team.id), Target("user", ADA)]
    outcome = export(client, targets, tmp_path, ExportOptions())
    assert outcome.ok and outcome.throttled > 0 and outcome.retries >= outcome.throttled
    lines = archived(tmp_path, targets[0])
    assert len(lines) == len({m["id"] for m in lines}) == len(team.posted)


def test_the_tenant_budget_keeps_graph_from_throttling(emulator, team, tmp_path):
    emulator.operator("config", {"tenant_rps": 4})
    with GraphClient(emulator.graph_config(), limiter=RateLimiter(per_key=5, shared=4)) as paced:
        targets = [Target("team", team.id)] + [Target("user", user) for user in (ADA, GRACE, KATHERINE)]
        outcome = export(paced, targets, tmp_path, ExportOptions())
    assert outcome.ok and outcome.throttled == 0
    assert emulator.operator("stats")["totals"]["throttled"] == 0
    assert outcome.requests >= 12 and outcome.requests <= 4 * (outcome.seconds + 1)  # 4 per window, first one included


@pytest.mark.parametrize("spec", ["500:0.3", "503:0.3", "drop:0.2"])
def test_server_errors_and_lost_answers_on_reads_are_retried(client, emulator, team, tmp_path, spec):
    emulator.operator("faults", {"spec": spec, "seed": 3})
    target = Target("team", team.id)
    outcome = export(
        client, [target] + [Target("user", user) for user in (ADA, GRACE, KATHERINE)], tmp_path, ExportOptions()
    )
    assert outcome.ok and outcome.retries > 0
    assert len({m["id"] for m in archived(tmp_path, target)}) == len(archived(tmp_path, target)) == len(team.posted)


def test_an_evaluation_402_stops_the_whole_run_once_and_every_target_resumes(client, emulator, team, tmp_path):
    """The evaluation capacity is tenant-wide: no target can go on, so all stop, each with its place saved."""
    emulator.operator("config", {"evaluation_capacity": 60})
    targets = [Target("team", team.id)] + [Target("user", user) for user in (ADA, GRACE, KATHERINE)]
    run = export(client, targets, tmp_path, ExportOptions(workers=2, checkpoint_seconds=3600))
    assert run.stopped is not None and run.stopped.count("402 Payment Required") == 1
    assert "evaluation mode capacity has been exceeded" in run.stopped
    stopped = [t for t in run.targets if t.status != "done"]
    assert stopped and {t.status for t in stopped} == {"payment required"}
    assert all(t.error and "explained once" in t.error and "Azure" not in t.error for t in stopped)
    state = json.loads((tmp_path / "state.json").read_text())["targets"]
    for result in stopped:  # a target stopped after a page resumes after it: its cursor was saved at once
        assert result.pages == 0 or state[result.target.key]["cursor"]["url"]
    emulator.operator("config", {"evaluation_capacity": 10_000})
    again = export(client, targets, tmp_path, ExportOptions())
    assert again.ok and again.stopped is None
    resumed = {t.target: t.resumed for t in again.targets}
    assert all(resumed[t.target] for t in stopped if t.pages)
    lines = archived(tmp_path, targets[0])
    assert len(lines) == len({m["id"] for m in lines}) == len(team.posted)


def test_when_retries_give_up_on_429s_the_target_says_how_to_resume(emulator, team, tmp_path):
    target = Target("team", team.id)

    class ThrottleAfterFirstPage:
        def started(self, outcome) -> None:
            pass

        def finished(self, outcome) -> None:
            pass

        def page(self, outcome) -> None:
            emulator.operator("faults", {"spec": "429:1", "seed": 1})

    with GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited(), max_retries=1) as impatient:
        options = ExportOptions(checkpoint_seconds=3600)
        result = export(impatient, [target], tmp_path, options, progress=ThrottleAfterFirstPage()).targets[0]
    assert result.status == "failed" and "run the same command again to resume" in result.error
    saved = json.loads((tmp_path / "state.json").read_text())["targets"][target.key]["cursor"]
    assert "$skiptoken" in saved["url"]  # saved when Graph gave up, not only at the (hourly) checkpoint
    emulator.operator("faults", {"spec": ""})
    with GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as patient:
        resumed = export(patient, [target], tmp_path, options).targets[0]
    assert resumed.resumed and resumed.status == "done" and resumed.new == len(team.posted) - 50
