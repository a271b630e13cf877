"""The HTTP session shared by the token provider and the Graph client.

requests lets REQUESTS_CA_BUNDLE (set on these machines) override
`Session.verify`, so a session-wide CA bundle is silently ignored and the
local HTTPS emulator fails certificate checks. Setting `verify` on each
request is the only reliable way; this subclass does it for callers that
do not (MSAL), and gives every request a timeout so nothing hangs forever.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class GraphSession(requests.Session):
    """A thread-safe pooled session that always sends `verify` and `timeout`."""

    def __init__(self, verify: str | bool = True, timeout: float = 60.0, pool_maxsize: int = 64) -> None:
        super().__init__()
        self.default_verify = verify
        self.default_timeout = timeout
        # Channels run in parallel threads; the default pool of 10 would make them queue.
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=pool_maxsize)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.default_verify
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, **kwargs)
