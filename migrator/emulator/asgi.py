"""The ASGI plumbing both emulators share: reading a request's body and hanging up without an answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def close_without_answer(send: Send) -> None:
    """A lost response: the request was applied, the connection closes before the rest of the answer.

    uvicorn's `send` is a bound method of its request cycle, which holds the
    transport; closing it is the only way an ASGI app can hang up mid-request.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("drop faults need uvicorn's HTTP protocol (no transport found)")
    transport.close()
