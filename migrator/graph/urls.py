"""Turning paths, nextLinks and Location headers into Graph URLs, safely.

Every URL we send the bearer token to goes through here, so a paging link
or Location pointing at another host is refused instead of leaking the
token. The rate-limit key comes from the URL too, because the 5 req/s import
limit is per channel or chat, whatever the call.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from migrator.graph.errors import ForeignHostError

_DEFAULT_PORTS = {"http": 80, "https": 443}
_KNOWN_VERSIONS = frozenset({"v1.0", "beta"})
# Collection-wide actions whose position looks like an id but names no single chat/channel.
_COLLECTION_ACTIONS = frozenset({"getallmessages", "allmessages", "getallretainedmessages", "delta"})
# `/teams('{id}')` (the Graph reference's form) or `/teams/{id}` (the import articles'), anywhere in a path.
_TEAM_SEGMENT = re.compile(r"/teams(?:\('([^'/]+)'\)|/([^/()']+))")


class GraphUrls:
    def __init__(self, graph_url: str, api_version: str) -> None:
        self._base = graph_url.rstrip("/")
        self._base_path = urlsplit(self._base).path
        self._origin = _origin(self._base)
        self._api_version = api_version
        self._versions = _KNOWN_VERSIONS | {api_version}

    def build(self, path_or_url: str, version: str | None = None) -> str:
        """A path gets the base URL and version; an absolute URL must stay on the Graph host."""
        if _is_absolute(path_or_url):
            return self.check(path_or_url)
        return f"{self._base}/{version or self._api_version}/{path_or_url.lstrip('/')}"

    def resolve(self, location: str) -> str:
        """Resolve a Location header, which Graph may send without the version (`/teams/{id}/operations/{op}`)."""
        if _is_absolute(location):
            return self.check(location)
        first = location.lstrip("/").split("/", 1)[0]
        if first in self._versions:
            return f"{self._base}/{location.lstrip('/')}"
        return self.build(location)

    def check(self, url: str) -> str:
        if _origin(url) != self._origin:
            host = urlsplit(url).netloc
            raise ForeignHostError(f"refusing to send the Graph token to {host}: it is not {self._base}")
        return url

    def rate_key(self, url: str) -> str | None:
        """`channel:{team}/{channel}` or `chat:{chat}` for calls on one conversation, else None."""
        segments = self._resource_segments(url)
        lowered = [s.lower() for s in segments]
        if (
            len(segments) >= 4
            and lowered[0] == "teams"
            and lowered[2] == "channels"
            and lowered[3] not in _COLLECTION_ACTIONS
        ):
            return f"channel:{segments[1]}/{segments[3]}"
        if len(segments) >= 2 and lowered[0] == "chats" and lowered[1] not in _COLLECTION_ACTIONS:
            return f"chat:{segments[1]}"
        return None

    def _resource_segments(self, url: str) -> list[str]:
        path = urlsplit(url).path.removeprefix(self._base_path)
        segments = [unquote(s) for s in path.split("/") if s]
        if segments and segments[0] in self._versions:
            segments = segments[1:]
        return segments


def team_id_in(location: str) -> str | None:
    """The team id a `Location` or `Content-Location` of `POST /teams` names, in either form Graph writes
    (docs/graph-contract.md#long-running-operations); None when it names no team."""
    match = _TEAM_SEGMENT.search(unquote(urlsplit(location).path))
    return (match.group(1) or match.group(2)) if match else None


def _is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.scheme and parts.netloc)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)
