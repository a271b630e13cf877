"""What of a conversation's plan has landed: the lines the journal records as posted.

The plan of a newer export (issue 27's delta pass) holds every line of the earlier one that the source still has,
plus the new ones; the journal may also hold lines the newer plan no longer has (deleted in the source). Only
the plan's own keys count, so "already present", the estimate and the decision to reopen a completed conversation
agree and none of them can claim a message that never landed.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from migrator.journal import JournalStore
from migrator.plan import PlanError, PlannedConversation


def landed(plan_dir: Path, conv: PlannedConversation, journal: JournalStore) -> int:
    """How many of the conversation's plan lines the journal records as landed. Read with orjson for the keys alone:
    load asks this of every conversation before it schedules them, and a delta's plan holds every earlier line."""
    posted = journal.posted(conv.key)
    if not posted:
        return 0
    path = Path(plan_dir) / conv.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan file ({exc}); transform again") from None
    count = 0
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            key = orjson.loads(raw)["key"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise PlanError(f"{path}:{number}: not a plan line with a key; transform again") from None
        count += key in posted
    return count
