"""What the Slack emulator knows: the export's workspace, its people, its files, and the tokens it accepts.

The people are the export's `users.json`, or `FILES/users.json` when the files
folder has one (the workspace as Slack knows it, with the addresses a standard
export leaves out). A file's bytes are `FILES/__uploads/{FILE_ID}/{name}`; a
file the export lists whose bytes are not there is deleted, as far as this
Slack knows (404). The tokens are fixed demo tokens (README, "The Slack
emulator"), one per case a fetch must handle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from migrator.errors import InputError
from migrator.model import ConversationKind
from migrator.slack.links import team_of
from migrator.slack.web import REQUIRED_SCOPES
from migrator.sources import open_source

OTHER_TEAM = "T0OTHERTEAM"
DEFAULT_TEAM = "T0EMULATOR"


@dataclass(frozen=True)
class Token:
    """What a demo token may do: its workspace (None: the export's), scopes, and whose files it reaches."""

    team: str | None
    scopes: tuple[str, ...]
    public_only: bool = False  # a bot that is a member of public channels only: other files answer 403


DEMO_TOKENS = {
    "xoxb-emulator-fetch": Token(None, REQUIRED_SCOPES),
    "xoxb-emulator-public-only": Token(None, REQUIRED_SCOPES, public_only=True),
    "xoxb-emulator-no-email-scope": Token(None, ("files:read", "users:read")),
    "xoxb-emulator-other-workspace": Token(OTHER_TEAM, REQUIRED_SCOPES),
}


@dataclass(frozen=True)
class HostedFile:
    id: str
    name: str
    mimetype: str
    mode: str
    public: bool  # shared in a public channel
    path: Path | None  # the bytes, when the files folder has them


class SlackEmulatorError(InputError):
    """The export or files folder the Slack emulator was given cannot be served: exit code 2."""


@dataclass
class Workspace:
    team_id: str
    team_name: str
    domain: str
    users: list[dict[str, Any]]
    files: dict[str, HostedFile]

    def token(self, value: str | None) -> Token | None:
        return DEMO_TOKENS.get(value or "")

    def team_of(self, token: Token) -> str:
        return token.team or self.team_id


def load_workspace(export: Path, files: Path | None) -> Workspace:
    """Read the export once (every conversation's files) and index the bytes of the files folder."""
    if files is not None and not files.is_dir():
        raise SlackEmulatorError(f"--files {files}: no such folder; give the folder of __uploads/ (and users.json)")
    folder = files if files is not None else (export if export.is_dir() else None)
    source = open_source(export, "slack")
    try:
        hosted: dict[str, HostedFile] = {}
        teams: dict[str, int] = {}
        for conversation in source.conversations():
            public = conversation.kind is ConversationKind.PUBLIC
            for message in source.messages(conversation):
                for file in [*message.files, *([message.commented_file] if message.commented_file else [])]:
                    if not file.id or file.id in hosted:
                        continue
                    url = str(file.extra.get("url_private_download") or file.extra.get("url_private") or "")
                    team = team_of(url)
                    if team:
                        teams[team] = teams.get(team, 0) + 1
                    hosted[file.id] = HostedFile(
                        file.id,
                        file.name,
                        file.mimetype,
                        str(file.extra.get("mode") or "hosted"),
                        public,
                        _bytes_of(folder, file.id, file.name),
                    )
        team_id = source.workspace.id or (max(teams, key=lambda t: teams[t]) if teams else DEFAULT_TEAM)
        users = _users(folder / "users.json" if folder else None) or _users_of(source)
        return Workspace(team_id, source.workspace.name, source.workspace.domain or "emulator", users, hosted)
    finally:
        source.close()


def _bytes_of(folder: Path | None, file_id: str, name: str) -> Path | None:
    """`__uploads/{id}/{name}`, or the one file of that folder (exporters sanitise names)."""
    if folder is None:
        return None
    uploads = folder / "__uploads" / file_id
    if (uploads / name).is_file():
        return uploads / name
    present = [p for p in uploads.iterdir() if p.is_file()] if uploads.is_dir() else []
    return present[0] if len(present) == 1 else None


def _users(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.is_file():
        return []
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise SlackEmulatorError(f"{path}: not valid JSON ({error}); give the workspace's users as a list") from None
    if isinstance(data, dict):
        data = data.get("members")
    if not isinstance(data, list):
        raise SlackEmulatorError(f"{path}: not a list of users")
    return [u for u in data if isinstance(u, dict) and isinstance(u.get("id"), str)]


def _users_of(source: Any) -> list[dict[str, Any]]:
    """The export's people as users.list shows them, when the files folder has no users.json."""
    return [
        {
            "id": user.id,
            "name": user.name,
            "real_name": user.real_name,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "profile": {"display_name": user.display_name, **({"email": user.email} if user.email else {})},
        }
        for user in source.users.values()
    ]
