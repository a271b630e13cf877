"""Which parser reads a message's text: the format its reader declared in `Message.extra[TEXT_FORMAT]`.

Slack writes mrkdwn, Mattermost and Discord Markdown, Teams HTML, and some
text is plain; reading one as another would garble it (`**bold**` is not
Slack's bold, a Teams `<p>` is not text). A message without a declared format
is Slack's, as it was before other sources existed. The same syntax reads the
message's cards (bot attachments, embeds) and its event notes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from migrator.model import Message
from migrator.sources.common import DISCORD_MARKDOWN, HTML, MARKDOWN, MENTION_NAMES, PLAIN, TEXT_FORMAT
from migrator.stages.transform import markdown, mrkdwn, teams_html
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import FileParts
from migrator.stages.transform.markup import Element, Node, el


@dataclass(frozen=True, slots=True)
class Syntax:
    """How one source writes text: a parser for blocks and one for a single line."""

    blocks: Callable[[str, Context], list[Element]]
    inline: Callable[[str, Context], list[Node]]


def _plain_blocks(text: str, ctx: Context) -> list[Element]:
    return [el("p", text)] if text.strip() else []


def _plain_inline(text: str, ctx: Context) -> list[Node]:
    return [text]


SLACK = Syntax(mrkdwn.blocks, mrkdwn.inline)
# Keyed by `Message.extra.get(TEXT_FORMAT)`: None (absent) and a format not listed read as Slack's (`syntax`).
_SYNTAX: dict[str | None, Syntax] = {
    MARKDOWN: Syntax(markdown.blocks, markdown.inline_text),
    DISCORD_MARKDOWN: Syntax(
        partial(markdown.blocks, channels_by_name=False), partial(markdown.inline_text, channels_by_name=False)
    ),
    PLAIN: Syntax(_plain_blocks, _plain_inline),
    HTML: Syntax(_plain_blocks, _plain_inline),  # outside the body (cards, events) the Teams reader gives plain text
}


def syntax(message: Message) -> Syntax:
    names = message.extra.get(MENTION_NAMES)
    if names:  # mentions written as names (DiscordChatExporter): the parser is told whom each names
        return Syntax(
            partial(markdown.blocks, channels_by_name=False, names=names),
            partial(markdown.inline_text, channels_by_name=False, names=names),
        )
    return _SYNTAX.get(message.extra.get(TEXT_FORMAT), SLACK)


def blocks(message: Message, ctx: Context, files: FileParts) -> list[Element]:
    """The text's top-level blocks; a Teams body may take its inline images and files out of `files`."""
    if message.extra.get(TEXT_FORMAT) == HTML:
        return teams_html.blocks(message, ctx, files)
    return syntax(message).blocks(message.text or "", ctx)


def inline(message: Message, text: str, ctx: Context) -> list[Node]:
    """One line in the message's own syntax, for the notes system events become."""
    return syntax(message).inline(text, ctx)
