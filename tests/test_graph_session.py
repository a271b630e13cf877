"""GraphSession keeps requests' environment handling (proxies, NO_PROXY, CA bundle) while looking the
proxy environment up once per host instead of on every request."""

import pytest
import requests
import responses

from migrator.graph import session as session_module
from migrator.graph.session import GraphSession

CA = "/tmp/emulator-ca.pem"
PROXY = "http://proxy.example:3128"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add("GET", "https://graph.test/v1.0/me", json={})
        mock.add("GET", "https://local.test/v1.0/me", json={})
        yield mock


@pytest.fixture
def lookups(monkeypatch):
    """The URLs the session asked the environment about."""
    asked = []

    def counting(url, no_proxy=None):
        asked.append(url)
        return requests.utils.get_environ_proxies(url, no_proxy=no_proxy)

    monkeypatch.setattr(session_module, "get_environ_proxies", counting)
    return asked


def test_https_proxy_reaches_the_adapter_and_no_proxy_is_honoured(rsps, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "local.test")
    with GraphSession(CA) as session:
        session.get("https://graph.test/v1.0/me")
        session.get("https://local.test/v1.0/me")
    proxied, direct = (call.request.req_kwargs["proxies"] for call in rsps.calls)
    assert proxied.get("https") == PROXY
    assert "https" not in direct


def test_the_environment_is_looked_up_once_per_host(rsps, lookups, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    with GraphSession(CA) as session:
        for _ in range(3):
            session.get("https://graph.test/v1.0/me")
        session.get("https://local.test/v1.0/me")
    assert [url.split("/")[2] for url in lookups] == ["graph.test", "local.test"]
    assert all(call.request.req_kwargs["proxies"].get("https") == PROXY for call in rsps.calls)


def test_explicit_verify_wins_over_requests_ca_bundle(rsps, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    with GraphSession(CA) as session:
        session.get("https://graph.test/v1.0/me")
        session.get("https://graph.test/v1.0/me", verify="/other/ca.pem")
    assert [call.request.req_kwargs["verify"] for call in rsps.calls] == [CA, "/other/ca.pem"]


@pytest.mark.parametrize("proxies", [{}, {"https": "http://explicit:1"}, {"no_proxy": "graph.test"}])
@pytest.mark.parametrize("verify", [True, None, False, CA])
def test_settings_are_those_requests_itself_would_merge(monkeypatch, proxies, verify):
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    url = "https://graph.test/v1.0/me"
    ours = GraphSession(CA).merge_environment_settings(url, dict(proxies), None, verify, None)
    theirs = requests.Session().merge_environment_settings(url, dict(proxies), None, verify, None)
    assert ours == theirs
