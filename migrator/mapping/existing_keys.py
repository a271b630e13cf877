"""Routes into a Teams channel or chat people already use (`action: existing`): what such a route must name.

`team:` and `channel:` name what the migration creates (a key of `teams:`, a channel of it), so an existing target has
keys of its own: `existing_team` and `existing_channel` (each an id or a display name), or `existing_chat` (a chat's
id: chats have no unique name). Checked here as the file's shape; whether the target exists, may be imported into,
and adds no reader is the tenant's to answer (`mapping.tenant`).
"""

from __future__ import annotations

from collections.abc import Mapping

EXISTING_KEYS = ("existing_team", "existing_channel", "existing_chat")
_CREATING_KEYS = ("team", "channel", "target")  # what a route into a new channel or chat says


def names_one_target(team: str | None, channel: str | None, chat: str | None) -> bool:
    """Whether an `action: existing` route names exactly one complete target (the file rules refuse it otherwise, and
    nothing is looked up for it)."""
    if chat is not None:
        return team is None and channel is None
    return team is not None and channel is not None


def existing_problems(
    existing: bool, entry: Mapping[str, object], values: Mapping[str, str | None]
) -> list[tuple[str, str]]:
    """(key to place it on, message) for each way the route's `existing_*` keys do not fit its action: only
    `action: existing` reads them, and it needs exactly one complete target and none of the keys of a new one."""
    given = [key for key in EXISTING_KEYS if values.get(key) is not None]
    if not existing:
        return [(key, f"{key} is read only with `action: existing`; add that action or remove {key}") for key in given]
    problems = [
        (
            key,
            f"{key} is not read with `action: existing` ({key}: is for what the migration creates); name the target "
            "with existing_team and existing_channel, or existing_chat",
        )
        for key in _CREATING_KEYS
        if key in entry
    ]
    team, channel, chat = (values.get(key) for key in EXISTING_KEYS)
    if chat is not None and (team is not None or channel is not None):
        both = "give existing_chat (a chat) or existing_team with existing_channel (a channel), not both"
        problems.append(("existing_chat", both))
    elif chat is None and (team is None or channel is None):
        named = (("existing_team", team), ("existing_channel", channel))
        missing = " and ".join(key for key, value in named if value is None)
        problems.append(
            (
                "action",
                f"`action: existing` has no {missing}: name the existing team and channel (each an id or a display "
                "name), or an existing chat with existing_chat (its id)",
            )
        )
    return problems
