"""The archive's offline search: a word index over every exported message, built once, read by `search.html`.

A browser opening the archive from disk may not fetch a file next to the
page, and the archive must call nothing on the network, so the index is
written into the search page itself (JSON in a script element the page's
own script reads). Words are lower-cased NFKC runs of letters, digits and
`_`, the same rule the page applies to what is typed, so a word found here
is found there; every word typed must start a word of the message.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

SEARCH_FILE = "search.html"
SNIPPET_CHARS = 160
_WORD = re.compile(r"[^\W]+")
_TAG = re.compile(r"<[^>]*>")


def words(text: str) -> set[str]:
    return set(_WORD.findall(unicodedata.normalize("NFKC", text).lower()))


def plain(content: str) -> str:
    """The text of an HTML body, for the index and the snippet (never shown as HTML)."""
    return " ".join(html.unescape(_TAG.sub(" ", content)).split())


@dataclass
class SearchIndex:
    conversations: list[dict[str, Any]] = field(default_factory=list)  # name, target, pages (hrefs)
    docs: list[list[Any]] = field(default_factory=list)  # conversation, page, message id, author, created, snippet
    postings: dict[str, list[int]] = field(default_factory=dict)  # word -> docs, ascending

    def conversation(self, name: str, target: str, pages: list[str]) -> int:
        self.conversations.append({"name": name, "target": target, "pages": pages})
        return len(self.conversations) - 1

    def add(self, conversation: int, page: int, message_id: str, author: str, created: str, text: str) -> None:
        number = len(self.docs)
        self.docs.append([conversation, page, message_id, author, created, text[:SNIPPET_CHARS]])
        for word in words(f"{author} {text}"):
            self.postings.setdefault(word, []).append(number)

    def script_json(self) -> str:
        """The index as JSON safe inside a <script> element (no `<` can close it)."""
        data = {"conversations": self.conversations, "docs": self.docs, "words": self.postings}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")

    @property
    def people(self) -> list[str]:
        return sorted({doc[3] for doc in self.docs}, key=str.lower)
