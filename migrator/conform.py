"""`migrator emulator conform TRACE`: replay a trace against a fresh emulator and list where it answers otherwise.

This is how a real tenant's answers (a trace a consultant recorded with `MIGRATOR_TRACE`) hold the emulator to them:
every recorded request is sent again, in order, and the emulator's status, headers (`HEADERS`) and answer are
compared with the recorded ones after both went through the same scrubbing (migrator/graph/trace.py), so filler
text, sizes, enum values and the identity of every id are compared, never content.

Ids are mapped as they are created: a placeholder is bound to the real id the first time an answer holds it, and
every later request naming it sends that id. People (`{user:N}`, `{mail:N}`) a request names before any answer did
are mapped onto the emulator's directory in the order the recorded answer lists them, else in order of appearance;
apps onto the directory's apps that hold the roles the trace recorded for them. Throttling is timing, not a rule a
trace can hold: the emulator's rate limits are lifted, recorded 429 and 5xx exchanges are not replayed, and the
recorded pauses between exchanges are kept (up to `MAX_PAUSE`), so long operations find the tenant as far along as
it was (or further: a replay is never faster, so that is not a difference).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import requests

from migrator.emulator.directory import App, Directory, embedded_directory, load_directory
from migrator.emulator.reading import Reading
from migrator.emulator.runner import EmulatorProcess
from migrator.graph.auth import TokenProvider
from migrator.graph.session import GraphSession
from migrator.graph.trace import (
    GRAPH,
    HEADERS,
    PLACEHOLDER,
    TIMESTAMP,
    VERBATIM,
    Identities,
    describe_headers,
    describe_response,
    is_filler,
    replay_bytes,
)
from migrator.tracefile import Exchange, TraceFile, read_trace

# Throttling is not replayed: every rate limit far above what one replay sends.
UNTHROTTLED = {
    "channel_rps": 10_000,
    "tenant_rps": 10_000,
    "app_export_rps": 10_000,
    "teams_calls_per_10s": 1_000_000,
    "channel_writes_per_s": 10_000,
    "team_creates_per_s": 10_000,
    "team_reads_per_s": 10_000,
    "tenant_message_rps": 0,
}
# The emulator's own error messages are compared as they are: a recorded trace holds them as filler (compared as
# strings only: a tenant's message may quote a name), a hand-written one as its source quotes them.
REPLAY_VERBATIM = VERBATIM | {"message"}
TIMING = frozenset({429, 500, 502, 503, 504})  # answers that depend on load and luck, not on a rule
OPERATION_STAGES = ("notStarted", "inProgress", "succeeded")  # a teamsAsyncOperation's status, in order
MAX_PAUSE = 10.0  # seconds: the longest recorded pause a replay keeps
FRESH = 1_000_000  # the replay's own placeholders are numbered above this, apart from the trace's
MAX_PROBLEMS = 8  # per exchange, the rest counted


@dataclass
class Difference:
    exchange: Exchange
    problems: list[str]


@dataclass
class Conformance:
    replayed: int = 0
    skipped: int = 0
    differences: list[Difference] = field(default_factory=list)


def conform(
    trace_path: Path,
    reading: Reading,
    directory: Path | None = None,
    on_difference: Callable[[Difference], None] = lambda _: None,
) -> Conformance:
    """Replay the trace at `trace_path` against a fresh emulator serving `reading`; bad trace: TraceFileError."""
    trace = read_trace(trace_path)
    directory_file = embedded_directory(directory)
    people = load_directory(directory_file)
    with EmulatorProcess(directory=directory_file, reading=reading) as emulator:
        emulator.operator("config", UNTHROTTLED)
        return Replay(emulator, people, trace).run(on_difference)


class Replay:
    """One trace sent to one emulator, with the placeholders bound so far."""

    def __init__(self, emulator: EmulatorProcess, directory: Directory, trace: TraceFile) -> None:
        self.emulator = emulator
        self.base = emulator.url.rstrip("/")
        self.trace = trace
        self.session = GraphSession(verify=str(emulator.ca))
        self.bound: dict[str, str] = {}  # placeholder → the emulator's real value
        self._people = iter(directory.users.values())
        self._apps = _match_apps(trace, directory)
        self._tokens: dict[str, TokenProvider] = {}

    def run(self, on_difference: Callable[[Difference], None]) -> Conformance:
        result = Conformance()
        for exchange in self._paced(self.trace.exchanges):
            if exchange.status in TIMING:
                result.skipped += 1
                continue
            problems = self._replay(exchange)
            result.replayed += 1
            if problems:
                difference = Difference(exchange, problems)
                result.differences.append(difference)
                on_difference(difference)
        return result

    @staticmethod
    def _paced(exchanges: list[Exchange]) -> Iterator[Exchange]:
        """The exchanges, each once its recorded pause after the one before has passed (pauses up to MAX_PAUSE)."""
        previous_at, previous_sent = None, time.monotonic()
        for exchange in exchanges:
            if exchange.at is not None and previous_at is not None and exchange.at > previous_at:
                wait = min(exchange.at - previous_at, MAX_PAUSE) - (time.monotonic() - previous_sent)
                if wait > 0:
                    time.sleep(wait)
            previous_at, previous_sent = exchange.at, time.monotonic()
            yield exchange

    # ------------------------------------------------------------------ sending
    def _replay(self, exchange: Exchange) -> list[str]:
        self._meet_people(exchange)
        path = self._resolve(exchange.path)
        url = path if path.startswith(("https://", "http://")) else self.base + path
        headers = {name: self._resolve(value) for name, value in exchange.request_headers.items()}
        headers["Authorization"] = f"Bearer {self._token(exchange.app)}"
        body = exchange.request or {}
        try:
            response = self.session.request(
                exchange.method,
                url,
                params={key: self._resolve(value) for key, value in exchange.query.items()},
                json=self._resolve_json(body["json"]) if "json" in body else None,
                data=replay_bytes(body) if "bytes" in body else None,
                headers=headers,
                timeout=60,
            )
        except requests.RequestException as error:  # e.g. a URL only an answer that was not replayed gave
            return [f"no answer ({type(error).__name__}), recorded {exchange.status}"]
        return self._compare(exchange, response)

    def _resolve(self, text: str) -> str:
        """`text` with every placeholder the real value it stands for, and `{graph}` the emulator's URL."""
        return PLACEHOLDER.sub(lambda m: self._real(m.group(0), m.group(1)), text.replace(GRAPH, self.base))

    def _resolve_json(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {self._resolve(k): self._resolve_json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve_json(item) for item in value]
        return self._resolve(value) if isinstance(value, str) else value

    def _meet_people(self, exchange: Exchange) -> None:
        """People the request names for the first time, mapped onto the directory in the order the recorded answer
        lists them (a tenant lists users in its directory's order, as the emulator does), before the others."""
        asked = orjson.dumps([exchange.path, exchange.query, exchange.request]).decode()
        answered = orjson.dumps(exchange.response).decode()
        for match in PLACEHOLDER.finditer(answered):
            if match.group(1) in ("user", "mail") and match.group(0) in asked:
                self._real(match.group(0), match.group(1))

    def _real(self, placeholder: str, kind: str) -> str:
        """The value bound to `placeholder`; a person not seen yet is the directory's next one; anything else
        not seen yet (an object whose creation failed, an id the client chose) a fresh value."""
        if placeholder not in self.bound:
            if kind in ("user", "mail"):
                taken = set(self.bound.values())
                person = next((p for p in self._people if p["id"] not in taken), None)
                if person is not None:
                    self.bound[placeholder] = person["id"] if kind == "user" else person["userPrincipalName"]
            if placeholder not in self.bound:
                fresh = uuid.uuid4().hex
                self.bound[placeholder] = f"{self.base}/_unbound/{fresh}" if kind == "url" else fresh  # a 404
        return self.bound[placeholder]

    def _token(self, app: str) -> str:
        chosen = self._apps.get(app) or next(iter(self._apps.values()))
        if chosen.client_id not in self._tokens:
            config = self.emulator.graph_config(chosen.client_id, chosen.secret or "")
            self._tokens[chosen.client_id] = TokenProvider(config, self.session)
        return self._tokens[chosen.client_id].token()

    # ---------------------------------------------------------------- comparing
    def _compare(self, exchange: Exchange, response: requests.Response) -> list[str]:
        problems = []
        if response.status_code != exchange.status:
            problems.append(f"status {response.status_code}, recorded {exchange.status}{_error_code(response)}")
        ids = Identities(self.base, first=FRESH)
        ids.seed({real: name for name, real in self.bound.items()})
        headers = describe_headers(ids, response.headers)
        answer = _as_far_along(
            exchange.response,
            describe_response(ids, exchange.path, response.headers, response.content, REPLAY_VERBATIM),
        )
        unify = Unifier(self.bound, ids.placeholders(), exchange.partial)
        if exchange.headers is not None:
            problems += unify.headers(exchange.headers, headers, has_body=exchange.response is not None)
        if response.status_code == exchange.status and exchange.checks_body:
            problems += unify.body(exchange.response, answer)
        if len(problems) > MAX_PROBLEMS:
            problems[MAX_PROBLEMS:] = [f"… and {len(problems) - MAX_PROBLEMS} more"]
        return problems


class Unifier:
    """Compares a recorded description with the replay's, binding the recorded placeholders to the real values
    the replay's placeholders stand for."""

    def __init__(self, bound: dict[str, str], replayed: Mapping[str, str], partial: bool = False) -> None:
        self.bound = bound
        self.replayed = replayed  # the replay's placeholder → real value
        self.partial = partial  # keys the recorded answer does not list are not compared

    def headers(self, recorded: Mapping[str, str], got: Mapping[str, str], has_body: bool) -> list[str]:
        """Every header of `HEADERS`, absent ones included; a Content-Type only with a body (it types nothing else)."""
        problems = []
        for name in HEADERS:
            want, have = recorded.get(name), got.get(name)
            if name == "Content-Type" and not has_body:
                continue
            if want is None or have is None:
                if want != have:
                    problems.append(f"header {name}: {have or 'absent'}, recorded {want or 'absent'}")
            elif name == "Content-Type":
                if _media(want) != _media(have):
                    problems.append(f"header Content-Type: {_media(have)}, recorded {_media(want)}")
            elif name != "Retry-After":
                problems += self.value(want, have, f"header {name}")
        return problems

    def body(self, recorded: Mapping[str, Any] | None, got: Mapping[str, Any] | None) -> list[str]:
        if recorded is None or got is None:
            return [] if recorded == got else [f"body: {_kind(got)}, recorded {_kind(recorded)}"]
        if "json" in recorded and "json" in got:
            return self.value(recorded["json"], got["json"], "body")
        if "bytes" in recorded and "bytes" in got:
            same = recorded["bytes"] == got["bytes"] and bool(recorded.get("image")) == bool(got.get("image"))
            return [] if same else [f"body: {got['bytes']} bytes, recorded {recorded['bytes']}"]
        return [f"body: {_kind(got)}, recorded {_kind(recorded)}"]

    def value(self, want: Any, have: Any, where: str) -> list[str]:
        if isinstance(want, dict) and isinstance(have, dict):
            problems = [f"{where}: no {key}" for key in want if key not in have]
            problems += [f"{where}: {key} not recorded" for key in have if key not in want and not self.partial]
            for key in want:
                if key in have:
                    problems += self.value(want[key], have[key], f"{where}.{key}")
            return problems
        if isinstance(want, list) and isinstance(have, list):
            problems = [] if len(want) == len(have) else [f"{where}: {len(have)} items, recorded {len(want)}"]
            for index, (w, h) in enumerate(zip(want, have, strict=False)):
                problems += self.value(w, h, f"{where}[{index}]")
            return problems
        if isinstance(want, str) and isinstance(have, str):
            return self._string(want, have, where)
        if _type(want) != _type(have):
            return [f"{where}: {_type(have)}, recorded {_type(want)}"]
        return []

    def _string(self, want: str, have: str, where: str) -> list[str]:
        wanted, had = _PARTS.split(want), _PARTS.split(have)
        if len(wanted) == 1 and len(had) == 1:
            same = want == have or is_filler(want) or bool(TIMESTAMP.match(want) and TIMESTAMP.match(have))
            return [] if same else [_unlike(where, want, have)]
        if len(wanted) != len(had):
            return [_unlike(where, want, have)]
        # the ids still bind when the text around them differs (`/teams/{id}` for `/teams('{id}')`), so one
        # difference does not make every later exchange naming them differ too
        problems = [self._bind(w, h, where) for w, h in zip(wanted[1::2], had[1::2], strict=True)]
        if any(w != h for w, h in zip(wanted[::2], had[::2], strict=True)):
            problems.insert(0, _unlike(where, want, have))
        return [p for p in problems if p]

    def _bind(self, want: str, have: str, where: str) -> str | None:
        real = self.replayed.get(have)
        if real is None:
            return f"{where}: {have}, recorded {want}"
        if want not in self.bound:
            self.bound[want] = real
        return None if self.bound[want] == real else f"{where}: another object than {want}"


_PARTS = re.compile(r"(\{[a-z]+:\d+\})")


def _as_far_along(recorded: Mapping[str, Any] | None, got: dict[str, Any] | None) -> dict[str, Any] | None:
    """A long operation the replay finds further along than the recording did, shown at the recorded stage: a
    replay keeps the recorded pauses but is never faster, so finding it done sooner is timing, not a rule."""
    want = (recorded or {}).get("json")
    have = (got or {}).get("json")
    if not (
        isinstance(want, dict) and isinstance(have, dict) and want.get("operationType") == have.get("operationType")
    ):
        return got
    stages = OPERATION_STAGES
    was, now = want.get("status"), have.get("status")
    if was in stages and now in stages and stages.index(now) > stages.index(was):
        return {**(got or {}), "json": {**have, "status": was}}
    return got


def _match_apps(trace: TraceFile, directory: Directory) -> dict[str, App]:
    """Each app of the trace → the directory's app that holds every role it held (else the most), one each."""
    usable = [app for app in directory.apps.values() if app.secret]
    chosen: dict[str, App] = {}
    for name in dict.fromkeys([*trace.roles, *(e.app for e in trace.exchanges)]):
        wanted = set(trace.roles.get(name, ()))
        free = [app for app in usable if app not in chosen.values()] or usable
        chosen[name] = max(free, key=lambda app: (wanted <= app.roles, len(wanted & app.roles), -usable.index(app)))
    return chosen


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    names: dict[type, str] = {dict: "object", list: "array", str: "string"}
    return names.get(type(value), type(value).__name__)


def _kind(body: Mapping[str, Any] | None) -> str:
    if body is None:
        return "no body"
    return "JSON" if "json" in body else f"{body.get('bytes')} bytes"


def _unlike(where: str, want: str, have: str) -> str:
    """The two strings from a little before where they first differ, so a long body's difference shows."""
    start = next((i for i, (w, h) in enumerate(zip(want, have, strict=False)) if w != h), min(len(want), len(have)))
    start = max(0, start - 20)

    def excerpt(text: str) -> str:
        part = text[start : start + 60]
        return ("…" if start else "") + part + ("…" if start + 60 < len(text) else "")

    return f"{where}: {excerpt(have)!r}, recorded {excerpt(want)!r}"


def _error_code(response: requests.Response) -> str:
    """`, error CODE` of a Graph error answer, for the line that reports a status difference."""
    try:
        error = response.json().get("error")
    except ValueError:
        return ""
    return f" (error {error.get('code')})" if isinstance(error, dict) and error.get("code") else ""
