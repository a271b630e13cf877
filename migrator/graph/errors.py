"""Typed errors for everything that can go wrong talking to Graph.

Callers branch on the class (409 means "already imported", a lost
connection means "reconcile"), and consultants read `str()`: it names the
call, the status, Graph's code and message and the request-id Microsoft
support asks for, and never a token or secret.

A Graph error that reaches the command line ends it with exit code 1 (Graph
kept failing: the run did not complete), except the ones the user fixes in the
settings or the tenant, which also derive from `InputError` and end it with 2:
refused credentials (401, sign-in refused), a missing permission (403) and a
missing billing model or licence (402).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from migrator.errors import InputError, MigratorError
from migrator.graph.redact import redact


class ConfigError(InputError, ValueError):
    """Settings are missing or unusable; raised before any network call.

    Also a ValueError: `auth.build_app` words an unusable key, whether msal or our own
    check finds it, as one "Cannot sign in" error by catching ValueError.
    """


class GraphError(MigratorError):
    """A Graph call failed; carries what support and reconciliation need.

    Its exit code is `MigratorError`'s (1): it sets none of its own, so that a subclass that
    also derives from `InputError` takes that one's (2) through the method resolution order.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
        method: str | None = None,
        url: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.method = method
        # Query strings carry filters and paging tokens that only add noise.
        self.url = _without_query(url) if url else None
        self.hint = hint  # what the reader should do about it, when that is not obvious

    @classmethod
    def from_response(cls, resp: requests.Response, *, hint: str | None = None) -> GraphError:
        """Build from a non-2xx response; on GraphError itself the subclass follows the status."""
        error_cls = error_class_for(resp.status_code) if cls is GraphError else cls
        code, message, inner = _parse_envelope(resp)
        return error_cls(
            message,
            status=resp.status_code,
            code=code,
            request_id=inner.get("request-id") or resp.headers.get("request-id"),
            client_request_id=inner.get("client-request-id") or resp.request.headers.get("client-request-id"),
            method=resp.request.method,
            url=resp.request.url,
            hint=hint,
        )

    @property
    def path(self) -> str | None:
        return urlsplit(self.url).path if self.url else None

    def summary(self) -> str:
        """The call and Graph's answer, without the request-id or hint: equal refusals read the same."""
        return f"{self._where()}: {self._what()}"

    def __str__(self) -> str:
        text = self.summary()
        if self.request_id:
            text += f" (request-id {self.request_id})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def _where(self) -> str:
        call = " ".join(part for part in (self.method, self.path) if part) or "Graph"
        if self.status is None:
            return call
        return f"{call} → {self.status} {_phrase(self.status)}"

    def _what(self) -> str:
        return f"[{self.code}] {self.message}" if self.code else self.message


class BadRequestError(GraphError):
    """400: the request is wrong; retrying it unchanged cannot help."""


class UnauthorizedError(GraphError, InputError):
    """401: the token was missing, expired or rejected even after a refresh."""


class PaymentRequiredError(GraphError, InputError):
    """402: export needs a billing model or a licence (docs/graph-contract.md#export-billing)."""


class ForbiddenError(GraphError, InputError):
    """403: the app lacks a permission, or another app owns the migration session."""


class NotFoundError(GraphError):
    """404: the team, channel, chat, user or message does not exist."""


class ConflictError(GraphError):
    """409: e.g. a duplicate channel name or message timestamp (often: already imported)."""


class ThrottledError(GraphError):
    """429 that persisted through every retry."""


class ServerError(GraphError):
    """5xx that persisted through every retry."""


class ConnectionLostError(GraphError):
    """No usable answer arrived: for a write, Graph may or may not have applied it.

    The caller must reconcile (look the object up) before sending the write
    again, otherwise a message could be imported twice.
    """


class ForeignHostError(GraphError):
    """A URL pointed outside the Graph host; following it would leak the bearer token."""


class AuthenticationError(GraphError, InputError):
    """The token endpoint refused the app: `code` holds the AADSTS code when there is one."""

    def _where(self) -> str:
        return f"sign-in at {self.url} refused" if self.url else "sign-in refused"


_BY_STATUS: dict[int, type[GraphError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    402: PaymentRequiredError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    429: ThrottledError,
}


def error_class_for(status: int) -> type[GraphError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, GraphError)


def _parse_envelope(resp: requests.Response) -> tuple[str | None, str, dict[str, Any]]:
    """Read Graph's error envelope; fall back to the raw text for proxies and gateways."""
    try:
        error = resp.json()["error"]
        inner = error.get("innerError") or error.get("innererror")
        message = redact(str(error.get("message") or "")) or _phrase(resp.status_code)
        return error.get("code"), message, inner if isinstance(inner, dict) else {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, redact(resp.text.strip()) or _phrase(resp.status_code), {}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
