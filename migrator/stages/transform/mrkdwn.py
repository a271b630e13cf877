"""Slack mrkdwn (the `text` of messages, sections and legacy attachments) parsed into an HTML tree.

Slack stores text with `&`, `<` and `>` escaped and uses `<…>` only for its
own markup (links, mentions, special mentions), so the text is tokenised on
the raw string first and entities are decoded only inside text tokens: a
`&lt;script&gt;` a person typed stays text, and `markup.render` escapes it
again exactly once. Emphasis follows Slack's rules rather than Markdown's:
`*bold*`, `_italic_`, `~strike~` open after a non-alphanumeric character,
close before one, never cross a line, and are literal when unmatched (so
`snake_case_names` stay as typed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape

from migrator.stages.transform.context import GROUP, SPECIAL, Context
from migrator.stages.transform.markup import Element, Node, el, emoji_char, link, newlines, text_of

FENCE = "```"
EMPHASIS = {"*": "b", "_": "i", "~": "s"}
SPECIAL_MENTIONS = {"here", "channel", "everyone"}
_QUOTE_MARKS = ("&gt;", ">")
_INLINE = re.compile(
    r"<(?P<angle>[^<>\n]*)>"
    r"|`(?P<code>[^`\n]+)`"
    r"|:(?P<emoji>[a-z0-9_+'-]+):(?::(?P<tone>skin-tone-[2-6]):)?"
    r"|(?P<delim>[*_~])"
)
_ANGLE = re.compile(r"<([^<>\n]*)>")
_MARKUP = re.compile(r"[<>&*_~`:\n\r]")  # a text without any of these is one plain paragraph
_ONE_LINE = re.compile(r"[\n\r]|```")  # a text without these (nor a leading quote) is one inline paragraph


def _decode(text: str) -> str:
    return unescape(text) if "&" in text else text


# --- blocks -------------------------------------------------------------------


def blocks(text: str, ctx: Context) -> list[Element]:
    """Paragraphs, quotes and code blocks of a mrkdwn text."""
    if _MARKUP.search(text) is None:  # most messages: skip the parser
        return [Element("p", [text])] if text.strip() else []
    if _ONE_LINE.search(text) is None and not text.startswith(_QUOTE_MARKS):  # no code, quote or paragraph
        return [Element("p", _line(text, ctx))] if text.strip() else []
    segments = newlines(text).split(FENCE)
    if len(segments) % 2 == 0:  # an odd number of fences: the last one is a literal ```
        segments[-2:] = [segments[-2] + FENCE + segments[-1]]
    out: list[Element] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if index % 2:
            ctx.features.add("code_blocks")
            code = segment.removeprefix("\n").removesuffix("\n")
            out.append(el("pre", plain(code, ctx)))
            continue
        if index > 0:
            segment = segment.removeprefix("\n")
        if index < last:
            segment = segment.removesuffix("\n")
        out.extend(_paragraphs(segment, ctx))
    return out


def _paragraphs(text: str, ctx: Context) -> list[Element]:
    """Runs of ordinary lines become one paragraph, runs of `>` lines one quote (`>>>`: the rest)."""
    out: list[Element] = []
    lines = text.split("\n")
    run: list[str] = []
    quoting = False
    for number, line in enumerate(lines):
        if line.startswith(("&gt;&gt;&gt;", ">>>")):
            _flush(out, run, quoting, ctx)
            rest = [line.removeprefix("&gt;&gt;&gt;").removeprefix(">>>").removeprefix(" "), *lines[number + 1 :]]
            _flush(out, rest, True, ctx)
            return out
        quoted = line.startswith(_QUOTE_MARKS)
        if quoted != quoting:
            _flush(out, run, quoting, ctx)
            run, quoting = [], quoted
        if quoted:
            line = line.removeprefix("&gt;").removeprefix(">").removeprefix(" ")
        run.append(line)
    _flush(out, run, quoting, ctx)
    return out


def _flush(out: list[Element], lines: list[str], quoted: bool, ctx: Context) -> None:
    if not any(line.strip() for line in lines):
        if quoted and lines:
            ctx.features.add("quotes")
            out.append(el("blockquote", el("p")))
        return
    paragraph = el("p", *inline_lines(lines, ctx))
    if quoted:
        ctx.features.add("quotes")
        out.append(el("blockquote", paragraph))
    else:
        out.append(paragraph)


# --- inline -------------------------------------------------------------------


def inline(text: str, ctx: Context) -> list[Node]:
    """Inline nodes of a text that may hold several lines (newlines become <br> when rendered)."""
    return inline_lines(newlines(text).split("\n"), ctx)


def inline_lines(lines: list[str], ctx: Context) -> list[Node]:
    nodes: list[Node] = []
    for number, line in enumerate(lines):
        if number:
            nodes.append("\n")
        nodes.extend(_line(line, ctx))
    return nodes


@dataclass(slots=True)
class _Open:
    """An emphasis delimiter waiting for its closing twin, with what followed it so far."""

    delim: str | None
    children: list[Node] = field(default_factory=list)


def _line(line: str, ctx: Context) -> list[Node]:
    stack = [_Open(None)]
    position = 0
    for match in _INLINE.finditer(line):
        start, end = match.span()
        if start > position:
            stack[-1].children.append(_decode(line[position:start]))
        position = end
        kind = match.lastgroup
        if kind == "angle":
            stack[-1].children.append(angle(match.group("angle"), ctx))
        elif kind == "code":
            ctx.features.add("inline_code")
            stack[-1].children.append(el("code", plain(match.group("code"), ctx)))
        elif kind in ("emoji", "tone"):
            stack[-1].children.append(_emoji(match, ctx))
        else:
            _delimiter(stack, match.group("delim"), line, start, end)
    if position < len(line):
        stack[-1].children.append(_decode(line[position:]))
    while len(stack) > 1:
        _unwind(stack)
    return stack[0].children


def _delimiter(stack: list[_Open], delim: str, line: str, start: int, end: int) -> None:
    before = line[start - 1] if start else " "
    after = line[end] if end < len(line) else " "
    can_close = not before.isspace() and not after.isalnum()
    if can_close and any(frame.delim == delim and frame.children for frame in stack[1:]):
        while stack[-1].delim != delim:
            _unwind(stack)
        frame = stack.pop()
        if frame.children:
            stack[-1].children.append(Element(EMPHASIS[delim], frame.children))
            return
        stack[-1].children.extend([delim, delim])
        return
    if not after.isspace() and not before.isalnum():
        stack.append(_Open(delim))
    else:
        stack[-1].children.append(delim)


def _unwind(stack: list[_Open]) -> None:
    """An opener that never closed was an ordinary character after all."""
    frame = stack.pop()
    stack[-1].children.append(frame.delim or "")
    stack[-1].children.extend(frame.children)


def _emoji(match: re.Match[str], ctx: Context) -> str:
    char = emoji_char(match.group("emoji"), match.group("tone"))
    if char is None:
        return match.group(0)  # a custom emoji: nobody can draw it, so it stays as typed
    ctx.features.add("emoji")
    return char


def angle(content: str, ctx: Context) -> Node:
    """Slack's `<…>` markup: links, user and channel mentions, special mentions, dates."""
    target, _, label = content.partition("|")
    label = _decode(label)
    if target.startswith("@"):
        return ctx.mention(target[1:], label.lstrip("@"))
    if target.startswith("#"):
        ctx.features.add("channel_links")
        return el("b", "#" + ctx.channel_name(target[1:], label.lstrip("#")))
    if target.startswith("!"):
        return _special(target[1:], label, ctx)
    if not target:
        return _decode(f"<{content}>")
    ctx.features.add("links")
    url = _decode(target)
    return link(url, label or url.removeprefix("mailto:"))


def _special(command: str, label: str, ctx: Context) -> Node:
    name = command.split("^", 1)[0]
    if name in SPECIAL_MENTIONS:
        return ctx.special_mention(SPECIAL, "@" + name)
    if name == "subteam":
        return ctx.special_mention(GROUP, label or "@group")
    return label or name  # <!date^…|fallback> and anything newer: the text Slack shows without the app


def plain(text: str, ctx: Context) -> str:
    """Text with Slack markup resolved to what it displays, for code where no formatting applies."""
    out: list[str] = []
    position = 0
    for match in _ANGLE.finditer(text):
        out.append(_decode(text[position : match.start()]))
        node = angle(match.group(1), ctx)
        out.append(node if isinstance(node, str) else text_of([node]))
        position = match.end()
    out.append(_decode(text[position:]))
    return "".join(out)
