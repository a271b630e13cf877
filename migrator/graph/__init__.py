"""Microsoft Graph client: configuration, tokens, pacing, retries and typed errors."""

from migrator.graph.auth import TokenProvider
from migrator.graph.client import GraphClient, json_object, object_id
from migrator.graph.config import GraphConfig
from migrator.graph.errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ConflictError,
    ConnectionLostError,
    ForbiddenError,
    ForeignHostError,
    GraphError,
    NotFoundError,
    PaymentRequiredError,
    ServerError,
    ThrottledError,
    UnauthorizedError,
)
from migrator.graph.ratelimit import RateLimiter
from migrator.graph.session import GraphSession
from migrator.graph.stats import GraphStats
from migrator.graph.urls import team_id_in

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "ConnectionLostError",
    "ForbiddenError",
    "ForeignHostError",
    "GraphClient",
    "GraphConfig",
    "GraphError",
    "GraphSession",
    "GraphStats",
    "NotFoundError",
    "PaymentRequiredError",
    "RateLimiter",
    "ServerError",
    "ThrottledError",
    "TokenProvider",
    "UnauthorizedError",
    "json_object",
    "object_id",
    "team_id_in",
]
