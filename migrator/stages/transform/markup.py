"""A tiny HTML tree whose only way out is escaped text and tags we chose.

Message bodies are built as `Element` trees and rendered here, so source
text can never become markup: every string is escaped exactly once on the
way out, attributes exist only where this module's callers set them, and
every element is closed by construction. BeautifulSoup would do the same,
but at about 40 µs per message it alone would halve transform's throughput;
it is used where a parser earns its cost, to split oversized bodies
(`split.py`) and in the tests that check the output cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from typing import final
from urllib.parse import urlsplit

import emoji

VOID = frozenset({"br", "hr", "img"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
NOTE_STYLE = "color:#616161"  # Teams' secondary text colour: notes read as notes, not as the author's words


@final  # never subclassed, so `type(node) is not Element` tells mypy a node is text (see `_render`)
@dataclass(slots=True)
class Element:
    tag: str
    children: list[Node] = field(default_factory=list)
    attrs: tuple[tuple[str, str], ...] = ()

    def append(self, node: Node) -> None:
        self.children.append(node)


Node = str | Element


def el(tag: str, *children: Node, **attrs: str) -> Element:
    return Element(tag, list(children), tuple(attrs.items()))


def note(*children: Node) -> Element:
    """A small grey paragraph: the migrator speaking (edited, reactions, placeholders), not the author."""
    return el("p", el("span", *children, style=NOTE_STYLE))


def render(nodes: Iterable[Node], pre: bool = False) -> str:
    """Escaped HTML; newlines in text become <br> except inside <pre>, where they are kept."""
    out: list[str] = []
    _render(nodes, out, pre)
    return "".join(out)


def newlines(text: str) -> str:
    """CR and CRLF as LF: HTML parsers (Teams' included) turn a raw CR into LF, so the body would change."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _render(nodes: Iterable[Node], out: list[str], pre: bool) -> None:
    append = out.append
    for node in nodes:
        if type(node) is not Element:  # text; an exact type test is the cheapest, and runs for every node
            if "&" in node or "<" in node or ">" in node:
                node = escape(node, quote=False)
            if "\n" in node or "\r" in node:
                node = newlines(node)
                if not pre:
                    node = node.replace("\n", "<br>")
            append(node)
            continue
        tag = node.tag
        if node.attrs:
            append(_open_tag(tag, node.attrs))
        else:
            append(_OPEN.get(tag) or f"<{tag}>")
        if tag in VOID:
            continue
        if node.children:
            _render(node.children, out, pre or tag == "pre")
        append(_CLOSE.get(tag) or f"</{tag}>")


# The tags bodies are made of, written once rather than formatted for every element of every message.
_OPEN = {
    tag: f"<{tag}>" for tag in ("p", "span", "b", "i", "s", "u", "code", "pre", "blockquote", "ul", "ol", "li", "br")
}
_CLOSE = {tag: f"</{tag}>" for tag in _OPEN}


@lru_cache(maxsize=4096)
def _open_tag(tag: str, attrs: tuple[tuple[str, str], ...]) -> str:
    """An opening tag with attributes, kept: every note of every message opens the same styled span (a
    link's own href only passes through the cache)."""
    return f"<{tag}" + "".join(f' {name}="{escape(value, quote=True)}"' for name, value in attrs) + ">"


def text_of(nodes: Iterable[Node]) -> str:
    """The plain text of a tree, for code blocks and labels where markup is not allowed."""
    return "".join(node if isinstance(node, str) else text_of(node.children) for node in nodes)


def link(url: str, *label: Node) -> Node:
    """A link when the URL is one a reader can safely follow, otherwise its label as text.

    `javascript:` and other schemes are never made clickable.
    """
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    content = list(label) or [url]
    if scheme not in LINK_SCHEMES:
        return Element("span", content)
    return Element("a", content, (("href", url),))


# --- emoji -------------------------------------------------------------------


def _shortcodes() -> dict[str, str]:
    """Slack shortcode (without colons) to Unicode, from the `emoji` package's names and aliases."""
    table: dict[str, str] = {}
    for char, data in emoji.EMOJI_DATA.items():
        for name in data.get("alias", []):
            table.setdefault(name.strip(":"), char)
    for char, data in emoji.EMOJI_DATA.items():
        table.setdefault(data["en"].strip(":"), char)
    return table


SHORTCODES = _shortcodes()
# Slack's :skin-tone-2: … :skin-tone-6: are the five Fitzpatrick modifiers U+1F3FB … U+1F3FF.
SKIN_TONES = {f"skin-tone-{n}": chr(0x1F3FB + n - 2) for n in range(2, 7)}


def emoji_char(name: str, skin_tone: str | None = None) -> str | None:
    """The Unicode for a shortcode, with its skin tone; None for custom emoji nobody can render."""
    char = SHORTCODES.get(name)
    if char is None:
        return None
    tone = SKIN_TONES.get(skin_tone or "")
    return char.replace("\ufe0f", "") + tone if tone else char


def emoji_from_codepoints(value: str) -> str | None:
    """rich_text emoji carry `unicode` as hex code points joined by '-' ("1f44d-1f3fb")."""
    try:
        points = [int(part, 16) for part in value.split("-") if part]
    except ValueError:
        return None
    if not points or any(not 0 < p <= 0x10FFFF or 0xD800 <= p <= 0xDFFF for p in points):
        return None
    return "".join(map(chr, points))
