"""Mattermost and Discord message text (Markdown) as an HTML tree.

Both write CommonMark with a few additions: a single newline is a line
break, `~~strike~~`, tables (Mattermost), `:emoji:` names, and people named
as `@username` (Mattermost: the username, which is also the model's user id;
DiscordChatExporter: the name already rendered). markdown-it-py parses with
raw HTML switched off, so `<script>` a person typed stays text, and its
tokens are turned into `markup.Element`s, which escape every string once on
the way out. Text without any Markdown character skips the parser (most
chat messages), which keeps transform's throughput close to Slack's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

from migrator.stages.transform.context import SPECIAL, Context
from migrator.stages.transform.markup import Element, Node, el, emoji_char, link, newlines, text_of

_SYNTAX = re.compile(r"[*_~`#>|\[\]!<&\\]|^\s*(?:[-+]|\d+[.)])\s|^\s{4}|\n\s*\n|^(?:-{3,}|={3,})\s*$", re.MULTILINE)
# Inside text: bare links, @mentions, ~channel links (Mattermost), :emoji: names.
_INLINE = re.compile(
    r"(?P<url>\bhttps?://[^\s<>()]+[^\s<>().,;:!?'\"])"
    r"|(?<![\w@])@(?P<user>[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9_]|[A-Za-z0-9])"
    r"|(?<![\w@])@(?P<at>)(?=\S)"  # any other @: a mention only when written as a name the message lists
    r"|(?<![\w~])~(?P<channel>[a-z0-9][a-z0-9_-]*)"
    r"|:(?P<emoji>[a-z0-9_+'-]+):"
)
_AT = {"user", "at"}  # the matches that may start a mention written as a name
_SPECIAL_MENTIONS = {"here", "channel", "all", "everyone"}
_WRAPS = {"strong": "b", "em": "i", "s": "s"}
_BLOCKS = {
    "paragraph": "p",
    "blockquote": "blockquote",
    "bullet_list": "ul",
    "ordered_list": "ol",
    "list_item": "li",
    "heading": None,
    "table": "table",
    "thead": "thead",
    "tbody": "tbody",
    "tr": "tr",
    "th": "th",
    "td": "td",
}


@cache
def _parser() -> MarkdownIt:
    """Built on first use: only Mattermost and Discord text is Markdown, and markdown-it costs every
    Slack run 40 ms to import."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"breaks": True, "html": False}).enable(["strikethrough", "table"])


def blocks(
    text: str, ctx: Context, channels_by_name: bool = True, names: Mapping[str, str] | None = None
) -> list[Element]:
    """Top-level blocks of a Markdown text; `channels_by_name` reads `~name` as a channel link (Mattermost);
    `names` are the names the text writes its mentions as, with each person's id (`MENTION_NAMES`)."""
    text = newlines(text)
    if not _SYNTAX.search(text):
        return [el("p", *inline_text(text, ctx, channels_by_name, names))] if text.strip() else []
    return _Builder(ctx, channels_by_name, names).build(_parser().parse(text))


def inline_text(
    text: str, ctx: Context, channels_by_name: bool = True, names: Mapping[str, str] | None = None
) -> list[Node]:
    """Plain text with its mentions, channel links, bare links and emoji names resolved."""
    nodes: list[Node] = []
    position = searched = 0  # text before `position` is placed; matches are looked for from `searched`
    while (match := _INLINE.search(text, searched)) is not None:
        node, searched = _mention_of(text, match, ctx, names) if names and match.lastgroup in _AT else (None, 0)
        if node is None:
            node, searched = _token(match, ctx, channels_by_name), match.end()
            if node is None:
                continue
        if match.start() > position:
            nodes.append(text[position : match.start()])
        nodes.append(node)
        position = searched
    if position < len(text):
        nodes.append(text[position:])
    return nodes


def _mention_of(text: str, match: re.Match[str], ctx: Context, names: Mapping[str, str]) -> tuple[Node | None, int]:
    """A mention written as one of `names` (with the position after it), or None: the longest name written after
    this `@` and ending where a word does, since a nickname may hold spaces (`@Tim 'mithro' Ansell`) and its first
    word alone could name someone else."""
    start = match.start() + 1
    for name in sorted(names, key=len, reverse=True):
        end = start + len(name)
        if text.startswith(name, start) and not (end < len(text) and (text[end].isalnum() or text[end] == "_")):
            return ctx.mention(names[name], name), end
    return None, 0


def _token(match: re.Match[str], ctx: Context, channels_by_name: bool) -> Node | None:
    kind = match.lastgroup
    if kind == "at":
        return None
    if kind == "url":
        ctx.features.add("links")
        return link(match.group("url"))
    if kind == "user":
        name = match.group("user")
        if name.lower() in _SPECIAL_MENTIONS:
            return ctx.special_mention(SPECIAL, "@" + name)
        return ctx.mention(name, "@" + name)
    if kind == "channel":
        if not channels_by_name:
            return None
        ctx.features.add("channel_links")
        return el("b", "~" + match.group("channel"))
    char = emoji_char(match.group("emoji"))
    if char is None:
        return None  # a custom emoji: nobody can draw it, so it stays as typed
    ctx.features.add("emoji")
    return char


class _Builder:
    """markdown-it's flat token stream back into a tree, one open element per level."""

    def __init__(self, ctx: Context, channels_by_name: bool, names: Mapping[str, str] | None = None) -> None:
        self.ctx = ctx
        self.channels_by_name = channels_by_name
        self.names = names

    def build(self, tokens: list[Token]) -> list[Element]:
        root = Element("root")
        stack = [root]
        for token in tokens:
            if token.nesting == 1 and token.hidden:
                stack.append(stack[-1])  # a tight list's paragraph: its text sits in the item itself
            elif token.nesting == 1:
                element, inner = self._open(token)
                stack[-1].append(element)
                stack.append(inner)
            elif token.nesting == -1:
                stack.pop()
            elif token.type == "inline":
                stack[-1].children.extend(self._inline(token.children or []))
            elif token.type in {"fence", "code_block"}:
                self.ctx.features.add("code_blocks")
                stack[-1].append(el("pre", token.content.removesuffix("\n")))
            elif token.type == "hr":
                stack[-1].append(el("hr"))
        return [child for child in root.children if isinstance(child, Element)]

    def _open(self, token: Token) -> tuple[Element, Element]:
        """The element a token opens and the one its content goes into (they differ for headings)."""
        name = token.type.removesuffix("_open")
        if name == "heading":
            bold = el("b")  # Teams shows no headings in messages; bold keeps the emphasis
            return el("p", bold), bold
        if name == "blockquote":
            self.ctx.features.add("quotes")
        element = Element(_BLOCKS.get(name) or "div")
        return element, element

    def _inline(self, tokens: list[Token]) -> list[Node]:
        root: list[Node] = []
        stack: list[list[Node]] = [root]
        for token in tokens:
            if token.nesting == 1:
                element = self._inline_open(token)
                stack[-1].append(element)
                stack.append(element.children)
            elif token.nesting == -1:
                stack.pop()
            elif token.type == "text":
                stack[-1].extend(inline_text(token.content, self.ctx, self.channels_by_name, self.names))
            elif token.type == "code_inline":
                self.ctx.features.add("inline_code")
                stack[-1].append(el("code", token.content))
            elif token.type in {"softbreak", "hardbreak"}:
                stack[-1].append("\n")
            elif token.type == "image":
                self.ctx.features.add("links")
                stack[-1].append(link(str(token.attrGet("src") or ""), "🖼 " + (text_of(_plain(token)) or "image")))
        return root

    def _inline_open(self, token: Token) -> Element:
        name = token.type.removesuffix("_open")
        if name == "link":
            self.ctx.features.add("links")
            target = link(str(token.attrGet("href") or ""), "")
            assert isinstance(target, Element)  # link() with a label always gives an element
            target.children.clear()  # the label's tokens follow
            return target
        return Element(_WRAPS.get(name, "span"))


def _plain(token: Token) -> list[Any]:
    return [child.content for child in token.children or [] if child.type == "text"]
