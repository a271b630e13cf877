"""The identity platform side: OpenID discovery, client-credentials tokens, token checks.

Tokens are real JWTs (signed with a key that lives only in this process), so
a token from a previous emulator run is refused like an expired one would be.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import Encoding

from migrator.emulator.directory import App, Directory
from migrator.emulator.errors import TokenError, Unauthorized

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Principal:
    """Who is calling Graph: the app and the application permissions its token carries."""

    app_id: str
    roles: frozenset[str]


class Identity:
    def __init__(self, directory: Directory, lifetime: int = 3599):
        self.directory = directory
        self.lifetime = lifetime
        self._key = secrets.token_bytes(32)
        self._valid: dict[str, tuple[float, Principal]] = {}

    def openid_configuration(self, base: str, tenant: str) -> dict[str, str | list[str]]:
        self._require_tenant(tenant)
        root = f"{base}/{self.directory.tenant_id}"
        return {
            "issuer": f"{root}/v2.0",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
            "tenant_region_scope": "EU",
        }

    def issue_token(self, base: str, tenant: str, form: dict[str, str]) -> dict[str, str | int]:
        """The client-credentials grant with a secret or a certificate assertion."""
        self._require_tenant(tenant)
        if form.get("grant_type") != "client_credentials":
            raise TokenError(
                400, "unsupported_grant_type", "AADSTS70003", "The app requested an unsupported grant type."
            )
        app = self.directory.apps.get(form.get("client_id", ""))
        if app is None:
            raise TokenError(
                400,
                "unauthorized_client",
                "AADSTS700016",
                f"Application with identifier '{form.get('client_id', '')}' was not found in the directory.",
            )
        resource = _resource_of(form.get("scope", ""))
        if form.get("client_assertion"):
            self._check_assertion(app, form, f"{base}/{tenant}/oauth2/v2.0/token")
        elif (
            not form.get("client_secret")
            or not app.secret
            or not secrets.compare_digest(form["client_secret"], app.secret)
        ):
            raise TokenError(
                401,
                "invalid_client",
                "AADSTS7000215",
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                "value, not the client secret ID, for a secret added to app '" + app.client_id + "'.",
            )
        now = int(time.time())
        claims = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{self.directory.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "appid": app.client_id,
            "tid": self.directory.tenant_id,
            "roles": sorted(app.roles),
            "idtyp": "app",
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, app.client_id)),
            "uti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._key, algorithm="HS256")
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "ext_expires_in": self.lifetime,
            "access_token": token,
        }

    def authenticate(self, authorization: str | None) -> Principal:
        """The principal behind a Graph call's bearer token, or 401 as Graph words it."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("Access token is empty.")
        token = authorization[7:].strip()
        cached = self._valid.get(token)
        if cached and cached[0] > time.time():
            return cached[1]
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], options={"verify_aud": False})
        except jwt.ExpiredSignatureError:
            self._valid.pop(token, None)
            raise Unauthorized("Lifetime validation failed, the token is expired.") from None
        except jwt.PyJWTError:
            raise Unauthorized("Access token validation failure. Invalid audience or signature.") from None
        principal = Principal(app_id=claims["appid"], roles=frozenset(claims.get("roles", ())))
        if len(self._valid) > 10_000:
            self._valid.clear()
        self._valid[token] = (float(claims["exp"]), principal)
        return principal

    def _require_tenant(self, tenant: str) -> None:
        if not self.directory.is_tenant(tenant):
            raise TokenError(
                400,
                "invalid_tenant",
                "AADSTS90002",
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.",
            )

    def _check_assertion(self, app: App, form: dict[str, str], audience: str) -> None:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise TokenError(400, "invalid_request", "AADSTS50027", "Invalid client_assertion_type.")
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise TokenError(401, "invalid_client", "AADSTS50027", "The client assertion is not a valid JWT.") from None
        cert = _matching_certificate(app, header)
        if cert is None:
            raise TokenError(
                401,
                "invalid_client",
                "AADSTS700027",
                "The certificate with identifier used to sign the client assertion is not registered on application "
                f"'{app.client_id}'.",
            )
        key = cert.public_key()
        if not isinstance(key, RSAPublicKey):  # the RS256 and PS256 assertions we accept need one
            raise TokenError(
                401,
                "invalid_client",
                "AADSTS700027",
                "Client assertion failed signature validation: the certificate's key is not an RSA key.",
            )
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256", "PS256"],
                audience=audience,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(
                401,
                "invalid_client",
                "AADSTS700027",
                f"Client assertion failed signature validation: {type(exc).__name__}.",
            ) from None
        if claims["iss"] != app.client_id or claims["sub"] != app.client_id:
            raise TokenError(
                401,
                "invalid_client",
                "AADSTS700021",
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )


def _resource_of(scope: str) -> str:
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise TokenError(
            400,
            "invalid_scope",
            "AADSTS1002012",
            f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value with "
            "/.default suffixed to the resource identifier (application ID URI).",
        )
    return scopes[0][: -len("/.default")]


def _matching_certificate(app: App, header: dict[str, Any]) -> x509.Certificate | None:
    for pem in app.certificates:
        cert = x509.load_pem_x509_certificate(pem.encode())
        der = cert.public_bytes(Encoding.DER)
        if _thumb(header.get("x5t#S256")) == _b64url(hashlib.sha256(der).digest()) or _thumb(
            header.get("x5t")
        ) == _b64url(hashlib.sha1(der).digest()):
            return cert
    return None


def _thumb(value: str | None) -> str | None:
    """Thumbprints arrive base64url-encoded, with or without padding (MSAL pads)."""
    return value.rstrip("=") if value else None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
