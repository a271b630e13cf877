"""The `$filter` forms the Teams export APIs accept (docs/graph-contract.md#export-filters), and keyset `$skiptoken`s.

Only documented forms parse: a conjunction of `lastModifiedDateTime gt|lt`
bounds and at most one `or`-group of identity/messageType clauses. Anything
else is a 400, as Graph answers it, so a client can't rely on a form the real
service refuses.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from migrator.emulator.errors import BadRequest
from migrator.timestamps import parse_ms

Predicate = Callable[[dict[str, Any]], bool]

USER_TYPES = {
    "aadUser",
    "onPremiseAadUser",
    "anonymousGuest",
    "federatedUser",
    "personalMicrosoftAccountUser",
    "skypeUser",
    "phoneUser",
}
APP_TYPES = {"aadApplication", "bot", "tenantBot", "office365Connector", "outgoingWebhook"}

_TOKEN = re.compile(r"\s*(\(|\)|'(?:[^']|'')*'|\"[^\"]*\"|[^\s()]+)")


def _field(message: dict[str, Any], path: str) -> Any:
    value: Any = message
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise BadRequest(f"Invalid $filter near position {pos}.")
        out.append(match.group(1))
        pos = match.end()
    return out


@dataclass(frozen=True)
class _Comparison:
    """One clause, `prop op value`, as written."""

    prop: str
    op: str
    value: str


@dataclass(frozen=True)
class _Junction:
    """`left and right` or `left or right`."""

    op: str
    left: _Node
    right: _Node


_Node = _Comparison | _Junction


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise BadRequest("Invalid $filter: unexpected end of expression.")
        self.pos += 1
        return token

    def expr(self) -> _Node:
        node = self.conj()
        while (self.peek() or "").lower() == "or":
            self.take()
            node = _Junction("or", node, self.conj())
        return node

    def conj(self) -> _Node:
        node = self.atom()
        while (self.peek() or "").lower() == "and":
            self.take()
            node = _Junction("and", node, self.atom())
        return node

    def atom(self) -> _Node:
        if self.peek() == "(":
            self.take()
            node = self.expr()
            if self.take() != ")":
                raise BadRequest("Invalid $filter: missing ')'.")
            return node
        prop, op, value = self.take(), self.take().lower(), self.take()
        return _Comparison(prop, op, value)


def _literal(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].replace("''", "'")
    return value


def _comparison(prop: str, op: str, raw: str) -> tuple[str, Predicate]:
    """(kind, predicate) for one clause; kind is 'date' or 'who'."""
    value = _literal(raw)
    if prop == "lastModifiedDateTime":
        if op not in ("gt", "lt"):
            raise BadRequest(f"Unsupported operator '{op}' for lastModifiedDateTime; use gt or lt.")
        try:
            bound = parse_ms(value)
        except ValueError:
            raise BadRequest(f"Invalid DateTimeOffset literal '{value}' in $filter.") from None
        if op == "gt":
            return "date", lambda m: m["_modified"] > bound
        return "date", lambda m: m["_modified"] < bound
    allowed = {
        "from/user/userIdentityType": ({"eq"}, USER_TYPES),
        "from/application/applicationIdentityType": ({"eq"}, APP_TYPES),
        "from/user/id": ({"eq"}, None),
        "messageType": ({"eq", "ne"}, {"systemEventMessage"}),
    }
    if prop not in allowed:
        raise BadRequest(f"Property '{prop}' is not supported in $filter for this API.")
    ops, values = allowed[prop]
    if op not in ops:
        raise BadRequest(f"Operator '{op}' is not supported for '{prop}' in $filter.")
    if values is not None and value not in values:
        raise BadRequest(f"Invalid value '{value}' for '{prop}' in $filter.")
    if op == "ne":
        return "who", lambda m: _field(m, prop) != value
    return "who", lambda m: _field(m, prop) == value


def _compile(node: _Node) -> tuple[str, Predicate]:
    if isinstance(node, _Comparison):
        return _comparison(node.prop, node.op, node.value)
    left_kind, left = _compile(node.left)
    right_kind, right = _compile(node.right)
    if node.op == "or":
        if "date" in (left_kind, right_kind) or "mixed" in (left_kind, right_kind):
            raise BadRequest("lastModifiedDateTime clauses can only be combined with 'and'.")
        return "who", lambda m: left(m) or right(m)
    if left_kind == right_kind == "who":
        raise BadRequest("Identity and messageType clauses can only be combined with 'or'.")
    if "mixed" in (left_kind, right_kind) and "who" in (left_kind, right_kind):
        raise BadRequest("Only one 'or' group of identity and messageType clauses is supported.")
    kind = "date" if left_kind == right_kind == "date" else "mixed"
    return kind, lambda m: left(m) and right(m)


def compile_filter(text: str | None) -> Predicate:
    """A predicate over stored messages (with their `_modified` ms) for a `$filter`."""
    if not text or not text.strip():
        return lambda m: True
    parser = _Parser(text)
    node = parser.expr()
    if parser.peek() is not None:
        raise BadRequest(f"Invalid $filter: unexpected '{parser.peek()}'.")
    return _compile(node)[1]


ExportKey = tuple[int, str, str]
"""Where a message sorts in an export: (lastModified ms, conversation id, message id); a skiptoken is the last one
of a page."""


def encode_skiptoken(key: ExportKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_skiptoken(token: str) -> ExportKey:
    """The key a page ends at; any token this module did not make is a 400, never a failed comparison later."""
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise BadRequest("Invalid $skiptoken.") from None
    match value:
        case [int(modified), str(conversation), str(message_id)]:
            return modified, conversation, message_id
    raise BadRequest("Invalid $skiptoken.")
