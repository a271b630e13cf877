"""Work published in a PostgreSQL journal: the plan's files, and the units that workers claim with leases.

`migrator load PLAN --journal URL --publish` stores the plan once (its manifest, its request files and the
bytes of its uploads) and one unit per step that exactly one worker must do at a time:

- `team:KEY`: create the team (migration mode) and check it has room for its channels;
- `conv:KEY` of a standard channel or a chat: create it, upload its files, post its messages, complete it;
- `finish:KEY`: once every standard channel of the team is done, complete the team and add its members;
- `conv:KEY` of a private channel: after its team's finish (its members must be team members by then).

`depends` lists the units that must be done first. A worker claims the unit with the longest critical path
(migrator.critical) whose dependencies are done, with `SELECT … FOR UPDATE SKIP LOCKED`, and holds it by a lease
(owner, expiry on the server's clock) that it renews while it works. A worker that dies loses its leases when they
expire, and the next worker to claim the unit resumes it from the journal, which makes every step exactly once
(and Graph's 409 on a message's millisecond makes a message posted twice impossible even while two workers
overlap). A unit that fails blocks those that depend on it; publishing again makes both claimable again.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from migrator.critical import critical_path
from migrator.journal import JournalError
from migrator.pgjournal import PostgresJournal
from migrator.plan import MANIFEST, Manifest
from migrator.stages.load.delta import read_landed

TODO, DONE, FAILED, BLOCKED = "todo", "done", "failed", "blocked"
TEAM, CHANNEL, CHAT, FINISH, PRIVATE = "team", "channel", "chat", "finish", "private"
NOW = "extract(epoch from clock_timestamp())"  # the server's clock: workers' clocks on several machines differ


@dataclass(frozen=True)
class Unit:
    name: str
    kind: str  # TEAM, CHANNEL, CHAT, FINISH or PRIVATE
    team_key: str | None
    conv_key: str | None
    label: str  # what status shows: the team's or conversation's display name
    planned: int  # messages
    priority: float
    depends: tuple[str, ...] = ()
    app: str | None = None  # the client id of the app registration that owns the unit's team or chat; None: any


@dataclass(frozen=True)
class Claim:
    """A unit this worker now holds; `previous` names the worker whose lease expired on it, if any."""

    unit: Unit
    previous: str | None


def plan_units(manifest: Manifest, apps: list[str] | None = None) -> list[Unit]:
    """Every unit of the plan, with what each waits for, and the app that owns it (`spread_apps`)."""
    units = _units(manifest)
    if not apps:
        return units
    owners = spread_apps(manifest, apps)
    return [replace(unit, app=owners[unit.team_key or str(unit.conv_key)]) for unit in units]


def spread_apps(manifest: Manifest, apps: list[str]) -> dict[str, str]:
    """Team key or chat key → the app that owns it from creation to completion (Graph lets one app only work in an
    import session): the largest first, each to the app with the fewest messages so far (then the fewest teams
    and chats), so their budgets fill evenly."""
    scopes = [(sum(c.messages for c in team.channels), team.key) for team in manifest.teams]
    scopes += [(chat.messages, chat.key) for chat in manifest.chats]
    load = {app: [0, 0] for app in apps}  # messages, scopes
    owners: dict[str, str] = {}
    for messages, key in sorted(scopes, key=lambda scope: (-scope[0], scope[1])):
        app = min(apps, key=lambda name: (*load[name], apps.index(name)))
        owners[key] = app
        load[app][0] += messages
        load[app][1] += 1
    return owners


def _units(manifest: Manifest) -> list[Unit]:
    path = critical_path(manifest.teams, manifest.chats)
    units: list[Unit] = []
    for team in manifest.teams:
        created, finished = f"team:{team.key}", f"finish:{team.key}"
        planned = sum(c.messages for c in team.channels)
        units.append(Unit(created, TEAM, team.key, None, team.display_name, planned, math.inf))
        standard = [c for c in team.channels if c.membership != "private"]
        units += [
            Unit(
                f"conv:{c.key}", CHANNEL, team.key, c.key, c.display_name, c.messages, path.priority(c.key), (created,)
            )
            for c in standard
        ]
        units.append(
            Unit(finished, FINISH, team.key, None, team.display_name, 0, math.inf, (created,) + _names(standard))
        )
        units += [
            Unit(
                f"conv:{c.key}", PRIVATE, team.key, c.key, c.display_name, c.messages, path.priority(c.key), (finished,)
            )
            for c in team.channels
            if c.membership == "private"
        ]
    units += [
        Unit(f"conv:{c.key}", CHAT, None, c.key, c.display_name, c.messages, path.priority(c.key))
        for c in manifest.chats
    ]
    return units


def _names(conversations: list[Any]) -> tuple[str, ...]:
    return tuple(f"conv:{c.key}" for c in conversations)


def plan_files(plan_dir: Path, manifest: Manifest) -> Iterator[str]:
    """The plan's files a worker needs, relative to the plan folder: manifest, request files, uploads."""
    yield MANIFEST
    for _, conv in manifest.conversations():
        yield conv.file
        yield from (upload.path for upload in conv.uploads)


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


class WorkQueue:
    """The published plan and its units in one PostgreSQL journal."""

    def __init__(self, journal: PostgresJournal):
        self.journal = journal

    # ------------------------------------------------------------ publish
    def publish(self, plan_dir: Path, apps: list[str] | None = None) -> tuple[int, int]:
        """Store the plan's files and units, spread over `apps` (client ids; None: any app) (files and units already
        there are replaced; units done stay done, failed and blocked ones become claimable again, and a unit's app
        never changes once given); (files, units)."""
        manifest = Manifest.read(plan_dir)
        paths = sorted(set(plan_files(plan_dir, manifest)))
        units = plan_units(manifest, apps)
        again = self._to_do_again(plan_dir, manifest, units)
        with self.journal.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"migrator publish {self.journal.schema}",))
            for relative in paths:
                content = (plan_dir / relative).read_bytes()
                conn.execute(
                    "INSERT INTO plan_files VALUES (%s, %s, %s) ON CONFLICT (path) DO UPDATE SET "
                    "content = excluded.content, sha256 = excluded.sha256",
                    (relative, content, hashlib.sha256(content).hexdigest()),
                )
            for unit in units:
                conn.execute(
                    "INSERT INTO work (unit, kind, team_key, conv_key, name, planned, priority, depends, state, app) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (unit) DO UPDATE SET "
                    "name = excluded.name, planned = excluded.planned, priority = excluded.priority, "
                    "depends = excluded.depends, app = COALESCE(work.app, excluded.app), "
                    "state = CASE WHEN work.state = 'done' AND NOT %s THEN 'done' ELSE 'todo' END, "
                    "note = CASE WHEN work.state = 'done' AND NOT %s THEN work.note END",
                    (
                        unit.name,
                        unit.kind,
                        unit.team_key,
                        unit.conv_key,
                        unit.label,
                        unit.planned,
                        unit.priority,
                        list(unit.depends),
                        TODO,
                        unit.app,
                        unit.name in again,
                        unit.name in again,
                    ),
                )
        return len(paths), len(units)

    def _to_do_again(self, plan_dir: Path, manifest: Manifest, units: list[Unit]) -> set[str]:
        """Units done by an earlier pass that a newer export's plan gives work again (issue 27's delta pass): a
        conversation with lines the journal does not record as landed (load reopens it), and a team's finish when
        the team has members the journal has not added."""
        conversations = {conv.key: conv for _, conv in manifest.conversations()}
        again = {
            unit.name
            for unit in units
            if unit.conv_key in conversations
            and read_landed(plan_dir, conversations[unit.conv_key], self.journal).count
            < conversations[unit.conv_key].messages
        }
        for team in manifest.teams:
            if {m.user_id for m in team.members} - self.journal.members(team.key):
                again.add(f"finish:{team.key}")
        return again

    def fetch_plan(self, into: Path) -> Manifest:
        """Write the published plan's files under `into` (a file already there with the same digest is kept: a
        restarted worker with `--cache` fetches only what changed), checked against their digests, and read its
        manifest. Files stream through a server-side cursor: a plan's uploads need not fit in memory."""
        digests = dict(self.journal.query("SELECT path, sha256 FROM plan_files"))
        if not digests:
            raise JournalError(f"{self.journal.where}: no plan published; run `migrator load PLAN --publish` first")
        wanted = [path for path, digest in digests.items() if _digest(into / path) != digest]
        with self.journal.transaction() as conn, conn.cursor(name="plan_files") as files:
            files.execute("SELECT path, content FROM plan_files WHERE path = ANY(%s)", (wanted,))
            for relative, content in files:
                data = bytes(content)
                if hashlib.sha256(data).hexdigest() != digests[relative]:
                    raise JournalError(f"{self.journal.where}: the published {relative} does not match its digest")
                target = into / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        return Manifest.read(into)

    # ------------------------------------------------------------- claims
    def claim(self, owner: str, lease: float, apps: list[str]) -> Claim | None:
        """The most urgent unit claimable by a worker holding `apps` (client ids), now leased to `owner` for `lease`
        seconds; None when none is. Claimable: open, its dependencies done, and no lease running on it (never
        claimed, reopened by a publish, or its lease expired: `previous` then names that lease's worker). A unit no
        app owns yet is recorded as done by the first of `apps`."""
        with self.journal.transaction() as conn:
            row = conn.execute(
                "WITH chosen AS (SELECT w.unit, CASE WHEN w.expires IS NOT NULL THEN w.owner END AS previous "
                f"FROM work w WHERE w.state = 'todo' AND (w.expires IS NULL OR w.expires < {NOW}) "
                "AND (w.app IS NULL OR w.app = ANY(%s)) "
                "AND NOT EXISTS (SELECT 1 FROM work d WHERE d.unit = ANY(w.depends) AND d.state <> 'done') "
                "ORDER BY w.priority DESC, w.unit LIMIT 1 FOR UPDATE SKIP LOCKED) "
                f"UPDATE work SET owner = %s, app = COALESCE(work.app, %s), expires = {NOW} + %s, "
                f"started = COALESCE(work.started, {NOW}), claims = work.claims + 1 FROM chosen "
                "WHERE work.unit = chosen.unit "
                "RETURNING work.unit, work.kind, work.team_key, work.conv_key, work.name, work.planned, "
                "work.priority, work.depends, work.app, chosen.previous",
                (apps, owner, apps[0], lease),
            ).fetchone()
        if row is None:
            return None
        name, kind, team_key, conv_key, label, planned, priority, depends, app, previous = row
        unit = Unit(name, kind, team_key, conv_key, label, planned, priority, tuple(depends), app)
        return Claim(unit, previous if previous != owner else None)

    def renew(self, owner: str, units: list[str], lease: float) -> set[str]:
        """Extend `owner`'s leases on `units`; the units whose lease it no longer holds (another worker took them
        after they expired)."""
        if not units:
            return set()
        rows = self.journal.query(
            f"UPDATE work SET expires = {NOW} + %s WHERE unit = ANY(%s) AND owner = %s AND state = 'todo' "
            "RETURNING unit",
            lease,
            units,
            owner,
        )
        return set(units) - {str(unit) for (unit,) in rows}

    def done(self, owner: str, unit: str, note: str | None = None) -> None:
        self.journal.execute(
            f"UPDATE work SET state = 'done', owner = %s, expires = NULL, finished = {NOW}, note = %s WHERE unit = %s",
            owner,
            note,
            unit,
        )

    def failed(self, owner: str, unit: str, why: str) -> None:
        """The unit failed for good this time: it and every unit that waits on it stop until the next publish."""
        with self.journal.transaction() as conn:
            conn.execute(
                f"UPDATE work SET state = 'failed', owner = %s, expires = NULL, finished = {NOW}, note = %s "
                "WHERE unit = %s",
                (owner, why, unit),
            )
            conn.execute(
                "WITH RECURSIVE waiting(unit) AS (SELECT w.unit FROM work w WHERE %s = ANY(w.depends) "
                "UNION SELECT w.unit FROM work w JOIN waiting ON waiting.unit = ANY(w.depends)) "
                "UPDATE work SET state = 'blocked', note = %s WHERE unit IN (SELECT unit FROM waiting) "
                "AND state = 'todo'",
                (unit, f"waits on {unit}, which failed"),
            )

    def release(self, owner: str, units: list[str]) -> None:
        """Give leases back at once (a worker stopping on an error): another worker need not wait for them."""
        if units:
            self.journal.execute(
                f"UPDATE work SET expires = {NOW} WHERE unit = ANY(%s) AND owner = %s AND state = 'todo'",
                units,
                owner,
            )

    def open_units(self) -> int:
        """Units not done, failed or blocked: while any is left, a worker with nothing to claim waits."""
        ((count,),) = self.journal.query("SELECT count(*) FROM work WHERE state = 'todo'")
        return int(count)
