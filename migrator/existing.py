"""Teams channels and chats people already use (`action: existing`), found by id or display name.

`map --check` asks whether they exist, whether the app may import into them and who can read them; load reopens them
for import. Nothing here creates or changes anything. A display name is matched as Teams compares names (ignoring
case); a name two teams or channels share is refused, since history imported into the wrong one cannot be taken out.
"""

from __future__ import annotations

import re
from typing import Any

from migrator.errors import InputError
from migrator.graph import ForbiddenError, GraphClient, NotFoundError
from migrator.words import counted

TEAMS_ONLY = "resourceProvisioningOptions/Any(x:x eq 'Team')"  # groups behind a team, not every Microsoft 365 group
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class ExistingTargetError(InputError):
    """The existing team, channel or chat a route names is not there, or not only one; says which and what to do.
    A mapping to correct, so exit code 2 should it reach the command line (load turns it into a refusal of the one
    conversation)."""


def find_team(client: GraphClient, ref: str) -> dict[str, Any]:
    """The team whose id (a GUID) or display name is `ref`."""
    if _GUID.fullmatch(ref):
        try:
            return client.get_json(f"/teams/{ref}")
        except NotFoundError:
            raise ExistingTargetError(f"no team has the id {ref}") from None
    escaped = ref.replace("'", "''")
    found, unreadable = [], []
    for group in client.paginate("/groups", params={"$filter": f"displayName eq '{escaped}' and {TEAMS_ONLY}"}):
        try:
            found.append(client.get_json(f"/teams/{group['id']}"))
        except NotFoundError:
            continue  # a team still provisioning, or gone since the listing
        except ForbiddenError:
            unreadable.append(str(group["id"]))  # it may be the one meant: never guessed past
    named = len(found) + len(unreadable)
    if unreadable and (not found or named > 1):
        raise ExistingTargetError(
            f"the app may not read {', '.join(unreadable)} (403) of the {counted(named, 'team')} named {ref!r}; give "
            "existing_team the id of the one meant"
        )
    return _only(found, "team", ref, "existing_team")


def find_channel(client: GraphClient, team_id: str, ref: str) -> dict[str, Any]:
    """The channel of the team whose id or display name is `ref`."""
    channels = list(client.paginate(f"/teams/{team_id}/channels"))
    by_id = [c for c in channels if c.get("id") == ref]
    found = by_id or [c for c in channels if str(c.get("displayName", "")).casefold() == ref.casefold()]
    return _only(found, "channel", ref, "existing_channel", f" in team {team_id}")


def find_chat(client: GraphClient, ref: str) -> dict[str, Any]:
    """The chat whose id is `ref`, with its members."""
    try:
        return client.get_json(f"/chats/{ref}", params={"$expand": "members"})
    except NotFoundError:
        raise ExistingTargetError(f"no chat has the id {ref} (or the app may not read it)") from None


def channel_members(client: GraphClient, team_id: str, channel_id: str) -> list[dict[str, Any]]:
    """Who can read the channel: a private or shared channel's own members, a standard channel's team."""
    return list(client.paginate(f"/teams/{team_id}/channels/{channel_id}/members"))


def _only(found: list[dict[str, Any]], kind: str, ref: str, key: str, where: str = "") -> dict[str, Any]:
    if not found:
        raise ExistingTargetError(f"no {kind} is named {ref!r}{where}; give {key} its id or exact display name")
    if len(found) > 1:
        ids = ", ".join(str(f.get("id")) for f in found)
        raise ExistingTargetError(f"{len(found)} {kind}s are named {ref!r}{where} ({ids}); give {key} the id of one")
    return found[0]
