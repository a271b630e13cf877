"""Message bodies made safe to open in a browser: an allow-list of tags and attributes.

Exported bodies are whatever people (and bots) sent; opened as-is in the
archive, a `<script>` or an `onerror=` in one of them would run with access
to every page of the archive, and a remote `<img>` would call out when the
archive is opened. So only formatting survives, links only to http(s) and
mail, images only when they are the message's own downloaded ones.
"""

from __future__ import annotations

from collections.abc import Callable

from bs4 import BeautifulSoup, Comment, Tag

KEEP = {
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "strike",
    "del",
    "p",
    "br",
    "div",
    "span",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "img",
    "hr",
    "sub",
    "sup",
}
DROP = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "noscript",
    "template",
    "link",
    "meta",
    "base",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "svg",
    "math",
    "video",
    "audio",
    "source",
    "frame",
    "frameset",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
LINK_SCHEMES = ("http://", "https://", "mailto:")

# Given an <img src>, the archive-relative address of the local copy, or None when there is none.
ImageResolver = Callable[[str], str | None]


def sanitize(html: str, resolve_image: ImageResolver) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for comment in soup.find_all(string=lambda text: isinstance(text, Comment)):
        comment.extract()
    for tag in list(soup.find_all(True)):
        if tag.decomposed:
            continue
        _clean(soup, tag, resolve_image)
    return str(soup)


def _clean(soup: BeautifulSoup, tag: Tag, resolve_image: ImageResolver) -> None:
    name = tag.name.lower()
    if name in DROP:
        tag.decompose()
        return
    if name == "at":  # a Teams mention: the person's name, emphasised
        tag.name, tag.attrs = "b", {}
        return
    if name == "emoji":
        tag.replace_with(tag.get("alt") or tag.get_text())
        return
    if name == "attachment":
        tag.replace_with(soup.new_string("📎"))
        return
    if name not in KEEP:
        tag.unwrap()
        return
    allowed = ATTRIBUTES.get(name, set())
    tag.attrs = {key: value for key, value in tag.attrs.items() if key.lower() in allowed}
    if name == "a":
        href = str(tag.get("href", "")).strip()
        if not href.lower().startswith(LINK_SCHEMES):
            tag.attrs.pop("href", None)
        else:
            tag["rel"] = "noopener noreferrer"
    if name == "img":
        local = resolve_image(str(tag.get("src", "")))
        if local is None:
            missing = soup.new_tag("span", attrs={"class": "missing-image"})
            missing.string = "[image not in the archive]"
            tag.replace_with(missing)
        else:
            tag["src"] = local
            tag["class"] = "archive-image"
