"""The mapping files as drafted: `migration.yaml` with a comment on every conversation, and `users.csv`.

migration.yaml is built as a round-trip document (see `document`), entry by entry, so the same
functions can later add a conversation or a team to a file a consultant has already edited.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from migrator.mapping.document import dump_document
from migrator.mapping.model import (
    ALL_MEMBERS,
    CHANNEL,
    CHAT,
    USER_COLUMNS,
    Mappings,
    Route,
    Team,
    UserMapping,
    conversation_label,
)
from migrator.model import Conversation, User
from migrator.sources.products import Product
from migrator.words import counted

HEADER = """\
# Where every {product} conversation goes in Microsoft Teams. Drafted by `migrator map`;
# edit it, then run `migrator map --check {folder}` until it reports no problem.
#
# teams:          one entry per target team; `name` is what people see in Teams,
#                 `members: all` means every mapped user, otherwise a list of {product} user ids.
# conversations:  one entry per {product} conversation (`source` is its {product} id):
#   team/channel  the target; `channel: General` posts into the team's General channel
#   target        private channels: private_channel (default; a private channel of `team` whose members are
#                 exactly the {product} channel's mapped members) or own_team (a channel of a team whose members
#                 the team lists); DMs and group DMs: chat (default; a Teams chat of exactly its participants,
#                 archived instead when one of them has no Entra account) or own_team
#   merge: true   when several conversations fill one channel, all but one of them need it
#   action        migrate (default) | archive (kept as files, not imported) | skip (left out, counted)
# defaults.limits  Teams' capacity limits, for a tenant whose limits differ (names and numbers: README,
#                 "Teams' capacity limits"); `map --check` reports every one the file breaks.
# Private content may only reach people who could read it in {product}; `map --check` refuses anything else.
"""


def draft_document(
    mappings: Mappings, conversations: list[Conversation], users: Mapping[str, User], product: Product
) -> CommentedMap:
    """migration.yaml as a document: the explanation on top (in the words of the source's `product`), a comment
    per conversation saying what it is, and beside a value what it means where that is not obvious."""
    document = CommentedMap()
    header = HEADER.format(folder=mappings.path.parent.as_posix(), product=product.name)
    document.yaml_set_start_comment(header + "\n")  # the extra newline: a blank line before `version`
    document["version"] = 1
    if mappings.source is not None:
        document["source"] = mappings.source
        document.yaml_add_eol_comment("the export; a relative path starts at this folder", "source")
    document["users"] = users_entry(mappings)
    teams = CommentedMap()
    for team in mappings.teams.values():
        teams[team.key] = team_entry(team, users)
        if team.note:
            teams.yaml_add_eol_comment(team.note, team.key)
    document["teams"] = teams
    document.yaml_set_comment_before_after_key("teams", before="\n" + "\n".join(mappings.split))
    entries = CommentedSeq()
    by_id = {c.id: c for c in conversations}
    for route in mappings.routes:
        append_conversation(entries, route, by_id.get(route.source), users)
    document["conversations"] = entries
    document.yaml_set_comment_before_after_key("conversations", before="\n")
    return document


def users_entry(mappings: Mappings) -> CommentedMap:
    entry = CommentedMap(file=mappings.users_file, fallback=mappings.fallback, fallback_id=mappings.fallback_id)
    entry.yaml_add_eol_comment("Entra account that posts for people without one", "fallback")
    return entry


def team_entry(team: Team, users: Mapping[str, User]) -> CommentedMap:
    """A team; listed members get their names beside them, since the list holds source ids."""
    entry = CommentedMap(name=team.name, description=team.description)
    if team.members is None:
        entry["members"] = ALL_MEMBERS
    else:
        members = CommentedSeq(team.members)
        members.fa.set_flow_style()
        entry["members"] = members
        if team.members:  # an empty comment is no YAML comment
            entry.yaml_add_eol_comment(", ".join(users[m].label if m in users else m for m in team.members), "members")
    return entry


def append_conversation(
    entries: CommentedSeq, route: Route, conversation: Conversation | None, users: Mapping[str, User]
) -> None:
    """Add one conversation's entry to the `conversations` list, after a comment that says what it is."""
    entry = CommentedMap(source=route.source, name=route.name)
    if route.action != "migrate":
        entry["action"] = route.action
        if route.note:
            entry.yaml_add_eol_comment(route.note, "action")
    else:
        if route.kind not in (None, CHANNEL):
            entry["target"] = route.kind
            if route.note:
                entry.yaml_add_eol_comment(route.note, "target")
        if route.kind != CHAT:
            entry["team"], entry["channel"] = route.team, route.channel
            if route.note and route.kind in (None, CHANNEL):  # why the draft chose this team (an org-level channel)
                entry.yaml_add_eol_comment(route.note, "team")
    if route.merge:
        entry["merge"] = True
    entries.append(entry)
    if conversation is not None:
        label = conversation_label(conversation, users)
        about = f"{label}: {conversation.kind.value}, {counted(len(conversation.members), 'member')}"
        about += f"; {conversation.belongs_to}" if conversation.belongs_to else ""
        entries.yaml_set_comment_before_after_key(len(entries) - 1, before=about, indent=2)


def write_mappings(
    path: Path, mappings: Mappings, conversations: list[Conversation], users: Mapping[str, User], product: Product
) -> None:
    dump_document(draft_document(mappings, conversations, users, product), path)


def write_users_csv(path: Path, rows: Iterable[UserMapping]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(USER_COLUMNS)
        for row in rows:
            writer.writerow([row.source_id, row.source_name, row.email, row.entra_id, row.action])
