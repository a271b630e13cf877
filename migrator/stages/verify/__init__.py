"""`verify`: prove that a loaded plan landed, by reading it back through the export APIs.

Each migrated team is read once through `teams/{id}/channels/getAllMessages`
(and each migrated chat through one member's `chats/getAllMessages`), paged
at `$top=50`; every planned message must be there exactly once, at its
`createdDateTime`, with the same body, author, thread root, inline image
bytes and attachments. Then the plan's ledger is compared with what landed
(`source.py`): every source record has a fate, every planned one is in
Teams, and every reply is under what its source root became. The client
passed in should cap the tenant's export rate (`export_limiter`), like the
export command's does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from migrator.earlier import DELETED, EDITED, read_changes
from migrator.graph import AuthenticationError, GraphClient, GraphError, PaymentRequiredError
from migrator.journal import SENT_AS_TEXT, JournalStore
from migrator.ledger import LEDGER, read_ledger
from migrator.limits import EXPORT_MAX_TOP
from migrator.plan import Manifest, PlannedConversation, read_lines
from migrator.stages.export.archive import ArchiveError, Message, conversation_of
from migrator.stages.export.billing import explain
from migrator.stages.export.outcome import Target
from migrator.stages.verify.chatfiles import chat_file_problems
from migrator.stages.verify.compare import Evidence, check_conversation
from migrator.stages.verify.outcome import ConversationCheck, Finding, VerifyOutcome
from migrator.stages.verify.source import check_sources, read_counts

__all__ = ["VerifyOptions", "VerifyOutcome", "verify"]

log = logging.getLogger("migrator.verify")


@dataclass(frozen=True)
class VerifyOptions:
    model: str | None = None  # billing model of the export APIs; None: evaluation mode
    workers: int = 8  # conversations compared in parallel (image downloads are paced per channel)


@dataclass
class _Work:
    check: ConversationCheck
    conversation: PlannedConversation
    scope: Target | None  # whose getAllMessages holds it; None when load never created it


def verify(
    plan_dir: Path, client: GraphClient, journal: JournalStore, options: VerifyOptions = VerifyOptions()
) -> VerifyOutcome:
    manifest = Manifest.read(plan_dir)
    before, started = client.stats.snapshot(), time.monotonic()
    work = _plan_work(manifest, journal)
    scopes = list(dict.fromkeys(w.scope for w in work if w.scope is not None))
    landed: dict[str, Message] = {}  # plan key -> the Teams message it matched, over every conversation
    with ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="verify") as pool:
        fetched = dict(zip(scopes, pool.map(lambda scope: _read(client, scope, options.model), scopes), strict=True))
        compare = _comparer(client, journal, Path(plan_dir), fetched)
        for matched in pool.map(compare, work):
            landed.update(matched)
    sources = None
    if (Path(plan_dir) / LEDGER).is_file():  # plans written before the ledger existed are compared with the plan only
        sources = check_sources(read_ledger(Path(plan_dir)), landed, read_counts(Path(plan_dir)))
    after = client.stats.snapshot()
    return VerifyOutcome(
        sources=sources,
        conversations=[w.check for w in work],
        requests=after["requests"] - before["requests"],
        throttled=after["throttled"] - before["throttled"],
        seconds=time.monotonic() - started,
    )


def _plan_work(manifest: Manifest, journal: JournalStore) -> list[_Work]:
    work = []
    for team, conversation in manifest.conversations():
        graph_id = journal.conversation_id(conversation.key)
        check = ConversationCheck(
            conversation.key,
            team.display_name if team else "(chats)",
            conversation.display_name,
            graph_id,
            conversation.messages,
        )
        scope = None
        if team is not None:
            team_id = journal.team_id(team.key)
            scope = Target("team", team_id) if team_id and graph_id else None
        elif graph_id and conversation.members:
            scope = Target("user", conversation.members[0].user_id)  # any member's chats include this chat
        work.append(_Work(check, conversation, scope))
    return work


def _read(client: GraphClient, scope: Target, model: str | None) -> dict[str, list[Message]] | str:
    """Every exported message of a team or user by conversation id, or why it could not be read."""
    params = {"$top": str(EXPORT_MAX_TOP)}
    if model:
        params["model"] = model
    by_conversation: dict[str, list[Message]] = {}
    try:
        for message in client.paginate(scope.path, params=params):
            by_conversation.setdefault(conversation_of(message), []).append(message)
    except PaymentRequiredError as error:
        return explain(error, model)
    except AuthenticationError:
        raise  # the sign-in is refused for every team and chat alike: the run stops, the user fixes the credentials
    except (GraphError, ArchiveError) as error:
        return str(error)
    return by_conversation


def _comparer(
    client: GraphClient, journal: JournalStore, plan_dir: Path, fetched: dict[Target, dict[str, list[Message]] | str]
) -> Callable[[_Work], dict[str, Message]]:
    changes = read_changes(plan_dir)

    def compare(item: _Work) -> dict[str, Message]:
        if item.scope is None or item.check.graph_id is None:  # a scope is set only for a conversation with an id
            item.check.missing = [_never_created(item.check, line) for line in read_lines(plan_dir, item.conversation)]
            item.check.expected = len(item.check.missing)
            return {}
        found = fetched[item.scope]
        if isinstance(found, str):
            item.check.error = f"could not read {item.scope.kind} {item.scope.id}: {found}"
            log.warning("%s: %s", item.check.key, item.check.error)
            return {}
        key = item.conversation.key
        evidence = Evidence(
            posted=journal.posted(key),
            uploads=journal.uploads(key),
            failures=journal.failures(key),
            moved=journal.moved(key),
            as_text=journal.posted_as(key, SENT_AS_TEXT),
            files=chat_file_problems(client, journal, item.conversation),
            edited=frozenset(c["id"] for c in changes if c["kind"] == EDITED),
            deleted=frozenset(c["id"] for c in changes if c["kind"] == DELETED),
        )
        lines = read_lines(plan_dir, item.conversation)
        exported = found.get(item.check.graph_id, [])
        return check_conversation(client, item.check, lines, exported, evidence, bool(item.conversation.existing))

    return compare


def _never_created(check: ConversationCheck, line: Message) -> Finding:
    return Finding(
        check.key,
        line["key"],
        line["createdDateTime"],
        [],
        "its channel or chat was never created (not in the journal): run `migrator load`",
    )
