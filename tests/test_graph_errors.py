import json

import pytest
import requests

from migrator.graph import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GraphError,
    NotFoundError,
    PaymentRequiredError,
    ServerError,
    ThrottledError,
    UnauthorizedError,
)

URL = "https://graph.test/v1.0/teams/t1/channels/c1/messages?$top=50&$skiptoken=abc"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def response(status, *, json_body=None, text=None, headers=None, method="POST"):
    """A requests.Response as a real exchange would leave it (with its request)."""
    resp = requests.Response()
    resp.status_code = status
    resp.headers.update(headers or {})
    if json_body is not None:
        resp._content = json.dumps(json_body).encode()
        resp.headers["Content-Type"] = "application/json"
    else:
        resp._content = (text or "").encode()
    resp.request = requests.Request(method, URL, headers={"client-request-id": "crid-sent"}).prepare()
    return resp


def envelope(code, message, request_id="rid-1", client_request_id="crid-1"):
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2024-01-01T00:00:00",
                "request-id": request_id,
                "client-request-id": client_request_id,
            },
        }
    }


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [
        (400, BadRequestError, "BadRequest"),
        (401, UnauthorizedError, "InvalidAuthenticationToken"),
        (402, PaymentRequiredError, "PaymentRequired"),
        (403, ForbiddenError, "Forbidden"),
        (404, NotFoundError, "NotFound"),
        (409, ConflictError, "NameAlreadyExists"),
        (429, ThrottledError, "TooManyRequests"),
        (500, ServerError, "InternalServerError"),
        (502, ServerError, "BadGateway"),
        (503, ServerError, "ServiceUnavailable"),
        (504, ServerError, "GatewayTimeout"),
    ],
)
def test_status_picks_typed_error_with_envelope_fields(status, cls, code):
    error = GraphError.from_response(response(status, json_body=envelope(code, f"message for {status}")))
    assert type(error) is cls
    assert (error.status, error.code, error.message) == (status, code, f"message for {status}")
    assert (error.request_id, error.client_request_id) == ("rid-1", "crid-1")
    assert error.method == "POST"


def test_unlisted_status_is_plain_graph_error():
    error = GraphError.from_response(response(413, text="too large"))
    assert type(error) is GraphError
    assert error.message == "too large"


def test_str_reads_well_and_drops_query():
    error = GraphError.from_response(response(409, json_body=envelope("NameAlreadyExists", "Channel name exists")))
    assert str(error) == (
        "POST /v1.0/teams/t1/channels/c1/messages → 409 Conflict: [NameAlreadyExists] Channel name exists (request-id "
        "rid-1)"
    )
    assert error.url == "https://graph.test/v1.0/teams/t1/channels/c1/messages"
    assert "skiptoken" not in repr(error)
    assert repr(error).startswith("ConflictError(")


def test_falls_back_to_header_and_text_when_not_an_envelope():
    error = GraphError.from_response(
        response(502, text="<html>Bad gateway</html>", headers={"request-id": "hdr-rid"}, method="GET")
    )
    assert type(error) is ServerError
    assert error.code is None
    assert error.message == "<html>Bad gateway</html>"
    assert error.request_id == "hdr-rid"
    assert error.client_request_id == "crid-sent"
    assert (
        str(error)
        == "GET /v1.0/teams/t1/channels/c1/messages → 502 Bad Gateway: <html>Bad gateway</html> (request-id hdr-rid)"
    )


def test_empty_body_uses_status_phrase():
    error = GraphError.from_response(response(503, text=""))
    assert error.message == "Service Unavailable"


def test_echoed_tokens_are_redacted():
    error = GraphError.from_response(
        response(
            400, json_body=envelope("BadRequest", f"bad header Authorization: Bearer {JWT} in client_secret=hunter2")
        )
    )
    assert JWT not in str(error)
    assert "hunter2" not in str(error)
    assert "Bearer ***" in str(error)


def test_hint_is_appended():
    error = ServerError("boom", status=500, method="POST", url=URL, hint="look it up first")
    assert str(error).endswith("boom; look it up first")


def test_authentication_error_names_the_sign_in():
    error = AuthenticationError(
        "invalid_client: AADSTS7000215: Invalid client secret", code="AADSTS7000215", url="https://login.test/t"
    )
    assert (
        str(error)
        == "sign-in at https://login.test/t refused: [AADSTS7000215] invalid_client: AADSTS7000215: Invalid client "
        "secret"
    )
