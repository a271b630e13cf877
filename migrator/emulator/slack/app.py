"""The Slack emulator as an ASGI application: Web API methods, file downloads, operator endpoints.

Order of a call, as for the Graph emulator: count it, add latency, maybe inject
a fault, throttle, authenticate, answer. Slack's own ways are kept where a
client can get them wrong: Web API errors are HTTP 200 with `"ok": false`; a
429 carries `Retry-After`; a file asked for without a valid token (or one
without `files:read`) gets 200 and the HTML sign-in page, not an error; a file
the token's bot cannot see is 403; a deleted one is 404. A `drop` fault on a
download sends half the file and hangs up.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

from migrator.emulator.asgi import Receive, Scope, Send, close_without_answer, read_body
from migrator.emulator.faults import Faults, FaultSpecError
from migrator.emulator.slack.workspace import HostedFile, Token, Workspace
from migrator.emulator.throttle import Limit, SlidingWindows
from migrator.slack.links import file_path_ids

CHUNK = 1 << 18
MAX_PAGE = 1000
SIGN_IN_PAGE = (
    b'<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8"><title>Slack</title></head>'
    b'<body><h1>Sign in to your workspace</h1><form action="/signin" method="post">'
    b'<input type="email" name="email"><input type="password" name="password">'
    b'<button type="submit">Sign in</button></form></body></html>'
)
_RECORDS = ("auth.test", "users.list", "files", "other")


@dataclass
class SlackLimits:
    """The emulator's rates (configurable): file downloads per second, and users.list per minute (Tier 2)."""

    files_rps: float = 50.0
    users_per_minute: float = 20.0


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    file: HostedFile | None = None  # stream this file's bytes instead of `body`


@dataclass
class _Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    body: bytes

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else None


class SlackEmulatorApp:
    def __init__(self, workspace: Workspace, faults: Faults, limits: SlackLimits) -> None:
        self.workspace = workspace
        self.faults = faults
        self.limits = limits
        self.signin: set[str] = set()  # files answered with the sign-in page whatever the token (lost access)
        self.windows = SlidingWindows()
        self.counts: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        form = _form(body) if headers.get("content-type", "").startswith("application/x-www-form-urlencoded") else {}
        call = _Call(scope["method"], scope["path"], _form(scope.get("query_string", b"")), headers, form, body)
        if call.path.startswith("/_emulator/"):
            await _send(send, self._operator(call, call.path.removeprefix("/_emulator/")))
            return
        fault = await self._count_and_draw(call)
        if fault == "drop" and file_path_ids(call.path) is None:
            close_without_answer(send)
            return
        answer = self._fault(fault) or self._answer(call)
        await _send(send, answer, drop=fault == "drop")
        if answer.file is not None:
            self.counts["bytes"] += answer.file.path.stat().st_size if answer.file.path else 0

    async def _count_and_draw(self, call: _Call) -> str | None:
        kind = _kind(call.path)
        self.counts[kind] += 1
        if "t" in call.query:
            self.counts["query_tokens"] += 1  # a client that sends the export's ?t= token: the fetch never may
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        fault = self.faults.draw()
        if fault:
            self.injected[fault] += 1
        return fault

    def _fault(self, fault: str | None) -> Answer | None:
        if fault is None or fault == "drop":
            return None
        if fault == "429":
            self.counts["throttled"] += 1
            return _json({"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"})
        return Answer(status=int(fault), body=b"injected fault", content_type="text/plain")

    def _answer(self, call: _Call) -> Answer:
        if call.path in ("/api/auth.test", "/api/auth.test/"):
            return self._auth_test(call)
        if call.path in ("/api/users.list", "/api/users.list/"):
            return self._users_list(call)
        ids = file_path_ids(call.path)
        if ids is not None and call.method in ("GET", "HEAD"):
            return self._download(call, ids[1])
        if call.path.startswith("/api/"):
            return _json({"ok": False, "error": "unknown_method"}, status=404)
        return Answer(status=404, body=b"Not found", content_type="text/plain")

    # --- Web API ------------------------------------------------------------------

    def _api_token(self, call: _Call) -> tuple[Token | None, str | None]:
        value = call.bearer or call.form.get("token") or call.query.get("token")
        if not value:
            return None, "not_authed"
        token = self.workspace.token(value)
        return (token, None) if token else (None, "invalid_auth")

    def _auth_test(self, call: _Call) -> Answer:
        token, error = self._api_token(call)
        if token is None:
            return _json({"ok": False, "error": error})
        foreign = token.team is not None
        return _json(
            {
                "ok": True,
                "url": f"https://{'other' if foreign else self.workspace.domain}.slack.com/",
                "team": "Another workspace" if foreign else self.workspace.team_name,
                "user": "migrator",
                "team_id": self.workspace.team_of(token),
                "user_id": "U0MIGRATOR",
                "bot_id": "B0MIGRATOR",
                "is_enterprise_install": False,
            },
            headers={"x-oauth-scopes": ",".join(token.scopes)},
        )

    def _users_list(self, call: _Call) -> Answer:
        token, error = self._api_token(call)
        if token is None:
            return _json({"ok": False, "error": error})
        if "users:read" not in token.scopes:
            return _json({"ok": False, "error": "missing_scope", "needed": "users:read"})
        wait = self.windows.admit(time.monotonic(), [(Limit("tier2", self.limits.users_per_minute, 60.0), "users")])
        if wait > 0:
            self.counts["throttled"] += 1
            return _json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(math.ceil(wait))})
        params = {**call.query, **call.form}
        users = self.workspace.users if token.team is None else []
        try:
            start = (
                int(base64.b64decode(params["cursor"]).decode().removeprefix("users:")) if params.get("cursor") else 0
            )
            limit = int(params.get("limit") or 0) or MAX_PAGE
        except ValueError:
            return _json({"ok": False, "error": "invalid_cursor"})
        page = users[start : start + min(limit, MAX_PAGE)]
        if "users:read.email" not in token.scopes:
            page = [_without_email(user) for user in page]
        following = start + len(page)
        cursor = base64.b64encode(f"users:{following}".encode()).decode() if following < len(users) else ""
        return _json(
            {"ok": True, "members": page, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": cursor}}
        )

    # --- files --------------------------------------------------------------------

    def _download(self, call: _Call, file_id: str) -> Answer:
        wait = self.windows.admit(time.monotonic(), [(Limit("files", self.limits.files_rps), "files")])
        if wait > 0:
            self.counts["throttled"] += 1
            return Answer(429, b"rate limited", {"Retry-After": str(math.ceil(wait))}, "text/plain")
        token = self.workspace.token(call.bearer)
        readable = token is not None and self.workspace.team_of(token) == self.workspace.team_id
        if not readable or token is None or "files:read" not in token.scopes or file_id in self.signin:
            self.counts["signin_pages"] += 1
            return Answer(body=SIGN_IN_PAGE, content_type="text/html; charset=utf-8")
        hosted = self.workspace.files.get(file_id)
        if hosted is None or hosted.path is None or hosted.mode in ("tombstone", "hidden_by_limit", "external"):
            return Answer(404, b"File not found", content_type="text/plain")
        if token.public_only and not hosted.public:
            return Answer(403, b"Forbidden", content_type="text/plain")
        return Answer(content_type=hosted.mimetype or "application/octet-stream", file=hosted)

    # --- operator -----------------------------------------------------------------

    def _operator(self, call: _Call, name: str) -> Answer:
        """Outside Slack's namespace, no token: loopback only. Faults, rates and counters for tests."""
        payload = orjson.loads(call.body) if call.method == "POST" and call.body else {}
        if name == "stats":
            return _json(
                {
                    **{
                        k: self.counts.get(k, 0)
                        for k in (*_RECORDS, "throttled", "query_tokens", "signin_pages", "bytes")
                    },
                    "faults": dict(self.injected),
                }
            )
        if name == "faults":
            if call.method == "POST":
                try:
                    self.faults = Faults.parse(str(payload.get("spec", "")), seed=payload.get("seed"))
                except FaultSpecError as error:
                    return _json({"error": str(error)}, status=400)
            return _json({"spec": self.faults.spec(), "injected": dict(self.injected)})
        if name == "config":
            for key, value in payload.items():
                if key == "signin":
                    self.signin = {str(v) for v in value}
                elif hasattr(self.limits, key):
                    setattr(self.limits, key, float(value))
                else:
                    return _json({"error": f"unknown setting {key!r}"}, status=400)
            return _json({**asdict(self.limits), "signin": sorted(self.signin)})
        if name == "reset" and call.method == "POST":
            self.counts.clear()
            self.injected.clear()
            self.windows.reset()
            return Answer(status=204)
        return _json({"error": f"no operator endpoint {call.method} /_emulator/{name}"}, status=404)


def _kind(path: str) -> str:
    """Which counter a call goes to."""
    if path.startswith("/api/"):
        method = path.removeprefix("/api/").strip("/")
        return method if method in _RECORDS else "other"
    return "files" if file_path_ids(path) else "other"


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(raw.decode("latin-1"), keep_blank_values=True).items()}


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status=status, body=orjson.dumps(body), headers=headers or {})


def _without_email(user: dict[str, Any]) -> dict[str, Any]:
    """users.list without users:read.email: the profile has no address."""
    profile = user.get("profile")
    if not isinstance(profile, dict) or "email" not in profile:
        return user
    return {**user, "profile": {k: v for k, v in profile.items() if k != "email"}}


async def _send(send: Send, answer: Answer, *, drop: bool = False) -> None:
    """The answer; a file is streamed from disk a chunk at a time, and with `drop` only its first half is sent."""
    size = answer.file.path.stat().st_size if answer.file is not None and answer.file.path else len(answer.body)
    headers = [(b"content-length", str(size).encode()), (b"content-type", answer.content_type.encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    if answer.file is None or answer.file.path is None:
        await send({"type": "http.response.body", "body": answer.body})
        return
    left = size // 2 if drop else size
    with answer.file.path.open("rb") as source:
        while left > 0:
            chunk = source.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": left > 0 or drop})
    if drop:
        close_without_answer(send)
