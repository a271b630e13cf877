"""The HTTP session shared by the token provider and the Graph client.

requests lets REQUESTS_CA_BUNDLE (set on these machines) override
`Session.verify`, so a session-wide CA bundle is silently ignored and the
local HTTPS emulator fails certificate checks. Setting `verify` on each
request is the only reliable way; this subclass does it for callers that
do not (MSAL), and gives every request a timeout so nothing hangs forever.

requests also looks the proxy environment up again for every request (about
0.15 ms: it walks the whole of os.environ), which was a sixth of the
exporter's CPU; the session keeps the answer per scheme and host instead,
since the environment does not change during a run.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies


class GraphSession(requests.Session):
    """A thread-safe pooled session that always sends `verify` and `timeout`."""

    def __init__(self, verify: str | bool = True, timeout: float = 60.0, pool_maxsize: int = 64) -> None:
        super().__init__()
        self.default_verify = verify
        self.default_timeout = timeout
        self._proxy_cache: dict[tuple[str, str, str | None], dict[str, str]] = {}
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

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        """requests' own merge (explicit arguments win over the environment, the environment over the
        session), with the proxy environment looked up once per scheme, host and NO_PROXY override."""
        if self.trust_env:
            if proxies is not None:
                for scheme, proxy in self._environ_proxies(url, proxies.get("no_proxy")).items():
                    proxies.setdefault(scheme, proxy)
            if verify is True or verify is None:
                verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }

    def _environ_proxies(self, url: str, no_proxy: str | None) -> dict[str, str]:
        """HTTPS_PROXY/NO_PROXY's answer for this URL's host (a dict per key; threads may race to fill it,
        which only costs a second lookup)."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, no_proxy)
        found = self._proxy_cache.get(key)
        if found is None:
            found = self._proxy_cache[key] = get_environ_proxies(url, no_proxy=no_proxy)
        return found
