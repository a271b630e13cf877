"""The one way the migrator talks to Microsoft Graph.

It paces requests per channel/chat, retries what is safe to retry, refuses
to resend a write whose outcome is unknown (the caller reconciles instead,
so no message is imported twice), and turns failures into typed errors
that are safe to show and log.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from migrator.graph.aimd import AdaptiveRate
from migrator.graph.auth import TokenProvider
from migrator.graph.config import GraphConfig
from migrator.graph.errors import ConnectionLostError, GraphError
from migrator.graph.ratelimit import RateLimiter
from migrator.graph.redact import redact
from migrator.graph.retry import NON_IDEMPOTENT_METHODS, TRANSIENT_EXCEPTIONS, RetryPolicy
from migrator.graph.session import GraphSession, ProxyCache, send
from migrator.graph.stats import GraphStats
from migrator.graph.trace import Trace
from migrator.graph.urls import GraphUrls
from migrator.limits import CHANNEL_RPS, IMPORT_BUDGET_RPS

IMPORT_ENDS = (
    "/messages",
    "/replies",
)  # POST paths that import a message (docs/graph-contract.md#import-message-rules)

log = logging.getLogger("migrator.graph")

RECONCILE_HINT = "Graph may or may not have applied it: look it up before sending it again"
UNNAMED_HINT = "Graph applied it without saying what it made: look it up before sending it again"
_AUTO = "auto"


@dataclass
class _Call:
    method: str
    url: str
    rate_key: Hashable | None
    idempotent: bool
    headers: Mapping[str, str]
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def imports(self) -> bool:
        """A message or reply imported into one conversation: what a tenant-wide import cap counts."""
        return self.method == "POST" and self.rate_key is not None and self.path.rstrip("/").endswith(IMPORT_ENDS)


class GraphClient:
    """Thread-safe Graph client; share one instance between all worker threads."""

    def __init__(
        self,
        config: GraphConfig,
        *,
        limiter: RateLimiter | None = None,
        pace: AdaptiveRate | None = None,
        max_retries: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        timeout: float = 60.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.stats = GraphStats()
        self._session = session or GraphSession(config.verify, timeout)
        self._tokens = TokenProvider(config, self._session)
        self._proxies = ProxyCache()
        self._limiter = limiter if limiter is not None else RateLimiter(per_key=CHANNEL_RPS)
        # Imports share a tenant-wide rate that adapts to 429s on several conversations (aimd.py).
        self.pace = pace if pace is not None else AdaptiveRate(IMPORT_BUDGET_RPS)
        self._policy = RetryPolicy(max_retries, backoff_base, backoff_cap)
        self._timeout = timeout
        self._sleep = sleep
        self._urls = GraphUrls(config.graph_url, config.api_version)
        self._trace = Trace.from_env(graph_url=config.graph_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, **kwargs: Any) -> GraphClient:
        return cls(GraphConfig.from_env(environ), **kwargs)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def resolve(self, location: str) -> str:
        """An absolute URL for a Location header such as `/teams/{id}/operations/{op}`."""
        return self._urls.resolve(location)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        version: str | None = None,
        rate_key: Hashable | None = _AUTO,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one call, retrying what is safe; returns a 2xx response or raises a GraphError.

        `data` is sent again on retries, so pass bytes rather than a stream.
        """
        method = method.upper()
        url = self._urls.build(path_or_url, version)
        call = _Call(
            method=method,
            url=url,
            rate_key=self._urls.rate_key(url) if rate_key == _AUTO else rate_key,
            idempotent=method not in NON_IDEMPOTENT_METHODS if idempotent is None else idempotent,
            headers=headers or {},
            body={"params": params, "json": json, "data": data},
        )
        try:
            return self._run(call)
        except GraphError:
            self.stats.add("errors")
            raise

    def get_json(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        resp = self.request("GET", path, params=params, **kwargs)
        return orjson.loads(resp.content) if resp.content else {}

    def post_json(self, path: str, json: Any, **kwargs: Any) -> dict[str, Any]:
        """The JSON object Graph answers a POST with (what it made: a message, a channel, an upload session…).

        A 2xx without one leaves the caller as unsure of the outcome as a lost answer does, so it is raised as
        one (`ConnectionLostError`) and the caller reconciles the same way. A POST answered without a body by
        design (202 with a Location) goes through `request`.
        """
        return json_object(self.request("POST", path, json=json, **kwargs))

    def create(self, path: str, json: Any, **kwargs: Any) -> str:
        """POST a new message, channel or chat and return the id Graph gave it (an answer without one: see
        `post_json`)."""
        resp = self.request("POST", path, json=json, **kwargs)
        created = json_object(resp).get("id")
        if not isinstance(created, str) or not created:
            raise _unnamed(resp, "no id for what it made")
        return created

    def pages(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Each page of a collection; the nextLink already carries the query, so params go only to the first."""
        url: str | None = path
        while url:
            page = self.get_json(url, params=params, **kwargs)
            yield page
            url, params = page.get("@odata.nextLink"), None

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self.pages(path, params, **kwargs):
            yield from page.get("value", [])

    def _run(self, call: _Call) -> requests.Response:
        attempt = 0
        refreshed = False
        while True:
            try:
                resp = self._send(call)
            except TRANSIENT_EXCEPTIONS as exc:
                if attempt >= self._policy.max_retries or not self._policy.retry_exception(exc, call.idempotent):
                    raise self._lost(call, exc) from exc
                wait, reason, request_id = self._policy.backoff(attempt), type(exc).__name__, None
            else:
                if resp.ok:
                    return resp
                if resp.status_code == 429:
                    self.stats.add("throttled")
                    if call.imports:
                        self.pace.throttled(call.rate_key)
                if not refreshed and _token_rejected(resp):
                    # Tokens can be revoked or expire early; one fresh token settles it.
                    refreshed = True
                    self._refresh_token(call, resp)
                    continue
                if attempt >= self._policy.max_retries or not self._policy.retry_status(
                    resp.status_code, call.idempotent
                ):
                    raise self._failure(call, resp)
                wait, reason = self._policy.wait(attempt, resp), str(resp.status_code)
                request_id = resp.headers.get("request-id")
            attempt += 1
            self._log_retry(call, reason, request_id, attempt, wait)
            self.stats.add("retries")
            self._sleep(wait)

    def _send(self, call: _Call) -> requests.Response:
        headers = {
            "Accept": "application/json",
            **call.headers,
            "Authorization": f"Bearer {self._tokens.token()}",
            "client-request-id": str(uuid.uuid4()),
        }
        with self._limiter.slot(call.rate_key):
            if call.imports:  # inside the conversation's slot, so a token is spent only when the request goes
                self.pace.acquire()
            self.stats.add("requests")
            started = time.monotonic()
            resp = send(
                self._session,
                self._proxies,
                call.method,
                call.url,
                headers,
                self.config.verify,
                self._timeout,
                **call.body,
            )
        log.debug(
            "%s %s → %s in %.3fs (request-id %s)",
            call.method,
            call.path,
            resp.status_code,
            time.monotonic() - started,
            resp.headers.get("request-id"),
        )
        if self._trace is not None:
            self._trace.record(call.method, call.url, call.body, resp, self.config.client_id)
        return resp

    def _refresh_token(self, call: _Call, resp: requests.Response) -> None:
        log.info("%s %s: Graph rejected the access token; fetching a new one", call.method, call.path)
        self.stats.add("retries")
        rejected = resp.request.headers.get("Authorization", "").removeprefix("Bearer ")
        self._tokens.refresh(rejected)

    def _failure(self, call: _Call, resp: requests.Response) -> GraphError:
        """The typed error; for a write that a 5xx interrupted, the outcome is unknown."""
        if not call.idempotent and resp.status_code >= 500:
            return ConnectionLostError.from_response(resp, hint=RECONCILE_HINT)
        return GraphError.from_response(resp)

    def _lost(self, call: _Call, exc: BaseException) -> ConnectionLostError:
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        reason = getattr(reason, "reason", None) or reason
        return ConnectionLostError(
            f"no answer ({type(exc).__name__}: {redact(str(reason))})",
            method=call.method,
            url=call.url,
            hint=None if call.idempotent else RECONCILE_HINT,
        )

    def _log_retry(self, call: _Call, reason: str, request_id: str | None, attempt: int, wait: float) -> None:
        log.warning(
            "%s %s failed (%s, request-id %s); retry %d of %d in %.2fs",
            call.method,
            call.path,
            reason,
            request_id or "-",
            attempt,
            self._policy.max_retries,
            wait,
        )


def json_object(resp: requests.Response) -> dict[str, Any]:
    """The JSON object a 2xx answer carries; one without it is a lost answer (`ConnectionLostError`)."""
    try:
        answer = orjson.loads(resp.content) if resp.content else None
    except orjson.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        raise _unnamed(resp, "no JSON object")
    return answer


def object_id(found: Mapping[str, Any]) -> str:
    """The `id` of an object Graph listed or returned (a team, channel, chat or message): always a non-empty
    string in Graph's answers, so anything else is a broken answer."""
    value = found.get("id")
    if not isinstance(value, str) or not value:
        raise GraphError(f"Graph answered with an object without an id ({sorted(found)[:8]} keys)")
    return value


def _unnamed(resp: requests.Response, missing: str) -> ConnectionLostError:
    return ConnectionLostError(
        f"the answer holds {missing}",
        status=resp.status_code,
        request_id=resp.headers.get("request-id"),
        method=resp.request.method,
        url=resp.request.url,
        hint=UNNAMED_HINT,
    )


def _token_rejected(resp: requests.Response) -> bool:
    return resp.status_code == 401 and GraphError.from_response(resp).code == "InvalidAuthenticationToken"
