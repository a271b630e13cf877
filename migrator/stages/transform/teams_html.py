"""A Teams message body (HTML, from `migrator export`) kept as HTML, rebuilt through an allow-list.

The body was written by Teams, but it is still input: it is parsed (stdlib
`html.parser`) and rebuilt as `markup.Element`s, so only formatting tags
survive, attributes only where Teams needs them (links to http(s) and mail,
table spans), and every string is escaped once on the way out. Scripts,
styles and frames are dropped with their content, unknown tags are
unwrapped (their text kept). Three Teams elements are re-pointed at the
target tenant:
- `<at id="N">` (a mention): the mapped person's name in bold, since the
  import API takes no mentions;
- `<img src=".../hostedContents/ID/$value">` (an inline image): the image
  re-hosted in the request (`FileParts.take`), in its place in the text;
- `<attachment id="ID">` (a file or card): what transform made of it, in place.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from migrator.model import Message
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
INLINE = frozenset({"b", "strong", "i", "em", "u", "s", "strike", "del", "span", "code", "br", "sub", "sup", "a"})
DROP = frozenset(
    {
        "script",
        "style",
        "iframe",
        "object",
        "embed",
        "noscript",
        "template",
        "head",
        "title",
        "svg",
        "math",
        "video",
        "audio",
        "form",
        "textarea",
        "select",
        "button",
    }
)
VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "wbr", "col", "area", "base", "param", "track"})
SPANS = frozenset({"colspan", "rowspan"})
_HOSTED = re.compile(r"/hostedContents/([^/\s\"'<>]+)/\$value")


def blocks(message: Message, ctx: Context, files: FileParts) -> list[Element]:
    """The body's top-level blocks; loose inline content is gathered into paragraphs."""
    builder = _Builder(message, ctx, files)
    builder.feed(message.text or "")
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
    def __init__(self, message: Message, ctx: Context, files: FileParts) -> None:
        super().__init__(convert_charrefs=True)
        self.ctx = ctx
        self.files = files
        self.root = Element("root")
        self.stack: list[tuple[str, Element]] = [("", self.root)]  # (source tag, what it became) per open element
        self.dropping = 0  # depth inside a dropped element (script, style…)
        self.mentions = _mentions(message)
        self.images = {f.extra.get("hosted_content"): f.id for f in message.files if f.extra.get("hosted_content")}
        self.mention: Element | None = None

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """`<![CDATA[…]]>` and the like; a malformed one (`<![a:`) makes Python's parser raise
        AssertionError instead of recovering, so its `<![` is kept as text and parsing goes on."""
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            self.handle_data(self.rawdata[i : i + 3])
            return i + 3

    # --- tags -------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        if self.dropping or tag in DROP:
            self.dropping += tag not in VOID
            return
        if tag == "at":
            self._mention(values.get("id", ""))
        elif tag == "img":
            self._image(values)
        elif tag == "emoji":
            self._text(values.get("alt", ""))
            self.dropping += 1  # its content repeats the alt text
        elif tag == "attachment":
            self._here().children.extend(self.files.take(values.get("id", "")))
            self.dropping += 1
        elif tag in BLOCK or tag in INLINE:
            self._open(tag, values)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            self.dropping -= tag not in VOID
            return
        if tag == "at" and self.mention is not None:
            self.mention = None
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]  # closes anything left open inside it, as browsers do
                return

    def handle_data(self, data: str) -> None:
        if not self.dropping and self.mention is None:
            self._text(data)

    # --- what the elements become ----------------------------------------------

    def _open(self, tag: str, values: dict[str, str]) -> None:
        name = _canonical(tag)
        if name == "a":
            self.ctx.features.add("links")
            element = link(values.get("href", "").strip(), "")
            assert isinstance(element, Element)
            element.children.clear()
        elif name in {"td", "th"}:
            element = Element(name, [], tuple((k, v) for k, v in values.items() if k in SPANS and v.isdigit()))
        else:
            element = Element(name)
        self._here().append(element)
        if name not in VOID:
            self.stack.append((tag, element))

    def _mention(self, mention_id: str) -> None:
        """The mention's text is replaced by the mapped person's name; nothing inside <at> is read."""
        self.ctx.features.add("mentions")
        user_id, text = self.mentions.get(mention_id, ("", ""))
        self.mention = el("b", self.ctx.user_name(user_id, text) if user_id else text or "@someone")
        self._here().append(self.mention)

    def _image(self, values: dict[str, str]) -> None:
        match = _HOSTED.search(values.get("src", ""))
        file_id = self.images.get(match.group(1)) if match else None
        placed = self.files.take(file_id) if file_id else []
        if placed:
            self._here().children.extend(placed)
            return
        self.ctx.unsupported_item("external image")  # an image hosted elsewhere: a link, not fetched
        self._here().append(link(values.get("src", ""), "🖼 " + (values.get("alt") or "image")))

    def _text(self, text: str) -> None:
        if text:
            in_pre = any(element.tag == "pre" for _, element in self.stack)
            text = newlines(text)
            self._here().append(text if in_pre else text.replace("\n", " "))

    def _here(self) -> Element:
        return self.stack[-1][1]


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
