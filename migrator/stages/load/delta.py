"""What of a conversation's plan has landed: the lines the journal records as posted.

The plan of a newer export (issue 27's delta pass) holds every line of the earlier one that the source still has,
plus the new ones; the journal may also hold lines the newer plan no longer has (deleted in the source). Only
the plan's own keys count, so "already present", the estimate and the decision to reopen a completed conversation
agree and none of them can claim a message that never landed.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from pathlib import Path

import orjson

from migrator.journal import COMPLETED, DONE, REQUESTED, JournalStore
from migrator.plan import PlanError, PlannedConversation, PlannedTeam, keyed_lines


@dataclass(frozen=True)
class Landed:
    """What of one conversation had landed when it was read: load reads it once per conversation, before it schedules
    them, for the accounts check, the critical path and the conversation's import."""

    ids: Mapping[str, str]  # the journal's posted lines: plan key → Teams message id (the plan's or no longer)
    count: int  # how many of the conversation's plan lines they are


def read_landed(plan_dir: Path, conv: PlannedConversation, journal: JournalStore) -> Landed:
    """The conversation's lines the journal records as landed. Only the plan's keys are read (`keyed_lines`): a
    delta's plan holds every earlier line."""
    posted = journal.posted(conv.key)
    return Landed(posted, count_landed(plan_dir, conv, posted))


def count_landed(plan_dir: Path, conv: PlannedConversation, posted: Container[str]) -> int:
    """How many of the conversation's plan lines have their key in `posted`."""
    if not posted:
        return 0
    path = Path(plan_dir) / conv.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan file ({exc}); transform again") from None
    count = 0
    for number, (key, raw) in enumerate(keyed_lines(data), 1):
        if key is None:
            try:
                key = orjson.loads(raw)["key"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                raise PlanError(f"{path}:{number}: not a plan line with a key; transform again") from None
        count += key in posted
    return count


def open_private(journal: JournalStore, teams: list[PlannedTeam]) -> frozenset[str]:
    """Private channels a delta pass posts to alongside their team's standard channels: ones an earlier pass
    created, in a team it completed, whose planned members are all members of the team already. A new private
    channel still waits for its team's completion and members (Graph's order, migrator.critical), but these need
    nothing of it: reopened with startMigration like any completed channel, they would otherwise wait for every
    standard channel of the team to finish first, doubling a delta's time."""
    keys: set[str] = set()
    for team in teams:
        entry = journal.team(team.key)
        if entry is None or entry.state not in (COMPLETED, DONE):
            continue
        members = journal.members(team.key)
        for channel in team.channels:
            if channel.membership != "private" or any(m.user_id not in members for m in channel.members):
                continue
            created = journal.conversation(channel.key)
            if created is not None and created.graph_id and created.state != REQUESTED:
                keys.add(channel.key)
    return frozenset(keys)
