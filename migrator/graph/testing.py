"""Fake sign-in for tests that mock HTTP with `responses`.

Any test that builds a GraphClient needs MSAL's two login calls answered;
keeping the fake here means every such test answers them the same way as
our emulator does. Takes the mock as an argument so production code never
imports the test-only `responses` package.
"""

from __future__ import annotations

from typing import Any

from migrator.graph.config import GraphConfig


def token_endpoint(config: GraphConfig) -> str:
    return f"{config.login_url}/{config.tenant_id}/oauth2/v2.0/token"


def mock_login(rsps: Any, config: GraphConfig, tokens: tuple[str, ...] = ("token-1",)) -> None:
    """Answer MSAL's metadata GET, then its token POSTs with `tokens` in turn (the last repeats)."""
    authority = f"{config.login_url}/{config.tenant_id}"
    rsps.add(
        "GET",
        f"{authority}/v2.0/.well-known/openid-configuration",
        json={
            "issuer": f"{authority}/v2.0",
            "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
            "token_endpoint": token_endpoint(config),
        },
    )
    for token in tokens:
        rsps.add(
            "POST",
            token_endpoint(config),
            json={"token_type": "Bearer", "expires_in": 3599, "access_token": token},
        )
