"""The emulated tenant's directory: the tenant, registered apps and users, and the chats and teams people already use
(with their live messages), which a migration may import history into (`startMigration`).

Loaded from a JSON file (`--directory`); each top-level key the file omits
comes from the built-in demo directory, so a file may list only `users`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.errors import InputError

DEMO_PATH = Path(__file__).with_name("demo_directory.json")
# The sample's directory, when this runs from a checkout of the repository (see `embedded_directory`).
SAMPLE_DIRECTORY = Path(__file__).resolve().parents[2] / "sample_data" / "directory.json"
VISIBILITIES = ("private", "public", "hiddenMembership")  # Graph's team visibility values


@dataclass(frozen=True)
class App:
    client_id: str
    display_name: str
    secret: str | None = field(default=None, repr=False)
    certificates: tuple[str, ...] = field(default=(), repr=False)
    roles: frozenset[str] = frozenset()


@dataclass
class Directory:
    tenant_id: str
    domain: str
    licensed: bool
    evaluation_capacity: int
    apps: dict[str, App]
    users: dict[str, dict[str, Any]]
    chats: list[dict[str, Any]]
    teams: list[dict[str, Any]] = field(default_factory=list)

    def find_user(self, key: str) -> dict[str, Any] | None:
        """By object id or userPrincipalName (case-insensitive), as Graph's /users/{id|upn}."""
        if key in self.users:
            return self.users[key]
        lowered = key.lower()
        return next((u for u in self.users.values() if u.get("userPrincipalName", "").lower() == lowered), None)

    def is_tenant(self, name: str) -> bool:
        return name.lower() in {self.tenant_id.lower(), self.domain.lower(), "organizations"}


def embedded_directory(given: Path | None) -> Path | None:
    """The directory file of the emulator a command starts for itself (no MIGRATOR_* credentials): `given`,
    else one default for every such command (map, load, reset, verify, migrate, export), so that what `map`
    matched is what the later commands post as: the sample's directory in a checkout of the repository, the
    built-in demo directory (None) in an installation without it."""
    if given is not None:
        return given
    return SAMPLE_DIRECTORY if SAMPLE_DIRECTORY.is_file() else None


class DirectoryError(InputError):
    """A directory file that cannot be used; names the file and the entry."""


def load_directory(path: Path | None) -> Directory:
    demo = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    raw = dict(demo)
    if path is not None:
        try:
            given = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise DirectoryError(f"{path}: cannot read the directory file: {exc}") from exc
        if not isinstance(given, dict):
            raise DirectoryError(f"{path}: expected a JSON object with tenant, apps, users, chats")
        raw.update(given)
        if "users" in given and "chats" not in given:
            raw["chats"] = []  # the demo chats name demo users
        if "users" in given and "teams" not in given:
            raw["teams"] = []
    return _build(raw, path or DEMO_PATH)


def _build(raw: dict[str, Any], origin: Path) -> Directory:
    tenant = raw.get("tenant", {})
    apps = {}
    for index, entry in enumerate(raw.get("apps", [])):
        if "client_id" not in entry:
            raise DirectoryError(f"{origin}: apps[{index}] has no client_id")
        apps[entry["client_id"]] = App(
            client_id=entry["client_id"],
            display_name=entry.get("display_name", entry["client_id"]),
            secret=entry.get("secret"),
            certificates=tuple(entry.get("certificates", ())),
            roles=frozenset(entry.get("roles", ())),
        )
    users = {}
    for index, entry in enumerate(raw.get("users", [])):
        if not entry.get("id"):
            raise DirectoryError(f"{origin}: users[{index}] has no id")
        user = {"id": entry["id"], "displayName": entry.get("displayName", entry["id"])}
        user["mail"] = entry.get("mail")
        user["userPrincipalName"] = entry.get("userPrincipalName") or entry.get("mail") or entry["id"]
        user["licensed"] = bool(entry.get("licensed", True))
        user["accountEnabled"] = bool(entry.get("accountEnabled", True))  # a disabled account cannot sign in
        user["drive"] = bool(entry.get("drive", True))  # false: OneDrive never provisioned (404 for its drive)
        users[entry["id"]] = user
    for index, chat in enumerate(raw.get("chats", [])):
        unknown = [m for m in chat.get("members", []) if m not in users]
        if unknown:
            raise DirectoryError(f"{origin}: chats[{index}] names members not in users: {unknown}")
        for number, seed in enumerate(chat.get("messages", [])):
            where = f"{origin}: chats[{index}].messages[{number}]"
            for place, attachment in enumerate(seed.get("attachments", [])):
                if not isinstance(attachment, dict) or not attachment.get("id"):
                    raise DirectoryError(f"{where}.attachments[{place}] needs an id")
            for place, reaction in enumerate(seed.get("reactions", [])):
                if reaction.get("user") not in users or not reaction.get("reactionType"):
                    raise DirectoryError(f"{where}.reactions[{place}] needs a reactionType and a user of the directory")
    for index, team in enumerate(raw.get("teams", [])):
        _check_team(team, f"{origin}: teams[{index}]", users)
    return Directory(
        tenant_id=tenant.get("id", "5d7f6c2a-1b3e-4c8d-9a0f-e00000000001"),
        domain=tenant.get("domain", "contoso.example"),
        licensed=bool(tenant.get("licensed", True)),
        evaluation_capacity=int(tenant.get("evaluation_capacity", 10_000)),
        apps=apps,
        users=users,
        chats=list(raw.get("chats", [])),
        teams=list(raw.get("teams", [])),
    )


def _check_team(team: Any, where: str, users: dict[str, dict[str, Any]]) -> None:
    """A seeded team: a name, members of the directory, channels with a name, messages by directory users."""
    if not isinstance(team, dict) or not team.get("displayName"):
        raise DirectoryError(f"{where} needs a displayName")
    if team.get("visibility", "private") not in VISIBILITIES:
        raise DirectoryError(f"{where}.visibility must be one of {', '.join(VISIBILITIES)}")
    unknown = [m for m in team.get("members", []) if m not in users and m not in team.get("owners", [])]
    unknown += [m for m in team.get("owners", []) if m not in users]
    if unknown:
        raise DirectoryError(f"{where} names members not in users: {unknown}")
    for number, channel in enumerate(team.get("channels", [])):
        if not isinstance(channel, dict) or not channel.get("displayName"):
            raise DirectoryError(f"{where}.channels[{number}] needs a displayName")
        for place, seed in enumerate(channel.get("messages", [])):
            for reply, message in enumerate([seed, *seed.get("replies", [])]):
                if message.get("from") not in users or not message.get("createdDateTime"):
                    suffix = f".replies[{reply - 1}]" if reply else ""
                    raise DirectoryError(
                        f"{where}.channels[{number}].messages[{place}]{suffix} needs a createdDateTime and a "
                        "`from` of the directory"
                    )
