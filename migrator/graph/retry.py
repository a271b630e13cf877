"""When a failed Graph call may be sent again, and how long to wait first.

A lost answer to a write is the dangerous case: Graph may have imported the
message already, and sending it again would duplicate it (or hit a 409 on
the timestamp). So writes are retried only when we know Graph did not act:
a 429 or 503 refusal, or a connection that never got established.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from urllib3.exceptions import NewConnectionError

NON_IDEMPOTENT_METHODS = frozenset({"POST", "PATCH"})
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Graph refuses these before doing anything, so even a write is safe to resend.
NOT_APPLIED_STATUSES = frozenset({429, 503})
TRANSIENT_EXCEPTIONS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def retry_status(self, status: int, idempotent: bool) -> bool:
        if idempotent:
            return status in RETRYABLE_STATUSES
        return status in NOT_APPLIED_STATUSES

    def retry_exception(self, exc: BaseException, idempotent: bool) -> bool:
        # A certificate that does not verify will not verify on the next try either.
        if isinstance(exc, requests.exceptions.SSLError) or not isinstance(exc, TRANSIENT_EXCEPTIONS):
            return False
        return idempotent or failed_before_sending(exc)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so parallel channels do not retry in lockstep."""
        return self.rng.uniform(0.0, min(self.backoff_cap, self.backoff_base * 2**attempt))

    def wait(self, attempt: int, resp: requests.Response) -> float:
        """Graph's Retry-After when it sent one (it knows best), else our backoff."""
        hinted = retry_after(resp)
        return self.backoff(attempt) if hinted is None else hinted


def retry_after(resp: requests.Response, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header in either form (delta-seconds or HTTP-date)."""
    value = resp.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def failed_before_sending(exc: BaseException) -> bool:
    """True when the request provably never left: no connection was ever established."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    return any(isinstance(cause, NewConnectionError) for cause in _causes(exc))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests nests urllib3's errors in args and .reason)."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend((current.__cause__, current.__context__, getattr(current, "reason", None), *current.args))
