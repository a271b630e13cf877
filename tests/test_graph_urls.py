import pytest

from migrator.graph.errors import ForeignHostError
from migrator.graph.urls import GraphUrls

urls = GraphUrls("https://graph.test", "v1.0")


@pytest.mark.parametrize(
    ("path", "version", "expected"),
    [
        ("/teams/x", None, "https://graph.test/v1.0/teams/x"),
        ("teams/x", None, "https://graph.test/v1.0/teams/x"),
        ("/teams/x/channels/getAllMessages", "beta", "https://graph.test/beta/teams/x/channels/getAllMessages"),
    ],
)
def test_build_adds_base_and_version(path, version, expected):
    assert urls.build(path, version) == expected


def test_configured_version_is_used():
    assert GraphUrls("https://graph.test", "beta").build("/me") == "https://graph.test/beta/me"


@pytest.mark.parametrize(
    "url",
    [
        "https://graph.test/v1.0/teams?$skiptoken=x",
        "https://GRAPH.test:443/v1.0/teams",  # default port and host case are the same origin
    ],
)
def test_same_origin_absolute_urls_pass(url):
    assert urls.build(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.test/v1.0/teams?$skiptoken=x",
        "http://graph.test/v1.0/teams",
        "https://graph.test:8443/v1.0/teams",
        "https://graph.test.evil.test/v1.0/teams",
    ],
)
def test_foreign_origins_are_refused(url):
    with pytest.raises(ForeignHostError):
        urls.build(url)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/teams/t1/operations/op1", "https://graph.test/v1.0/teams/t1/operations/op1"),
        ("/beta/teams/t1/operations/op1", "https://graph.test/beta/teams/t1/operations/op1"),
        ("https://graph.test/v1.0/teams/t1", "https://graph.test/v1.0/teams/t1"),
    ],
)
def test_resolve_location(location, expected):
    assert urls.resolve(location) == expected


def test_resolve_refuses_foreign_location():
    with pytest.raises(ForeignHostError):
        urls.resolve("https://evil.test/teams/t1/operations/op1")


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/teams/t1/channels/c1/messages", "channel:t1/c1"),
        ("/teams/t1/channels/c1/messages/m1/replies", "channel:t1/c1"),
        ("/teams/t1/channels/c1/completeMigration", "channel:t1/c1"),
        ("/teams/t1/channels/c1", "channel:t1/c1"),
        ("/chats/19%3Aabc%40thread.v2/messages", "chat:19:abc@thread.v2"),
        ("/chats/19:abc@thread.v2/messages", "chat:19:abc@thread.v2"),
        ("/chats/getAllMessages", None),
        ("/teams/t1/channels/getAllMessages", None),
        ("/teams/t1/channels", None),
        ("/chats", None),
        ("/users/u1/chats/getAllMessages", None),
        ("/teams/t1", None),
    ],
)
def test_rate_key(path, key):
    assert urls.rate_key(urls.build(path)) == key


def test_rate_key_under_a_base_path():
    prefixed = GraphUrls("https://graph.test/graph", "v1.0")
    assert prefixed.rate_key(prefixed.build("/chats/c1/messages")) == "chat:c1"
