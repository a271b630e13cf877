"""Two exports of one Slack workspace taken weeks apart, for the pre-stage and delta tests (issue 27).

The earlier export: #general, #dev and #ops with `PER_CHANNEL` messages each (in #general the first is a thread
root with one reply) and a DM with `DM_MESSAGES`. The later one: the same, plus `PER_CHANNEL` newer messages in
every channel, `LATE_REPLIES` new replies to the thread migrated earlier, `DM_MESSAGES` more in the DM, a new
channel #design and a new private channel #secret with `NEW_CHANNEL` messages each, one message of #dev edited and
one of #ops deleted, #dev renamed #development, #ops archived, Alan deactivated (he never posted), Katherine new.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slackkit import write_export

PER_CHANNEL, DM_MESSAGES, LATE_REPLIES, NEW_CHANNEL = 20, 5, 2, 10
EARLY, LATE = 1700006400, 1701388800  # 2023-11-15 and 2023-12-01, midnight UTC: the two stretches of work
USERS = [
    {"id": "U1", "name": "ada", "real_name": "Ada Lovelace", "profile": {"email": "ada@contoso.example"}},
    {"id": "U2", "name": "grace", "real_name": "Grace Hopper", "profile": {"email": "grace@contoso.example"}},
    {"id": "U3", "name": "alan", "real_name": "Alan Turing", "profile": {"email": "alan@contoso.example"}},
]
NEW_USERS = [
    {
        "id": "U4",
        "name": "katherine",
        "real_name": "Katherine Johnson",
        "profile": {"email": "katherine@contoso.example"},
    }
]
CHANNELS = [
    {"id": "C1", "name": "general", "created": 1700000000, "is_general": True, "members": ["U1", "U2"]},
    {"id": "C2", "name": "dev", "created": 1700000100, "members": ["U1", "U2"]},
    {"id": "C3", "name": "ops", "created": 1700000200, "members": ["U1", "U2"]},
]
NEW_CHANNELS = [{"id": "C4", "name": "design", "created": 1701300000, "members": ["U1", "U2"]}]
NEW_GROUPS = [{"id": "G1", "name": "secret", "created": 1701300100, "members": ["U1", "U2"], "is_private": True}]
DMS = [{"id": "D1", "created": 1700000300, "members": ["U1", "U2"]}]
EDITED = ("dev", 5)  # channel and index of the message edited in the later export
DELETED = ("ops", 6)  # and of the one deleted
THREAD_ROOT = f"{EARLY}.000100"
RENAMED, ARCHIVED, LEFT = {"dev": "development"}, "ops", "U3"  # #general's first message, the root of its thread


def ts(day: int, index: int, channel: int) -> str:
    """A distinct Slack ts per channel and message, a minute apart."""
    return f"{day + index * 60}.{channel * 100 + 100:06d}"


def _message(stamp: str, text: str, index: int, **fields: Any) -> dict[str, Any]:
    return {"type": "message", "user": f"U{index % 2 + 1}", "text": text, "ts": stamp, **fields}


def _channel_messages(name: str, number: int, day: int, count: int) -> list[dict[str, Any]]:
    return [_message(ts(day, i, number), f"{name} message {i} of {day}", i) for i in range(count)]


def _general(later: bool) -> list[dict[str, Any]]:
    messages = _channel_messages("general", 0, EARLY, PER_CHANNEL)
    replies = 1 + (LATE_REPLIES if later else 0)
    messages[0].update(thread_ts=THREAD_ROOT, reply_count=replies)
    messages[1]["thread_ts"] = THREAD_ROOT
    return messages


def export(root: Path, later: bool) -> Path:
    """The earlier (`later=False`) or the later export, unpacked under `root` (its name names the team: the same
    for both exports)."""
    files: dict[str, Any] = {"users.json": _later(USERS) + NEW_USERS if later else USERS, "dms.json": DMS}
    files["channels.json"] = _later(CHANNELS) + NEW_CHANNELS if later else CHANNELS
    if later:
        files["groups.json"] = NEW_GROUPS
    for number, channel in enumerate(CHANNELS):
        name = channel["name"]
        folder = RENAMED.get(name, name) if later else name
        early = _general(later) if name == "general" else _channel_messages(name, number, EARLY, PER_CHANNEL)
        if later and name == EDITED[0]:
            early[EDITED[1]].update(text="edited since the first pass", edited={"user": "U1", "ts": str(LATE)})
        if later and name == DELETED[0]:
            del early[DELETED[1]]
        files[f"{folder}/2023-11-15.json"] = early
        if later:
            late = _channel_messages(name, number, LATE, PER_CHANNEL)
            if name == "general":
                late[:0] = [
                    _message(ts(LATE, n, 9), f"late reply {n}", n, thread_ts=THREAD_ROOT) for n in range(LATE_REPLIES)
                ]
            files[f"{folder}/2023-12-01.json"] = late
    dm = _channel_messages("dm", 5, EARLY, DM_MESSAGES)
    files["D1/2023-11-15.json"] = dm
    if later:
        files["D1/2023-12-01.json"] = _channel_messages("dm", 5, LATE, DM_MESSAGES)
        files["design/2023-12-01.json"] = _channel_messages("design", 6, LATE, NEW_CHANNEL)
        files["secret/2023-12-01.json"] = _channel_messages("secret", 7, LATE, NEW_CHANNEL)
    return write_export(root, files, base=False)


def _later(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Channels or people as the later export has them: renamed, archived, deactivated."""
    changed = []
    for record in records:
        record = dict(record)
        if record.get("name") in RENAMED:
            record["name"] = RENAMED[record["name"]]
        if record.get("name") == ARCHIVED:
            record["is_archived"] = True
        if record["id"] == LEFT:
            record["deleted"] = True
        changed.append(record)
    return changed


def new_messages() -> int:
    """What the later export holds that the earlier one did not: every message the delta pass must post."""
    return len(CHANNELS) * PER_CHANNEL + LATE_REPLIES + DM_MESSAGES + NEW_CHANNEL * len(NEW_CHANNELS + NEW_GROUPS)
