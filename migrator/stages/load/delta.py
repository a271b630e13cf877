"""What of a conversation's plan has landed: the lines the journal records as posted.

The plan of a newer export (issue 27's delta pass) holds every line of the earlier one that the source still has,
plus the new ones; the journal may also hold lines the newer plan no longer has (deleted in the source). Only
the plan's own keys count, so "already present", the estimate and the decision to reopen a completed conversation
agree and none of them can claim a message that never landed.
"""

from __future__ import annotations

from pathlib import Path

from migrator.journal import Journal
from migrator.plan import PlannedConversation, read_lines


def landed(plan_dir: Path, conv: PlannedConversation, journal: Journal) -> int:
    """How many of the conversation's plan lines the journal records as landed."""
    posted = journal.posted(conv.key)
    if not posted:
        return 0
    return sum(1 for line in read_lines(plan_dir, conv) if line["key"] in posted)
