"""`MIGRATOR_TRACE=FILE`: every Graph exchange appended to FILE as one JSON line that can be replayed, never content.

A trace is how a real tenant's answers are brought back to the emulator (issue #20, `migrator emulator conform`). So
it keeps verbatim what Graph's rules depend on and is not content: the method, the status, the headers that matter,
timestamps, enum values (the keys of `VERBATIM`), `@odata.type`s, `contentType`s, numbers (sizes, counts) and the
markup of an HTML body; it replaces

- every id, and every URL the tenant made (a file's `webUrl`), by a placeholder `{kind:N}`, the same real value
  always by the same placeholder (`Identities`), so a replay can map each onto what the emulator creates;
- every other string (text, names, addresses, link targets) by filler of the same length, in characters and in
  UTF-8 bytes (`fill`): letters and digits become `x` (or a character as wide), punctuation and spaces stay;
- image bytes by a valid PNG of the same size (`filler_image`), any other bytes by their count.

No token, secret, message text, name or address is ever written; a token's `roles` (the app's permissions, which the
rules check) are, once per app, in a line of their own (`{"app": "{app:1}", "roles": [...]}`).

Identity holds across the commands appending to one FILE (`load`, then `verify`): the sidecar `FILE.ids`
(`Sidecar`) keeps each value a command named as its keyed digest beside its placeholder, never the value itself, so
a later command gives an object the placeholder an earlier one gave it. A later command also continues the numbering
of FILE itself, so a placeholder never names two objects even without the sidecar.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt
import orjson
import requests

TRACE_VARIABLE = "MIGRATOR_TRACE"
HEADERS = ("Location", "Content-Location", "Retry-After", "Content-Type")
REQUEST_HEADERS = ("Content-Type", "Content-Range")
GRAPH = "{graph}"  # the Graph base URL (https://graph.microsoft.com, or the emulator's), in every URL of a trace
PUBLIC_GRAPH = "https://graph.microsoft.com"
PLACEHOLDER = re.compile(r"\{([a-z]+):(\d+)\}")
# Keys whose string values are Graph's vocabulary (enums, types, codes), never a customer's content.
VERBATIM = frozenset(
    {
        "@odata.type",
        "@microsoft.graph.teamCreationMode",
        "@microsoft.graph.channelCreationMode",
        "@microsoft.graph.conflictBehavior",
        "@microsoft.graph.temporaryId",
        "contentType",
        "chatType",
        "membershipType",
        "messageType",
        "migrationMode",
        "userIdentityType",
        "operationType",
        "status",
        "code",
        "roles",
        "reactionType",
        "importance",
        "locale",
        "model",
        "$top",
        "$select",
        "$expand",
        "$orderby",
        "$count",
    }
)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The segment after each of these names an object: replaced by the placeholder of that kind.
COLLECTIONS = {
    "teams": "team",
    "channels": "channel",
    "messages": "message",
    "replies": "message",
    "chats": "chat",
    "users": "user",
    "groups": "team",  # a team's group has the team's id
    "operations": "op",
    "drives": "drive",
    "items": "item",
    "hostedContents": "hc",
    "shares": "share",
    "members": "member",
    "permissions": "permission",
    "_upload": "upload",
}
# Path segments that are Graph's words (actions, properties, functions), kept as they are.
WORDS = frozenset(
    {
        "v1.0",
        "beta",
        "$value",
        "$metadata",
        "add",
        "getAllMessages",
        "allMessages",
        "delta",
        "completeMigration",
        "startMigration",
        "filesFolder",
        "primaryChannel",
        "drive",
        "root",
        "content",
        "children",
        "invite",
        "createUploadSession",
        "driveItem",
        "teamsTemplates('standard')",
        "archive",
        "unarchive",
    }
)
# Where a new id in an answer comes from, by the last word of the path that made it.
MADE_BY = {"filesFolder": "item", "primaryChannel": "channel", "drive": "drive", "root": "item", "content": "item"}
MADE_BY |= {"getAllMessages": "message", "add": "member", "invite": "permission", "children": "item"}
# An id under one of these keys names this kind of object (`from.user.id`, `parentReference.id`).
ID_OWNERS = {"user": "user", "parentReference": "item", "application": "app", "attachments": "ref"}
URL_KEYS_MADE = frozenset({"webUrl", "contentUrl", "uploadUrl", "@microsoft.graph.downloadUrl", "url"})
_DRIVE_PATH = re.compile(r":/([^:]*):")
_KEYED = re.compile(r"^([\w.]+)\('([^']*)'\)$")
_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_HTML_TOKEN = re.compile(r"<[^>]*>|[^<]+")
_ATTRIBUTE = re.compile(r"""(\s+)([^\s=>/]+)(\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)""")
_HOSTED_REF = re.compile(r"^\.\./hostedContents/[^/]+/\$value$")
_OPEN: dict[Path, Trace] = {}
_OPEN_LOCK = threading.Lock()
_WIDE = {2: "ß", 3: "…", 4: "𝕩"}  # filler as wide in UTF-8 as the character it replaces
_DIGITS_AS_X = str.maketrans("0123456789", "x" * 10)


def fill(text: str) -> str:
    """`text` with every letter and digit replaced: ASCII by `x`, others by a filler as wide in UTF-8 bytes.

    Punctuation and spaces stay, so markup-like structure (`a.png`, `x@y.z`) keeps its form, never its words. A
    string equal to its own filling carries no content (`is_filler`)."""
    out = []
    for char in text:
        if char.isascii():
            out.append("x" if char.isalnum() else char)
        else:
            out.append(_WIDE.get(len(char.encode("utf-8", "surrogatepass")), "x"))
    return "".join(out)


def is_filler(text: str) -> bool:
    """Whether `text` carries no content: filler, whose digits (if any) only tell filled names apart."""
    return fill(text) == text.translate(_DIGITS_AS_X)


def fill_html(html: str, identities: Identities) -> str:
    """An HTML body with its markup kept and its text replaced: tags and attribute names stay; an attachment's id
    and an inline image's reference keep their identity; every other attribute value and every text is filler."""
    out = []
    for token in _HTML_TOKEN.findall(html):
        if not token.startswith("<"):
            out.append(fill(token))
            continue
        out.append(_ATTRIBUTE.sub(lambda m: _attribute(m, identities), token))
    return "".join(out)


def _attribute(match: re.Match[str], identities: Identities) -> str:
    space, name, equals, quoted = match.groups()
    quote = quoted[0] if quoted[0] in "\"'" else ""
    value = quoted[1:-1] if quote else quoted
    if name.lower() == "src" and _HOSTED_REF.match(value):
        kept = value  # ../hostedContents/{temporaryId}/$value: the temporary id is the request's own vocabulary
    elif name.lower() in ("src", "href") and value.startswith(("https://", "http://")):
        kept = identities.url(value, made=False)  # a Graph URL keeps its ids; a link in a message is content
    elif name.lower() == "id" and value and not value.isdigit():
        kept = identities.name("ref", value)  # <attachment id="…">, matched by the attachment's id
    elif name.lower() in ("itemtype", "itemscope", "itemid", "id", "contenteditable"):
        kept = value  # mention markup: schema URLs and small numbers
    else:
        kept = fill(value)
    return f"{space}{name}{equals}{quote}{kept}{quote}"


def _numbered(filled: str, number: int) -> str:
    """`filled` with its last `x`s replaced by the digits of `number` (unchanged when it has too few)."""
    places = [index for index, char in enumerate(filled) if char == "x"]
    digits = str(number)
    if len(digits) > len(places):
        return filled
    chars = list(filled)
    for index, digit in zip(places[-len(digits) :], digits, strict=True):
        chars[index] = digit
    return "".join(chars)


class Sidecar:
    """`FILE.ids` beside a trace: what its commands named, each value as its digest keyed by the file's own random
    key (HMAC-SHA256), beside its placeholder, one JSON line each after a first line holding the key. A later command
    recognises a value it meets again by its digest; no id, token, name or text is ever written here, and neither
    `conform` nor any report reads it."""

    SUFFIX = ".ids"

    def __init__(self, trace: Path) -> None:
        self.path = trace.with_name(trace.name + self.SUFFIX)
        self.names: dict[str, str] = {}  # digest -> placeholder
        self._pending: list[tuple[str, str]] = []
        self._key = b""
        if self.path.is_file() and (not trace.is_file() or trace.stat().st_size == 0):
            self.path.unlink()  # a new trace: what the deleted one named is nothing to it
        if self.path.is_file():
            for line in self.path.read_bytes().splitlines():
                entry = orjson.loads(line)
                if "key" in entry:
                    self._key = bytes.fromhex(entry["key"])
                else:
                    self.names[entry["digest"]] = entry["placeholder"]
        self._pending_key = not self._key  # a new sidecar: its key is written with the first names
        self._key = self._key or secrets.token_bytes(32)

    def digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def recall(self, value: str) -> str | None:
        """The placeholder an earlier command of the trace gave `value`, if any."""
        return self.names.get(self.digest(value)) if self.names else None

    def remember(self, value: str, placeholder: str) -> None:
        digest = self.digest(value)
        self.names[digest] = placeholder
        self._pending.append((digest, placeholder))

    def flush(self) -> None:
        """Append what was named since the last flush (and, the first time, the key)."""
        lines = [{"key": self._key.hex()}] if self._pending_key else []
        lines += [{"digest": digest, "placeholder": name} for digest, name in self._pending]
        if lines:
            with self.path.open("ab") as out:
                out.write(b"".join(orjson.dumps(line) + b"\n" for line in lines))
        self._pending_key, self._pending = False, []


class Identities:
    """Real values → placeholders (`{team:1}`), the same value always the same placeholder; thread-safe. With a
    `sidecar`, also the placeholders earlier commands appending to the same trace gave."""

    def __init__(
        self, graph_url: str, start: Counter[str] | None = None, first: int = 0, sidecar: Sidecar | None = None
    ) -> None:
        self.graph_bases = tuple(dict.fromkeys([graph_url.rstrip("/"), PUBLIC_GRAPH]))
        self._names: dict[str, str] = {}
        self._counts: Counter[str] = Counter(start or {})
        self._texts: dict[str, str] = {}  # value → its filler (`text`)
        self._filled: set[str] = set()
        self._first = first  # numbers of new placeholders start above it (a replay's own, apart from a trace's)
        self._sidecar = sidecar
        self._lock = threading.RLock()

    def add_base(self, graph_url: str) -> None:
        """Another URL Graph is reached at in this process (each is `{graph}` in the trace)."""
        with self._lock:
            self.graph_bases = tuple(dict.fromkeys([*self.graph_bases, graph_url.rstrip("/")]))

    def seed(self, names: Mapping[str, str]) -> None:
        """Real values already named (a replay's bindings), kept under those names."""
        self._names.update(names)

    def placeholders(self) -> dict[str, str]:
        """Placeholder → real value, for every value named so far."""
        return {name: value for value, name in self._names.items()}

    def known(self, value: str) -> str | None:
        with self._lock:
            found = self._names.get(value)
            if found is None and self._sidecar is not None:
                found = self._sidecar.recall(value)
                if found is not None:
                    self._names[value] = found
            return found

    def name(self, kind: str, value: str) -> str:
        with self._lock:
            found = self.known(value)
            if found is None:
                self._counts[kind] = max(self._counts[kind], self._first) + 1
                found = self._names[value] = f"{{{kind}:{self._counts[kind]}}}"
                if self._sidecar is not None:
                    self._sidecar.remember(value, found)
            return found

    def text(self, value: str) -> str:
        """`fill(value)`, told apart from the filler of any other value of the trace by digits in place of its last
        `x`s (two channels, files or teams whose names fill alike stay two, whatever case rules the tenant has)."""
        with self._lock:
            found = self._texts.get(value)
            if found is None:
                found = filled = fill(value)
                variant = 0
                while found in self._filled and variant < 10_000:
                    variant += 1
                    found = _numbered(filled, variant)
                self._texts[value] = found
                self._filled.add(found)
            return found

    def user(self, value: str) -> str:
        """A person named by id (`{user:N}`) or by address (`{mail:N}`): replays map them onto a directory."""
        return self.name("mail" if "@" in value else "user", value)

    def url(self, url: str, made: bool) -> str:
        """A Graph URL with its path's ids replaced; another URL by a placeholder when the tenant made it (`made`,
        e.g. a file's webUrl), else (a link in a message) by filler."""
        for base in self.graph_bases:
            if url.startswith(base + "/") or url == base:
                rest = url[len(base) :]
                path, _, query = rest.partition("?")
                path = path.split("#", 1)[0]
                return GRAPH + self.path(path) + (f"?{self.query_string(query, path)}" if query else "")
        known = self.known(url)
        if known is not None:
            return known
        return self.name("url", url) if made else fill(url)

    def path(self, path: str) -> str:
        """A Graph path with every id a placeholder, every name in a drive path filler, Graph's words kept."""
        path = _DRIVE_PATH.sub(lambda m: ":/" + "/".join(self.text(part) for part in m.group(1).split("/")) + ":", path)
        segments = path.split("/")
        for index in range(1, len(segments)):
            segments[index] = self._segment(segments[index - 1], segments[index])
        return "/".join(segments)

    def _segment(self, previous: str, segment: str) -> str:
        keyed = _KEYED.match(segment)
        if keyed and keyed.group(1) in COLLECTIONS:
            word, key = keyed.groups()
            return f"{word}('{self._id(COLLECTIONS[word], unquote(key))}')"
        # `items/{id}:/name:/content` and `root:/path:`: an addressed segment ends with a colon
        head, colon = (segment[:-1], ":") if segment.endswith(":") else (segment, "")
        if not head or head in WORDS or head in COLLECTIONS or head.startswith(("$", "{")):
            return segment
        owner = _KEYED.match(previous)
        collection = owner.group(1) if owner else previous
        if collection in COLLECTIONS:
            return self._id(COLLECTIONS[collection], unquote(head)) + colon
        return fill(segment)

    def _id(self, kind: str, value: str) -> str:
        return self.user(value) if kind == "user" and not self.known(value) else self.name(kind, value)

    def query_string(self, query: str, path: str) -> str:
        pairs = [part.partition("=") for part in query.split("&") if part]
        return "&".join(f"{k}={v}" for k, v in self.query({unquote(k): unquote(v) for k, _, v in pairs}, path).items())

    def query(self, params: Mapping[str, Any], path: str) -> dict[str, str]:
        """Query parameters: Graph's vocabulary kept, paging tokens as placeholders, a `$filter`'s literals scrubbed."""
        out = {}
        for key, raw in params.items():
            value = str(raw)
            if key in VERBATIM or key.startswith("@microsoft.graph."):
                out[key] = value
            elif key in ("$skiptoken", "$deltatoken", "$skip"):
                out[key] = self.name("page", value)
            elif key == "$filter":
                out[key] = _QUOTED.sub(lambda m: f"'{self._literal(m.group(1), path)}'", value)
            else:
                out[key] = self.text(value)
        return out

    def _literal(self, value: str, path: str) -> str:
        known = self.known(value)
        if known is not None:
            return known
        if path.rstrip("/").endswith("/users") and (GUID.match(value) or "@" in value):
            return self.user(value)
        return value if TIMESTAMP.match(value) or value in ("Team",) else self.text(value)


class Scrubber:
    """One body (a request's or an answer's) as a trace keeps it; `made` says whether it is the tenant's answer,
    whose new ids and URLs are objects it made (and so placeholders), or the client's request."""

    def __init__(self, identities: Identities, path: str, made: bool, verbatim: frozenset[str] = VERBATIM) -> None:
        self.ids = identities
        self.made = made
        self.verbatim = verbatim
        words = [w for w in re.split(r"[/(]", path) if w and not w.startswith(("{", "'"))]
        last = next((w for w in reversed(words) if w in COLLECTIONS or w in MADE_BY), "")
        self.kind = COLLECTIONS.get(last) or MADE_BY.get(last, "id")

    def value(self, value: Any, key: str = "", owner: str = "") -> Any:
        if isinstance(value, Mapping):
            html = str(value.get("contentType", "")).lower() == "html"
            return {str(k): self._member(str(k), v, key, html) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(item, key, owner) for item in value]
        if isinstance(value, str):
            return self.string(value, key, owner)
        return value  # numbers (sizes, counts), booleans, null

    def _member(self, key: str, value: Any, owner: str, html: bool) -> Any:
        if key == "content" and html and isinstance(value, str):
            return fill_html(value, self.ids)
        if key == "contentBytes" and isinstance(value, str):
            return _filler_base64(value)
        return self.value(value, key, owner)

    def string(self, value: str, key: str, owner: str) -> str:
        if key in self.verbatim or TIMESTAMP.match(value):
            return value
        known = self.ids.known(value)
        if known is not None:
            return known
        if value.startswith(("https://", "http://")):
            return self.ids.url(value, self.made and (key in URL_KEYS_MADE or key.endswith("@odata.bind")))
        if value.startswith("/") and value.strip("/").split("/", 1)[0].split("(", 1)[0] in COLLECTIONS:
            return self.ids.path(value)
        if key == "id" or key.endswith("Id") or GUID.match(value):
            return self._new_id(value, key, owner)
        return self.ids.text(value)

    def _new_id(self, value: str, key: str, owner: str) -> str:
        if key == "id":
            kind = ID_OWNERS.get(owner) or (self.kind if owner in ("", "value") else "id")
        elif key.endswith("Id"):
            kind = {"replyTo": "message", "targetResource": "team"}.get(key[:-2], key[:-2].lower())
        else:
            kind = "id"
        return self.ids.user(value) if kind == "user" else self.ids.name(kind, value)


def image_format(data: bytes) -> str | None:
    """The image format of `data` by its signature, or None when it is not an image."""
    signatures = {b"\x89PNG": "png", b"GIF8": "gif", b"\xff\xd8\xff": "jpeg", b"RIFF": "webp", b"BM": "bmp"}
    return next((name for magic, name in signatures.items() if data.startswith(magic)), None)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, stored: bool, padding: int | None = None) -> bytes:
    """A grey 1-row PNG `width` pixels wide, its pixels compressed or stored, optionally with a padding chunk."""
    raw = b"\x00" + b"\x80" * width
    pixels = zlib.compress(raw, 0 if stored else 9)
    header = struct.pack(">IIBBBBB", width, 1, 8, 0, 0, 0, 0)
    pad = _chunk(b"pdNg", b"\x00" * padding) if padding is not None else b""
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + pad + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def filler_image(size: int) -> bytes:
    """A valid PNG of exactly `size` bytes (a grey line, padded with a private ancillary chunk), for image bytes a
    trace replaces; below the smallest PNG (67 bytes), that many zero bytes."""
    smallest = _png(1, stored=False)
    if size >= len(smallest) + 12:
        return _png(1, stored=False, padding=size - len(smallest) - 12)
    for width in range(1, 16):
        for stored in (False, True):
            candidate = _png(width, stored)
            if len(candidate) == size:
                return candidate
    return b"\x00" * size


def filler_bytes(data: bytes) -> dict[str, Any]:
    """How a trace keeps a body of bytes: its size, and whether it is an image (replayed as `filler_image`)."""
    described: dict[str, Any] = {"bytes": len(data)}
    if image_format(data):
        described["image"] = True
    return described


def replay_bytes(described: Mapping[str, Any]) -> bytes:
    size = int(described.get("bytes", 0))
    return filler_image(size) if described.get("image") else b"\x00" * size


def _filler_base64(value: str) -> str:
    """Inline image bytes (base64) replaced by a valid image of the same size; other bytes by zeros."""
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return fill(value)
    return base64.b64encode(replay_bytes(filler_bytes(data))).decode()


class Trace:
    """Appends exchanges to one file; shared by a client's worker threads."""

    def __init__(self, path: Path, graph_url: str = PUBLIC_GRAPH) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.sidecar = Sidecar(path)
        self.ids = Identities(graph_url, _numbering(path, self.sidecar), sidecar=self.sidecar)
        self._apps: set[str] = set()
        self._started = time.monotonic()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ, graph_url: str = PUBLIC_GRAPH) -> Trace | None:
        """The process's trace of the file `MIGRATOR_TRACE` names: one per file, shared by every client of the
        process (migrate's load and verify), so an id keeps its placeholder from one stage to the next."""
        named = environ.get(TRACE_VARIABLE, "").strip()
        if not named:
            return None
        path = Path(named).resolve()
        with _OPEN_LOCK:
            if path not in _OPEN:
                _OPEN[path] = cls(path, graph_url)
            _OPEN[path].ids.add_base(graph_url)  # an embedded emulator restarted for a later stage has a new port
            return _OPEN[path]

    def record(
        self, method: str, url: str, request: Mapping[str, Any], resp: requests.Response, client_id: str = ""
    ) -> None:
        """Append one exchange (and, the first time its app is seen, the app's roles)."""
        lines: list[dict[str, Any]] = []
        with self._lock:
            app = self.ids.name("app", client_id)
            if app not in self._apps:
                self._apps.add(app)
                lines.append({"app": app, "roles": _roles(resp.request.headers.get("Authorization", ""))})
            path = self.ids.url(url.split("?", 1)[0], made=False).removeprefix(GRAPH)
            if not path.startswith(("/", "{")):  # a URL no answer gave (never seen so far): named, never written
                path = self.ids.name("url", url.split("?", 1)[0])
            params = request.get("params") or dict(parse_qsl(urlsplit(url).query))
            query = self.ids.query(params, path)
            lines.append(
                {
                    "at": round(time.monotonic() - self._started, 3),
                    "app": app,
                    "method": method,
                    "path": path,
                    "query": query,
                    "request_headers": {h: v for h in REQUEST_HEADERS if (v := resp.request.headers.get(h))},
                    "request": self._request(path, request),
                    "status": resp.status_code,
                    "headers": describe_headers(self.ids, resp.headers),
                    "response": describe_response(self.ids, path, resp.headers, resp.content),
                }
            )
            encoded = b"".join(orjson.dumps(line) + b"\n" for line in lines)
            with self.path.open("ab") as out:
                out.write(encoded)
            self.sidecar.flush()

    def _request(self, path: str, request: Mapping[str, Any]) -> dict[str, Any] | None:
        if request.get("json") is not None:
            return {"json": Scrubber(self.ids, path, made=False).value(request["json"])}
        data = request.get("data")
        if isinstance(data, str):
            data = data.encode("utf-8")
        return filler_bytes(data) if isinstance(data, bytes) else None


def describe_headers(ids: Identities, headers: Mapping[str, str]) -> dict[str, str]:
    """The headers a trace keeps (`HEADERS`), a Location's ids as placeholders."""
    kept = {}
    for name in HEADERS:
        value = headers.get(name)
        if value is None:
            continue
        if "Location" in name:
            value = ids.url(value, made=True) if "://" in value else ids.path(value)
        kept[name] = value
    return kept


def describe_response(
    ids: Identities, path: str, headers: Mapping[str, str], content: bytes, verbatim: frozenset[str] = VERBATIM
) -> dict[str, Any] | None:
    """An answer's body as a trace keeps it: `{"json": …}` scrubbed, `{"bytes": N}` for bytes, None when empty."""
    if not content:
        return None
    if "json" in headers.get("Content-Type", ""):
        try:
            return {"json": Scrubber(ids, path, made=True, verbatim=verbatim).value(orjson.loads(content))}
        except orjson.JSONDecodeError:
            pass
    return filler_bytes(content)


def _roles(authorization: str) -> list[str]:
    """The `roles` of a bearer token (the app's permissions, never the token itself)."""
    token = authorization.removeprefix("Bearer ").strip()
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return []
    roles = claims.get("roles", [])
    return sorted(str(role) for role in roles) if isinstance(roles, list) else []


def _numbering(path: Path, sidecar: Sidecar) -> Counter[str]:
    """The highest placeholder number of each kind already in `path` or its sidecar, so a second process appending
    to it continues the numbering instead of reusing the first one's placeholders."""
    counts: Counter[str] = Counter()
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    for kind, number in PLACEHOLDER.findall(text + " ".join(sidecar.names.values())):
        counts[kind] = max(counts[kind], int(number))
    return counts
