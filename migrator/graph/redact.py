"""Scrub credentials from text before it reaches an error message or a log.

Server error texts and exception messages are passed through here because
we do not control what they echo back (a misbehaving proxy or emulator may
repeat a request body); the contract says secrets and tokens never leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)bearer\s+\S+")
_FORM_SECRET = re.compile(
    r"(?i)\b(client_secret|client_assertion|access_token|refresh_token|password|passphrase)=[^&\s\"']+"
)
_MAX_LEN = 500


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return `text` without known secrets, bearer tokens or JWTs, cut to a readable length."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _BEARER.sub("Bearer ***", text)
    text = _JWT.sub("***", text)
    text = _FORM_SECRET.sub(lambda m: f"{m.group(1)}=***", text)
    return text if len(text) <= _MAX_LEN else text[: _MAX_LEN - 1] + "…"
