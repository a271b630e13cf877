"""Cut a body that is too large for one import request into parts, never truncating it.

Whole top-level blocks are packed into parts first. A single block larger
than a part (a long log in a code block, a huge paragraph) is parsed with
BeautifulSoup and cut between its children, recursively, re-opening the same
element in each part, down to text, which is cut at line ends, then spaces,
then characters. Every part is therefore balanced HTML, and concatenating
the parts' text gives back the whole message.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4.element import PageElement, Tag


class SplitError(ValueError):
    """A budget too small for even one character; a bug in the caller's arithmetic.

    Not a `MigratorError`: no input can cause it, and a bug should show its traceback.
    """


def size(html: str) -> int:
    return len(html.encode("utf-8"))


def split_blocks(blocks: list[str], budget: int) -> list[list[str]]:
    """Rendered top-level blocks packed into parts of at most `budget` bytes each."""
    pieces: list[str] = []
    for html in blocks:
        pieces.extend([html] if size(html) <= budget else _cut_block(html, budget))
    return _pack(pieces, budget)


def _pack(pieces: list[str], budget: int) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    used = 0
    for piece in pieces:
        length = size(piece)
        if parts[-1] and used + length > budget:
            parts.append([])
            used = 0
        parts[-1].append(piece)
        used += length
    return parts


def _cut_block(html: str, budget: int) -> list[str]:
    from bs4 import BeautifulSoup  # imported here: only oversized blocks need a parser, and bs4 costs 0.1 s to import

    soup = BeautifulSoup(html, "html.parser")
    pieces: list[str] = []
    for node in soup.contents:
        pieces.extend(_cut_node(node, budget, in_pre=False))
    return pieces


def _cut_node(node: PageElement, budget: int, in_pre: bool) -> list[str]:
    """A tag, or text (a NavigableString, comments included) as escaped text."""
    from bs4 import Tag

    if isinstance(node, Tag):
        html = node.decode(formatter="minimal")
        return [html] if size(html) <= budget else _cut_tag(node, budget, in_pre)
    text = str(node)
    html = escape(text, quote=False)
    return [html] if size(html) <= budget else _cut_text(text, budget, in_pre)


def _cut_tag(tag: Tag, budget: int, in_pre: bool) -> list[str]:
    attrs = "".join(f' {name}="{escape(_attr(value), quote=True)}"' for name, value in tag.attrs.items())
    opening, closing = f"<{tag.name}{attrs}>", f"</{tag.name}>"
    inner = budget - size(opening) - size(closing)
    if inner <= 0:
        raise SplitError(f"a part of {budget} bytes cannot even hold <{tag.name}>")
    in_pre = in_pre or tag.name == "pre"
    pieces = [piece for child in tag.children for piece in _cut_node(child, inner, in_pre)]
    return [opening + "".join(group) + closing for group in _pack(pieces, inner)]


def _cut_text(text: str, budget: int, in_pre: bool) -> list[str]:
    """Escaped slices of `text`, cut at line ends (kept in <pre>), else spaces, else anywhere."""
    units = text.splitlines(keepends=True) if in_pre else text.split(" ")
    joiner = "" if in_pre else " "
    pieces: list[str] = []
    current = ""
    for number, unit in enumerate(units):
        unit = unit if in_pre or number == len(units) - 1 else unit + joiner
        if size(escape(current + unit, quote=False)) <= budget:
            current += unit
            continue
        if current:
            pieces.append(escape(current, quote=False))
        current = ""
        while size(escape(unit, quote=False)) > budget:
            head = _longest_prefix(unit, budget)
            pieces.append(escape(head, quote=False))
            unit = unit[len(head) :]
        current = unit
    if current:
        pieces.append(escape(current, quote=False))
    return pieces


def _longest_prefix(text: str, budget: int) -> str:
    """The longest prefix whose escaped form fits; a bisection, since escaping changes lengths."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if size(escape(text[:middle], quote=False)) <= budget:
            low = middle
        else:
            high = middle - 1
    if low == 0:
        raise SplitError(f"a part of {budget} bytes cannot hold one character")
    return text[:low]


def _attr(value: object) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)
