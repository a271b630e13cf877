"""App-only tokens for Graph, from a client secret or a certificate.

MSAL does the OAuth work and caches tokens (it treats one with under five
minutes left as expired, so a long migration never sends a stale token);
this wrapper points it at our login URL and CA bundle and turns its error
dicts into typed, credential-free errors.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import msal
import requests

from migrator.graph.config import GraphConfig
from migrator.graph.errors import AuthenticationError, ConfigError
from migrator.graph.redact import redact
from migrator.graph.session import GraphSession

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)
_AADSTS = re.compile(r"AADSTS\d+")
EARLY_REFRESH_S = 300  # as MSAL: a token with less left (or under half its life) is renewed first


class TokenProvider:
    """Thread-safe source of bearer tokens for one app registration.

    Network failures reaching the login host surface as requests exceptions,
    so the Graph client can retry them like any other unsent request.
    """

    def __init__(self, config: GraphConfig, session: requests.Session | None = None) -> None:
        self._config = config
        # A plain requests.Session would let REQUESTS_CA_BUNDLE override our CA bundle,
        # so only a GraphSession is shared; otherwise sign-in gets its own.
        self._session = session if isinstance(session, GraphSession) else GraphSession(config.verify)
        self._scopes = [f"{config.graph_url}/.default"]
        self._lock = threading.Lock()
        self._app: msal.ConfidentialClientApplication | None = None
        self._cached: tuple[str, float] = ("", 0.0)  # token, monotonic time to ask MSAL again

    def token(self, force_refresh: bool = False) -> str:
        """A valid access token; `force_refresh` drops the cached one first.

        The token is kept here until well before it expires: asking MSAL's cache on every request costs
        about 0.2 ms under a lock that every channel's thread would queue on."""
        token, until = self._cached
        if token and not force_refresh and time.monotonic() < until:
            return token
        with self._lock:
            if force_refresh:
                self._forget()
            return self._acquire()

    def refresh(self, rejected: str) -> str:
        """Replace a token Graph rejected, once, however many threads saw the rejection."""
        with self._lock:
            current = self._acquire()
            if current != rejected:
                return current
            self._forget()
            return self._acquire()

    def _forget(self) -> None:
        self._cached = ("", 0.0)
        self._application().remove_tokens_for_client()

    def _application(self) -> msal.ConfidentialClientApplication:
        # Built lazily: MSAL fetches the authority's metadata when constructed,
        # and creating a client should not need the network.
        if self._app is None:
            self._app = _build_application(self._config, self._session)
        return self._app

    def _acquire(self) -> str:
        token, until = self._cached
        if token and time.monotonic() < until:
            return token
        result = self._application().acquire_token_for_client(scopes=self._scopes)
        token = result.get("access_token")  # MSAL answers a dict, with the token or with the error
        if not isinstance(token, str):
            raise self._error(result)
        lifetime = float(result.get("expires_in") or 0)
        self._cached = (token, time.monotonic() + lifetime - min(EARLY_REFRESH_S, lifetime / 2))
        return token

    def _error(self, result: dict[str, Any]) -> AuthenticationError:
        secrets = (self._config.client_secret, self._config.client_cert_password)
        description = " ".join(str(result.get("error_description") or "").split())
        error = str(result.get("error") or "token request failed")
        match = _AADSTS.search(description)
        codes = result.get("error_codes") or []
        code = match.group(0) if match else (f"AADSTS{codes[0]}" if codes else error)
        message = f"{error}: {description}" if description else error
        return AuthenticationError(
            redact(message, secrets),
            code=code,
            url=f"{self._config.login_url}/{self._config.tenant_id}",
        )


def _build_application(config: GraphConfig, session: GraphSession) -> msal.ConfidentialClientApplication:
    options: dict[str, Any] = {}
    if not config.uses_default_login:
        # Our emulator is not a known Microsoft cloud: skip authority validation
        # and instance discovery, which would otherwise call Microsoft.
        options = {"validate_authority": False, "instance_discovery": False}
    try:
        return msal.ConfidentialClientApplication(
            config.client_id,
            client_credential=_credential(config),
            authority=f"{config.login_url}/{config.tenant_id}",
            http_client=session,
            **options,
        )
    except ValueError as exc:
        # A wrong tenant/login URL or an unusable key: both are fixed in the settings.
        secrets = (config.client_secret, config.client_cert_password)
        raise ConfigError(f"Cannot sign in as app {config.client_id}: {redact(str(exc), secrets)}") from None


def _credential(config: GraphConfig) -> str | dict[str, str]:
    if config.client_cert:
        return _certificate_credential(Path(config.client_cert), config.client_cert_password)
    if config.client_secret:
        return config.client_secret
    raise ConfigError("No app credential: set a client secret or a client certificate.")


def _certificate_credential(path: Path, password: str | None) -> dict[str, str]:
    """MSAL wants the key and the certificate apart; the certificate makes it send x5t#S256."""
    blocks = [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(path.read_text())]
    keys = [(label, pem) for label, pem in blocks if label.endswith("PRIVATE KEY")]
    certificates = [pem for label, pem in blocks if label == "CERTIFICATE"]
    if not keys or not certificates:
        raise ConfigError(f"{path} must hold the app's private key and its certificate, both in PEM format.")
    label, key = keys[0]
    if label.startswith("ENCRYPTED") and not password:
        raise ConfigError(f"The private key in {path} is encrypted; set MIGRATOR_CLIENT_CERT_PASSWORD.")
    credential = {"private_key": key, "public_certificate": "\n".join(certificates)}
    if password:
        credential["passphrase"] = password
    return credential
