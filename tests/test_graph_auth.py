import base64
import datetime
import hashlib
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from migrator.graph import AuthenticationError, ConfigError, GraphConfig, TokenProvider
from migrator.graph import auth as auth_module
from migrator.graph.testing import mock_login, token_endpoint

SECRET = "s3cr3t-value-xyz"
PASSWORD = "pem-pass-789"


def secret_config(**kwargs):
    return GraphConfig(
        tenant_id="tenant-1",
        client_id="client-1",
        client_secret=SECRET,
        graph_url="https://graph.test",
        login_url="https://login.test",
        **kwargs,
    )


def token_posts(rsps):
    return [c for c in rsps.calls if c.request.method == "POST"]


def form(call):
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@responses.activate
def test_secret_flow_and_cache():
    config = secret_config()
    mock_login(responses, config, tokens=("token-1", "token-2"))
    provider = TokenProvider(config)
    assert provider.token() == "token-1"
    assert provider.token() == "token-1"  # cached by MSAL: one POST
    (post,) = token_posts(responses)
    body = form(post)
    assert body["client_id"] == "client-1"
    assert body["client_secret"] == SECRET
    assert body["grant_type"] == "client_credentials"
    assert body["scope"] == "https://graph.test/.default"


@responses.activate
def test_force_refresh_fetches_a_new_token():
    config = secret_config()
    mock_login(responses, config, tokens=("token-1", "token-2"))
    provider = TokenProvider(config)
    assert provider.token() == "token-1"
    assert provider.token(force_refresh=True) == "token-2"
    assert len(token_posts(responses)) == 2


@responses.activate
def test_refresh_of_an_already_replaced_token_is_free():
    config = secret_config()
    mock_login(responses, config, tokens=("token-1", "token-2", "token-3"))
    provider = TokenProvider(config)
    provider.token()
    assert provider.refresh("token-1") == "token-2"
    assert provider.refresh("token-1") == "token-2"  # another thread saw the same rejection
    assert len(token_posts(responses)) == 2


@responses.activate
def test_ca_bundle_wins_over_requests_ca_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    config = secret_config(ca_bundle=str(tmp_path / "emulator-ca.pem"))
    mock_login(responses, config)
    TokenProvider(config).token()
    assert len(responses.calls) == 2
    assert all(call.request.req_kwargs["verify"] == config.ca_bundle for call in responses.calls)
    assert all(call.request.req_kwargs["timeout"] for call in responses.calls)


@responses.activate
def test_refusal_raises_authentication_error_without_the_secret():
    config = secret_config()
    mock_login(responses, config, tokens=())
    responses.add(
        "POST",
        token_endpoint(config),
        status=401,
        json={
            "error": "invalid_client",
            "error_description": f"AADSTS7000215: Invalid client secret provided ({SECRET}).\r\nTrace ID: abc",
            "error_codes": [7000215],
        },
    )
    with pytest.raises(AuthenticationError) as info:
        TokenProvider(config).token()
    error = info.value
    assert error.code == "AADSTS7000215"
    assert "Invalid client secret provided" in str(error)
    assert "https://login.test/tenant-1" in str(error)
    for text in (str(error), repr(error), error.message):
        assert SECRET not in text


@pytest.mark.parametrize(
    ("login_url", "expected"),
    [
        ("https://login.microsoftonline.com", {}),
        ("https://127.0.0.1:8443", {"validate_authority": False, "instance_discovery": False}),
    ],
)
def test_authority_checks_only_skipped_off_microsoft(monkeypatch, login_url, expected):
    seen = {}

    class FakeApp:
        def __init__(self, client_id, **kwargs):
            seen.update(kwargs)

        def acquire_token_for_client(self, scopes):
            return {"access_token": "t"}

    monkeypatch.setattr(auth_module.msal, "ConfidentialClientApplication", FakeApp)
    config = GraphConfig(tenant_id="tn", client_id="c", client_secret=SECRET, login_url=login_url)
    TokenProvider(config).token()
    assert seen["authority"] == f"{login_url}/tn"
    assert {k: seen[k] for k in ("validate_authority", "instance_discovery") if k in seen} == expected


# --- certificate credential -------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "teams-migrator test app")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def write_pem(path, key, cert, password=None):
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.write_bytes(key_pem + cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def cert_config(pem_path, password=None):
    return GraphConfig(
        tenant_id="tenant-1",
        client_id="client-1",
        client_cert=pem_path,
        client_cert_password=password,
        graph_url="https://graph.test",
        login_url="https://login.test",
    )


@pytest.mark.parametrize("password", [None, PASSWORD])
@responses.activate
def test_certificate_signs_a_ps256_client_assertion(tmp_path, key_and_cert, password):
    key, cert = key_and_cert
    config = cert_config(write_pem(tmp_path / "app.pem", key, cert, password), password)
    mock_login(responses, config)
    assert TokenProvider(config).token() == "token-1"

    body = form(token_posts(responses)[0])
    assert "client_secret" not in body
    assert body["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assertion = body["client_assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "PS256"
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())
    assert header["x5t#S256"].rstrip("=") == thumbprint.decode().rstrip("=")
    claims = jwt.decode(assertion, cert.public_key(), algorithms=["PS256"], audience=token_endpoint(config))
    assert claims["iss"] == claims["sub"] == "client-1"


@responses.activate
def test_assertion_from_another_key_does_not_verify(tmp_path, key_and_cert):
    key, cert = key_and_cert
    config = cert_config(write_pem(tmp_path / "app.pem", key, cert))
    mock_login(responses, config)
    TokenProvider(config).token()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            form(token_posts(responses)[0])["client_assertion"],
            other.public_key(),
            algorithms=["PS256"],
            audience=token_endpoint(config),
        )


def test_encrypted_key_needs_a_password(tmp_path, key_and_cert):
    key, cert = key_and_cert
    config = cert_config(write_pem(tmp_path / "app.pem", key, cert, PASSWORD))
    with pytest.raises(ConfigError, match="MIGRATOR_CLIENT_CERT_PASSWORD"):
        TokenProvider(config).token()


def test_pem_without_certificate_is_refused(tmp_path, key_and_cert):
    key, _ = key_and_cert
    path = tmp_path / "key-only.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    with pytest.raises(ConfigError, match="certificate"):
        TokenProvider(cert_config(str(path))).token()


@responses.activate
def test_wrong_password_is_a_config_error_without_the_password(tmp_path, key_and_cert):
    key, cert = key_and_cert
    config = cert_config(write_pem(tmp_path / "app.pem", key, cert, PASSWORD), "wrong-password-123")
    mock_login(responses, config)
    with pytest.raises(ConfigError) as info:
        TokenProvider(config).token()
    assert "wrong-password-123" not in str(info.value)
