"""A chat's files read back (docs/graph-contract.md#chat-files): each must exist in the OneDrive load put it in, hold
the planned bytes (sha256 of the content downloaded, since OneDrive for Business need not record a sha256), and be
shared with exactly the chat's members: read-only for each member but its owner, and nobody else."""

from __future__ import annotations

import hashlib
from typing import Any

from migrator.graph import GraphClient, GraphError, NotFoundError
from migrator.journal import REMOVED, SHARED, JournalStore
from migrator.plan import PlannedConversation, PlannedUpload


def chat_file_problems(client: GraphClient, journal: JournalStore, conv: PlannedConversation) -> dict[str, list[str]]:
    """Upload key -> what is wrong with each shared chat file of `conv` (a channel has none: an empty answer)."""
    entries = journal.drive_files(conv.key)
    members = {member.user_id for member in conv.members}
    problems: dict[str, list[str]] = {}
    for planned in conv.uploads:
        entry = entries.get(planned.key)
        if entry is not None and entry.state == REMOVED:
            problems[planned.key] = [f"removed from the OneDrive of {entry.owner} by `reset --chat`; load again"]
            continue
        if entry is None or entry.state != SHARED or not entry.drive_id or not entry.item_id:
            continue  # not landed: its message is missing or failed, and verify says so there
        base = f"/drives/{entry.drive_id}/items/{entry.item_id}"
        try:
            found = bytes_problems(client, base, planned) + _audience_problems(client, base, members)
        except NotFoundError:
            found = [f"the file is gone from the OneDrive of {entry.owner}"]
        except GraphError as error:
            found = [f"could not be read back: {error.status} {error.code}"]
        if found:
            problems[planned.key] = found
    return problems


def bytes_problems(client: GraphClient, base: str, planned: PlannedUpload) -> list[str]:
    """The file at `base` (`/drives/{drive}/items/{item}`) downloaded: its sha256 must be the planned one."""
    data = client.request("GET", f"{base}/content").content
    digest = hashlib.sha256(data).hexdigest()
    if digest != planned.sha256:
        return [f"its bytes differ (sha256 {digest[:12]}…, planned {planned.sha256[:12]}…)"]
    return []


def _audience_problems(client: GraphClient, base: str, members: set[str]) -> list[str]:
    permissions = list(client.paginate(f"{base}/permissions"))
    owners = {_grantee(p) for p in permissions if "owner" in (p.get("roles") or [])}
    readers = {_grantee(p) for p in permissions if "owner" not in (p.get("roles") or [])}
    writers = {_grantee(p) for p in permissions if "write" in (p.get("roles") or [])}
    problems = []
    outsiders = sorted(str(who) for who in readers - members)
    if outsiders:
        problems.append(f"shared with people outside the chat: {', '.join(outsiders)}")
    unshared = sorted(members - readers - owners)
    if unshared:
        problems.append(f"not shared with chat members: {', '.join(unshared)}")
    if writers:
        problems.append(f"editable by {', '.join(sorted(str(w) for w in writers))} (planned: read-only)")
    return problems


def _grantee(permission: dict[str, Any]) -> str | None:
    user = ((permission.get("grantedToV2") or permission.get("grantedTo") or {}).get("user")) or {}
    return str(user["id"]) if user.get("id") else None
