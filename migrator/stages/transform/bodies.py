"""A source message as the blocks of its HTML body: what was written, then the migrator's notes.

The body is kept as a list of top-level elements (paragraphs, quotes, code,
lists, cards) rather than one string, so `split.py` can cut an oversized
message between blocks and each part stays valid HTML. Everything the import
API cannot carry is turned into something a reader understands and counted in
`Context.features`: mentions of people without an Entra account become bold names, reactions that cannot be
imported a summary line naming who reacted (`native.py` plans the real ones),
edits an "(edited)" note, system events small grey notes.
"""

from __future__ import annotations

from migrator.model import Message
from migrator.stages.transform import native, text
from migrator.stages.transform.blocks import render_blocks
from migrator.stages.transform.cards import render_cards
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import FileParts
from migrator.stages.transform.markup import Element, el, note

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


def notes(message: Message, ctx: Context, pinned: bool = False, reactions: bool = True) -> list[Element]:
    """What the source showed around the message that Teams cannot: pins, edits, broadcasts, reactions. Pins are
    the conversation's (`Conversation.pins`), so the caller says whether this message is one; a caller that plans
    real reactions (`native.reactions`) adds their line itself, last."""
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
    if reactions and message.reactions:
        ctx.features.add("reactions")
        out.append(native.summary(message.reactions, ctx))
    return out


def posted_by(name: str) -> Element:
    """The first line of a message the fallback account posts for someone without an Entra account."""
    return note("Originally posted by ", el("b", name))


def empty_note() -> Element:
    return note(EMPTY)
