"""Teams' naming rules for teams and channels (Microsoft's naming restrictions for channels).

The rules check names a consultant wrote; drafting only ever writes names that pass them.
"""

from __future__ import annotations

import re

from migrator.mapping.model import GENERAL

MAX_CHANNEL_NAME = 50
FORBIDDEN_CHANNEL_CHARS = "~#%&*{}+/\\:<>?|'\""
MAX_TEAM_NAME = 256


def slug(text: str) -> str:
    """A YAML-friendly key for a team: lower-case letters, digits and dashes."""
    value = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return value or "team"


def channel_name_problems(name: str) -> list[str]:
    """Why Teams would refuse this channel name (empty when it is fine)."""
    problems = []
    if not name.strip():
        problems.append("is empty")
    if len(name) > MAX_CHANNEL_NAME:
        problems.append(f"is {len(name)} characters long (Teams allows {MAX_CHANNEL_NAME})")
    bad = sorted({c for c in name if c in FORBIDDEN_CHANNEL_CHARS})
    if bad:
        problems.append(f"contains {' '.join(bad)} (Teams forbids {' '.join(FORBIDDEN_CHANNEL_CHARS)})")
    if name.startswith(("_", ".")):
        problems.append("starts with '_' or '.'")
    if name.endswith("."):
        problems.append("ends with '.'")
    if name.casefold() == GENERAL.casefold() and name != GENERAL:
        problems.append(f"is reserved: write exactly {GENERAL!r} to post into the team's General channel")
    return problems


def safe_channel_name(name: str, taken: set[str], source_kind: str) -> str:
    """The closest name Teams accepts that no other drafted channel of the team uses (`taken` holds them,
    case-folded, and gains the name returned); a second "general" gets the source's kind as a suffix."""
    clean = "".join("-" if c in FORBIDDEN_CHANNEL_CHARS else c for c in name).lstrip("_.").rstrip(".")
    clean = clean[:MAX_CHANNEL_NAME].rstrip(".") or "channel"
    if clean.casefold() == GENERAL.casefold():
        clean = f"{clean}-{source_kind}"
    candidate, n = clean, 2
    while candidate.casefold() in taken:
        suffix = f"-{n}"
        candidate, n = clean[: MAX_CHANNEL_NAME - len(suffix)] + suffix, n + 1
    taken.add(candidate.casefold())
    return candidate
