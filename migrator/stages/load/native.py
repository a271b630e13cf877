"""A message refused for its real @mentions or reactions is posted again in its text form (issue 21).

Microsoft's newest import article puts mentions and reactions in scope without an example body, so a tenant may
still refuse them (docs/graph-contract.md, Microsoft's newest import article): 400 with a message naming the field.
Transform planned, beside every line carrying them, its text form (`text`: bold names, the whole reactions line,
within the body limit), so the message is never lost and load needs no source. Like the images moved to files
(`images.py`), the rewrite is a pure function of the plan line, so `verify` compares Teams with what was posted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from migrator.graph import GraphError

NATIVE_FIELDS = ("mentions", "reactions")
_NAMED = ("mention", "reaction")  # what a refusal's message says ("mentions[0]: …", "A reaction …")


def refused_for_native(error: GraphError, line: Mapping[str, Any]) -> bool:
    """Graph's 400 names the mentions or reactions of a line that has a text form to fall back to."""
    message = (error.message or "").lower()
    return error.status == 400 and bool(line.get("text")) and any(word in message for word in _NAMED)


def as_text(line: Mapping[str, Any]) -> dict[str, Any]:
    """The line as posted again: its text form as the body, without mentions and reactions."""
    rewritten = {name: value for name, value in line.items() if name not in (*NATIVE_FIELDS, "text")}
    rewritten["body"] = {**(line.get("body") or {}), "content": line["text"]}
    return rewritten
