import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import msal
import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from migrator.graph import (
    ConflictError,
    ConnectionLostError,
    ForeignHostError,
    GraphClient,
    GraphConfig,
    NotFoundError,
    RateLimiter,
    ServerError,
    ThrottledError,
    UnauthorizedError,
    auth,
)
from migrator.graph.testing import mock_login, token_endpoint

SECRET = "s3cr3t-value-xyz"
TOKEN1 = "at-first-7f3a9c11"
TOKEN2 = "at-second-0b2e44d2"
GRAPH = "https://graph.test/v1.0"
MESSAGES = f"{GRAPH}/teams/t1/channels/c1/messages"

CONFIG = GraphConfig(
    tenant_id="tenant-1",
    client_id="client-1",
    client_secret=SECRET,
    graph_url="https://graph.test",
    login_url="https://login.test",
    ca_bundle="/tmp/emulator-ca.pem",
)


@pytest.fixture(name="rsps")
def rsps_fixture():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock_login(mock, CONFIG, tokens=(TOKEN1, TOKEN2))
        yield mock


@pytest.fixture(name="sleeps")
def sleeps_fixture():
    return []


@pytest.fixture(name="client")
def client_fixture(sleeps):
    return GraphClient(CONFIG, limiter=RateLimiter.unlimited(), sleep=sleeps.append)


def graph_calls(rsps):
    return [c for c in rsps.calls if c.request.url.startswith("https://graph.test")]


def envelope(code, message, request_id="rid-1"):
    return {"error": {"code": code, "message": message, "innerError": {"request-id": request_id}}}


def refused():
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/v1.0/x", reason))


def dropped():
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104)))


# --- URLs and headers ----------------------------------------------------------------------------


def test_path_gets_base_version_and_headers(rsps, client):
    rsps.add("GET", f"{GRAPH}/teams/t1", json={"id": "t1"})
    rsps.add("GET", "https://graph.test/beta/teams/t1", json={"id": "t1-beta"})
    assert client.get_json("/teams/t1") == {"id": "t1"}
    assert client.get_json("teams/t1", version="beta") == {"id": "t1-beta"}
    first, second = graph_calls(rsps)
    for call in (first, second):
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN1}"
        assert call.request.headers["Accept"] == "application/json"
        uuid.UUID(call.request.headers["client-request-id"])
        assert call.request.req_kwargs["verify"] == CONFIG.ca_bundle
        assert call.request.req_kwargs["timeout"] == 60.0
    assert first.request.headers["client-request-id"] != second.request.headers["client-request-id"]


def test_ca_bundle_is_used_even_with_requests_ca_bundle_and_a_plain_session(rsps, monkeypatch, sleeps):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    client = GraphClient(CONFIG, session=requests.Session(), limiter=RateLimiter.unlimited(), sleep=sleeps.append)
    rsps.add("GET", f"{GRAPH}/me", json={})
    client.get_json("/me")
    assert {c.request.req_kwargs["verify"] for c in rsps.calls} == {CONFIG.ca_bundle}


def test_environment_proxies_are_honoured_and_read_once_per_host(rsps, client, monkeypatch):
    """A consultant behind a corporate proxy reaches Graph through it; the environment is read once, not per call."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    lookups = []
    real = requests.Session.merge_environment_settings
    monkeypatch.setattr(
        requests.Session,
        "merge_environment_settings",
        lambda self, url, *rest: lookups.append(url) or real(self, url, *rest),
    )
    rsps.add("GET", f"{GRAPH}/me", json={})
    for _ in range(3):
        client.get_json("/me")
    proxies = [c.request.req_kwargs["proxies"].get("https") for c in graph_calls(rsps)]
    assert proxies == ["http://proxy.corp.example:3128"] * 3
    assert [url for url in lookups if url.startswith(GRAPH)] == [f"{GRAPH}/me"]


def test_a_token_is_reused_until_shortly_before_it_expires(rsps, client, monkeypatch):
    """No trip through MSAL's locked cache per request; renewed ahead of expiry like MSAL itself would."""
    asked = []
    real = msal.ConfidentialClientApplication.acquire_token_for_client
    monkeypatch.setattr(
        msal.ConfidentialClientApplication,
        "acquire_token_for_client",
        lambda self, *a, **k: asked.append(1) or real(self, *a, **k),
    )
    rsps.add("GET", f"{GRAPH}/me", json={})
    for _ in range(5):
        client.get_json("/me")
    assert len(asked) == 1
    later = auth.time.monotonic() + 3599 - auth.EARLY_REFRESH_S + 1
    monkeypatch.setattr(auth.time, "monotonic", lambda: later)
    client.get_json("/me")
    assert len(asked) == 2
    assert {c.request.headers["Authorization"] for c in graph_calls(rsps)} == {f"Bearer {TOKEN1}"}


def test_resolve_location_without_version(client):
    assert client.resolve("/teams/t1/operations/op1") == f"{GRAPH}/teams/t1/operations/op1"


def test_caller_headers_cannot_replace_authorization(rsps, client):
    rsps.add("GET", f"{GRAPH}/me", json={})
    client.request("GET", "/me", headers={"Authorization": "Bearer forged", "ConsistencyLevel": "eventual"})
    (call,) = graph_calls(rsps)
    assert call.request.headers["Authorization"] == f"Bearer {TOKEN1}"
    assert call.request.headers["ConsistencyLevel"] == "eventual"


# --- paging --------------------------------------------------------------------------------------


def test_paginate_follows_next_links_across_three_pages(rsps, client):
    url = f"{GRAPH}/teams/t1/channels/getAllMessages"
    rsps.add(
        "GET",
        url,
        match=[responses.matchers.query_param_matcher({"$top": "50"})],
        json={"value": [{"id": "1"}, {"id": "2"}], "@odata.nextLink": f"{url}?$top=50&$skiptoken=p2"},
    )
    rsps.add(
        "GET",
        url,
        match=[responses.matchers.query_param_matcher({"$top": "50", "$skiptoken": "p2"})],
        json={"value": [{"id": "3"}], "@odata.nextLink": f"{url}?$top=50&$skiptoken=p3"},
    )
    rsps.add(
        "GET",
        url,
        match=[responses.matchers.query_param_matcher({"$top": "50", "$skiptoken": "p3"})],
        json={"value": [{"id": "4"}], "@odata.nextLink": None},
    )
    items = list(client.paginate("/teams/t1/channels/getAllMessages", params={"$top": 50}))
    assert [item["id"] for item in items] == ["1", "2", "3", "4"]
    assert len(graph_calls(rsps)) == 3


def test_pages_stop_when_next_link_is_absent(rsps, client):
    rsps.add("GET", f"{GRAPH}/users", json={"value": [{"id": "u"}]})
    assert list(client.pages("/users")) == [{"value": [{"id": "u"}]}]


def test_foreign_next_link_is_refused_before_sending(rsps, client):
    rsps.add(
        "GET", f"{GRAPH}/users", json={"value": [], "@odata.nextLink": "https://evil.test/v1.0/users?$skiptoken=x"}
    )
    pages = client.pages("/users")
    next(pages)
    with pytest.raises(ForeignHostError, match="evil.test"):
        next(pages)
    assert all("evil.test" not in c.request.url for c in rsps.calls)


# --- errors --------------------------------------------------------------------------------------


def test_typed_error_from_client(rsps, client):
    rsps.add(
        "GET",
        f"{GRAPH}/users/nobody",
        status=404,
        json=envelope("Request_ResourceNotFound", "Resource 'nobody' does not exist", "rid-404"),
    )
    with pytest.raises(NotFoundError) as info:
        client.get_json("/users/nobody")
    error = info.value
    assert (error.status, error.code, error.request_id) == (404, "Request_ResourceNotFound", "rid-404")
    assert str(error) == (
        "GET /v1.0/users/nobody → 404 Not Found: [Request_ResourceNotFound] Resource 'nobody' does not exist "
        "(request-id rid-404)"
    )
    assert error.client_request_id == graph_calls(rsps)[0].request.headers["client-request-id"]
    assert client.stats.snapshot() == {"requests": 1, "retries": 0, "throttled": 0, "errors": 1}


def test_client_errors_are_not_retried(rsps, client, sleeps):
    rsps.add("POST", MESSAGES, status=409, json=envelope("Conflict", "duplicate createdDateTime"))
    with pytest.raises(ConflictError):
        client.post_json("/teams/t1/channels/c1/messages", {"body": {}})
    assert len(graph_calls(rsps)) == 1 and sleeps == []


# --- retries -------------------------------------------------------------------------------------


def test_retry_after_seconds_is_honoured_exactly(rsps, client, sleeps):
    rsps.add("GET", f"{GRAPH}/me", status=429, headers={"Retry-After": "7"}, json=envelope("TooManyRequests", "slow"))
    rsps.add("GET", f"{GRAPH}/me", json={"id": "me"})
    assert client.get_json("/me") == {"id": "me"}
    assert sleeps == [7.0]
    assert client.stats.snapshot() == {"requests": 2, "retries": 1, "throttled": 1, "errors": 0}


def test_retry_after_http_date_is_honoured(rsps, client, sleeps):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    rsps.add("GET", f"{GRAPH}/me", status=503, headers={"Retry-After": when})
    rsps.add("GET", f"{GRAPH}/me", json={})
    client.get_json("/me")
    assert len(sleeps) == 1 and 117 < sleeps[0] <= 120


def test_backoff_is_bounded_and_jittered_then_gives_up(rsps, sleeps):
    client = GraphClient(
        CONFIG, limiter=RateLimiter.unlimited(), sleep=sleeps.append, max_retries=6, backoff_base=0.5, backoff_cap=3.0
    )
    rsps.add("GET", f"{GRAPH}/me", status=504, json=envelope("GatewayTimeout", "gateway"))
    with pytest.raises(ServerError):
        client.get_json("/me")
    assert len(graph_calls(rsps)) == 7
    assert len(sleeps) == 6
    for attempt, wait in enumerate(sleeps):
        assert 0.0 <= wait <= min(3.0, 0.5 * 2**attempt)
    assert len(set(sleeps)) == 6  # jittered, not a fixed schedule


def test_throttling_that_persists_raises_throttled_error(rsps, sleeps):
    client = GraphClient(CONFIG, limiter=RateLimiter.unlimited(), sleep=sleeps.append, max_retries=2)
    rsps.add("GET", f"{GRAPH}/me", status=429, headers={"Retry-After": "1"})
    with pytest.raises(ThrottledError):
        client.get_json("/me")
    assert client.stats.snapshot() == {"requests": 3, "retries": 2, "throttled": 3, "errors": 1}


@pytest.mark.parametrize(
    "failure", [dropped(), refused(), requests.exceptions.ReadTimeout(), requests.exceptions.ChunkedEncodingError()]
)
def test_idempotent_get_is_retried_on_connection_errors(rsps, client, sleeps, failure):
    rsps.add("GET", f"{GRAPH}/me", body=failure)
    rsps.add("GET", f"{GRAPH}/me", json={"id": "me"})
    assert client.get_json("/me") == {"id": "me"}
    assert len(sleeps) == 1


def test_get_that_never_connects_raises_connection_lost_after_retries(rsps, sleeps):
    client = GraphClient(CONFIG, limiter=RateLimiter.unlimited(), sleep=sleeps.append, max_retries=3)
    rsps.add("GET", f"{GRAPH}/me", body=dropped())
    with pytest.raises(ConnectionLostError) as info:
        client.get_json("/me")
    assert len(sleeps) == 3
    assert "may or may not" not in str(info.value)  # a read has nothing to reconcile


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_is_not_resent_after_a_server_error(rsps, client, sleeps, status):
    rsps.add("POST", MESSAGES, status=status, json=envelope("InternalServerError", "oops", "rid-5xx"))
    rsps.add("POST", MESSAGES, json={"id": "m1"})
    with pytest.raises(ConnectionLostError) as info:
        client.post_json("/teams/t1/channels/c1/messages", {"body": {}})
    assert info.value.status == status and info.value.request_id == "rid-5xx"
    assert "may or may not have applied it" in str(info.value)
    assert len(graph_calls(rsps)) == 1 and sleeps == []


@pytest.mark.parametrize(
    "failure", [dropped(), requests.exceptions.ReadTimeout(), requests.exceptions.ChunkedEncodingError()]
)
def test_post_is_not_resent_after_the_connection_dropped(rsps, client, sleeps, failure):
    rsps.add("POST", MESSAGES, body=failure)
    rsps.add("POST", MESSAGES, json={"id": "m1"})
    with pytest.raises(ConnectionLostError) as info:
        client.post_json("/teams/t1/channels/c1/messages", {"body": {}})
    assert info.value.method == "POST" and info.value.path == "/v1.0/teams/t1/channels/c1/messages"
    assert len(graph_calls(rsps)) == 1 and sleeps == []


@pytest.mark.parametrize(
    "first",
    [
        {"status": 429, "headers": {"Retry-After": "2"}},
        {"status": 503},
        {"body": refused()},
        {"body": requests.exceptions.ConnectTimeout()},
    ],
)
def test_post_is_retried_when_graph_surely_did_not_apply_it(rsps, client, sleeps, first):
    rsps.add("POST", MESSAGES, **first)
    rsps.add("POST", MESSAGES, json={"id": "m1"})
    assert client.post_json("/teams/t1/channels/c1/messages", {"body": {}}) == {"id": "m1"}
    assert len(graph_calls(rsps)) == 2 and len(sleeps) == 1


@pytest.mark.parametrize(
    ("method", "override", "retried"),
    [
        ("PUT", None, True),
        ("DELETE", None, True),
        ("GET", None, True),
        ("PATCH", None, False),
        ("POST", None, False),
        ("POST", True, True),
        ("PUT", False, False),
    ],
)
def test_idempotency_follows_method_and_override(rsps, client, sleeps, method, override, retried):
    rsps.add(method, f"{GRAPH}/drives/d/items/x", status=500)
    rsps.add(method, f"{GRAPH}/drives/d/items/x", status=204)
    if retried:
        assert client.request(method, "/drives/d/items/x", idempotent=override).status_code == 204
    else:
        with pytest.raises(ConnectionLostError):
            client.request(method, "/drives/d/items/x", idempotent=override)
    assert len(sleeps) == int(retried)


def test_retries_are_logged_without_secrets(rsps, client, caplog):
    rsps.add("GET", f"{GRAPH}/teams/t1/channels?$filter=x", status=503, headers={"request-id": "rid-503"})
    rsps.add("GET", f"{GRAPH}/teams/t1/channels", json={})
    with caplog.at_level(logging.WARNING, logger="migrator.graph"):
        client.get_json("/teams/t1/channels", params={"$filter": "x"})
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert record.name == "migrator.graph"
    message = record.getMessage()
    assert "GET /v1.0/teams/t1/channels failed (503, request-id rid-503); retry 1 of 6 in" in message
    assert "$filter" not in message


# --- tokens --------------------------------------------------------------------------------------


def test_rejected_token_is_refreshed_once(rsps, client):
    rsps.add("GET", f"{GRAPH}/me", status=401, json=envelope("InvalidAuthenticationToken", "Access token has expired"))
    rsps.add("GET", f"{GRAPH}/me", json={"id": "me"})
    assert client.get_json("/me") == {"id": "me"}
    first, second = graph_calls(rsps)
    assert first.request.headers["Authorization"] == f"Bearer {TOKEN1}"
    assert second.request.headers["Authorization"] == f"Bearer {TOKEN2}"
    assert len([c for c in rsps.calls if c.request.url == token_endpoint(CONFIG)]) == 2


def test_token_rejected_twice_raises(rsps, client):
    for _ in range(2):
        rsps.add(
            "GET", f"{GRAPH}/me", status=401, json=envelope("InvalidAuthenticationToken", "Access token is invalid")
        )
    rsps.add("GET", f"{GRAPH}/me", json={})  # only an endless refresh loop would get here
    with pytest.raises(UnauthorizedError):
        client.get_json("/me")
    assert len(graph_calls(rsps)) == 2


def test_other_401_codes_do_not_refresh(rsps, client):
    rsps.add("GET", f"{GRAPH}/me", status=401, json=envelope("Unauthorized", "not allowed"))
    with pytest.raises(UnauthorizedError):
        client.get_json("/me")
    assert len(graph_calls(rsps)) == 1


# --- secrets -------------------------------------------------------------------------------------


def test_secret_and_tokens_never_leak(rsps, sleeps, caplog):
    client = GraphClient(CONFIG, limiter=RateLimiter.unlimited(), sleep=sleeps.append, max_retries=1)
    rsps.add("GET", f"{GRAPH}/me", status=401, json=envelope("InvalidAuthenticationToken", f"bad Bearer {TOKEN1}"))
    rsps.add("GET", f"{GRAPH}/me", status=429, headers={"Retry-After": "1"})
    rsps.add(
        "GET", f"{GRAPH}/me", status=500, json=envelope("InternalServerError", f"echo Authorization: Bearer {TOKEN2}")
    )
    rsps.add("POST", MESSAGES, body=dropped())
    rsps.add("GET", f"{GRAPH}/chats", body=requests.exceptions.ReadTimeout(f"read timed out Bearer {TOKEN2}"))
    errors = []
    with caplog.at_level(logging.DEBUG):
        for call in (
            lambda: client.get_json("/me"),
            lambda: client.post_json("/teams/t1/channels/c1/messages", {"x": SECRET}),
            lambda: client.get_json("/chats"),
        ):
            with pytest.raises(Exception) as info:
                call()
            errors.append(info.value)
    assert len(errors) == 3 and caplog.records
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [repr(client.config)]
    texts += [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    for text in texts:
        for secret in (SECRET, TOKEN1, TOKEN2):
            assert secret not in text


# --- rate keys, stats, threads ---------------------------------------------------------------------


class RecordingLimiter:
    def __init__(self):
        self.keys = []

    @contextmanager
    def slot(self, key):
        self.keys.append(key)
        yield


def test_rate_key_auto_explicit_and_none(rsps, sleeps):
    limiter = RecordingLimiter()
    client = GraphClient(CONFIG, limiter=limiter, sleep=sleeps.append)
    rsps.add("POST", MESSAGES, json={})
    rsps.add("PUT", f"{GRAPH}/drives/d/items/p:/f.txt:/content", json={})
    client.post_json("/teams/t1/channels/c1/messages", {})
    client.request("PUT", "/drives/d/items/p:/f.txt:/content", data=b"x", rate_key="channel:t1/c1")
    client.request("PUT", "/drives/d/items/p:/f.txt:/content", data=b"x", rate_key=None)
    client.request("PUT", "/drives/d/items/p:/f.txt:/content", data=b"x")
    assert limiter.keys == ["channel:t1/c1", "channel:t1/c1", None, None]


def test_a_post_answered_without_the_object_it_created_is_a_lost_answer(rsps, client):
    """Graph applied the POST but did not say what it made: like a lost answer, the caller must look it up."""
    rsps.add("POST", MESSAGES, status=201, body=b"", headers={"request-id": "rid-empty"})
    rsps.add("POST", MESSAGES, status=201, json=["not", "an", "object"])
    rsps.add("POST", MESSAGES, status=201, body=b"<html>gateway</html>")
    rsps.add("POST", MESSAGES, status=201, json={"body": {}})
    rsps.add("POST", MESSAGES, status=201, json={"id": "m1"})
    with pytest.raises(ConnectionLostError) as lost:
        client.post_json("/teams/t1/channels/c1/messages", {"body": {}})
    assert lost.value.status == 201 and lost.value.request_id == "rid-empty"
    assert "POST /v1.0/teams/t1/channels/c1/messages" in str(lost.value) and "look it up" in str(lost.value)
    for _ in range(2):
        with pytest.raises(ConnectionLostError, match="no JSON object"):
            client.post_json("/teams/t1/channels/c1/messages", {"body": {}})
    with pytest.raises(ConnectionLostError, match="no id"):
        client.create("/teams/t1/channels/c1/messages", {"body": {}})
    assert client.create("/teams/t1/channels/c1/messages", {"body": {}}) == "m1"


def test_from_env(rsps):
    client = GraphClient.from_env(
        {
            "MIGRATOR_TENANT_ID": "tenant-1",
            "MIGRATOR_CLIENT_ID": "client-1",
            "MIGRATOR_CLIENT_SECRET": SECRET,
            "MIGRATOR_GRAPH_URL": "https://graph.test",
            "MIGRATOR_LOGIN_URL": "https://login.test",
        },
        limiter=RateLimiter.unlimited(),
    )
    rsps.add("GET", f"{GRAPH}/me", json={"id": "me"})
    assert client.get_json("/me") == {"id": "me"}


def test_parallel_use_from_many_threads(rsps, client):
    rsps.add("GET", f"{GRAPH}/me", json={"id": "me"})
    results = []

    def work():
        for _ in range(10):
            results.append(client.get_json("/me")["id"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["me"] * 80
    assert client.stats.snapshot()["requests"] == 80
    assert len([c for c in rsps.calls if c.request.url == token_endpoint(CONFIG)]) == 1
