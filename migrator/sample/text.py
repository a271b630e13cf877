"""What a synthetic message says: Slack mrkdwn text and the rich_text blocks Slack stores beside it.

A message is first drawn as a list of segments (words, a mention, a channel
link, an emoji, a link, inline or block code, a quote) and then rendered
twice, so `text` and `blocks` always agree the way they do in real exports
and a converter that prefers one of them sees the same content.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from migrator.sample import vocabulary as vocab

BLOCKS_SHARE = 0.4  # share of messages that carry rich_text blocks, as modern clients write them


@dataclass(frozen=True)
class Audience:
    """Who and what a message may mention: the conversation's members and the workspace's channels."""

    members: Sequence[str]
    channels: Sequence[tuple[str, str]]  # (id, name)


Segment = tuple[str, ...]  # ("text", s) | ("user", id) | ("channel", id, name) | ("emoji", name) | ...


def draw(rng: random.Random, audience: Audience) -> list[Segment]:
    """The segments of one message; most are a plain sentence or two, some carry everything at once."""
    segments: list[Segment] = [("text", sentence(rng))]
    roll = rng.random()
    if roll < 0.12 and audience.members:
        segments[0:0] = [("user", rng.choice(audience.members)), ("text", " ")]
    elif roll < 0.16 and audience.channels:
        segments += [("text", " see "), ("channel", *rng.choice(audience.channels))]
    elif roll < 0.26:
        segments += [("text", " "), ("emoji", rng.choice(vocab.EMOJI))]
    elif roll < 0.30:
        segments += [("text", " run "), ("code", rng.choice(vocab.INLINE_CODE))]
    elif roll < 0.33:
        segments += [("text", "\n"), ("pre", rng.choice(vocab.CODE_SNIPPETS))]
    elif roll < 0.41:
        segments += [("text", " " + rng.choice(vocab.UNICODE_PHRASES))]
    elif roll < 0.46:
        segments += [("text", " "), ("link", *rng.choice(vocab.LINKS))]
    elif roll < 0.49:
        segments += [("text", " " + rng.choice(vocab.SPECIAL_TEXT))]
    elif roll < 0.52:
        segments = [("quote", sentence(rng)), ("text", "\n")] + segments
    elif roll < 0.55:
        segments += [
            ("text", " "),
            ("bold", rng.choice(vocab.WORDS)),
            ("text", " "),
            ("italic", rng.choice(vocab.WORDS)),
            ("text", " "),
            ("strike", rng.choice(vocab.WORDS)),
        ]
    if rng.random() < 0.15:
        segments += [("text", "\n" + sentence(rng))]
    return segments


def sentence(rng: random.Random) -> str:
    """Words and an ending, nothing else: a plain message, or the text around other segments."""
    words = rng.choices(vocab.WORDS, k=rng.randint(3, 14))
    return words[0].capitalize() + " " + " ".join(words[1:]) + rng.choice(vocab.SENTENCE_ENDS)


_MARKS = {"bold": "*", "italic": "_", "strike": "~", "code": "`"}


def mrkdwn(segments: list[Segment]) -> str:
    """Slack's `text`: `<@U…>`, `<#C…|name>`, `:emoji:`, `<url|label>`, backticks and `&gt;` quotes."""
    out = []
    for kind, *value in segments:
        if kind == "text":
            out.append(value[0])
        elif kind == "user":
            out.append(f"<@{value[0]}>")
        elif kind == "channel":
            out.append(f"<#{value[0]}|{value[1]}>")
        elif kind == "emoji":
            out.append(f":{value[0]}:")
        elif kind == "link":
            url, label = value
            out.append(f"<{_escape(url)}|{label}>" if label else f"<{_escape(url)}>")
        elif kind == "pre":
            out.append(f"```{_escape(value[0])}```")
        elif kind == "quote":
            out.append(f"&gt; {value[0]}")
        else:
            mark = _MARKS[kind]
            out.append(f"{mark}{_escape(value[0]) if kind == 'code' else value[0]}{mark}")
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rich_text(segments: list[Segment], block_id: str) -> dict[str, Any]:
    """The `rich_text` block of the same segments (sections, preformatted and quote elements)."""
    elements: list[dict[str, Any]] = []
    section: list[dict[str, Any]] = []

    def flush() -> None:
        if section:
            elements.append({"type": "rich_text_section", "elements": list(section)})
            section.clear()

    for kind, *value in segments:
        if kind == "pre":
            flush()
            elements.append({"type": "rich_text_preformatted", "elements": [{"type": "text", "text": value[0]}]})
        elif kind == "quote":
            flush()
            elements.append({"type": "rich_text_quote", "elements": [{"type": "text", "text": value[0]}]})
        else:
            section.append(_element(kind, value))
    flush()
    return {"type": "rich_text", "block_id": block_id, "elements": elements}


def _element(kind: str, value: list[str]) -> dict[str, Any]:
    if kind == "text":
        return {"type": "text", "text": _unescape(value[0])}
    if kind == "user":
        return {"type": "user", "user_id": value[0]}
    if kind == "channel":
        return {"type": "channel", "channel_id": value[0]}
    if kind == "emoji":
        return {"type": "emoji", "name": value[0]}
    if kind == "link":
        return {"type": "link", "url": value[0], **({"text": value[1]} if value[1] else {})}
    return {"type": "text", "text": value[0], "style": {kind: True}}


def _unescape(text: str) -> str:
    """Blocks hold plain text; only `text` carries Slack's three HTML escapes."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
