"""Load scheduling: longest critical path first, default concurrency from the import budget, per-team completion."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import migrator.stages.load as load_stage
from migrator.critical import critical_path
from migrator.journal import COMPLETED
from migrator.plan import PlannedConversation, PlannedTeam
from migrator.stages.load.delta import Landed
from migrator.stages.load.outcome import ConversationOutcome, LoadOutcome
from migrator.stages.load.schedule import Scheduler, concurrency
from test_critical_path import conv, team


def test_default_concurrency_is_what_the_import_budget_holds_and_workers_only_lower_it():
    assert concurrency(None) == 300  # 1,500 requests/s at 5 per conversation
    assert concurrency(None, import_budget=50) == 10
    assert concurrency(8) == 8
    assert concurrency(1000, import_budget=100) == 20
    assert concurrency(None, import_budget=1) == 1


def test_jobs_start_longest_first_and_late_ones_join_by_their_priority():
    started: list[str] = []
    gate = threading.Event()
    with Scheduler(1) as scheduler:
        scheduler.add(0.0, gate.wait)  # holds the only worker while the others queue up
        for name, priority in (("small", 1.0), ("big", 9.0), ("medium", 5.0)):
            scheduler.add(priority, lambda name=name: started.append(name))
        scheduler.add(7.0, lambda: (started.append("late"), scheduler.add(6.0, lambda: started.append("added"))))
        gate.set()
        scheduler.wait()
    assert started == ["big", "late", "added", "medium", "small"]


def test_at_most_workers_jobs_run_at_once_and_the_first_error_is_raised_after_all_finished():
    running, peak, lock = [0], [0], threading.Lock()

    def job() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1

    def fails() -> None:
        raise RuntimeError("boom")

    finished: list[int] = []
    with Scheduler(3) as scheduler:
        scheduler.add(10.0, fails)
        for index in range(12):
            scheduler.add(1.0, lambda index=index: (job(), finished.append(index)))
        with pytest.raises(RuntimeError, match="boom"):
            scheduler.wait()
    assert peak[0] == 3 and len(finished) == 12


class FakeJournal:
    def conversation(self, key: str) -> Any:
        return type("Entry", (), {"state": COMPLETED})()


class FakeProvisioner:
    """Records when each team completes and each conversation is created; every call succeeds."""

    def __init__(self, events: list[tuple[float, str]]) -> None:
        self.events = events
        self.journal = FakeJournal()
        self.client = None

    creating = 0
    most_at_once = 0
    counting = threading.Lock()

    def known_channels(self, teams: list[PlannedTeam]) -> None:
        """Nothing to read ahead: `channel` asks the journal nothing."""

    def channel_members(self, team_key: str, team_id: str, channel: PlannedConversation, channel_id: str) -> int:
        """A private channel is created with its members: nobody joined it since."""
        return 0

    def team(self, planned: PlannedTeam) -> str:
        """Awaits the creation's operation for a while, as Graph makes it do."""
        with FakeProvisioner.counting:
            FakeProvisioner.creating += 1
            FakeProvisioner.most_at_once = max(FakeProvisioner.most_at_once, FakeProvisioner.creating)
        time.sleep(0.05)
        with FakeProvisioner.counting:
            FakeProvisioner.creating -= 1
        return planned.key

    def channel(self, team_key: str, team_id: str, channel: PlannedConversation) -> str:
        self.events.append((time.monotonic(), f"created {channel.key}"))
        return channel.key

    def chat(self, chat: PlannedConversation) -> str:
        return chat.key

    def complete_channel(self, team_id: str, channel_id: str) -> None:
        pass

    def complete_chat(self, chat_id: str) -> None:
        pass

    def complete_team(self, planned: PlannedTeam, team_id: str) -> None:
        self.events.append((time.monotonic(), f"completed {planned.key}"))

    def channel_completion(self, team_key: str, team_id: str, channel: PlannedConversation, channel_id: str) -> Any:
        """No earlier pass completed a team: each General completes with its team."""
        return None if channel.general else (lambda: self.complete_channel(team_id, channel_id))

    def add_members(self, planned: PlannedTeam, team_id: str) -> tuple[int, list[str]]:
        return len(planned.members), []


class FakeLoader:
    """Posts at 1,000 messages/s: a conversation takes as long as its size says."""

    def __init__(self, events: list[tuple[float, str]]) -> None:
        self.events = events

    def run(
        self, base: str, planned: PlannedConversation, outcome: ConversationOutcome, complete: Any, landed: Landed
    ) -> None:
        outcome.start()
        time.sleep(planned.messages / 1000)
        outcome.ready = planned.general
        outcome.completed = not planned.general
        self.events.append((time.monotonic(), f"posted {planned.key}"))
        outcome.finish()


def test_a_team_completes_and_opens_its_private_channels_while_another_team_still_posts(monkeypatch):
    monkeypatch.setattr(load_stage, "check_room", lambda *args: None)
    quick = team("quick", conv("quick/general", 20), conv("quick/secret", 20, "private"))
    quick.channels[0].general = True
    slow = team("slow", conv("slow/general", 20), conv("slow/big", 600), conv("slow/p", 10, "private"))
    slow.channels[0].general = True
    events: list[tuple[float, str]] = []
    result = LoadOutcome()
    teams = [quick, slow]
    nothing = {c.key: Landed({}, 0) for t in teams for c in t.channels}
    with Scheduler(8) as scheduler:
        path = critical_path(teams, [])
        run = load_stage._Run(FakeProvisioner(events), FakeLoader(events), scheduler, result, path, nothing)  # type: ignore[arg-type]
        run.provision(teams, [], None)  # type: ignore[arg-type]
        scheduler.wait()
    at = {what: when for when, what in events}
    assert at["completed quick"] < at["posted quick/secret"] < at["posted slow/big"]
    assert at["created quick/secret"] > at["completed quick"]  # private channels after their team's completion
    assert at["completed slow"] > at["posted slow/big"] and at["created slow/p"] > at["completed slow"]
    assert sorted(result.teams_completed) == ["QUICK", "SLOW"] and not result.teams_blocked
    assert FakeProvisioner.most_at_once == 2  # the teams' creations were awaited together
    # The biggest channel is created (and so starts) first.
    assert [what for _, what in events if what.startswith("created")][0] == "created slow/big"


def test_a_resumed_load_starts_the_conversation_with_most_left_first_not_the_largest_planned(tmp_path):
    from migrator.journal import Journal
    from migrator.plan import write_lines
    from migrator.stages.load.delta import read_landed
    from migrator.stages.load.estimate import remaining_requests

    nearly_done, untouched = conv("t/nearly-done", 100), conv("t/untouched", 30)
    teams = [team("t", nearly_done, untouched)]
    lines = ({"key": f"m{index}", "createdDateTime": "2022-01-02T00:00:00.000Z"} for index in range(100))
    write_lines(tmp_path / nearly_done.file, lines)  # the journal's posted lines count only when the plan has them
    with Journal(tmp_path / "journal.sqlite") as journal:
        for index in range(90):
            journal.mark_posted(nearly_done.key, f"m{index}", f"id{index}")
        landed = {c.key: read_landed(tmp_path, c, journal) for c in teams[0].channels}
        path = critical_path(teams, [], remaining_requests(journal, landed))
        assert path.priority(untouched.key) > path.priority(nearly_done.key)
        assert path.seconds == pytest.approx((30 + 1) / 5)  # the untouched channel's messages and completion
    assert critical_path(teams, []).priority(nearly_done.key) > critical_path(teams, []).priority(untouched.key)
