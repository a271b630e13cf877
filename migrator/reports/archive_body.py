"""An exported HTML body as the archive shows it: sanitised, then Teams' own elements made readable offline.

`migrator.sanitize.ARCHIVE` keeps only formatting, links to http(s) and
mail, and images from Graph's hosted contents, so opening the archive runs
nothing and calls nothing. What it writes is well-formed; it is read here
(stdlib `html.parser`) and written again with the Teams elements shown as a
browser can: a mention as the name in bold, an emoji as its character, an
attachment as 📎 (the attachments are listed under the message), an inline
image as its downloaded copy, or a note where the archive has none.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from html.parser import HTMLParser

from migrator.sanitize import ARCHIVE, VOID

# Given an <img src>, the archive-relative address of the local copy, or None when there is none.
ImageResolver = Callable[[str], str | None]

MISSING_IMAGE = '<span class="missing-image">[image not in the archive]</span>'


def archive_body(html: str, resolve_image: ImageResolver) -> str:
    writer = _Offline(resolve_image)
    writer.feed(ARCHIVE.clean(html))
    writer.close()
    return "".join(writer.out)


class _Offline(HTMLParser):
    """Writes sanitised HTML back as it came, but for the Teams elements, which only make sense in Teams."""

    def __init__(self, resolve_image: ImageResolver) -> None:
        super().__init__(convert_charrefs=True)
        self.resolve_image = resolve_image
        self.out: list[str] = []
        self.replaced = 0  # depth inside an element shown as a whole (an emoji with its alt text, an attachment)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.replaced:
            self.replaced += tag not in VOID
            return
        values = {name: value or "" for name, value in attrs}
        if tag == "at":  # a mention: the person's name, emphasised
            self.out.append("<b>")
        elif tag == "emoji":  # its character, or its content when Teams gave none
            if values.get("alt"):
                self.out.append(escape(values["alt"], quote=False))
                self.replaced = 1
        elif tag == "attachment":
            self.out.append("📎")
            self.replaced = 1
        elif tag == "img":
            self.out.append(self._image(values))
        else:
            self.out.append(_start(tag, values))

    def handle_endtag(self, tag: str) -> None:
        if self.replaced:
            self.replaced -= 1
        elif tag == "at":
            self.out.append("</b>")
        elif tag != "emoji":
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self.replaced:
            self.out.append(escape(data, quote=False))

    def _image(self, values: dict[str, str]) -> str:
        local = self.resolve_image(values.get("src", ""))
        if local is None:
            return MISSING_IMAGE
        return _start("img", {**values, "class": "archive-image", "src": local})


def _start(tag: str, values: dict[str, str]) -> str:
    """An opening tag, attributes in name order."""
    return f"<{tag}" + "".join(f' {name}="{escape(values[name])}"' for name in sorted(values)) + ">"
