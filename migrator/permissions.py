"""Which Graph calls each stage makes, so that a token's roles can be checked against them before cutover.

The permissions themselves are not repeated here: each call is matched against the endpoint table
(`migrator/endpoints.py`, which the emulator serves too), which holds, per endpoint, the application permissions any
one of which Microsoft's permission tables accept (docs/graph-contract.md#authentication). This module only says
which endpoints a stage calls, with placeholders for ids (which the endpoint patterns accept as ids).
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from migrator.endpoints import find
from migrator.graph import GraphConfig, TokenProvider

# stage -> the calls it makes (method, path with placeholder ids)
STAGE_CALLS: dict[str, tuple[tuple[str, str], ...]] = {
    "import": (
        ("POST", "/teams"),
        ("GET", "/teams/{team}/operations/{op}"),
        ("GET", "/teams/{team}"),
        ("GET", "/teams/{team}/channels"),
        ("GET", "/teams/{team}/primaryChannel"),
        ("POST", "/teams/{team}/channels"),
        ("POST", "/teams/{team}/channels/{channel}/messages"),
        ("POST", "/teams/{team}/channels/{channel}/messages/{message}/replies"),
        ("POST", "/teams/{team}/channels/{channel}/completeMigration"),
        ("POST", "/teams/{team}/completeMigration"),
    ),
    "files": (
        ("GET", "/teams/{team}/channels/{channel}/filesFolder"),
        ("PUT", "/drives/{drive}/items/{parent}:/{name}:/content"),
        # a chat's files: in the sender's OneDrive, shared with the chat (stages/load/chatfiles.py)
        ("PUT", "/users/{user}/drive/root:/Microsoft Teams Chat Files/{name}:/content"),
        ("POST", "/drives/{drive}/items/{item}/invite"),
    ),
    "members": (
        ("POST", "/teams/{team}/members/add"),
        # people who joined a private channel an earlier pass created (issue 27's delta pass)
        ("POST", "/teams/{team}/channels/{channel}/members"),
    ),
    "chats": (
        ("POST", "/chats"),
        ("POST", "/chats/{chat}/messages"),
        ("POST", "/chats/{chat}/completeMigration"),
    ),
    "verify/export": (
        ("GET", "/teams/{team}/channels/getAllMessages"),
        ("GET", "/users/{user}/chats/getAllMessages"),
    ),
    "user look-up": (("GET", "/users"),),
    "reset": (("DELETE", "/groups/{group}"),),
}


@dataclass(frozen=True)
class Unmet:
    """A call of a stage the token's roles do not allow, and the permissions any one of which would."""

    stage: str
    method: str
    path: str
    any_of: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.stage}: {self.method} {self.path} needs one of {', '.join(self.any_of)}"


def required(method: str, path: str) -> frozenset[str]:
    """The permissions any one of which the endpoint accepts (from migrator/endpoints.py)."""
    found = find(method, path)
    if found is None:
        raise LookupError(f"{method} {path}: no such Graph endpoint in migrator/endpoints.py")
    return found.roles


def unmet(roles: frozenset[str]) -> list[Unmet]:
    """Every call of every stage that a token with `roles` would be refused (403)."""
    return [
        Unmet(stage, method, path, tuple(sorted(needed)))
        for stage, calls in STAGE_CALLS.items()
        for method, path in calls
        if not (needed := required(method, path)) & roles
    ]


def token_roles(config: GraphConfig) -> frozenset[str]:
    """The application permissions (`roles`) of a token the app obtains now (graph-contract.md#authentication). The
    signature is Entra's to check (Graph does); only the claims are read here, and the token is not kept."""
    token = TokenProvider(config).token()
    return frozenset(jwt.decode(token, options={"verify_signature": False}).get("roles", []))
