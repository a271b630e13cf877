"""A number with its noun, as English reads it: "1 person", "2 people", "1,234 messages".

Every summary, report and error that prints a count says it through `counted`, so none can read
"1 people" or "1 files". The noun may be a phrase ("oversize message"): its last word takes the plural.
"""

from __future__ import annotations

_IRREGULAR = {"person": "people", "child": "children"}


def plural(noun: str) -> str:
    """The plural of a noun phrase's last word: "extra part" → "extra parts", "reply" → "replies"."""
    head, _, last = noun.rpartition(" ")
    if last in _IRREGULAR:
        word = _IRREGULAR[last]
    elif last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u", ""):
        word = last[:-1] + "ies"
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def noun(count: int, singular: str, plural_form: str | None = None) -> str:
    """The noun as `count` of it reads: `singular` for exactly one, else its plural (`plural_form` when English has
    none `plural` can make). For a number shown apart from its noun, as a report's marked-up figure is."""
    return singular if count == 1 else plural_form or plural(singular)


def counted(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` with thousands separators, then its noun: "1 person", "2 people", "1,234 messages"."""
    return f"{count:,} {noun(count, singular, plural_form)}"
