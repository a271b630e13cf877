"""`MIGRATOR_TRACE=FILE`: every Graph exchange appended to FILE as one JSON line, holding its shape, never content.

A trace is how a real tenant's answers are brought back to the emulator (issue #20): it keeps what Graph's rules
depend on and is not content (the method, the path with ids replaced by placeholders, the status, the headers that
matter, timestamps, enum values, `@odata.type`s, `contentType`s, sizes) and replaces every other string by its kind
and length. So no token, secret, message text, name or address is ever written: strings are kept only under the
keys listed in `VERBATIM`, whose values are Graph's vocabulary.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

TRACE_VARIABLE = "MIGRATOR_TRACE"
HEADERS = ("Location", "Content-Location", "Retry-After", "Content-Type")
# Keys whose string values are Graph's vocabulary (enums, types, codes), never a customer's content.
VERBATIM = frozenset(
    {
        "@odata.type",
        "@microsoft.graph.teamCreationMode",
        "@microsoft.graph.conflictBehavior",
        "@microsoft.graph.temporaryId",
        "contentType",
        "chatType",
        "membershipType",
        "messageType",
        "migrationMode",
        "userIdentityType",
        "status",
        "code",
        "roles",
        "reactionType",
        "importance",
        "model",
        "$top",
    }
)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
# The segment after each of these names an object: replaced by the placeholder.
COLLECTIONS = {
    "teams": "team",
    "channels": "channel",
    "messages": "message",
    "replies": "reply",
    "chats": "chat",
    "users": "user",
    "groups": "group",
    "operations": "op",
    "drives": "drive",
    "items": "item",
    "hostedContents": "hc",
    "shares": "share",
    "members": "member",
}
ACTIONS = frozenset({"getAllMessages", "allMessages", "add", "delta"})  # segments after a collection that are verbs


def template(url: str) -> str:
    """The path of a Graph URL with every id a placeholder and a file name `{name}`; the query is dropped."""
    path = urlsplit(url).path
    path = re.sub(r":/[^/:]+:", ":/{name}:", path)
    path = re.sub(r"(\w+)\('[^']*'\)", lambda m: f"{m.group(1)}({{{COLLECTIONS.get(m.group(1), 'id')}}})", path)
    segments = path.split("/")
    for index in range(1, len(segments)):
        name = COLLECTIONS.get(segments[index - 1])
        if name and segments[index] not in ACTIONS and not segments[index].startswith("getAllMessages"):
            segments[index] = f"{{{name}}}" + (":" if segments[index].endswith(":") else "")  # items/{item}:/…
    return "/".join(segments)


def shape(value: Any, key: str = "") -> Any:
    """The value with every string not under a `VERBATIM` key (and not a timestamp) replaced by `str:LENGTH`."""
    if isinstance(value, Mapping):
        return {str(k): shape(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(item, key) for item in value]
    if isinstance(value, str):
        if key in VERBATIM or TIMESTAMP.match(value):
            return value
        if key == "id" or key.endswith("Id"):
            return "{id}"
        return f"{'url' if value.startswith('https://') else 'str'}:{len(value)}"
    return value  # numbers (sizes, counts), booleans, null


def _body(json_body: Any, data: Any, content: bytes | None, content_type: str) -> Any:
    if json_body is not None:
        return shape(json_body)
    if content is not None and "json" in content_type and content:
        try:
            return shape(orjson.loads(content))
        except orjson.JSONDecodeError:
            return {"bytes": len(content)}
    raw = content if content is not None else data
    return {"bytes": len(raw)} if isinstance(raw, bytes | str) else None


class Trace:
    """Appends exchanges to one file; shared by a client's worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Trace | None:
        named = environ.get(TRACE_VARIABLE, "").strip()
        return cls(Path(named)) if named else None

    def record(self, method: str, url: str, request: Mapping[str, Any], resp: requests.Response) -> None:
        params = request.get("params") or {}
        line = {
            "method": method,
            "path": template(url),
            "query": shape({k: v for k, v in params.items()}),
            "status": resp.status_code,
            "headers": {
                name: template(resp.headers[name]) if "Location" in name else resp.headers[name]
                for name in HEADERS
                if name in resp.headers
            },
            "request": _body(request.get("json"), request.get("data"), None, ""),
            "response": _body(None, None, resp.content, resp.headers.get("Content-Type", "")),
        }
        encoded = orjson.dumps(line) + b"\n"
        with self._lock, self.path.open("ab") as out:
            out.write(encoded)
