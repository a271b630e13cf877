"""Which parser reads a message's text: the format its reader declared in `Message.extra[TEXT_FORMAT]`.

Slack writes mrkdwn, Mattermost and Discord Markdown, Teams HTML, and some
text is plain; reading one as another would garble it (`**bold**` is not
Slack's bold, a Teams `<p>` is not text). A message without a declared format
is Slack's, as it was before other sources existed.
"""

from __future__ import annotations

from migrator.model import Message
from migrator.sources.common import DISCORD_MARKDOWN, HTML, MARKDOWN, PLAIN, TEXT_FORMAT
from migrator.stages.transform import markdown, mrkdwn, teams_html
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import FileParts
from migrator.stages.transform.markup import Element, Node, el


def blocks(message: Message, ctx: Context, files: FileParts) -> list[Element]:
    """The text's top-level blocks; a Teams body may take its inline images and files out of `files`."""
    text = message.text or ""
    kind = message.extra.get(TEXT_FORMAT)
    if kind == HTML:
        return teams_html.blocks(message, ctx, files)
    if kind in (MARKDOWN, DISCORD_MARKDOWN):
        return markdown.blocks(text, ctx, channels_by_name=kind == MARKDOWN)
    if kind == PLAIN:
        return [el("p", text)] if text.strip() else []
    return mrkdwn.blocks(text, ctx)


def inline(message: Message, text: str, ctx: Context) -> list[Node]:
    """One line of the message's own format, for the notes system events become."""
    kind = message.extra.get(TEXT_FORMAT)
    if kind in (MARKDOWN, DISCORD_MARKDOWN):
        return markdown.inline_text(text, ctx, channels_by_name=kind == MARKDOWN)
    if kind in (PLAIN, HTML):
        return [text]
    return mrkdwn.inline(text, ctx)
