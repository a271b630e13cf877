"""`migrator worker`: do the units of a plan published in a PostgreSQL journal, as many workers as there are.

Each worker claims units (migrator.workqueue) on as many threads as its apps' import budgets hold conversations,
does each with load's own parts (Provisioner, ConversationLoader, check_room) of the app that owns the unit's team
or chat (one GraphClient per app, each with its own budget), and renews its leases on a thread of its own while
it works. It stops when no unit is left to do, its own or another worker's: a unit another worker
holds may come back to it when that worker dies and its lease expires.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from migrator.graph import GraphClient
from migrator.limits import IMPORT_BUDGET_RPS
from migrator.pgjournal import PostgresJournal
from migrator.plan import Manifest, PlannedConversation, PlannedTeam
from migrator.stages.load.conversation import ConversationLoader
from migrator.stages.load.outcome import ConversationOutcome, Refusal, attempt
from migrator.stages.load.provision import Provisioner
from migrator.stages.load.room import check_room
from migrator.stages.load.schedule import concurrency
from migrator.workqueue import CHAT, FINISH, TEAM, Claim, Unit, WorkQueue

log = logging.getLogger("migrator.worker")
LEASE_SECONDS = 60.0  # a dead worker's units wait this long for another; renewed every third of it
POLL_SECONDS = 1.0  # between claims while every open unit is held or waits on another, doubling up to:
POLL_MAX_SECONDS = 4.0  # so that hundreds of idle threads do not query PostgreSQL every second


def worker_name() -> str:
    """Unique across machines and restarts: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class WorkerOptions:
    workers: int | None = None  # units at once; None: as many as the import budget holds conversations
    import_budget: float = IMPORT_BUDGET_RPS
    lease: float = LEASE_SECONDS
    complete_with_failures: bool = False
    operation_timeout: float = 600.0
    membership_wait: float = 300.0


@dataclass
class WorkerOutcome:
    owner: str
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # unit → why
    resumed: dict[str, str] = field(default_factory=dict)  # unit → the worker whose lease on it expired
    lost: set[str] = field(default_factory=set)  # units whose lease another worker took while this one worked
    conversations: list[ConversationOutcome] = field(default_factory=list)
    members_added: int = 0

    def total(self, name: str) -> int:
        return sum(int(getattr(c, name)) for c in self.conversations)


class LeaseLost(Exception):
    """Another worker took this unit's lease (this one could not renew it in time): this one stops the unit."""


class _App:
    """One app registration's client and the load parts that use it."""

    def __init__(
        self,
        client: GraphClient,
        journal: PostgresJournal,
        plan_dir: Path,
        options: WorkerOptions,
        on_message: Callable[[str, float], None],
    ):
        self.client = client
        self.provisioner = Provisioner(client, journal, options.operation_timeout, options.membership_wait)
        self.loader = ConversationLoader(client, journal, plan_dir, options.complete_with_failures, on_message)


class Worker:
    def __init__(
        self,
        queue: WorkQueue,
        clients: list[GraphClient],
        plan_dir: Path,
        options: WorkerOptions,
        owner: str | None = None,
    ):
        """`clients`: one per app registration this worker may use (the first also for units no app owns)."""
        self.queue = queue
        self.options = options
        self.owner = owner or worker_name()
        self.manifest = Manifest.read(plan_dir)
        self.journal: PostgresJournal = queue.journal
        self.apps = {c.config.client_id: _App(c, self.journal, plan_dir, options, self._still_held) for c in clients}
        self.teams = {team.key: team for team in self.manifest.teams}
        self.conversations = {conv.key: conv for _, conv in self.manifest.conversations()}
        self.outcome = WorkerOutcome(self.owner)
        self._held: set[str] = set()
        self._taken: set[str] = set()  # units held whose lease another worker took: stopped at the next message
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._settled = threading.Condition()  # notified when a unit of this worker ends: its dependents may be free

    def run(self) -> WorkerOutcome:
        threads = concurrency(self.options.workers, self.options.import_budget * len(self.apps))
        renewer = threading.Thread(target=self._renew, name="leases", daemon=True)
        renewer.start()
        try:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="unit") as pool:
                for running in [pool.submit(self._loop) for _ in range(threads)]:
                    running.result()
        finally:
            self._stop.set()
            self._wake()
            renewer.join()
            with self._lock:
                self.queue.release(self.owner, sorted(self._held))
        return self.outcome

    def _loop(self) -> None:
        idle = POLL_SECONDS
        try:
            while not self._stop.is_set():
                claim = self.queue.claim(self.owner, self.options.lease, list(self.apps))
                if claim is None:
                    if not self.queue.open_units():
                        return
                    with self._settled:  # until a unit of this worker ends, or another worker's may have
                        self._settled.wait(idle * random.uniform(0.5, 1.5))  # workers do not poll in step
                    idle = min(idle * 2, POLL_MAX_SECONDS)
                    continue
                idle = POLL_SECONDS
                self._hold(claim, self._do)
        except BaseException:
            self._stop.set()  # a stop for good (refused credentials, a full team): the other threads stop too
            self._wake()
            raise

    def _wake(self) -> None:
        with self._settled:
            self._settled.notify_all()

    def _hold(self, claim: Claim, work: Callable[[Unit], str | None]) -> None:
        name = claim.unit.name
        if claim.previous:
            log.warning("%s: resuming %s, whose lease %s held expired", self.owner, name, claim.previous)
            with self._lock:
                self.outcome.resumed[name] = claim.previous
        with self._lock:
            self._held.add(name)
            self._taken.discard(name)
        try:
            why = work(claim.unit)
        except LeaseLost:
            log.warning("%s: stopped %s: another worker holds its lease now", self.owner, name)
            return
        finally:
            with self._lock:
                self._held.discard(name)
        if why is None:
            self.queue.done(self.owner, name)
            with self._lock:
                self.outcome.done.append(name)
        else:
            log.warning("%s: %s failed: %s", self.owner, name, why)
            self.queue.failed(self.owner, name, why)
            with self._lock:
                self.outcome.failed[name] = why
        self._wake()

    def _renew(self) -> None:
        while not self._stop.wait(self.options.lease / 3):
            with self._lock:
                held = sorted(self._held)
            lost = self.queue.renew(self.owner, held, self.options.lease)
            if lost:
                log.warning("%s: leases taken over by another worker: %s", self.owner, ", ".join(sorted(lost)))
                with self._lock:
                    self.outcome.lost |= lost
                    self._taken |= lost

    def _still_held(self, conv_key: str, started: float) -> None:
        """After each message: a conversation whose lease another worker took is left to it (two workers on one
        conversation would post nothing twice, Graph refusing a taken millisecond, but one would complete it under the
        other)."""
        with self._lock:
            lost = f"conv:{conv_key}" in self._taken
        if lost:
            raise LeaseLost(conv_key)

    # ------------------------------------------------------------- units
    def _do(self, unit: Unit) -> str | None:
        """Do the unit with the app that owns it; None when done, else why it failed."""
        app = self.apps[unit.app] if unit.app else next(iter(self.apps.values()))
        if unit.kind == TEAM:
            return self._create_team(app, self.teams[str(unit.team_key)])
        if unit.kind == FINISH:
            return self._finish_team(app, self.teams[str(unit.team_key)])
        conv = self.conversations[str(unit.conv_key)]
        if unit.kind == CHAT:
            return self._chat(app, conv)
        return self._channel(app, self.teams[str(unit.team_key)], conv)

    def _create_team(self, app: _App, team: PlannedTeam) -> str | None:
        team_id = attempt(partial(app.provisioner.team, team))
        if isinstance(team_id, Refusal):
            return f"not created: {team_id}; fix the cause and publish again"
        check_room(app.client, self.journal, team, team_id, self.manifest.capacity)
        return None

    def _channel(self, app: _App, team: PlannedTeam, channel: PlannedConversation) -> str | None:
        team_id = self.journal.team_id(team.key)
        assert team_id is not None, "a channel's unit waits on its team's"
        outcome = self._outcome(channel, team.display_name)
        channel_id = attempt(partial(app.provisioner.channel, team.key, team_id, channel))
        if isinstance(channel_id, Refusal):
            return f"not created: {channel_id}"
        # General is completed with its team, after every other channel (the team's finish unit), unless reopened in a
        # team an earlier pass completed.
        complete = app.provisioner.channel_completion(team.key, team_id, channel, channel_id)
        app.loader.run(f"/teams/{team_id}/channels/{channel_id}", channel, outcome, complete)
        return _left_open(outcome)

    def _chat(self, app: _App, chat: PlannedConversation) -> str | None:
        outcome = self._outcome(chat, "(chats)")
        chat_id = attempt(partial(app.provisioner.chat, chat))
        if isinstance(chat_id, Refusal):
            return f"not created: {chat_id}"
        app.loader.run(f"/chats/{chat_id}", chat, outcome, partial(app.provisioner.complete_chat, chat_id))
        return _left_open(outcome)

    def _finish_team(self, app: _App, team: PlannedTeam) -> str | None:
        """Complete the team (General first) and add its members; members refused are logged, and do not keep its
        private channels from opening, as in load."""
        team_id = self.journal.team_id(team.key)
        assert team_id is not None, "a team's finish waits on its creation"
        refused = attempt(partial(app.provisioner.complete_team, team, team_id))
        if isinstance(refused, Refusal):
            return f"completeMigration refused: {refused}; publish again"
        added, refusals = app.provisioner.add_members(team, team_id)
        with self._lock:
            self.outcome.members_added += added
        for refusal in refusals:
            log.warning("%s: team %s: member not added: %s", self.owner, team.key, refusal)
        return None

    def _outcome(self, conv: PlannedConversation, team: str) -> ConversationOutcome:
        outcome = ConversationOutcome(conv.key, team, conv.display_name, conv.messages)
        with self._lock:
            self.outcome.conversations.append(outcome)
        return outcome


def _left_open(outcome: ConversationOutcome) -> str | None:
    """None when the conversation is done (completed, or General ready for its team), else why it is still open."""
    if outcome.completed or outcome.ready:
        return None
    return "; ".join(outcome.described_reasons()) or "not completed"
