"""Every error the emulated Graph returns, one class per Graph error code.

Rules raise these; the HTTP layer renders them in Graph's error envelope, so a
rule never knows about HTTP and an error code is defined once.
"""

from __future__ import annotations


class GraphFault(Exception):
    """An error the emulated Graph answers with; the HTTP layer turns it into a response, so it never reaches
    the migrator's user and is not a `MigratorError`."""

    status = 500
    code = "InternalServerError"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(GraphFault):
    status, code = 400, "BadRequest"


class InvalidRequest(GraphFault):
    status, code = 400, "invalidRequest"


class Unauthorized(GraphFault):
    status, code = 401, "InvalidAuthenticationToken"


class PaymentRequired(GraphFault):
    status, code = 402, "PaymentRequired"


class Forbidden(GraphFault):
    status, code = 403, "Forbidden"


class NotFound(GraphFault):
    status, code = 404, "NotFound"


class UserNotFound(GraphFault):
    status, code = 404, "Request_ResourceNotFound"


class DriveNotFound(GraphFault):
    """A user whose OneDrive was never provisioned (docs/graph-contract.md#chat-files)."""

    status, code = 404, "ResourceNotFound"


class MethodNotAllowed(GraphFault):
    status, code = 405, "MethodNotAllowed"


class Conflict(GraphFault):
    status, code = 409, "Conflict"


class NameAlreadyExists(GraphFault):
    status, code = 409, "NameAlreadyExists"


class PayloadTooLarge(GraphFault):
    status, code = 413, "RequestEntityTooLarge"


class RangeNotSatisfiable(GraphFault):
    status, code = 416, "InvalidRange"


class TooManyRequests(GraphFault):
    status, code = 429, "TooManyRequests"

    def __init__(self, message: str, retry_after: float):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after + 0.999)))})


class BadGateway(GraphFault):
    status, code = 502, "BadGateway"


class ServiceUnavailable(GraphFault):
    status, code = 503, "ServiceUnavailable"


class TokenError(Exception):
    """An identity-platform (AADSTS) error from the token endpoint: a different envelope.

    Like `GraphFault`, an answer of the emulator, never an error of the migrator's user (not a `MigratorError`).
    """

    def __init__(self, status: int, error: str, aadsts: str, description: str):
        super().__init__(f"{aadsts}: {description}")
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description
