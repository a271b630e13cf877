"""The Slack Web API calls the fetch makes, through slack_sdk: `auth.test` up front, then `users.list`.

slack_sdk pages, parses and retries (429 after `Retry-After`, 5xx and lost
connections with backoff); this module adds what the migration needs around it:
the token's scopes and workspace checked before anything is downloaded, Tier 2
pacing for users.list (20 requests a minute, bursts allowed), and errors a
consultant can act on, which never hold the token.
"""

from __future__ import annotations

import threading
import urllib.error
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.slack_response import SlackResponse

from migrator.errors import IncompleteError, InputError
from migrator.graph.ratelimit import RateLimiter
from migrator.slack.config import SlackConfig

# What the fetch needs: download files, list people, and see their addresses.
REQUIRED_SCOPES = ("files:read", "users:read", "users:read.email")
TIER2_PER_MINUTE = 20  # users.list is a Tier 2 method: 20+ requests a minute, occasional bursts tolerated
USERS_PAGE = 200  # Slack recommends at most 200 per page
# auth.test answers that mean the token itself is unusable, and what to do about each.
_TOKEN_ERRORS = {
    "invalid_auth": "is not a valid Slack token",
    "not_authed": "was not accepted (no token reached Slack)",
    "token_revoked": "has been revoked",
    "token_expired": "has expired",
    "account_inactive": "belongs to a deactivated user or an uninstalled app",
    "org_login_required": "needs the workspace's organisation sign-in first",
}


class SlackAuthError(InputError):
    """The token is invalid, lacks a scope, or belongs to another workspace: exit code 2, before any download."""


class SlackUnavailableError(IncompleteError):
    """Slack kept failing (no answer, 5xx or 429 after every retry): exit code 1, running again resumes."""


@dataclass(frozen=True)
class TokenInfo:
    """What auth.test says about the token: never the token itself."""

    team_id: str
    team: str
    user: str
    url: str
    scopes: tuple[str, ...]
    is_bot: bool


class _Counting(RetryHandler):
    """Counts the retries of the handler it wraps, so the report can say how often Slack throttled or failed."""

    def __init__(self, inner: RetryHandler, counts: dict[str, int], key: str) -> None:
        super().__init__(max_retry_count=inner.max_retry_count)
        self._inner = inner
        self._counts = counts
        self._key = key

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return self._inner._can_retry(state=state, request=request, response=response, error=error)

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self._counts[self._key] += 1
        self._inner.prepare_for_next_attempt(state=state, request=request, response=response, error=error)


class SlackWeb:
    """The Web API client of one fetch; `counts` has its calls and the retries slack_sdk made for them."""

    def __init__(self, config: SlackConfig, users_per_minute: float = TIER2_PER_MINUTE) -> None:
        self.counts = {"calls": 0, "throttled": 0, "retried": 0}
        self._lock = threading.Lock()
        self._tier2 = RateLimiter(per_key=None, shared=users_per_minute, shared_period=60.0)
        self._client = WebClient(
            token=config.token,
            base_url=config.api_url.rstrip("/") + "/api/",
            ssl=config.ssl_context(),
            timeout=30,
            retry_handlers=[
                _Counting(RateLimitErrorRetryHandler(max_retry_count=6), self.counts, "throttled"),
                _Counting(ServerErrorRetryHandler(max_retry_count=4), self.counts, "retried"),
                _Counting(ConnectionErrorRetryHandler(max_retry_count=4), self.counts, "retried"),
            ],
        )
        self._api = config.api_url

    def check_token(self, export_team: str | None) -> TokenInfo:
        """auth.test, then the scopes and the workspace: the first thing a fetch does, so a token that cannot
        do the job stops the run before any download."""
        response = self._call("auth.test", self._client.auth_test)
        data = response.data if isinstance(response.data, dict) else {}
        scopes = tuple(s.strip() for s in _header(response.headers, "x-oauth-scopes").split(",") if s.strip())
        info = TokenInfo(
            team_id=str(data.get("team_id") or ""),
            team=str(data.get("team") or ""),
            user=str(data.get("user") or ""),
            url=str(data.get("url") or ""),
            scopes=scopes,
            is_bot=bool(data.get("bot_id")),
        )
        missing = [s for s in REQUIRED_SCOPES if s not in scopes]
        if missing:
            raise SlackAuthError(
                f"SLACK_TOKEN lacks the scope{'s' if len(missing) > 1 else ''} {', '.join(missing)} (it has: "
                f"{', '.join(scopes) or 'none'}); add {'them' if len(missing) > 1 else 'it'} under OAuth & "
                "Permissions of the Slack app, reinstall the app, and use its new token"
            )
        if export_team and info.team_id != export_team:
            raise SlackAuthError(
                f"SLACK_TOKEN belongs to the workspace {info.team or '?'} ({info.team_id}), but the export is of "
                f"workspace {export_team}; use a token of an app installed in the exported workspace"
            )
        return info

    def emails(self, page: int = USERS_PAGE) -> Iterator[tuple[str, str]]:
        """(user id, email) of every person users.list shows with an address, `page` people at a time (cursor),
        paced at Tier 2."""
        cursor: str | None = None
        while True:
            with self._tier2.slot(None):
                answer = self._call("users.list", partial(self._client.users_list, limit=page, cursor=cursor))
            data = answer.data if isinstance(answer.data, dict) else {}
            for member in data.get("members") or []:
                email = _email_of(member)
                if email:
                    yield str(member["id"]), email
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    def _call(self, method: str, send: Callable[[], SlackResponse]) -> SlackResponse:
        """One Web API call, its failures as errors that say what to do (and never hold the token)."""
        with self._lock:
            self.counts["calls"] += 1
        try:
            return send()
        except SlackApiError as error:
            code = str(error.response.get("error") or "") if isinstance(error.response.data, dict) else ""
            status = error.response.status_code
            if code in _TOKEN_ERRORS:
                raise SlackAuthError(
                    f"SLACK_TOKEN {_TOKEN_ERRORS[code]} (Slack's {method} answered {code}); create or reinstall "
                    "the Slack app and set SLACK_TOKEN to its current token"
                ) from None
            if code == "missing_scope":
                needed = error.response.get("needed") or "?"
                raise SlackAuthError(
                    f"SLACK_TOKEN lacks the scope {needed} that {method} needs; add it to the Slack app, reinstall "
                    "it, and use its new token"
                ) from None
            raise SlackUnavailableError(
                f"Slack's {method} failed: HTTP {status}, {code or 'no error code'}; run again later"
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SlackUnavailableError(
                f"cannot reach Slack's {method} at {self._api}: {reason}; check the network (or MIGRATOR_SLACK_URL) "
                "and run again"
            ) from None


def _header(headers: Any, name: str) -> str:
    """A response header; slack_sdk keeps urllib's headers with lists for values."""
    for key, value in dict(headers or {}).items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return ""


def _email_of(member: Any) -> str | None:
    profile = member.get("profile") if isinstance(member, dict) else None
    email = profile.get("email") if isinstance(profile, dict) else None
    return email.strip() if isinstance(email, str) and "@" in email and isinstance(member.get("id"), str) else None
