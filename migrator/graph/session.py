"""The HTTP session shared by the token provider and the Graph client.

requests lets REQUESTS_CA_BUNDLE (set on these machines) override
`Session.verify`, so a session-wide CA bundle is silently ignored and the
local HTTPS emulator fails certificate checks. Setting `verify` on each
request is the only reliable way; this subclass does it for callers that
do not (MSAL), and gives every request a timeout so nothing hangs forever.

The Graph client's own calls go through `send`, which skips the work
`Session.request` repeats on every call although nothing changes during a
run: merging the session's defaults through typing-Protocol isinstance
checks and reading the proxy environment again (together about 0.4 ms of
CPU per request, a tenth of what the client spends on one at 250
requests/s). The environment's proxies are read once per scheme and host.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest


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

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """`Session.request` with `verify` and `timeout` filled in when no keyword gives them (MSAL, through
        requests' own `get` and `post`, passes every option by keyword)."""
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.default_verify
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class ProxyCache:
    """The environment's proxies (HTTPS_PROXY, NO_PROXY…) per scheme and host, read once per run."""

    def __init__(self) -> None:
        self._proxies: dict[tuple[str, str], MutableMapping[str, str]] = {}
        self._lock = threading.Lock()

    def get(self, session: requests.Session, url: str) -> MutableMapping[str, str]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        with self._lock:
            if key not in self._proxies:
                self._proxies[key] = session.merge_environment_settings(url, {}, False, None, None)["proxies"]
            return self._proxies[key]


def send(
    session: requests.Session,
    proxies: ProxyCache,
    method: str,
    url: str,
    headers: Mapping[str, str],
    verify: str | bool,
    timeout: float,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    data: Any = None,
) -> requests.Response:
    """One request as `Session.request` would send it (session headers under the call's, environment proxies,
    redirects followed), without its per-call merging; Graph calls carry no cookies or auth objects."""
    prepared = PreparedRequest()
    prepared.prepare(
        method=method, url=url, headers={**session.headers, **headers}, params=params, json=json, data=data
    )
    return session.send(
        prepared,
        verify=verify,
        timeout=timeout,
        proxies=proxies.get(session, url),
        stream=False,
        cert=None,
        allow_redirects=True,
    )
