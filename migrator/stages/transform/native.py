"""Real @mentions and reactions (Microsoft's newest import article), and the text form each message keeps beside them.

A mention of a person users.csv maps is rendered as `<at id="ENTRA-ID">Name</at>` (`Context.mention`); once the body
is cut into the parts that are posted, each part's tags are numbered from 0 and get their `mentions[]` entries
(`part_fields`), so a split message keeps each mention in the part holding its tag. A reaction of a mapped person
with a Unicode emoji becomes a `reactions[]` entry, at most `MAX_REACTIONS` in source order; the rest (other people,
custom emoji, those beyond the cap, reactions the export counts without naming who) stay in the summary line, which
then names only what could not be imported. Reactions ride on the message's last body part, where the line stands.

Every part carrying real elements also carries its text form (`text`: bold names, the whole summary line), already
within the body limit, so load can post it again as text when a tenant refuses the elements, without the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any

from migrator.limits import MAX_REACTIONS
from migrator.model import Message, Reaction
from migrator.stages.transform.context import Context, Person
from migrator.stages.transform.markup import Element, emoji_char, note, render
from migrator.stages.transform.split import size
from migrator.timestamps import format_ms

AT_TAG = re.compile(r'<at id="([^"]*)">([^<]*)</at>')


@dataclass(frozen=True, slots=True)
class Reactions:
    """A message's reactions as planned: the Graph entries, and the summary line in both forms."""

    entries: list[dict[str, Any]] = field(default_factory=list)  # never older than the message (`to_request`)
    native_note: str = ""  # rendered: what could not be imported ("" when everything was)
    text_note: str = ""  # rendered: every reaction, the line the text form shows

    @property
    def growth(self) -> int:
        """Bytes the text form may add to the part holding the line: kept free when the body is cut into parts."""
        return max(0, size(self.text_note) - size(self.native_note)) if self.entries else 0


NO_REACTIONS = Reactions()


def reactions(message: Message, ctx: Context) -> Reactions:
    """The message's reactions: real ones for mapped people when migration.yaml wants them, the rest as a line."""
    if not message.reactions:
        return NO_REACTIONS
    full = render([summary(message.reactions, ctx)])
    if not ctx.native_reactions:
        ctx.features.add("reactions")
        return Reactions(native_note=full, text_note=full)
    entries: list[dict[str, Any]] = []
    left: list[Reaction] = []
    for reaction in message.reactions:
        char = reaction_char(reaction.name)
        others = []
        for index, user in enumerate(reaction.users):
            person = ctx.people.get(user)
            if char is not None and person is not None and len(entries) < MAX_REACTIONS:
                entries.append(_entry(char, person, reaction.times[index] if index < len(reaction.times) else None))
            else:
                others.append(user)
        unnamed = max(0, reaction.count - len(reaction.users))
        if others or unnamed:
            left.append(Reaction(reaction.name, len(others) + unnamed, tuple(others)))
    if entries:
        ctx.features.add("native_reactions")
    if left:
        ctx.features.add("reactions")
    return Reactions(entries, render([summary(left, ctx)]) if left else "", full)


def reaction_char(name: str) -> str | None:
    """Slack and Mattermost reaction names carry their skin tone as `+1::skin-tone-3`; None for a custom emoji."""
    base, _, tone = name.partition("::")
    return emoji_char(base, tone or None)


def part_fields(body: str, reactions: Reactions) -> tuple[str, dict[str, Any]]:
    """One posted part's body with its mentions numbered from 0, and the fields its real elements add
    (`mentions`, `reactions` when this part holds the summary line, and the part's `text` form); none without."""
    if "<at " not in body and not reactions.entries:
        return body, {}
    mentions: list[dict[str, Any]] = []

    def numbered(match: re.Match[str]) -> str:
        name = unescape(match.group(2))
        user = {"id": match.group(1), "displayName": name, "userIdentityType": "aadUser"}
        mentions.append({"id": len(mentions), "mentionText": name, "mentioned": {"user": user}})
        return f'<at id="{len(mentions) - 1}">{match.group(2)}</at>'

    native = AT_TAG.sub(numbered, body)
    text = AT_TAG.sub(r"<b>\2</b>", body)
    fields: dict[str, Any] = {}
    if mentions:
        fields["mentions"] = mentions
    if reactions.entries:
        fields["reactions"] = reactions.entries
        text = text.removesuffix(reactions.native_note) + reactions.text_note
    if fields:
        fields["text"] = text
    return native, fields


def _entry(char: str, person: Person, when_ms: int | None) -> dict[str, Any]:
    """A reaction entry; without a time of its own it is as old as its message (`to_request` fills it in)."""
    user = {"id": person.entra_id, "displayName": person.display_name, "userIdentityType": "aadUser"}
    entry: dict[str, Any] = {"reactionType": char, "user": {"user": user}}
    if when_ms is not None:
        entry["createdDateTime"] = format_ms(when_ms)
    return entry


def summary(reactions: list[Reaction], ctx: Context) -> Element:
    """The summary line of reactions kept as text."""
    return note("Reactions: " + " · ".join(_reacted(r, ctx) for r in reactions))


def _reacted(reaction: Reaction, ctx: Context) -> str:
    """One reaction of the summary: the emoji and who reacted (names as Teams shows them), with how many more the
    export counts than it lists; the count alone when the export lists nobody."""
    shown = reaction_char(reaction.name) or f":{reaction.name}:"
    if not reaction.users:
        return f"{shown} {reaction.count}"
    more = reaction.count - len(reaction.users)
    names = ", ".join(ctx.user_name(user) for user in reaction.users)
    return f"{shown} {names}" + (f" and {more} more" if more > 0 else "")
