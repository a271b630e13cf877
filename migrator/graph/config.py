"""Where the Graph client connects and with which app credentials.

One frozen object is handed to the token provider and the client so that
both always agree on URLs, tenant and TLS trust; its repr is safe to log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.graph.errors import ConfigError

DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"
APPS_ENV = "MIGRATOR_APPS"  # a YAML file listing several app registrations (apps_from_env)

# Environment variable -> what a consultant should put there.
_REQUIRED_ENV = {
    "MIGRATOR_TENANT_ID": "the Entra ID tenant (directory) id",
    "MIGRATOR_CLIENT_ID": "the application (client) id of the app registration",
}
_CREDENTIAL_HINT = (
    "MIGRATOR_CLIENT_SECRET or MIGRATOR_CLIENT_CERT "
    "(the app's client secret, or the path to a PEM file holding its private key and certificate)"
)


@dataclass(frozen=True, kw_only=True)
class GraphConfig:
    """Connection settings; secrets are kept out of repr so the object can be logged."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    client_cert: str | None = None
    client_cert_password: str | None = field(default=None, repr=False)
    graph_url: str = DEFAULT_GRAPH_URL
    login_url: str = DEFAULT_LOGIN_URL
    ca_bundle: str | None = None
    api_version: str = "v1.0"

    def __post_init__(self) -> None:
        # A trailing slash would produce '//' in every URL and break origin checks.
        object.__setattr__(self, "graph_url", self.graph_url.rstrip("/"))
        object.__setattr__(self, "login_url", self.login_url.rstrip("/"))

    @property
    def verify(self) -> str | bool:
        """The `verify=` value for requests: our CA bundle, or the system trust store."""
        return self.ca_bundle or True

    @property
    def uses_default_login(self) -> bool:
        return self.login_url == DEFAULT_LOGIN_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> GraphConfig:
        """Build from MIGRATOR_* variables, naming every missing one at once (with MIGRATOR_APPS and no
        MIGRATOR_CLIENT_ID: its first app)."""
        env = _non_empty(environ)
        if APPS_ENV in env and "MIGRATOR_CLIENT_ID" not in env:
            return apps_from_env(environ)[0]
        _check_required(env)
        cert = env.get("MIGRATOR_CLIENT_CERT")
        ca_bundle = env.get("MIGRATOR_CA_BUNDLE")
        _check_file(cert, "MIGRATOR_CLIENT_CERT")
        _check_file(ca_bundle, "MIGRATOR_CA_BUNDLE")
        return cls(
            tenant_id=env["MIGRATOR_TENANT_ID"],
            client_id=env["MIGRATOR_CLIENT_ID"],
            client_secret=env.get("MIGRATOR_CLIENT_SECRET"),
            client_cert=cert,
            client_cert_password=env.get("MIGRATOR_CLIENT_CERT_PASSWORD"),
            graph_url=env.get("MIGRATOR_GRAPH_URL", DEFAULT_GRAPH_URL),
            login_url=env.get("MIGRATOR_LOGIN_URL", DEFAULT_LOGIN_URL),
            ca_bundle=ca_bundle,
        )

    @staticmethod
    def has_credentials(environ: Mapping[str, str] = os.environ) -> bool:
        """Whether from_env would find a tenant, a client id and a secret or certificate."""
        env = _non_empty(environ)
        if APPS_ENV in env and "MIGRATOR_TENANT_ID" in env:
            return True
        has_secret = "MIGRATOR_CLIENT_SECRET" in env or "MIGRATOR_CLIENT_CERT" in env
        return has_secret and all(name in env for name in _REQUIRED_ENV)


def apps_from_env(environ: Mapping[str, str] = os.environ) -> list[GraphConfig]:
    """Every app registration the migration may use: those of the MIGRATOR_APPS file, or the one of the
    MIGRATOR_CLIENT_* variables. Tenant, URLs and CA come from the other MIGRATOR_* variables either way.

    The file is a YAML list; each item has `client_id` and either `client_secret` or `client_cert` (a PEM file,
    relative to the file's folder; `client_cert_password` if its key has one). Graph lets only one app work in an
    import session, so load gives each team and chat to one of them (migrator.workqueue).
    """
    env = _non_empty(environ)
    if APPS_ENV not in env:
        return [GraphConfig.from_env(environ)]
    if "MIGRATOR_TENANT_ID" not in env:
        raise ConfigError(
            f"{APPS_ENV} names the apps; set MIGRATOR_TENANT_ID ({_REQUIRED_ENV['MIGRATOR_TENANT_ID']}) too."
        )
    path = Path(env[APPS_ENV])
    apps = [_app(path, index, item, env) for index, item in enumerate(_read_apps(path), start=1)]
    ids = [app.client_id for app in apps]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: an app is listed twice; give each client_id once")
    return apps


def _read_apps(path: Path) -> list[Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        items = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{APPS_ENV} points to {str(path)!r}, which cannot be read ({error.strerror}).") from None
    except YAMLError as error:
        raise ConfigError(f"{path}: not YAML ({type(error).__name__}); see README, Large migrations") from None
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{path}: give a YAML list of apps, each with client_id and client_secret or client_cert")
    return items


def _app(path: Path, index: int, item: Any, env: Mapping[str, str]) -> GraphConfig:
    """One item of the apps file; errors name the file and the item, never a secret."""
    where = f"{path}: app {index}"
    if not isinstance(item, dict) or not isinstance(item.get("client_id"), str):
        raise ConfigError(f"{where}: give client_id and client_secret or client_cert")
    secret, cert = item.get("client_secret"), item.get("client_cert")
    if (secret is None) == (cert is None):
        raise ConfigError(f"{where} ({item['client_id']}): give exactly one of client_secret and client_cert")
    if cert is not None:
        cert = str(path.parent / str(cert))
        _check_file(cert, f"{where}'s client_cert")
    return GraphConfig(
        tenant_id=env["MIGRATOR_TENANT_ID"],
        client_id=item["client_id"],
        client_secret=None if secret is None else str(secret),
        client_cert=cert,
        client_cert_password=item.get("client_cert_password"),
        graph_url=env.get("MIGRATOR_GRAPH_URL", DEFAULT_GRAPH_URL),
        login_url=env.get("MIGRATOR_LOGIN_URL", DEFAULT_LOGIN_URL),
        ca_bundle=env.get("MIGRATOR_CA_BUNDLE"),
    )


def _non_empty(environ: Mapping[str, str]) -> dict[str, str]:
    """An exported-but-empty variable is a common shell mistake; treat it as unset."""
    return {k: v.strip() for k, v in environ.items() if k.startswith("MIGRATOR_") and v.strip()}


def _check_required(env: Mapping[str, str]) -> None:
    problems = [f"{name} ({hint})" for name, hint in _REQUIRED_ENV.items() if name not in env]
    has_secret = "MIGRATOR_CLIENT_SECRET" in env
    has_cert = "MIGRATOR_CLIENT_CERT" in env
    if not (has_secret or has_cert):
        problems.append(_CREDENTIAL_HINT)
    if problems:
        raise ConfigError("Microsoft Graph is not configured; set " + "; ".join(problems) + ".")
    if has_secret and has_cert:
        # Silently preferring one would leave the consultant unsure which app identity ran.
        raise ConfigError("Set only one of MIGRATOR_CLIENT_SECRET and MIGRATOR_CLIENT_CERT, not both.")


def _check_file(path: str | None, variable: str) -> None:
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"{variable} points to {path!r}, which is not a readable file.")
