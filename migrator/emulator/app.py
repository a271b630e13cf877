"""The emulator as an ASGI application: identity, Graph routes, throttling, faults, operator.

Order of a Graph call, as the real service behaves: count it, add latency,
maybe inject a fault, authenticate, authorise, throttle, apply the rule. A
`drop` fault applies the rule and then closes the connection unanswered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from migrator import limits
from migrator.capacity import TEAMS_DEFAULTS, CapacityLimits, limit_problems
from migrator.emulator import routes
from migrator.emulator.asgi import Receive, Scope, Send, close_without_answer, read_body
from migrator.emulator.errors import (
    BadGateway,
    BadRequest,
    GraphFault,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
    TokenError,
    TooManyRequests,
)
from migrator.emulator.faults import CHAT_IMPORT_502, MEMBER_ADD_ERROR, Faults, FaultSpecError
from migrator.emulator.http import Call, Reply, envelope, parse_query, render
from migrator.emulator.identity import Identity
from migrator.emulator.models import Graph
from migrator.emulator.reading import Reading
from migrator.emulator.throttle import ConversationStats, Limit, SlidingWindows
from migrator.timestamps import format_ms

log = logging.getLogger("migrator.emulator")
VERSIONS = ("v1.0", "beta")
_KEY_SEGMENT = re.compile(r"\('([^'/]*)'\)")
_EMPTY_CALL = re.compile(r"\(\)(?=/|$)")

# ASGI's shapes (as starlette.types spells them): a connection's scope and its messages are plain dicts.


@dataclass
class Limits:
    """Every throttling limit, each configurable (docs/graph-contract.md#service-wide-throttling-limits)."""

    channel_rps: float = limits.CHANNEL_RPS
    tenant_rps: float = limits.EXPORT_TENANT_RPS
    app_export_rps: float = limits.EXPORT_APP_RPS
    teams_calls_per_10s: float = limits.TEAMS_CALLS_PER_10S
    channel_writes_per_s: float = limits.CHANNEL_WRITES_PER_S
    team_creates_per_s: float = limits.TEAM_CREATES_PER_S
    team_reads_per_s: float = limits.TEAM_CHANNEL_READS_PER_S
    tenant_message_rps: float = 0.0  # imported messages per second in the whole tenant; 0: no such cap (Graph's)


class EmulatorApp:
    def __init__(self, graph: Graph, identity: Identity, faults: Faults, limits_: Limits):
        self.graph = graph
        self.identity = identity
        self.faults = faults
        self.limits = limits_
        self.windows = SlidingWindows()
        self.stats = ConversationStats()
        self.totals: dict[str, int] = {"requests": 0, "throttled": 0}
        self.injected: dict[str, int] = {}
        self._use_faults(faults)

    def _use_faults(self, faults: Faults) -> None:
        """The injector, and the hooks through which it reaches rules that fail one item of a call."""
        self.faults = faults
        self.graph.stuck_chat = faults.stuck_chat
        self.graph.member_refusal = self._member_refusal

    def _member_refusal(self, team_id: str, entry: Mapping[str, Any]) -> tuple[str, str] | None:
        """Graph's error for one member of a bulk `members/add`: a refuse rule for `POST /teams/*/members` that
        names them (the rule that refuses adding them one at a time), or the `member-add-error` fault."""
        rule = self.faults.refusal("POST", f"/teams/{team_id}/members", json.dumps(entry).encode())
        if rule:
            self.injected["refuse"] = self.injected.get("refuse", 0) + 1
            return rule.code, rule.message
        if self._targeted(MEMBER_ADD_ERROR):
            return "ServiceUnavailable", "Injected fault: try adding this member again."
        return None

    def _targeted(self, kind: str) -> bool:
        """Whether a targeted fault strikes now, counted like every injected fault."""
        hit = self.faults.hits(kind)
        if hit:
            self.injected[kind] = self.injected.get(kind, 0) + 1
        return hit

    # ------------------------------------------------------------------ ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        base = f"https://{headers.get('host', 'localhost')}"
        call = Call(
            method=scope["method"],
            path=scope["path"],
            version="",
            base=base,
            query=parse_query(scope.get("query_string", b"")),
            headers=headers,
            body=body,
        )
        request_id = str(uuid.uuid4())
        drop = False
        try:
            reply, drop = await self._dispatch(call)
        except GraphFault as fault:
            reply = Reply(
                status=fault.status,
                headers=dict(fault.headers),
                body=envelope(fault, request_id, headers.get("client-request-id"), _now_text()),
            )
        except TokenError as error:
            reply = _token_error(error, request_id)
        except Exception:  # a bug in the emulator must still answer like a server, and say so
            log.error("emulator error on %s %s\n%s", call.method, call.path, traceback.format_exc())
            failure = GraphFault("The emulator failed to process the request; see its log.")
            reply = Reply(status=500, body=envelope(failure, request_id, headers.get("client-request-id"), _now_text()))
        if drop:
            close_without_answer(send)
            return
        await _respond(send, reply, request_id, headers.get("client-request-id"))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.graph.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # -------------------------------------------------------------- dispatch
    async def _dispatch(self, call: Call) -> tuple[Reply, bool]:
        segments = call.path.split("/", 2)
        head = segments[1] if len(segments) > 1 else ""
        if head == "_emulator":
            return self._operator(call, segments[2] if len(segments) > 2 else ""), False
        if head == "_upload":
            return await self._graph_call(call, lambda: routes.upload_fragment(self.graph, segments[2], call), None)
        if head in VERSIONS:
            call.version, call.path = head, _canonical("/" + (segments[2] if len(segments) > 2 else ""))
            return await self._versioned(call)
        return self._identity(call), False

    async def _versioned(self, call: Call) -> tuple[Reply, bool]:
        found = routes.router.match(call.method, call.path)
        if found is None:
            if routes.router.allows_path(call.path):
                raise MethodNotAllowed(f"The {call.method} method is not supported for this resource.")
            raise BadRequest(f"Resource not found for the segment '{call.path.rsplit('/', 1)[-1]}'.")
        route, call.params = found
        conversation = call.params.get("channel") or call.params.get("chat")

        def handle() -> Reply:
            call.principal = self.identity.authenticate(call.headers.get("authorization"))
            routes.require_roles(call, route.roles)
            self._throttle(route.kind, conversation, call.caller.app_id)
            reply = route.handler(self.graph, call)
            if route.handler is routes.post_message and "chat" in call.params and self._targeted(CHAT_IMPORT_502):
                raise BadGateway("Injected fault: the chat message was imported, but the gateway answered 502.")
            return reply

        reply, drop = await self._graph_call(call, handle, conversation)
        reply.base = call.base
        return reply, drop

    async def _graph_call(
        self, call: Call, handle: Callable[[], Reply], conversation: str | None
    ) -> tuple[Reply, bool]:
        """Counting, latency and injected faults around one Graph call."""
        now = time.monotonic()
        self.totals["requests"] += 1
        if conversation:
            self.stats.arrival(conversation, now)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        refusal = self.faults.refusal(call.method, call.path, call.body)
        if refusal:
            self.injected["refuse"] = self.injected.get("refuse", 0) + 1
            refused = GraphFault(refusal.message)
            refused.status, refused.code = refusal.status, refusal.code
            raise refused
        fault = self.faults.draw()
        if fault:
            self.injected[fault] = self.injected.get(fault, 0) + 1
        if fault and fault != "drop":
            if fault == "429":
                self._count_throttled(conversation)
                raise TooManyRequests("Injected fault: too many requests.", retry_after=1)
            if fault == "503":
                raise ServiceUnavailable("Injected fault: the service is temporarily unavailable.")
            injected = GraphFault(f"Injected fault: HTTP {fault}.")
            injected.status = int(fault)
            injected.code = {500: "InternalServerError", 502: "BadGateway", 504: "GatewayTimeout"}.get(
                int(fault), "UnknownError"
            )
            raise injected
        try:
            reply = handle()
        except TooManyRequests:
            self._count_throttled(conversation)
            raise
        return reply, fault == "drop"

    def _count_throttled(self, conversation: str | None) -> None:
        self.totals["throttled"] += 1
        if conversation:
            self.stats.throttled[conversation] += 1

    def _throttle(self, kind: str, conversation: str | None, app_id: str) -> None:
        lim = self.limits
        scopes: list[tuple[Limit, str]] = []
        if kind not in ("directory", "files"):
            scopes.append((Limit("teams", lim.teams_calls_per_10s, 10.0), app_id))
        if conversation:
            scopes.append((Limit("conversation", lim.channel_rps), conversation))
        per_kind = {
            "export": [
                (Limit("export_tenant", lim.tenant_rps), "tenant"),
                (Limit("export_app", lim.app_export_rps), app_id),
            ],
            "create_team": [(Limit("create_team", lim.team_creates_per_s), app_id)],
            "channel_write": [(Limit("channel_write", lim.channel_writes_per_s), app_id)],
            "team_read": [(Limit("team_read", lim.team_reads_per_s), app_id)],
        }
        scopes.extend(per_kind.get(kind, []))
        if (
            kind == "import" and lim.tenant_message_rps > 0
        ):  # an undocumented tenant cap (#service-wide-throttling-limits)
            scopes.append((Limit("tenant_messages", lim.tenant_message_rps), "tenant"))
        wait = self.windows.admit(time.monotonic(), scopes)
        if wait > 0:
            raise TooManyRequests(
                "Too many requests; the application is over its request quota for this resource. Retry later.",
                retry_after=wait,
            )

    # -------------------------------------------------------------- identity
    def _identity(self, call: Call) -> Reply:
        parts = call.path.strip("/").split("/")
        tenant = parts[0] if parts else ""
        rest = "/".join(parts[1:])
        if call.method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            return Reply(body=self.identity.openid_configuration(call.base, tenant))
        if call.method == "GET" and rest == "discovery/v2.0/keys":
            return Reply(body={"keys": []})
        if call.method == "POST" and rest == "oauth2/v2.0/token":
            form = parse_query(call.body)
            return Reply(body=self.identity.issue_token(call.base, tenant, form))
        raise NotFound(f"No such endpoint: {call.method} {call.path}")

    # -------------------------------------------------------------- operator
    def _operator(self, call: Call, name: str) -> Reply:
        """Endpoints outside Graph's namespace for tests and operators (no token: loopback only)."""
        if name == "dump" and call.method == "GET":
            return Reply(body=self.graph.dump(), base=call.base)
        if name == "stats" and call.method == "GET":
            return Reply(body=self.snapshot_stats())
        if name == "faults":
            if call.method == "POST":
                payload = call.json()
                try:
                    self._use_faults(
                        Faults.parse(payload.get("spec", ""), seed=payload.get("seed"), refuse=payload.get("refuse"))
                    )
                except FaultSpecError as exc:
                    raise BadRequest(str(exc)) from None
            return Reply(
                body={"spec": self.faults.spec(), "refuse": self.faults.refuse_rules(), "injected": self.injected}
            )
        if name == "config":
            if call.method == "POST":
                self._configure(call.json())
            return Reply(body=self.config())
        if name == "reset" and call.method == "POST":
            self.graph.reset()
            self.windows.reset()
            self.stats.reset()
            self.totals = {"requests": 0, "throttled": 0}
            self.injected = {}
            return Reply(status=204)
        if name == "mutate" and call.method == "POST":
            return Reply(body=self.graph.mutate(call.json()), base=call.base)
        raise NotFound(f"No operator endpoint {call.method} /_emulator/{name}")

    def config(self) -> dict[str, Any]:
        return {
            **asdict(self.limits),
            "clock_offset_ms": self.graph.clock.offset_ms,
            "evaluation_capacity": self.graph.evaluation_capacity,
            "provision_delay": self.graph.provision_delay,
            "token_lifetime": self.identity.lifetime,
            "membership_lag": self.graph.membership_lag,
            "capacity": self.graph.capacity.as_dict(),
            "reading": self.graph.reading.as_dict(),
            "users_without_drive": self.graph.users_without_drive,
        }

    def _configure(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if hasattr(self.limits, key):
                setattr(self.limits, key, float(value))
            elif key == "clock_offset_ms":
                self.graph.clock.offset_ms = int(value)
            elif key == "evaluation_capacity":
                self.graph.evaluation_capacity = int(value)
            elif key == "provision_delay":
                self.graph.provision_delay = float(value)
            elif key == "token_lifetime":
                self.identity.lifetime = int(value)
            elif key == "membership_lag":
                self.graph.membership_lag = float(value)
            elif key == "capacity":
                self.graph.capacity = self._capacity(value)
            elif key == "reading":
                self._configure_reading(value)
            elif key == "users_without_drive":
                self.graph.users_without_drive = self._share(value)
            else:
                raise BadRequest(f"Unknown setting '{key}'. Known: {sorted(self.config())}")

    def _configure_reading(self, changes: object) -> None:
        """`{"reading": {"switch": value, ...}}`, or `{"reading": "strict"|"lenient"}` for a whole preset."""
        if changes in ("strict", "lenient"):
            self.graph.reading = Reading() if changes == "strict" else Reading.lenient()
            return
        if not isinstance(changes, dict):
            raise BadRequest('reading must be "strict", "lenient" or an object of switches.')
        try:
            self.graph.reading = self.graph.reading.with_changes(changes)
        except ValueError as error:
            raise BadRequest(str(error)) from None

    @staticmethod
    def _share(value: object) -> float:
        """A share of users between 0 and 1 (`users_without_drive`)."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise BadRequest("users_without_drive must be a number from 0 to 1.")
        return float(value)

    @staticmethod
    def _capacity(value: object) -> CapacityLimits:
        """Teams' capacity limits with some lowered or raised (`{"channels_per_team": 5}`); `reset` restores them."""
        if not isinstance(value, dict):
            raise BadRequest("capacity must be an object of limit names to numbers.")
        problems = [p for name, number in value.items() if (p := limit_problems(name, number))]
        if problems:
            raise BadRequest("; ".join(problems))
        return TEAMS_DEFAULTS.overridden(value)

    def snapshot_stats(self) -> dict[str, Any]:
        conversations = {
            key: {
                "requests": self.stats.requests[key],
                "throttled": self.stats.throttled.get(key, 0),
                "peak_1s": self.stats.peak[key],
            }
            for key in self.stats.requests
        }
        return {
            "conversations": conversations,
            "totals": {
                **self.totals,
                "faults": dict(self.injected),
                "peak_1s_max": max((c["peak_1s"] for c in conversations.values()), default=0),
            },
            "limits": asdict(self.limits),
        }


def _canonical(path: str) -> str:
    """OData spellings Graph also accepts: `teams('id')` for `teams/id`, `getAllMessages()` for `getAllMessages`.

    SDKs generated from Graph's API description call functions with `()`.
    """
    return _EMPTY_CALL.sub("", _KEY_SEGMENT.sub(r"/\1", path))


async def _respond(send: Send, reply: Reply, request_id: str, client_request_id: str | None) -> None:
    if reply.body is None:
        payload = b""
    elif isinstance(reply.body, bytes):
        payload = reply.body
    else:
        payload = render(reply.body, reply.base)
    headers = [
        (b"request-id", request_id.encode()),
        (b"client-request-id", (client_request_id or request_id).encode()),
        (b"content-length", str(len(payload)).encode()),
    ]
    if payload:
        headers.append((b"content-type", reply.content_type.encode()))
    headers.extend((k.lower().encode(), v.encode()) for k, v in reply.headers.items())
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _token_error(error: TokenError, request_id: str) -> Reply:
    stamp = _now_text()
    return Reply(
        status=error.status,
        body={
            "error": error.error,
            "error_description": f"{error.aadsts}: {error.description} Trace ID: {request_id} Correlation ID: "
            f"{request_id} Timestamp: {stamp}",
            "error_codes": [int(error.aadsts[6:])],
            "timestamp": stamp,
            "trace_id": request_id,
            "correlation_id": request_id,
        },
    )


def _now_text() -> str:
    return format_ms(time.time_ns() // 1_000_000)
