"""Where Slack is and which token to use: SLACK_TOKEN, MIGRATOR_SLACK_URL and MIGRATOR_SLACK_CA_BUNDLE.

One frozen object carries them to every call; the token is kept out of its repr, so the object can be logged
or shown in an error without the secret. `MIGRATOR_SLACK_URL` replaces both of Slack's hosts
(`https://slack.com` for the Web API, `https://files.slack.com` for files) with one base URL, for tests, proxies
and air-gapped mirrors; plain `http://` is accepted only for a loopback address, so a token never crosses a
network unencrypted.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from migrator.errors import InputError

API_URL = "https://slack.com"
FILES_URL = "https://files.slack.com"
TOKEN_ENV = "SLACK_TOKEN"
URL_ENV = "MIGRATOR_SLACK_URL"
CA_ENV = "MIGRATOR_SLACK_CA_BUNDLE"


class SlackConfigError(InputError):
    """SLACK_TOKEN or a MIGRATOR_SLACK_* setting is missing or unusable: exit code 2."""


@dataclass(frozen=True, kw_only=True)
class SlackConfig:
    """The token and the two base URLs (Web API, files); `ca_bundle` is a CA file to trust besides the system's."""

    token: str = field(repr=False)
    api_url: str = API_URL
    files_url: str = FILES_URL
    ca_bundle: str | None = None

    @property
    def verify(self) -> str | bool:
        """The `verify=` of every request: our CA file, or the system trust store (REQUESTS_CA_BUNDLE cannot
        override a value passed per request)."""
        return self.ca_bundle or True

    def ssl_context(self) -> ssl.SSLContext:
        """The same trust for slack_sdk, which speaks urllib and takes an SSLContext."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    @property
    def files_host(self) -> str:
        """host[:port] that file downloads go to: the only host the token is ever sent to besides the API's."""
        return urlsplit(self.files_url).netloc

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SlackConfig:
        token = environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise SlackConfigError(
                f"{TOKEN_ENV} is not set: create a Slack app with the scopes files:read, users:read and "
                f"users:read.email, install it in the workspace, and set {TOKEN_ENV} to its bot token (xoxb-…)"
            )
        ca_bundle = environ.get(CA_ENV) or None
        if ca_bundle and not Path(ca_bundle).is_file():
            raise SlackConfigError(f"{CA_ENV}: {ca_bundle} is not a file; give the CA file (PEM) to trust")
        base = environ.get(URL_ENV, "").strip().rstrip("/")
        if not base:
            return cls(token=token, ca_bundle=ca_bundle)
        _check_base(base)
        return cls(token=token, api_url=base, files_url=base, ca_bundle=ca_bundle)

    @staticmethod
    def has_token(environ: Mapping[str, str] = os.environ) -> bool:
        return bool(environ.get(TOKEN_ENV, "").strip())


def _check_base(base: str) -> None:
    """https anywhere; http only to loopback, where nothing on a network can read the token."""
    parts = urlsplit(base)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise SlackConfigError(f"{URL_ENV}={base!r} is not an http(s) URL; give e.g. https://slack-mirror.example")
    if parts.query or parts.fragment:
        raise SlackConfigError(f"{URL_ENV}={base!r} has a query or fragment; give only scheme, host and path")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise SlackConfigError(
            f"{URL_ENV}={base!r}: plain http is accepted only for a loopback address (127.0.0.1, ::1, localhost), "
            "since the token would cross the network unencrypted; use https"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
