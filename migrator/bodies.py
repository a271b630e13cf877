"""What counts as the same message body: Teams may re-serialise what was posted.

Load asks it of a message holding the millisecond it wanted (its own, posted before, or someone else's); verify of
every message against its plan line.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup

PLANNED_IMAGE = re.compile(r"""\.\./hostedContents/([^/"']+)/\$value""")
HOSTED_SRC = re.compile(r"/hostedContents/[^/]+/\$value$")


def normalise_html(content: str, content_type: str = "html") -> str:
    """A body as Teams may re-serialise it: whitespace, attribute order and plain wrappers do not count.

    Inline images become a placeholder (their URL changes on import; the
    bytes are compared separately).
    """
    if str(content_type).lower() != "html":
        return " ".join(content.split())
    soup = BeautifulSoup(content, "html.parser")
    for tag in soup.find_all(True):
        if tag.name in ("div", "span") and not tag.attrs:
            tag.unwrap()
            continue
        if tag.name == "img" and (
            PLANNED_IMAGE.search(str(tag.get("src", ""))) or HOSTED_SRC.search(str(tag.get("src", "")))
        ):
            tag["src"] = "hostedContents"
        tag.attrs = {
            name: " ".join(str(v) for v in value) if isinstance(value, list) else value
            for name, value in sorted(tag.attrs.items())
        }
    text = re.sub(r"\s+", " ", str(soup))
    return re.sub(r">\s+<", "><", text).strip()


def same_body(planned: dict[str, Any], landed: dict[str, Any]) -> bool:
    """Whether a posted body (`{"contentType", "content"}`) is the one Teams holds, as Teams may re-serialise it."""
    return normalise_html(planned.get("content", ""), planned.get("contentType", "html")) == normalise_html(
        landed.get("content", ""), landed.get("contentType", "html")
    )
