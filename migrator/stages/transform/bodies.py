"""A source message as the blocks of its HTML body: what was written, then the migrator's notes.

The body is kept as a list of top-level elements (paragraphs, quotes, code,
lists, cards) rather than one string, so `split.py` can cut an oversized
message between blocks and each part stays valid HTML. Everything the import
API cannot carry is turned into something a reader understands and counted in
`Context.features`: mentions become bold names, reactions a summary line naming who reacted,
edits an "(edited)" note, system events small grey notes.
"""

from __future__ import annotations

from migrator.model import Message, Reaction
from migrator.stages.transform import text
from migrator.stages.transform.blocks import render_blocks
from migrator.stages.transform.cards import render_cards
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import FileParts
from migrator.stages.transform.markup import Element, el, emoji_char, note

DELETED = "This message was deleted in Slack; it is kept because replies belong to it."  # only Slack has tombstones
EMPTY = "(This message had no text.)"


def content(message: Message, ctx: Context, files: FileParts | None = None) -> list[Element]:
    """What the author wrote (or the event that happened), as top-level blocks.

    `files` is what transform made of the message's files; a body that shows them in place (Teams) takes them.
    """
    if message.subtype == "tombstone":
        ctx.features.add("deleted_placeholders")
        return [note(DELETED)]
    if message.system:
        ctx.features.add("system_messages")
        return [note(*text.inline(message, message.text or message.subtype or "", ctx))]
    blocks = render_blocks(message.blocks, ctx) if message.blocks else []
    if not blocks and message.text:
        blocks = text.blocks(message, ctx, files if files is not None else FileParts())
    if message.subtype == "me_message":
        blocks = [el("p", el("i", *b.children)) if b.tag == "p" else b for b in blocks]
    if message.attachments:
        blocks += render_cards(message.attachments, ctx, text.syntax(message))
    if message.commented_file is not None:
        ctx.features.add("file_comments")
        blocks.append(note("Comment on the file ", el("b", message.commented_file.name)))
    return blocks


def notes(message: Message, ctx: Context, pinned: bool = False) -> list[Element]:
    """What the source showed around the message that Teams cannot: pins, edits, broadcasts, reactions. Pins are
    the conversation's (`Conversation.pins`), so the caller says whether this message is one."""
    out: list[Element] = []
    if pinned:
        ctx.features.add("pins")
        out.append(note("📌 Pinned in the source"))
    if message.subtype == "thread_broadcast":
        ctx.features.add("thread_broadcasts")
        out.append(note("(also sent to the channel)"))
    if message.edited is not None:
        ctx.features.add("edits")
        out.append(note("(edited)"))
    if message.reactions:
        ctx.features.add("reactions")
        summary = " · ".join(_reacted(r, ctx) for r in message.reactions)
        out.append(note("Reactions: " + summary))
    return out


def posted_by(name: str) -> Element:
    """The first line of a message the fallback account posts for someone without an Entra account."""
    return note("Originally posted by ", el("b", name))


def empty_note() -> Element:
    return note(EMPTY)


def _reacted(reaction: Reaction, ctx: Context) -> str:
    """One reaction of the summary: the emoji and who reacted (names as Teams shows them), with how many more the
    export counts than it lists; the count alone when the export lists nobody."""
    if not reaction.users:
        return f"{_reaction(reaction.name)} {reaction.count}"
    more = reaction.count - len(reaction.users)
    names = ", ".join(ctx.user_name(user) for user in reaction.users)
    return f"{_reaction(reaction.name)} {names}" + (f" and {more} more" if more > 0 else "")


def _reaction(name: str) -> str:
    """Reaction names carry their skin tone as `+1::skin-tone-3`; custom emoji keep their :name:."""
    base, _, tone = name.partition("::")
    return emoji_char(base, tone or None) or f":{name}:"
