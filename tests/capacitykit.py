"""Synthetic Slack exports at and just over Teams' capacity limits, written straight to a folder (much faster than
`migrator sample generate` for a thousand channels), and the map run that drafts their mappings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from migrator.mapping import run_map
from slackkit import write_export

CREATED = 1_600_000_000


def person(n: int) -> dict[str, Any]:
    return {"id": f"U{n:05d}", "name": f"user{n}", "real_name": f"User {n}", "profile": {"email": f"u{n}@example.com"}}


def channel(cid: str, name: str, members: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": cid, "name": name, "created": CREATED, "creator": members[0], "members": members, **extra}


def workspace(
    root: Path,
    *,
    public: Sequence[str] = (),
    private: Mapping[str, int] | None = None,  # name -> members
    group_dms: Sequence[int] = (),  # people in each
    people: int = 3,
    archived: Sequence[str] = (),
    messages: Mapping[str, int] | None = None,  # channel name -> messages on its one day
    files: Mapping[str, int] | None = None,  # channel name -> files on one message of its (after its messages)
    admins: int = 0,  # the first users administer the workspace (Slack's is_admin)
) -> Path:
    """An unpacked Slack export: #general plus the named public channels (archived ones flagged), private channels
    and group DMs with that many members, `people` users (at least as many as the largest membership)."""
    people = max([people, *(private or {}).values(), *group_dms])
    users = [{**person(n), "is_admin": n <= admins} for n in range(1, people + 1)]
    everyone = [u["id"] for u in users]
    public_rows = [channel("C0", "general", everyone, is_general=True)] + [
        channel(f"C{n}", name, everyone[:2], is_archived=name in archived) for n, name in enumerate(public, 1)
    ]
    groups = [channel(f"G{n}", name, everyone[:size]) for n, (name, size) in enumerate((private or {}).items(), 1)]
    mpims = [channel(f"M{n}", f"mpdm-{n}", everyone[:size]) for n, size in enumerate(group_dms, 1)]
    tree: dict[str, Any] = {"users.json": users, "channels.json": public_rows, "groups.json": groups}
    tree["mpims.json"] = mpims
    for name, count in (messages or {}).items():
        tree[f"{name}/2020-01-01.json"] = [text_message(everyone[0], f"m{i}", i) for i in range(count)]
    for name, count in (files or {}).items():
        day = tree.setdefault(f"{name}/2020-01-01.json", [])
        day.append({**text_message(everyone[0], "the files", len(day)), "files": [upload(n) for n in range(count)]})
        tree.update({f"__uploads/F{n:03d}/file{n}.txt": f"file {n}\n" for n in range(count)})
    return write_export(root, tree, base=False)


def text_message(user: str, text: str, n: int) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": f"{CREATED + 100 + n}.000100"}


def upload(n: int) -> dict[str, Any]:
    """A file of a Slack message whose bytes the export holds (under __uploads/), not an inline image."""
    name = f"file{n}.txt"
    return {
        "id": f"F{n:03d}",
        "name": name,
        "mimetype": "text/plain",
        "size": len(f"file {n}\n"),
        "url_private": f"https://files.slack.com/files-pri/T1-F{n:03d}/{name}",
    }


def lookup(mail: str) -> Mapping[str, Any] | None:
    """Everyone has an Entra account."""
    return {"id": f"e-{mail}", "mail": mail}


def draft(export: Path, out: Path) -> Path:
    """Draft the mappings of an export into `out`; returns migration.yaml."""
    return run_map(export, out, lookup).migration
