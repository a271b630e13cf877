"""The small HTTP vocabulary the emulator's routes speak: a parsed call and a reply.

Kept apart from the routes so handlers stay one-liners over `models`, and the
ASGI plumbing lives in one place (`app.py`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from migrator.emulator.errors import BadRequest, GraphFault
from migrator.emulator.identity import Principal
from migrator.emulator.models import GRAPH
from migrator.endpoints import endpoint

if TYPE_CHECKING:
    from migrator.emulator.models import Graph

Handler = Callable[["Graph", "Call"], "Reply"]


@dataclass
class Call:
    method: str
    path: str  # without the version prefix
    version: str  # "v1.0" or "beta"
    base: str  # scheme://host:port the client used
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    principal: Principal | None = None  # set once the bearer token is checked

    @property
    def caller(self) -> Principal:
        """The principal behind the token, for routes: the app checks the token before any of them runs."""
        if self.principal is None:
            raise RuntimeError(f"{self.method} {self.path} reached a route before its token was checked")
        return self.principal

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            value = json.loads(self.body)
        except ValueError:
            raise BadRequest(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid "
                "JSON format."
            ) from None
        if not isinstance(value, dict):
            raise BadRequest("The request payload must be a JSON object.")
        return value

    def int_param(self, name: str) -> int | None:
        raw = self.query.get(name)
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError:
            raise BadRequest(f"Invalid value '{raw}' for query parameter {name}.") from None

    def link(self, **changes: str) -> str:
        """This call's URL with some query parameters replaced (for @odata.nextLink)."""
        query = dict(self.query, **changes)
        return f"{self.base}/{self.version}{self.path}?{urlencode(query, safe='$/:')}"


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | bytes | None = None  # dict → JSON, bytes → raw
    base: str = ""  # the emulator's own URL, for stored graph.microsoft.com links in JSON bodies
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def parse_query(raw: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(raw.decode("latin-1"), keep_blank_values=True).items()}


def render(body: dict[str, Any], base: str) -> bytes:
    """JSON bytes of a reply; stored URLs name graph.microsoft.com, so point them at this emulator."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return payload.replace(GRAPH.encode(), base.encode()) if base else payload


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    roles: frozenset[str]  # any one of these application permissions
    kind: str  # throttling family, see EmulatorApp._throttle


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, kind: str = "teams") -> Callable[[Handler], Handler]:
        """Serve `handler` for an endpoint of migrator/endpoints.py, with the permissions its table gives."""
        listed = endpoint(method, pattern)

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, listed.compiled, handler, listed.roles, kind))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for this method and path, with its path parameters."""
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, {k: v for k, v in found.groupdict().items() if v is not None}
        return None

    def allows_path(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self.routes)


def envelope(fault: GraphFault, request_id: str, client_request_id: str | None, date: str) -> dict[str, Any]:
    return {
        "error": {
            "code": fault.code,
            "message": fault.message,
            "innerError": {
                "date": date,
                "request-id": request_id,
                "client-request-id": client_request_id or request_id,
            },
        }
    }
