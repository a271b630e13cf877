"""Reconcile one planned conversation with what Teams exports for it.

`createdDateTime` is unique to the millisecond in a channel or chat (the
import API refuses a second message at a taken millisecond), so a planned
line and an exported message match by that time; the journal's message id
is checked against the match, not used to find it, so a wrong journal shows.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from migrator.bodies import PLANNED_IMAGE, normalise_html, same_body
from migrator.earlier import base_key
from migrator.graph import GraphClient, GraphError
from migrator.stages.export.images import hosted_images
from migrator.stages.load.images import without_images
from migrator.stages.load.native import as_text
from migrator.stages.verify.outcome import ConversationCheck, Finding
from migrator.timestamps import parse_ms
from migrator.words import counted

Message = dict[str, Any]


@dataclass(frozen=True)
class Evidence:
    """What the journal knows about one conversation."""

    posted: dict[str, str]  # plan key -> Teams message id
    uploads: dict[str, str]  # upload key -> the file's webUrl
    failures: dict[str, str] = field(default_factory=dict)  # plan key -> why load could not post it
    moved: set[str] = field(default_factory=set)  # plan keys posted again with their inline images as files
    as_text: set[str] = field(default_factory=set)  # plan keys posted again in their text form (mentions refused)
    files: dict[str, list[str]] = field(default_factory=dict)  # upload key -> what is wrong with a chat's file
    # Changed in the source since the earlier pass (migrator.earlier): Teams keeps what that pass imported, so an
    # edited message's content may differ from the plan's, and a deleted one's stays in Teams beside the plan.
    edited: frozenset[str] = frozenset()  # plan keys of records edited since
    deleted: frozenset[str] = frozenset()  # plan keys of records deleted since


def check_conversation(
    client: GraphClient,
    check: ConversationCheck,
    lines: Iterable[Message],
    exported: list[Message],
    evidence: Evidence,
    existing: bool = False,
) -> dict[str, Message]:
    """Fill `check` with missing, duplicated, mismatched and unexpected messages; returns the Teams message each
    planned key matched (what the comparison with the source reads).

    In a channel or chat people already use (`existing`), their own messages are neither duplicates nor unexpected:
    a message is theirs when the journal does not know its id and it is no copy (author and body) of a planned one.
    A planned message load stepped past one of theirs holding its millisecond is found by its journaled id."""
    at: dict[int, list[Message]] = {}
    for message in exported:
        at.setdefault(parse_ms(message["createdDateTime"]), []).append(message)
    by_id = {m["id"]: m for m in exported} if existing else {}
    ours = set(evidence.posted.values()) if existing else set()
    copies: set[tuple[str | None, str]] = set()  # (author, body) of every planned message
    planned_times: set[int] = set()
    chosen: dict[str, str] = {}  # plan key -> the Teams id it matched
    pending: list[tuple[Message, Message]] = []
    check.expected = 0  # counted from the plan file itself, which is what load posted
    for planned in lines:
        check.expected += 1
        line = as_posted(planned, evidence)
        copies.add(_signature(line))
        stepped = by_id.get(evidence.posted.get(line["key"], ""))
        ms = parse_ms((stepped or line)["createdDateTime"])
        planned_times.add(ms)
        there = [m for m in at.get(ms, []) if not existing or not _theirs(m, ours, {_signature(line)})]
        live = [m for m in there if not m.get("deletedDateTime")]
        if not live:
            detail = f"deleted in Teams at {there[0]['deletedDateTime']}" if there else "not in Teams"
            if line["key"] in evidence.failures:
                detail += f"; load could not post it: {evidence.failures[line['key']]}"
            check.missing.append(_finding(check, line, there, detail))
            continue
        check.found += 1
        if len(live) > 1:
            check.duplicated.append(_finding(check, line, live, f"{len(live)} messages in Teams at this time"))
        match = next((m for m in live if m["id"] == evidence.posted.get(line["key"])), live[0])
        chosen[line["key"]] = match["id"]
        pending.append((line, match))
    for line, match in pending:
        problems = _differences(client, check, line, match, chosen, evidence)
        if problems:
            check.mismatched.append(_finding(check, line, [match], "; ".join(problems)))
    earlier = {evidence.posted[key] for key in evidence.deleted if key in evidence.posted}
    for ms, messages in sorted(at.items()):
        if ms in planned_times:
            continue
        for message in messages:
            if message["id"] in earlier or (existing and _theirs(message, ours, copies)):
                continue
            check.unexpected.append(
                Finding(
                    check.key,
                    None,
                    message["createdDateTime"],
                    [message["id"]],
                    "in Teams but not in the plan (posted after the migration?)",
                )
            )
    return {line["key"]: match for line, match in pending}


def _signature(message: Message) -> tuple[str | None, str]:
    body = message.get("body") or {}
    return _user(message.get("from")), normalise_html(body.get("content", ""), body.get("contentType", "html"))


def _theirs(message: Message, ours: set[str], copies: set[tuple[str | None, str]]) -> bool:
    """A message people posted in an existing target: not journaled, and no copy of a planned one."""
    return message["id"] not in ours and _signature(message) not in copies


def as_posted(planned: Message, evidence: Evidence) -> Message:
    """The plan line as load posted it: in its text form, and with its inline images as files, when the journal
    says Teams refused them."""
    line = as_text(planned) if planned["key"] in evidence.as_text else planned
    return without_images(line, evidence.uploads) if planned["key"] in evidence.moved else line


def _finding(check: ConversationCheck, line: Message, messages: list[Message], detail: str) -> Finding:
    return Finding(check.key, line["key"], line["createdDateTime"], [m["id"] for m in messages], detail)


def _differences(
    client: GraphClient,
    check: ConversationCheck,
    line: Message,
    message: Message,
    chosen: dict[str, str],
    evidence: Evidence,
) -> list[str]:
    problems = []
    journal_id = evidence.posted.get(line["key"])
    if journal_id is None:
        problems.append(
            "the journal has no record of it (a load stopped before recording it; loading again reconciles)"
        )
    elif journal_id != message["id"]:
        problems.append(f"the journal records id {journal_id}, Teams has {message['id']} at this time")
    planned_author = _user(line.get("from"))
    if planned_author != _user(message.get("from")):
        problems.append(f"posted as {_user(message.get('from'))}, planned as {planned_author}")
    reply, root_key = line.get("kind") == "reply", line.get("root_key")
    expected_root = chosen.get(root_key) if reply and root_key is not None else None
    if reply and expected_root is None:
        problems.append(f"its thread root {root_key} is not in Teams")
    elif message.get("replyToId") != expected_root:
        problems.append(f"under root {message.get('replyToId')}, planned under {expected_root}")
    if base_key(line["key"]) in evidence.edited:
        return problems  # its content is the earlier pass's: the change is listed, not a mismatch
    planned_body, body = line.get("body") or {}, message.get("body") or {}
    if not same_body(planned_body, body):
        problems.append(
            f"body differs: planned {_short(planned_body.get('content', ''))!r}, "
            f"Teams has {_short(body.get('content', ''))!r}"
        )
    problems += _native_differences(line, message)
    problems += _image_differences(client, check, line, message)
    problems += _attachment_differences(line, message, evidence)
    return problems


def _native_differences(line: Message, message: Message) -> list[str]:
    """Real mentions (who, in which tag) and reactions (who, which emoji) as planned, none where the text form was
    posted (`as_posted` dropped them from the line)."""
    planned = [(str(m.get("id")), _user(m.get("mentioned")), m.get("mentionText")) for m in line.get("mentions") or []]
    landed = [
        (str(m.get("id")), _user(m.get("mentioned")), m.get("mentionText")) for m in message.get("mentions") or []
    ]
    problems = []
    if planned != landed:
        problems.append(f"mentions differ: planned {planned}, Teams has {landed}")
    wanted = sorted((r.get("reactionType"), _user(r.get("user"))) for r in line.get("reactions") or [])
    found = sorted((r.get("reactionType"), _user(r.get("user"))) for r in message.get("reactions") or [])
    if wanted != found:
        problems.append(f"reactions differ: planned {wanted}, Teams has {found}")
    return problems


def _image_differences(client: GraphClient, check: ConversationCheck, line: Message, message: Message) -> list[str]:
    """Each planned inline image must come back from hostedContents/{id}/$value with the same bytes."""
    by_temp = {h.get("@microsoft.graph.temporaryId"): h for h in line.get("hostedContents") or []}
    planned = [by_temp.get(temp) for temp in PLANNED_IMAGE.findall((line.get("body") or {}).get("content", ""))]
    landed = hosted_images(message)
    if len(planned) != len(landed):
        return [f"{counted(len(planned), 'inline image')} planned, {len(landed):,} in Teams"]
    problems = []
    for number, (hosted, (url, _)) in enumerate(zip(planned, landed, strict=True), 1):
        expected = hashlib.sha256(base64.b64decode((hosted or {}).get("contentBytes", ""))).hexdigest()
        try:
            found = hashlib.sha256(client.request("GET", url, headers={"Accept": "*/*"}).content).hexdigest()
        except GraphError as error:
            problems.append(f"inline image {number} not retrievable: {error.status} {error.code}")
            continue
        check.images += 1
        if found != expected:
            problems.append(f"inline image {number} differs (sha256 {found[:12]}…, planned {expected[:12]}…)")
    return problems


def _attachment_differences(line: Message, message: Message, evidence: Evidence) -> list[str]:
    uploads = evidence.uploads
    landed = {a.get("id"): a for a in message.get("attachments") or []}
    problems = []
    for planned in line.get("attachments") or []:
        found = landed.pop(planned.get("id"), None)
        name = planned.get("name") or planned.get("id")
        if found is None:
            problems.append(f"attachment {name} is missing")
            continue
        if planned.get("name") and found.get("name") != planned["name"]:
            problems.append(f"attachment {name} is named {found.get('name')!r}")
        url = uploads.get(planned.get("upload")) if planned.get("upload") else planned.get("contentUrl")
        if not found.get("contentUrl") or (url and found["contentUrl"] != url):
            problems.append(f"attachment {name} links to {found.get('contentUrl')!r}, expected {url!r}")
        problems += [f"attachment {name}: {problem}" for problem in evidence.files.get(planned.get("upload"), [])]
    problems += [f"attachment {a.get('name') or key} was not planned" for key, a in landed.items()]
    return problems


def _user(sender: Any) -> str | None:
    return ((sender or {}).get("user") or {}).get("id")


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
