"""A Teams message body (HTML, from `migrator export`) for import: sanitised, then re-pointed at the target tenant.

The body is input: `migrator.sanitize.TEAMS_IMPORT` first keeps only the
formatting the import takes, links to http(s) and mail, table spans and
Teams' own elements. What it writes is well-formed, so it is read here
(stdlib `html.parser`) into `markup.Element`s, every string escaped once on
the way out, with the three Teams elements re-pointed at the target tenant:
- `<at id="N">` (a mention): the mapped person's name in bold, since the
  import API takes no mentions;
- `<img src=".../hostedContents/ID/$value">` (an inline image): the image
  re-hosted in the request (`FileParts.take`), in its place in the text;
- `<attachment id="ID">` (a file or card): what transform made of it, in place.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from migrator.model import Message
from migrator.sanitize import HOSTED_CONTENT, TEAMS_IMPORT, VOID
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import FileParts
from migrator.stages.transform.markup import Element, Node, el, link, newlines

BLOCK = frozenset(
    {
        "p",
        "div",
        "ul",
        "ol",
        "li",
        "pre",
        "blockquote",
        "table",
        "thead",
        "tbody",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
    }
)


def blocks(message: Message, ctx: Context, files: FileParts) -> list[Element]:
    """The body's top-level blocks; loose inline content is gathered into paragraphs."""
    builder = _Builder(message, ctx, files)
    builder.feed(TEAMS_IMPORT.clean(message.text or ""))
    builder.close()
    out: list[Element] = []
    loose: list[Node] = []
    for node in builder.root.children:
        if isinstance(node, Element) and node.tag in BLOCK:
            if any(isinstance(n, Element) or n.strip() for n in loose):
                out.append(el("p", *loose))
            loose = []
            out.append(node)
        else:
            loose.append(node)
    if any(isinstance(n, Element) or n.strip() for n in loose):
        out.append(el("p", *loose))
    return out


class _Builder(HTMLParser):
    """Reads sanitised HTML: only the policy's tags, every element closed, so each end tag closes the innermost."""

    def __init__(self, message: Message, ctx: Context, files: FileParts) -> None:
        super().__init__(convert_charrefs=True)
        self.ctx = ctx
        self.files = files
        self.root = Element("root")
        self.stack: list[Element] = [self.root]
        self.replaced = 0  # depth inside a Teams element shown as a whole (<at>, <emoji>, <attachment>)
        self.mentions = _mentions(message)
        self.images = {f.extra.get("hosted_content"): f.id for f in message.files if f.extra.get("hosted_content")}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.replaced:
            self.replaced += tag not in VOID
            return
        values = {k: v or "" for k, v in attrs}
        if tag == "img":
            self._image(values)
        elif tag == "at":
            self._mention(values.get("id", ""))
            self.replaced = 1  # nothing inside <at> is read: the name shown is the mapped person's
        elif tag == "emoji":
            self._text(values.get("alt", ""))
            self.replaced = 1  # its content repeats the alt text
        elif tag == "attachment":
            self._here().children.extend(self.files.take(values.get("id", "")))
            self.replaced = 1
        else:
            self._open(tag, values)

    def handle_endtag(self, tag: str) -> None:
        if self.replaced:
            self.replaced -= 1
        elif len(self.stack) > 1:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.replaced:
            self._text(data)

    # --- what the elements become ----------------------------------------------

    def _open(self, tag: str, values: dict[str, str]) -> None:
        name = _canonical(tag)
        if name == "a":
            self.ctx.features.add("links")
            element = link(values.get("href", "").strip(), "")
            assert isinstance(element, Element)
            element.children.clear()
        else:
            element = Element(name, [], tuple(values.items()))  # only table spans are left to carry
        self._here().append(element)
        if name not in VOID:
            self.stack.append(element)

    def _mention(self, mention_id: str) -> None:
        user_id, text = self.mentions.get(mention_id, ("", ""))
        self._here().append(self.ctx.mention(user_id, text or "@someone"))

    def _image(self, values: dict[str, str]) -> None:
        match = HOSTED_CONTENT.search(values.get("src", ""))
        file_id = self.images.get(match.group(1)) if match else None
        placed = self.files.take(file_id) if file_id else []
        if placed:
            self._here().children.extend(placed)
            return
        self.ctx.unsupported_item("external image")  # an image hosted elsewhere: a link, not fetched
        self._here().append(link(values.get("src", ""), "🖼 " + (values.get("alt") or "image")))

    def _text(self, text: str) -> None:
        if text:
            in_pre = any(element.tag == "pre" for element in self.stack)
            text = newlines(text)
            self._here().append(text if in_pre else text.replace("\n", " "))

    def _here(self) -> Element:
        return self.stack[-1]


def _canonical(tag: str) -> str:
    """Teams writes <strong>/<em>/<strike> as often as <b>/<i>/<s>: one spelling each."""
    return {"strong": "b", "em": "i", "strike": "s", "del": "s"}.get(tag, tag)


def _mentions(message: Message) -> dict[str, tuple[str, str]]:
    """Mention id -> (source user id, the text Teams showed)."""
    found: dict[str, tuple[str, str]] = {}
    for mention in message.extra.get("mentions") or []:
        if not isinstance(mention, dict):
            continue
        mentioned: Any = mention.get("mentioned") or {}
        user = mentioned.get("user") if isinstance(mentioned, dict) else None
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        found[str(mention.get("id"))] = (user_id, str(mention.get("mentionText") or ""))
    return found
