"""The `$filter` an export sends, built only from forms Graph accepts (docs/graph-contract.md#export-filters).

Graph accepts a conjunction of `lastModifiedDateTime gt|lt` bounds and one
`or`-group of identity and `messageType` clauses; anything else is a 400.
Sender options therefore always mean "messages from any of these", and the
combinations `or` cannot express (system messages *of* a sender) are refused
here, before a request, with the reason, instead of surfacing as a 400 later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migrator.errors import InputError
from migrator.timestamps import format_ms, parse_ms

USER_TYPES = (
    "aadUser",
    "onPremiseAadUser",
    "anonymousGuest",
    "federatedUser",
    "personalMicrosoftAccountUser",
    "skypeUser",
    "phoneUser",
)
APP_TYPES = ("aadApplication", "bot", "tenantBot", "office365Connector", "outgoingWebhook")
SYSTEM_CHOICES = ("include", "exclude", "only")
SYSTEM = "messageType eq 'systemEventMessage'"
NOT_SYSTEM = "messageType ne 'systemEventMessage'"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FilterError(InputError):
    """Options that no `$filter` Graph accepts can express; says which and what to do."""


@dataclass(frozen=True)
class MessageFilter:
    """Who sent the messages to export; empty means everyone."""

    from_users: tuple[str, ...] = ()
    user_types: tuple[str, ...] = ()
    app_types: tuple[str, ...] = ()
    system_messages: str | None = None  # include | exclude | only; None: no messageType clause

    @property
    def senders(self) -> tuple[str, ...]:
        return (
            tuple(f"from/user/id eq '{oid}'" for oid in self.from_users)
            + tuple(f"from/user/userIdentityType eq '{kind}'" for kind in self.user_types)
            + tuple(f"from/application/applicationIdentityType eq '{kind}'" for kind in self.app_types)
        )

    def check(self) -> None:
        """Raise FilterError for a value Graph rejects or a combination `or` cannot express."""
        for oid in self.from_users:
            if not is_object_id(oid):
                raise FilterError(
                    f"--from-user {oid!r} is not an Entra object id (a GUID such as "
                    "a0000000-0000-4000-8000-000000000002); look the person up by mail first"
                )
        _check_choices("--user-type", self.user_types, USER_TYPES)
        _check_choices("--app-type", self.app_types, APP_TYPES)
        if self.system_messages is not None and self.system_messages not in SYSTEM_CHOICES:
            raise FilterError(f"--system-messages {self.system_messages!r}: use one of {', '.join(SYSTEM_CHOICES)}")
        if self.senders and self.system_messages in ("exclude", "only"):
            raise FilterError(
                f"--system-messages {self.system_messages} cannot be combined with --from-user, --user-type or "
                "--app-type: "
                "Graph joins sender and messageType clauses only with 'or', so this would select "
                + (
                    "every non-system message"
                    if self.system_messages == "exclude"
                    else "system messages plus the senders' messages"
                )
                + ". System event messages have no sender, so sender options already leave them out; "
                "use --system-messages include to add them to the senders' messages"
            )

    def clause(self) -> str | None:
        """The identity/messageType `or`-group, or None when every message is wanted."""
        self.check()
        clauses = list(self.senders)
        if self.system_messages == "include" and clauses:
            clauses.append(SYSTEM)
        elif self.system_messages == "exclude":
            clauses.append(NOT_SYSTEM)
        elif self.system_messages == "only":
            clauses.append(SYSTEM)
        return " or ".join(clauses) or None


def is_object_id(text: str) -> bool:
    """An Entra object id (a GUID), as opposed to a user principal name."""
    return bool(_GUID.match(text))


def _check_choices(option: str, values: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    for value in values:
        if value not in allowed:
            raise FilterError(f"{option} {value!r} is not a type Graph knows; use one of {', '.join(allowed)}")


def parse_moment(value: str, option: str) -> int:
    """An option's timestamp as UTC ms; a bare date means its midnight UTC."""
    text = value.strip()
    try:
        return parse_ms(f"{text}T00:00:00Z" if _DAY.match(text) else text)
    except ValueError:
        raise FilterError(
            f"{option} {value!r} is not a date (2024-05-01) or an ISO-8601 time (2024-05-01T08:00:00Z)"
        ) from None


def build_filter(message_filter: MessageFilter, since_ms: int | None, until_ms: int | None) -> str | None:
    """The whole `$filter`: date bounds joined by `and`, then the sender group in parentheses."""
    if since_ms is not None and until_ms is not None and since_ms >= until_ms:
        raise FilterError(f"--since {format_ms(since_ms)} is not before --until {format_ms(until_ms)}")
    parts = []
    if since_ms is not None:
        parts.append(f"lastModifiedDateTime gt {format_ms(since_ms)}")
    if until_ms is not None:
        parts.append(f"lastModifiedDateTime lt {format_ms(until_ms)}")
    group = message_filter.clause()
    if group:
        parts.append(f"({group})" if parts and " or " in group else group)
    return " and ".join(parts) or None
