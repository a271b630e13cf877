"""Legacy message attachments (bot notifications, link previews) as readable cards.

Teams imports no cards, so each attachment becomes a quoted block inside the
message: its pretext, author, title, text, fields, image link and footer, in
Slack's order. An attachment with none of these shows its `fallback`, which
Slack itself writes for clients that cannot draw attachments.
"""

from __future__ import annotations

from typing import Any

from migrator.stages.transform.blocks import render_blocks
from migrator.stages.transform.context import Context
from migrator.stages.transform.markup import Element, Node, el, link, note
from migrator.stages.transform.text import SLACK, Syntax


def render_cards(attachments: list[dict[str, Any]], ctx: Context, syntax: Syntax = SLACK) -> list[Element]:
    """`syntax` reads the cards' text: Slack's mrkdwn unless the message came from another source."""
    out: list[Element] = []
    for attachment in attachments:
        ctx.features.add("bot_attachments")
        if _text(attachment, "pretext"):
            out.extend(syntax.blocks(attachment["pretext"], ctx))
        body = _card_body(attachment, ctx, syntax)
        if not body and _text(attachment, "fallback"):
            body = [el("p", *syntax.inline(attachment["fallback"], ctx))]
        if body:
            out.append(Element("blockquote", body))
        else:
            ctx.unsupported_item("empty attachment")
    return out


def _card_body(attachment: dict[str, Any], ctx: Context, syntax: Syntax) -> list[Node]:
    body: list[Node] = []
    if _text(attachment, "author_name"):
        author = attachment["author_name"]
        body.append(el("p", link(attachment["author_link"], author) if _text(attachment, "author_link") else author))
    if _text(attachment, "title"):
        title = attachment["title"]
        body.append(
            el("p", el("b", link(attachment["title_link"], title) if _text(attachment, "title_link") else title))
        )
    if _text(attachment, "text"):
        body.extend(syntax.blocks(attachment["text"], ctx))
    for field in attachment.get("fields") or []:
        if isinstance(field, dict) and (_text(field, "title") or _text(field, "value")):
            body.append(
                el(
                    "p",
                    el("b", str(field.get("title") or "")),
                    "\n",
                    *syntax.inline(str(field.get("value") or ""), ctx),
                )
            )
    if isinstance(attachment.get("blocks"), list):
        body.extend(render_blocks(attachment["blocks"], ctx))
    for shared in attachment.get("message_blocks") or []:  # a message shared from another conversation
        message = shared.get("message") if isinstance(shared, dict) else None
        if isinstance(message, dict) and isinstance(message.get("blocks"), list):
            body.extend(render_blocks(message["blocks"], ctx))
    if _text(attachment, "image_url"):
        body.append(el("p", "🖼 ", link(attachment["image_url"], "image")))
    if _text(attachment, "footer"):
        body.append(note(*syntax.inline(attachment["footer"], ctx)))
    return body


def _text(entry: dict[str, Any], name: str) -> bool:
    return isinstance(entry.get(name), str) and bool(entry[name].strip())
