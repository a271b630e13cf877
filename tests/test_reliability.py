"""The short reliability suite (`make reliability` runs the same checks at full size): a small generated
workspace migrated by the real commands under faults, through kill -9 of the loader and of the emulator,
and with a secret and a certificate; verify must find every message exactly once, and no credential may
be left in any file."""

from __future__ import annotations

import pytest

from bench.reliability.crashes import check_emulator_restart, check_kills
from bench.reliability.faults import check_faults
from bench.reliability.migration import planned_workspace
from bench.reliability.poison import check_poison
from bench.reliability.secrets import check_secrets
from bench.reliability.workers import check_workers
from services import require_postgres

WORKERS = 8


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    work = tmp_path_factory.mktemp("reliability")
    return planned_workspace(work, channels=3, messages=40), work


def test_faults_lose_and_duplicate_nothing(planned):
    plan, work = planned
    assert check_faults(plan, work, WORKERS).startswith(
        f"faults: {plan.messages}/{plan.messages} landed, 0 missing, 0 duplicated"
    )


def test_messages_refused_for_good_fail_alone_and_land_once_lifted(planned):
    plan, work = planned
    line = check_poison(plan, work, WORKERS, share=0.3)  # of the plan's few messages: never none (0.7**40 < 1e-6)
    assert line.startswith(f"poison: {plan.messages}/{plan.messages} landed, 0 missing, 0 duplicated")


def test_kill_minus_nine_of_the_loader_loses_and_duplicates_nothing(planned):
    plan, work = planned
    line = check_kills(plan, work, WORKERS, kills=3, step=(5, 25))
    assert line.startswith(f"kill -9: {plan.messages}/{plan.messages} landed, 0 missing, 0 duplicated")


def test_an_emulator_restarted_from_its_state_mid_run_loses_nothing(planned):
    plan, work = planned
    line = check_emulator_restart(plan, work, WORKERS, step=(10, 30))
    assert line.startswith(f"emulator restart: {plan.messages}/{plan.messages} landed, 0 missing, 0 duplicated")


def test_no_secret_token_or_key_is_left_behind(planned):
    plan, work = planned
    assert check_secrets(plan, work, WORKERS).startswith("secrets: none found")


def test_three_workers_with_two_apps_two_killed_lose_and_duplicate_nothing(planned):
    require_postgres()
    plan, work = planned
    line = check_workers(plan, work, threads=4, step=(5, 30))
    assert line.startswith(f"workers: {plan.messages}/{plan.messages} landed, 0 missing, 0 duplicated"), line
