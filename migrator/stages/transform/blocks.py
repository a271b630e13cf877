"""Slack Block Kit (`rich_text` and the layout blocks apps post) as an HTML tree.

When a message has blocks they are what Slack displays (`text` is then only a
notification fallback), so they are rendered in preference to `text`. Text
inside `rich_text` is stored unescaped, unlike mrkdwn. Interactive blocks
(buttons, menus, inputs) have no meaning outside Slack: they are counted by
type as unsupported, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from migrator.stages.transform import mrkdwn
from migrator.stages.transform.context import GROUP, SPECIAL, Context
from migrator.stages.transform.markup import Element, Node, el, emoji_char, emoji_from_codepoints, link, note, text_of

# Innermost first: <b><i><code>x</code></i></b>.
STYLES = (("code", "code"), ("strike", "s"), ("underline", "u"), ("italic", "i"), ("bold", "b"))
SKIN_TONE = "skin-tone-{}"
FILE_BLOCKS = {"file"}  # the message's files are planned by files.py


def render_blocks(blocks: list[dict[str, Any]], ctx: Context) -> list[Element]:
    out: list[Element] = []
    for block in blocks:
        kind = str(block.get("type"))
        handler = _BLOCKS.get(kind)
        if handler is not None:
            out.extend(handler(block, ctx))
        elif kind not in FILE_BLOCKS:
            ctx.unsupported_item(f"block {kind}")
    return out


# --- rich_text ----------------------------------------------------------------


def _rich_text(block: dict[str, Any], ctx: Context) -> list[Element]:
    """Sections run on inline (line breaks are "\n" in their text), so consecutive ones form one paragraph."""
    out: list[Element] = []
    lists: list[tuple[int, Element]] = []  # the open lists, outermost first, with their indent
    paragraph: list[Node] = []
    for element in _dicts(block.get("elements")):
        kind = element.get("type")
        if kind == "rich_text_section":
            paragraph.extend(_inline(element.get("elements"), ctx))
            continue
        _flush(paragraph, out)
        paragraph = []
        if kind == "rich_text_list":
            _list(element, lists, out, ctx)
            continue
        lists = []
        if kind == "rich_text_preformatted":
            ctx.features.add("code_blocks")
            out.append(el("pre", text_of(_inline(element.get("elements"), ctx))))
        elif kind == "rich_text_quote":
            ctx.features.add("quotes")
            out.append(el("blockquote", Element("p", _inline(element.get("elements"), ctx))))
        else:
            ctx.unsupported_item(f"rich_text element {kind}")
    _flush(paragraph, out)
    return out


def _flush(paragraph: list[Node], out: list[Element]) -> None:
    nodes = _strip_trailing_newlines(paragraph)
    if nodes:
        out.append(Element("p", nodes))


def _list(element: dict[str, Any], lists: list[tuple[int, Element]], out: list[Element], ctx: Context) -> None:
    """Slack writes nested lists as consecutive flat lists with an `indent`; nest them again."""
    indent = _int(element.get("indent"))
    tag = "ol" if element.get("style") == "ordered" else "ul"
    while lists and lists[-1][0] > indent:
        lists.pop()
    if lists and lists[-1][0] == indent and lists[-1][1].tag == tag:
        target = lists[-1][1]
    else:
        if lists and lists[-1][0] == indent:
            lists.pop()
        offset = _int(element.get("offset"))
        target = Element(tag, [], (("start", str(offset + 1)),) if tag == "ol" and offset else ())
        if lists:
            parent = lists[-1][1]
            last = parent.children[-1] if parent.children else None
            if not isinstance(last, Element):  # a list's children are its <li> items; an empty one gets its first
                last = el("li")
                parent.append(last)
            last.append(target)
        else:
            out.append(target)
        lists.append((indent, target))
    for item in _dicts(element.get("elements")):
        target.append(Element("li", _strip_trailing_newlines(_inline(item.get("elements"), ctx))))


def _inline(elements: Any, ctx: Context) -> list[Node]:
    nodes: list[Node] = []
    for element in _dicts(elements):
        kind = str(element.get("type"))
        handler = _ELEMENTS.get(kind)
        if handler is not None:
            node = handler(element, ctx)
        elif isinstance(element.get("text"), str):
            node = element["text"]
        else:
            ctx.unsupported_item(f"rich_text element {kind}")
            continue
        nodes.append(_styled(node, element.get("style")))
    return nodes


def _styled(node: Node, style: Any) -> Node:
    if not isinstance(style, dict):
        return node
    for name, tag in STYLES:
        if style.get(name):
            node = el(tag, node)
    return node


def _text(element: dict[str, Any], ctx: Context) -> Node:
    if isinstance(element.get("style"), dict) and element["style"].get("code"):
        ctx.features.add("inline_code")
    return str(element.get("text") or "")


def _link(element: dict[str, Any], ctx: Context) -> Node:
    ctx.features.add("links")
    url = str(element.get("url") or "")
    return link(url, str(element.get("text") or url))


def _user(element: dict[str, Any], ctx: Context) -> Node:
    return ctx.mention(str(element.get("user_id") or ""))


def _usergroup(element: dict[str, Any], ctx: Context) -> Node:
    return ctx.special_mention(GROUP, "@" + str(element.get("usergroup_id") or "group"))


def _channel(element: dict[str, Any], ctx: Context) -> Node:
    ctx.features.add("channel_links")
    return el("b", "#" + ctx.channel_name(str(element.get("channel_id") or "")))


def _broadcast(element: dict[str, Any], ctx: Context) -> Node:
    return ctx.special_mention(SPECIAL, "@" + str(element.get("range") or "channel"))


def _emoji(element: dict[str, Any], ctx: Context) -> Node:
    name = str(element.get("name") or "")
    tone = element.get("skin_tone")
    char = emoji_from_codepoints(str(element.get("unicode") or "")) or emoji_char(
        name, SKIN_TONE.format(tone) if tone else None
    )
    if char is None:
        return f":{name}:"  # a custom emoji stays as typed
    ctx.features.add("emoji")
    return char


def _fallback(element: dict[str, Any], ctx: Context) -> Node:
    """Dates, colours, teams: the text Slack shows when it cannot format them."""
    for name in ("fallback", "text", "value", "team_id", "timestamp"):
        if element.get(name):
            return str(element[name])
    return ""


_ELEMENTS: dict[str, Callable[[dict[str, Any], Context], Node]] = {
    "text": _text,
    "link": _link,
    "user": _user,
    "usergroup": _usergroup,
    "channel": _channel,
    "broadcast": _broadcast,
    "emoji": _emoji,
    "date": _fallback,
    "color": _fallback,
    "team": _fallback,
}


# --- layout blocks --------------------------------------------------------------


def _text_object(value: Any, ctx: Context) -> list[Element]:
    """A Block Kit text object: mrkdwn is parsed, plain_text is taken as typed."""
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        return []
    if value.get("type") == "mrkdwn":
        return mrkdwn.blocks(value["text"], ctx)
    return [el("p", value["text"])] if value["text"] else []


def _section(block: dict[str, Any], ctx: Context) -> list[Element]:
    out = _text_object(block.get("text"), ctx)
    for field in _dicts(block.get("fields")):
        out.extend(_text_object(field, ctx))
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        out.extend(_image(accessory, ctx) if accessory.get("type") == "image" else _unsupported(accessory, ctx))
    return out


def _header(block: dict[str, Any], ctx: Context) -> list[Element]:
    text = block.get("text")
    return [el("p", el("b", text["text"]))] if isinstance(text, dict) and text.get("text") else []


def _divider(block: dict[str, Any], ctx: Context) -> list[Element]:
    return [el("hr")]


def _context(block: dict[str, Any], ctx: Context) -> list[Element]:
    parts: list[Node] = []
    for element in _dicts(block.get("elements")):
        if element.get("type") == "image":
            parts.append(link(str(element.get("image_url") or ""), str(element.get("alt_text") or "image")))
        elif isinstance(element.get("text"), str):
            parts.extend(mrkdwn.inline(element["text"], ctx) if element.get("type") == "mrkdwn" else [element["text"]])
        parts.append(" ")
    return [note(*parts[:-1])] if parts else []


def _image(block: dict[str, Any], ctx: Context) -> list[Element]:
    """Images an app linked from elsewhere: a link, since only uploaded bytes can become inline images."""
    url = str(block.get("image_url") or "")
    title = block.get("title")
    label = (title.get("text") if isinstance(title, dict) else None) or block.get("alt_text") or "image"
    return [el("p", "🖼 ", link(url, str(label)))] if url else []


def _table(block: dict[str, Any], ctx: Context) -> list[Element]:
    rows: list[Node] = []
    for row in block.get("rows") or []:
        if not isinstance(row, list):
            continue
        cells: list[Node] = []
        for cell in _dicts(row):
            content = (
                _rich_text(cell, ctx) if cell.get("type") == "rich_text" else [el("p", str(cell.get("text") or ""))]
            )
            cells.append(Element("td", list(content)))
        rows.append(Element("tr", cells))
    return [el("table", Element("tbody", rows))] if rows else []


def _unsupported(block: dict[str, Any], ctx: Context) -> list[Element]:
    ctx.unsupported_item(f"block {block.get('type')}")
    return []


_BLOCKS: dict[str, Callable[[dict[str, Any], Context], list[Element]]] = {
    "rich_text": _rich_text,
    "section": _section,
    "header": _header,
    "divider": _divider,
    "context": _context,
    "image": _image,
    "table": _table,
}


# --- helpers ----------------------------------------------------------------------


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _strip_trailing_newlines(nodes: list[Node]) -> list[Node]:
    """A section before a list ends in "\\n" in Slack's data; the list already starts a new line."""
    while nodes and isinstance(nodes[-1], str) and nodes[-1].endswith("\n"):
        stripped = nodes[-1].rstrip("\n")
        nodes[-1:] = [stripped] if stripped else []
    return nodes
