"""Before the first import request: every account the plan posts as or adds is a user of the target tenant.

A message whose author is not a user of the tenant is refused one by one
("is not a user of this tenant"), so a mapping matched against another
directory would post nothing, slowly. The accounts are the plan's own (the
authors of its lines, the members and owners of its teams, private channels
and chats): the truth of what load will send. They are looked up a few at a
time with `GET /users?$filter=id in (…)` (graph-contract.md#directory-look-ups),
and any missing stops the load with exit 2, each named by the `users.csv`
line or the `migration.yaml` fallback it came from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.errors import InputError
from migrator.graph import GraphClient
from migrator.journal import JournalStore
from migrator.limits import USERS_IN_FILTER_MAX
from migrator.mapping.model import MappingError
from migrator.mapping.reading import load_all
from migrator.plan import Manifest, PlannedConversation, PlannedMember, PlannedTeam, read_lines
from migrator.stages.load.delta import Landed
from migrator.stages.load.errors import LoadError
from migrator.words import counted

SHOWN = 20  # accounts named in the error; the rest are counted


class AccountsError(LoadError, InputError):
    """Accounts the plan posts as or adds are not users of the target tenant: fix the mapping first (exit 2)."""


@dataclass(frozen=True)
class SoFar:
    """What earlier loads did, as this load read it before sending anything: the `journal` (members added, chats
    created) and each conversation's `landed` lines."""

    journal: JournalStore
    landed: Mapping[str, Landed]


@dataclass
class PlannedAccounts:
    """Every account of the plan: messages it posts, and the teams, channels and chats it joins."""

    messages: Counter[str] = field(default_factory=Counter)
    memberships: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return sorted(set(self.messages) | set(self.memberships))

    def usage(self, user_id: str) -> str:
        parts = [f"posts {counted(self.messages[user_id], 'message')}"] if self.messages[user_id] else []
        joined = self.memberships.get(user_id, [])
        if joined:
            parts.append(
                "member of " + ", ".join(joined[:3]) + (f" and {len(joined) - 3} more" if len(joined) > 3 else "")
            )
        return "; ".join(parts)


def planned_accounts(
    plan_dir: Path,
    teams: list[PlannedTeam],
    chats: list[PlannedConversation],
    so_far: SoFar | None = None,
) -> PlannedAccounts:
    """The plan's accounts; with what earlier loads did (`so_far`), only those this load still posts as or adds (a
    delta pass: the authors of lines that did not land, members not added yet, the members of chats not created
    yet)."""
    accounts = PlannedAccounts()

    def landed(key: str) -> Container[str]:
        return so_far.landed[key].ids if so_far else {}

    def joins(members: list[PlannedMember], key: str, where: str) -> None:
        done = so_far.journal.members(key) if so_far else set()
        for member in members:
            if member.user_id not in done:
                accounts.memberships.setdefault(member.user_id, []).append(where)

    for team in teams:
        joins(team.members, team.key, f"team {team.display_name!r}")
        for channel in team.channels:
            _count_authors(plan_dir, channel, accounts, landed(channel.key))
            joins(channel.members, channel.key, f"channel '{team.display_name}/{channel.display_name}'")
    for chat in chats:
        _count_authors(plan_dir, chat, accounts, landed(chat.key))
        if not (so_far and so_far.journal.conversation_id(chat.key)):  # a chat is created with its members
            joins(chat.members, chat.key, f"chat {chat.display_name or chat.key!r}")
    return accounts


def _count_authors(
    plan_dir: Path, conversation: PlannedConversation, accounts: PlannedAccounts, landed: Container[str]
) -> None:
    for line in read_lines(plan_dir, conversation, skip=landed):
        author = ((line.get("from") or {}).get("user") or {}).get("id")
        if author:
            accounts.messages[author] += 1


def find_users(client: GraphClient, ids: list[str], select: str = "id") -> dict[str, dict[str, Any]]:
    """The users of the tenant among `ids`, by id, with the properties `select` names; asked 15 at a time."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), USERS_IN_FILTER_MAX):
        chunk = ids[start : start + USERS_IN_FILTER_MAX]
        quoted = ",".join("'" + user_id.replace("'", "''") + "'" for user_id in chunk)  # OData string literals
        params = {"$filter": f"id in ({quoted})", "$select": select}
        found.update((str(user.get("id")), user) for user in client.paginate("/users", params=params))
    return found


def missing_accounts(client: GraphClient, ids: list[str]) -> list[str]:
    """The ids no user of the tenant has."""
    found = find_users(client, ids)
    return [user_id for user_id in ids if user_id not in found]


def check_accounts(
    client: GraphClient,
    plan_dir: Path,
    manifest: Manifest,
    teams: list[PlannedTeam],
    chats: list[PlannedConversation],
    so_far: SoFar | None = None,
) -> None:
    """Stop before anything is created when an account of the plan (with `so_far`, that this load still posts as or
    adds) is not a user of the tenant."""
    accounts = planned_accounts(plan_dir, teams, chats, so_far)
    missing = missing_accounts(client, accounts.ids)
    if not missing:
        return
    origins = _origins(manifest)
    lines = [
        f"  {origins.get(user_id, f'the plan: account {user_id}')} ({accounts.usage(user_id)})"
        for user_id in missing[:SHOWN]
    ]
    if len(missing) > SHOWN:
        lines.append(f"  … and {len(missing) - SHOWN} more")
    raise AccountsError(
        f"{len(missing):,} of {counted(len(accounts.ids), 'account')} the plan posts as or adds "
        f"{'is not a user' if len(missing) == 1 else 'are not users'} of the target tenant; nothing was sent:\n"
        + "\n".join(lines)
        + "\nMap them to accounts of this tenant in users.csv (or set action fallback), fix the fallback account in "
        'migration.yaml, run `migrator transform` again, then load (see README, "Map and the mapping files").'
    )


def _origins(manifest: Manifest) -> dict[str, str]:
    """Where each account came from in the mapping files the plan was made with, when they can still be read."""
    named = manifest.source.get("mappings")
    if not named:
        return {}
    try:
        files = load_all(Path(named))
    except (MappingError, OSError):
        return {}
    mappings = files.mappings
    origins = {
        row.entra_id: f"{mappings.users_path.as_posix()}:{row.line}: {row.source_name or row.source_id} "
        f"({row.email or 'no email'}) mapped to {row.entra_id}"
        for row in files.rows
        if row.action == "map" and row.entra_id
    }
    if mappings.fallback_id:
        origins[mappings.fallback_id] = (
            f"{mappings.path.as_posix()}:{mappings.lines.get('users', 0)}: the fallback account "
            f"{mappings.fallback or ''} (fallback_id {mappings.fallback_id})"
        )
    return origins
