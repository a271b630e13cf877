"""What a system event message says, from its `eventDetail` (docs/graph-contract.md#chatmessage-fields).

Teams posts a system event (members added, a chat renamed, a call ended…)
with an empty `<systemEventMessage/>` body; what happened is only in
`eventDetail`, one of Graph's `eventMessageDetail` types. The archive shows
it as a sentence, naming people by the names the export recorded; a type
not known here is still shown, by its name, so nothing reads as an empty card.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Names = Mapping[str, Mapping[str, str]]  # meta.json people: object id -> {"name", "email"}
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def event_text(detail: object, people: Names) -> str:
    """One sentence for an eventDetail; empty when there is none."""
    if not isinstance(detail, dict):
        return ""
    kind = str(detail.get("@odata.type") or "").rsplit(".", 1)[-1].removesuffix("EventMessageDetail")
    who = _who(detail.get("initiator"), people) or "Someone"
    writer = _SENTENCES.get(kind)
    if writer is None:
        return f"{who}: {_words(kind) or 'system event'}"
    return writer(detail, who, people)


def _members(detail: Mapping[str, Any], people: Names) -> str:
    names = [_name(m, people) for m in detail.get("members") or [] if isinstance(m, dict)]
    return _listing(names) or "members"


def _call(detail: Mapping[str, Any], who: str, people: Names) -> str:
    participants = [
        _who(p.get("participant"), people) for p in detail.get("callParticipants") or [] if isinstance(p, dict)
    ]
    length = _duration(str(detail.get("callDuration") or ""))
    with_whom = f" with {_listing([p for p in participants if p])}" if any(participants) else ""
    kind = "Meeting" if detail.get("callEventType") == "meeting" else "Call"
    return f"{kind} ended{' after ' + length if length else ''}{with_whom}"


_SENTENCES: dict[str, Callable[[Mapping[str, Any], str, Names], str]] = {
    "membersAdded": lambda d, who, p: f"{who} added {_members(d, p)}",
    "membersDeleted": lambda d, who, p: f"{who} removed {_members(d, p)}",
    "membersJoined": lambda d, who, p: f"{_members(d, p)} joined",
    "membersLeft": lambda d, who, p: f"{_members(d, p)} left",
    "chatRenamed": lambda d, who, p: f"{who} renamed the chat to “{d.get('chatDisplayName') or ''}”",
    "channelRenamed": lambda d, who, p: f"{who} renamed the channel to “{d.get('channelDisplayName') or ''}”",
    "channelAdded": lambda d, who, p: f"{who} created the channel “{d.get('channelDisplayName') or ''}”",
    "channelDeleted": lambda d, who, p: f"{who} deleted the channel “{d.get('channelDisplayName') or ''}”",
    "channelDescriptionUpdated": lambda d, who, p: f"{who} changed the channel description",
    "teamRenamed": lambda d, who, p: f"{who} renamed the team to “{d.get('teamDisplayName') or ''}”",
    "teamCreated": lambda d, who, p: f"{who} created the team “{d.get('teamDisplayName') or ''}”",
    "teamDescriptionUpdated": lambda d, who, p: f"{who} changed the team description",
    "teamArchived": lambda d, who, p: f"{who} archived the team",
    "teamUnarchived": lambda d, who, p: f"{who} restored the team from the archive",
    "callStarted": lambda d, who, p: f"{who} started a call",
    "callEnded": _call,
    "callRecording": lambda d, who, p: f"Call recording {str(d.get('callRecordingStatus') or 'updated').lower()}",
    "callTranscript": lambda d, who, p: "Call transcript available",
    "meetingPolicyUpdated": lambda d, who, p: f"{who} changed the meeting policy",
    "messagePinned": lambda d, who, p: f"{who} pinned a message",
    "messageUnpinned": lambda d, who, p: f"{who} unpinned a message",
    "tabUpdated": lambda d, who, p: f"{who} updated a tab",
    "conversationMemberRoleUpdated": lambda d, who, p: (
        f"{who} made {_who(d.get('conversationMemberUser'), p) or 'a member'} "
        f"{'/'.join(d.get('conversationMemberRoles') or []) or 'a member'}"
    ),
}


def _who(identity: object, people: Names) -> str:
    """The name of an identity set ({user|application|device: {id, displayName}}), as recorded or as given."""
    if not isinstance(identity, dict):
        return ""
    for kind in ("user", "application", "device"):
        entry = identity.get(kind)
        if isinstance(entry, dict):
            return _name(entry, people)
    return _name(identity, people) if identity.get("id") else ""


def _name(entry: Mapping[str, Any], people: Names) -> str:
    known = people.get(str(entry.get("id") or "")) or {}
    return str(known.get("name") or entry.get("displayName") or entry.get("id") or "someone")


def _listing(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _duration(text: str) -> str:
    """ISO-8601 `PT4M12S` as `4 min 12 s`."""
    match = _DURATION.match(text)
    if not match or not any(match.groups()):
        return ""
    days, hours, minutes, seconds = match.groups()
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (seconds and str(int(float(seconds))), "s")]
    return " ".join(f"{int(value)} {unit}" for value, unit in parts if value and int(value))


def _words(kind: str) -> str:
    """`conversationMemberRoleUpdated` as `conversation member role updated`."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", kind).lower()
