"""Whether a Teams channel or chat people already use may receive a source conversation's history.

Two questions, asked by `map --check` (to refuse the route before anything is planned) and again by load right before
`startMigration` (membership may have changed since, and load runs whether or not the check did): does Teams accept
imports there (not an archived team, not a meeting chat), and would the history stay readable only by the people who
could read it at the source? Imported history cannot be taken back, so anything that could widen its readers is
refused: readers the source lacked, a public team anyone of the organisation may join, a shared channel (shared with
other teams and organisations, whose people its member list does not show).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any


@dataclass(frozen=True)
class Audience:
    """Who could read a source conversation in the product that made it (`made_by`): `restricted` for a private
    channel, DM or group DM (anyone of the workspace otherwise), and then `people`, its members with an Entra account
    (id -> name)."""

    what: str  # how messages name it, e.g. "private conversation leadership"
    made_by: str  # e.g. "Slack"
    restricted: bool
    people: Mapping[str, str]


def refusals(
    target: Mapping[str, Any],
    audiences: Iterable[Audience],
    team: Mapping[str, Any] | None = None,
    members: Collection[Mapping[str, Any]] = (),
) -> list[str]:
    """Why the existing `target` may not receive the history of `audiences` (one per source conversation going
    there), in this order: Teams imports nothing into it, then each audience's readers gained or lost; [] when it
    may. `target` is a chat read with its members or, with its `team`, a channel whose member list is `members`.
    What only the caller knows (the app's permission, another conversation going there) follows these."""
    if team is None:
        closed, readers = chat_closed(target), partial(chat_readers, target)
    else:
        closed, readers = team_closed(team), partial(channel_readers, team, target, members)
    return closed + [reason for audience in audiences for reason in readers(audience)]


def team_closed(team: Mapping[str, Any]) -> list[str]:
    """Why Teams imports into no channel of the existing `team`; [] when it does."""
    if team.get("isArchived"):
        return [f"team {team.get('displayName')!r} is archived (read-only): unarchive it first"]
    return []


def chat_closed(chat: Mapping[str, Any]) -> list[str]:
    """Why Teams imports nothing into the existing `chat`; [] when it does."""
    if chat.get("chatType") == "meeting":
        return [f"{chat_label(chat)} is a meeting chat, and Teams imports into none"]
    return []


def channel_readers(
    team: Mapping[str, Any], channel: Mapping[str, Any], members: Iterable[Mapping[str, Any]], audience: Audience
) -> list[str]:
    """Why `audience`'s history would gain or lose readers in the existing `channel` of `team` (`members`: who the
    channel's member list shows); [] when it would not."""
    if not audience.restricted:
        return []
    label = channel_label(team, channel)
    widened = _open_to_more(team, channel)
    if widened:
        return [_refusal(audience, label, f", and {widened}")]
    return _readers(audience, members, label)


def chat_readers(chat: Mapping[str, Any], audience: Audience) -> list[str]:
    """Why `audience`'s history would gain or lose readers in the existing `chat` (read with its members)."""
    if not audience.restricted:
        return []
    return _readers(audience, chat.get("members", []), chat_label(chat))


def channel_label(team: Mapping[str, Any], channel: Mapping[str, Any]) -> str:
    return f"existing channel {channel.get('displayName')!r} of team {team.get('displayName')!r}"


def chat_label(chat: Mapping[str, Any]) -> str:
    return f"existing chat {chat.get('id')}"


def _open_to_more(team: Mapping[str, Any], channel: Mapping[str, Any]) -> str:
    """Who besides the listed members could read the channel; "" when nobody."""
    if channel.get("membershipType") == "shared":
        return (
            "it is a shared channel: other teams and people of other organisations it is shared with can read it, "
            "and its member list does not show them all"
        )
    if channel.get("membershipType", "standard") == "standard" and team.get("visibility") == "public":
        return (
            f"team {team.get('displayName')!r} is public: anyone in the organisation can join it and read the channel"
        )
    return ""


def _readers(audience: Audience, members: Iterable[Mapping[str, Any]], label: str) -> list[str]:
    """The target's members must be exactly the audience's people: nobody gains the history, nobody loses it."""
    readers = {str(m.get("userId")): _member_name(m) for m in members}
    gained, lost = set(readers) - set(audience.people), set(audience.people) - set(readers)
    if not gained and not lost:
        return []
    parts = []
    if gained:
        parts.append(f"{_names(readers, gained)} could read it there but not in {audience.made_by}")
    if lost:
        verb = "is" if len(lost) == 1 else "are"
        parts.append(
            f"{_names(audience.people, lost)} could read it in {audience.made_by} but {verb} not a member there"
        )
    return [_refusal(audience, label, f", whose members are not exactly its own: {'; '.join(parts)}")]


def _refusal(audience: Audience, label: str, why: str) -> str:
    return (
        f"{audience.what} would go into {label}{why}. Imported history must not become readable by people who "
        "could not read it; choose a target with exactly its members, let the migration create one (action: "
        "migrate), or archive it"
    )


def _member_name(member: Mapping[str, Any]) -> str:
    if member.get("displayName"):
        return str(member["displayName"])
    return str(member["userId"]) if member.get("userId") else "a member without an account id"


def _names(people: Mapping[str, str], ids: set[str]) -> str:
    return ", ".join(sorted(people[i] for i in ids))
