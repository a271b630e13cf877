"""People's emails from Slack: `DIR/users.json` is the export's users.json with the addresses users.list gave.

A standard export often leaves out emails (Slack writes them only for some
plans and admins), and without one a person posts through the fallback
account. The export itself is never modified: the copy is written beside the
fetched files, under a temporary name renamed into place.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from migrator.model import User


def without_email(users: Iterable[User]) -> set[str]:
    """People (not bots) the export gives no email: the ones users.list may fill in."""
    return {u.id for u in users if not u.is_bot and not u.email}


def write_users(path: Path, raw_users: list[dict[str, Any]], emails: dict[str, str]) -> set[str]:
    """Write the export's users with `emails` added where they had none; the ids that got one."""
    filled: set[str] = set()
    out = []
    for user in raw_users:
        given = user.get("profile")
        profile: dict[str, Any] = given if isinstance(given, dict) else {}
        email = emails.get(str(user.get("id")))
        if email and not (isinstance(profile.get("email"), str) and profile["email"].strip()):
            user = {**user, "profile": {**profile, "email": email}}
            filled.add(str(user["id"]))
        out.append(user)
    write_atomically(path, orjson.dumps(out, option=orjson.OPT_INDENT_2) + b"\n")
    return filled


def write_atomically(path: Path, data: bytes) -> None:
    """Under a temporary name, flushed to disk, then renamed: a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
