"""The mapping files as text: `migration.yaml` with a comment on every conversation, and `users.csv`."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from migrator.mapping.model import ALL_MEMBERS, CHANNEL, CHAT, USER_COLUMNS, Mappings, UserMapping, conversation_label
from migrator.model import Conversation, User

_PLAIN = re.compile(r"[A-Za-z0-9][\w.@ +-]*", re.UNICODE)
_YAML_WORDS = {"yes", "no", "true", "false", "null", "on", "off", "y", "n", "~"}


def _scalar(value: Any) -> str:
    """A YAML scalar: plain when unambiguous, otherwise a JSON string (valid YAML)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    plain = _PLAIN.fullmatch(text) and text.casefold() not in _YAML_WORDS and not text.endswith(" ")
    if plain and not re.fullmatch(r"[-+]?[\d._]+(e[-+]?\d+)?|0x[\da-f]+", text, re.IGNORECASE):
        return text
    return json.dumps(text, ensure_ascii=False)


HEADER = """\
# Where every Slack conversation goes in Microsoft Teams. Drafted by `migrator map`;
# edit it, then run `migrator map --check {folder}` until it reports no problem.
#
# teams:          one entry per target team; `name` is what people see in Teams,
#                 `members: all` means every mapped user, otherwise a list of Slack user ids.
# conversations:  one entry per Slack conversation (`source` is its Slack id):
#   team/channel  the target; `channel: General` posts into the team's General channel
#   target        private channels: private_channel (default; a private channel of `team` whose members are
#                 exactly the Slack channel's mapped members) or own_team (a channel of a team whose members
#                 the team lists); DMs and group DMs: chat (default; a Teams chat of exactly its participants,
#                 archived instead when one of them has no Entra account) or own_team
#   merge: true   when several conversations fill one channel, all but one of them need it
#   action        migrate (default) | archive (kept as files, not imported) | skip (left out, counted)
# Private content may only reach people who could read it in Slack; `map --check` refuses anything else.
"""


def render_mappings(mappings: Mappings, conversations: list[Conversation], users: Mapping[str, User]) -> str:
    """The YAML text, with a comment per conversation saying what it is."""
    by_id = {c.id: c for c in conversations}
    out = [HEADER.format(folder=mappings.path.parent.as_posix()), "version: 1"]
    if mappings.source is not None:
        out.append(f"source: {_scalar(mappings.source)}  # the export; a relative path starts at this folder")
    out += [
        "users:",
        f"  file: {_scalar(mappings.users_file)}",
        f"  fallback: {_scalar(mappings.fallback)}  # Entra account that posts for people without one",
        f"  fallback_id: {_scalar(mappings.fallback_id)}",
        "",
        "teams:",
    ]
    for team in mappings.teams.values():
        out += [f"  {team.key}:", f"    name: {_scalar(team.name)}", f"    description: {_scalar(team.description)}"]
        if team.members is None:
            out.append(f"    members: {ALL_MEMBERS}")
        else:
            names = ", ".join(users[m].label if m in users else m for m in team.members)
            out.append(f"    members: [{', '.join(_scalar(m) for m in team.members)}]  # {names}")
    out += ["", "conversations:"]
    for route in mappings.routes:
        conv = by_id.get(route.source)
        if conv is not None:
            out.append(f"  # {conversation_label(conv, users)}: {conv.kind.value}, {len(conv.members)} members")
        out.append(f"  - source: {_scalar(route.source)}")
        out.append(f"    name: {_scalar(route.name)}")
        if route.action != "migrate":
            out.append(f"    action: {route.action}" + (f"  # {route.note}" if route.note else ""))
        else:
            if route.kind not in (None, CHANNEL):
                out.append(f"    target: {route.kind}")
            if route.kind != CHAT:
                out += [f"    team: {_scalar(route.team)}", f"    channel: {_scalar(route.channel)}"]
        if route.merge:
            out.append("    merge: true")
    return "\n".join(out) + "\n"


def write_users_csv(path: Path, rows: Iterable[UserMapping]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(USER_COLUMNS)
        for row in rows:
            writer.writerow([row.slack_id, row.slack_name, row.email, row.entra_id, row.action])
