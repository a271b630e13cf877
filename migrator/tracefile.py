"""Reading a trace file (`MIGRATOR_TRACE`, or one written by hand under tests/traces/) for a replay.

A trace is JSON lines (migrator/graph/trace.py writes them): an exchange per line (`method`, `path`, `status`, and
optionally `app`, `at`, `query`, `request_headers`, `request`, `headers`, `response`), an app's roles in a line of
their own (`{"app": "{app:1}", "roles": [...]}`), and, in a hand-written trace, comment lines starting with `#`
(where its source is named) and blank lines. A line that is none of these is an error naming the file and line.

A recorded exchange always has `headers` and `response`. A hand-written one may leave either out, and then that part
of the answer is not compared; with `"partial": true`, keys of the answer its `response` does not list are not
compared either (a source documents the fields that matter, not every field a tenant sends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from migrator.errors import InputError

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
DEFAULT_APP = "{app:1}"


class TraceFileError(InputError):
    """A trace that cannot be replayed: exit 2, naming the file and the line."""


@dataclass(frozen=True)
class Exchange:
    """One recorded request and its answer."""

    line: int
    method: str
    path: str
    status: int
    app: str = DEFAULT_APP
    at: float | None = None
    query: dict[str, str] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    request: dict[str, Any] | None = None
    headers: dict[str, str] | None = field(default_factory=dict)  # None: not compared
    response: dict[str, Any] | None = None
    checks_body: bool = True
    partial: bool = False


@dataclass
class TraceFile:
    path: Path
    exchanges: list[Exchange]
    roles: dict[str, list[str]]  # app placeholder → the roles its token held


def read_trace(path: Path) -> TraceFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TraceFileError(f"{path}: cannot read the trace: {error}") from None
    trace = TraceFile(path, [], {})
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise TraceFileError(f"{where}: not JSON ({error}); each line is one exchange or a # comment") from None
        if not isinstance(entry, dict):
            raise TraceFileError(f"{where}: expected a JSON object, found {type(entry).__name__}")
        if "method" in entry:
            trace.exchanges.append(_exchange(entry, number, where))
        elif isinstance(entry.get("app"), str) and _strings(entry.get("roles")):
            trace.roles[entry["app"]] = list(entry["roles"])
        else:
            raise TraceFileError(f"{where}: neither an exchange (method, path, status) nor an app's roles")
    if not trace.exchanges:
        raise TraceFileError(f"{path}: the trace holds no exchange")
    return trace


def _exchange(entry: dict[str, Any], number: int, where: str) -> Exchange:
    method, path, status = entry.get("method"), entry.get("path"), entry.get("status")
    if method not in METHODS:
        raise TraceFileError(f"{where}: method {method!r} is not one of {', '.join(sorted(METHODS))}")
    if not isinstance(path, str) or not path.startswith(("/", "{")):
        raise TraceFileError(f"{where}: path must be a string starting with / (or a {{url:N}} placeholder)")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise TraceFileError(f"{where}: status must be an HTTP status (100-599), found {status!r}")
    for name in ("query", "request_headers", "headers"):
        value = entry.get(name) or {}
        if not isinstance(value, dict) or not _strings(list(value.values())):
            raise TraceFileError(f"{where}: {name} must be an object of strings")
    for name in ("request", "response"):
        body = entry.get(name)
        if body is not None and not (isinstance(body, dict) and ("json" in body or isinstance(body.get("bytes"), int))):
            raise TraceFileError(f'{where}: {name} must be null, {{"json": …}} or {{"bytes": N}}')
    at = entry.get("at")
    if at is not None and (isinstance(at, bool) or not isinstance(at, int | float)):
        raise TraceFileError(f"{where}: at must be a number of seconds")
    return Exchange(
        line=number,
        method=method,
        path=path,
        status=status,
        app=str(entry.get("app", DEFAULT_APP)),
        at=float(at) if at is not None else None,
        query=dict(entry.get("query", {})),
        request_headers=dict(entry.get("request_headers", {})),
        request=entry.get("request"),
        headers=dict(entry["headers"]) if "headers" in entry else None,
        response=entry.get("response"),
        checks_body="response" in entry,
        partial=entry.get("partial") is True,
    )


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
