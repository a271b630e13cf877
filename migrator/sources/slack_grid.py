"""The layout of a Slack Enterprise Grid export: one organisation's export holding several workspaces.

An org-wide export (what an Enterprise Grid admin gets from the organisation's export settings) holds, at its
top, the organisation's conversation lists (`channels.json`, `groups.json`, `dms.json`, `mpims.json`),
`org_users.json` and/or `users.json`, and one folder per org-level conversation (org-wide and multi-workspace
channels, DMs and group DMs, which may join people of different workspaces); and under `teams/<workspace name>/`
one folder per workspace, itself laid out as a workspace export (`users.json`, the lists, a folder per
conversation). Mattermost's mmetl reads it the same way (`services/slack_grid/`).

This module knows only that layout: which folders are workspaces (and which are refused), the id a workspace
folder stands for, and which folder a day file belongs to. `slack.SlackExport` reads both layouts with it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from migrator.model import Quarantined, User, Workspace
from migrator.words import counted

TEAMS = "teams"
ORG_USERS = "org_users.json"
_WORKSPACE_FILE = re.compile(rf"^{TEAMS}/[^/]+/(?:channels|users)\.json$")
_UNSAFE = re.compile(r"[\\:\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Scope:
    """One level of the export that lists conversations: the organisation (`prefix` "") or one workspace's folder
    (`prefix` "teams/NAME/", `workspace` its id and name)."""

    prefix: str
    workspace: Workspace | None = None


def is_grid(names: Iterable[str]) -> bool:
    """Whether the export's files (relative to its root) are an org-wide export: `org_users.json`, or a workspace
    folder holding a workspace's lists."""
    return any(n == ORG_USERS or _WORKSPACE_FILE.match(n) for n in names)


def unsafe_reason(name: str) -> str | None:
    """Why a workspace folder's name cannot be used (it names the team and appears in every report), or None.

    `..`, `.` and separators could point elsewhere once written as a path; control characters are no name."""
    if name in {"", ".", ".."}:
        return f"its name {name!r} is a path step, not a workspace name"
    if _UNSAFE.search(name):
        return f"its name {name!r} holds a path separator or control character"
    return None


def workspace_folders(names: Iterable[str]) -> tuple[list[str], list[Quarantined]]:
    """The workspace folders under `teams/` that can be read, in name order, and the ones refused or quarantined
    whole with the reason (every file inside them is then left unread)."""
    files: Counter[str] = Counter(n.split("/", 2)[1] for n in names if n.startswith(f"{TEAMS}/") and n.count("/") >= 2)
    lists = {n.split("/")[1] for n in names if n.count("/") == 2 and n.endswith("/channels.json")}
    kept, refused = [], []
    for folder in sorted(files):
        why = unsafe_reason(folder)
        if why is not None:
            refused.append(
                Quarantined(
                    f"{TEAMS}/{folder}/",
                    f"refused: {why}; not read: its {counted(files[folder], 'file')}. "
                    "Rename the folder to the workspace's name and read the export again",
                )
            )
        elif folder not in lists:
            refused.append(
                Quarantined(
                    f"{TEAMS}/{folder}/",
                    f"workspace folder without channels.json, so none of its conversations can be told apart or "
                    f"given their readers; not read: its {counted(files[folder], 'file')}. Export the organisation "
                    "again, or add the workspace's channels.json",
                )
            )
        else:
            kept.append(folder)
    return kept, refused


def workspace_id(members: Iterable[User]) -> str | None:
    """The id a workspace folder stands for: the `team_id` most of its active, non-guest people carry (guests and
    people of other workspaces may be listed too); None when its users.json names none."""
    ids = Counter(
        str(u.extra["team_id"]) for u in members if u.extra.get("team_id") and not (u.deleted or u.is_guest or u.is_bot)
    )
    return ids.most_common(1)[0][0] if ids else None


def posted_team(messages: Any) -> str | None:
    """The workspace id most of a day file's messages were posted in (their `team`), or None."""
    posts = messages if isinstance(messages, list) else []
    teams = Counter(str(m["team"]) for m in posts if isinstance(m, dict) and m.get("team"))
    return teams.most_common(1)[0][0] if teams else None


def day_folder(name: str, grid: bool) -> str | None:
    """The conversation folder a `{folder}/{day}.json` file is in (`teams/NAME/{folder}` inside a workspace of a
    Grid export), or None for any other file."""
    parts = name.split("/")
    if len(parts) == 2 and parts[1].endswith(".json") and not (grid and parts[0] == TEAMS):
        return parts[0]
    if grid and len(parts) == 4 and parts[0] == TEAMS and parts[3].endswith(".json"):
        return "/".join(parts[:3])
    return None


def external_org(raw: dict[str, Any], own: frozenset[str]) -> str | None:
    """The organisation of a message's author when it is none of the export's (`own`: its workspaces and the
    organisation): a Slack Connect guest of another company, whose `user_team` is their own workspace. The export
    names that workspace by id only (its profile copy too), so the id is what the message says."""
    team = raw.get("user_team")
    return str(team) if team and team not in own else None
