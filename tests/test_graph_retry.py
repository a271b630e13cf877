from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from migrator.graph.retry import RetryPolicy, failed_before_sending, retry_after


def with_retry_after(value):
    resp = requests.Response()
    resp.status_code = 429
    if value is not None:
        resp.headers["Retry-After"] = value
    return resp


NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("-3", 0.0),
        (format_datetime(NOW + timedelta(seconds=42), usegmt=True), 42.0),
        (format_datetime(NOW - timedelta(seconds=42), usegmt=True), 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_seconds_and_http_date(value, expected):
    assert retry_after(with_retry_after(value), now=NOW) == expected


def test_backoff_is_bounded_by_cap_and_jittered():
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=4.0)
    for attempt in range(10):
        draws = [policy.backoff(attempt) for _ in range(200)]
        ceiling = min(4.0, 0.5 * 2**attempt)
        assert all(0.0 <= d <= ceiling for d in draws)
        assert len(set(draws)) > 150  # full jitter, not a fixed delay
        assert max(draws) > ceiling * 0.8  # and it does grow towards the ceiling


def test_status_rules_for_writes_and_reads():
    policy = RetryPolicy()
    assert [s for s in (400, 404, 409, 429, 500, 502, 503, 504) if policy.retry_status(s, idempotent=True)] == [
        429,
        500,
        502,
        503,
        504,
    ]
    assert [s for s in (400, 429, 500, 502, 503, 504) if policy.retry_status(s, idempotent=False)] == [429, 503]


def refused():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/v1.0/x", reason))


def dropped():
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104)))


def test_failed_before_sending():
    assert failed_before_sending(refused())
    assert failed_before_sending(requests.exceptions.ConnectTimeout())
    assert not failed_before_sending(dropped())
    assert not failed_before_sending(requests.exceptions.ReadTimeout())
    assert not failed_before_sending(requests.exceptions.ChunkedEncodingError())


def test_exception_rules():
    policy = RetryPolicy()
    for exc in (refused(), dropped(), requests.exceptions.ReadTimeout(), requests.exceptions.ChunkedEncodingError()):
        assert policy.retry_exception(exc, idempotent=True)
    assert policy.retry_exception(refused(), idempotent=False)
    assert not policy.retry_exception(dropped(), idempotent=False)
    assert not policy.retry_exception(requests.exceptions.ReadTimeout(), idempotent=False)
    assert not policy.retry_exception(requests.exceptions.SSLError("certificate verify failed"), idempotent=True)
    assert not policy.retry_exception(ValueError("bug"), idempotent=True)
