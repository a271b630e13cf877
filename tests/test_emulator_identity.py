"""Identity rules: discovery, client credentials (secret and certificate), token checks, permissions."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import time

import jwt
import msal
import pytest
import requests
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from graphkit import OTHER_APP, READER_APP, TEMPLATE, RawGraph
from migrator.emulator.directory import load_directory
from migrator.emulator.errors import TokenError
from migrator.emulator.identity import ASSERTION_TYPE, Identity
from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT, EmulatorProcess


class _VerifyingSession(requests.Session):
    def __init__(self, ca: str):
        super().__init__()
        self._ca = ca

    def request(self, *args, **kwargs):
        kwargs["verify"] = self._ca
        return super().request(*args, **kwargs)


def test_ready_line_and_loopback_only(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "migrator", "emulator", "serve", "--port", "0", "--tls-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        assert re.fullmatch(r"READY https://127\.0\.0\.1:\d+ ca=\S+/ca\.pem", line), line
        assert (tmp_path / "ca.pem").exists()
    finally:
        process.terminate()
        process.wait(10)
    refused = subprocess.run(
        [sys.executable, "-m", "migrator", "emulator", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "loopback" in refused.stderr


def test_openid_configuration_and_unknown_tenant(emulator):
    config = requests.get(
        f"{emulator.url}/{DEMO_TENANT}/v2.0/.well-known/openid-configuration", verify=str(emulator.ca)
    ).json()
    assert config["token_endpoint"] == f"{emulator.url}/{DEMO_TENANT}/oauth2/v2.0/token"
    graph = RawGraph(emulator)
    unknown = graph.fetch_token(DEMO_CLIENT_ID, DEMO_SECRET, tenant="not-a-tenant")
    assert unknown.status_code == 400 and "AADSTS90002" in unknown.json()["error_description"]


def test_wrong_secret_unknown_app_and_bad_scope(emulator):
    graph = RawGraph(emulator)
    wrong = graph.fetch_token(DEMO_CLIENT_ID, "wrong")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client" and "AADSTS7000215" in wrong.json()["error_description"]
    assert "wrong" not in wrong.text and DEMO_SECRET not in wrong.text
    unknown = graph.fetch_token("00000000-0000-0000-0000-000000000000", "x")
    assert unknown.status_code == 400 and "AADSTS700016" in unknown.json()["error_description"]
    scope = graph.fetch_token(DEMO_CLIENT_ID, DEMO_SECRET, scope="User.Read")
    assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"


def test_msal_gets_a_token_with_a_secret(emulator):
    app = msal.ConfidentialClientApplication(
        DEMO_CLIENT_ID,
        client_credential=DEMO_SECRET,
        authority=f"{emulator.url}/{DEMO_TENANT}",
        validate_authority=False,
        instance_discovery=False,
        http_client=_VerifyingSession(str(emulator.ca)),
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    assert "access_token" in result, result
    graph = RawGraph(emulator)
    assert graph.call("GET", "/users", token=result["access_token"]).status_code == 200


def test_certificate_assertion(tmp_path):
    """A certificate registered on the app signs the assertion; another certificate is refused."""
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    good = ca.issue_cert("migrator-app", key_type=trustme.KeyType.RSA)
    other = ca.issue_cert("someone-else", key_type=trustme.KeyType.RSA)
    directory = tmp_path / "directory.json"
    directory.write_text(
        json.dumps(
            {
                "apps": [
                    {
                        "client_id": "cert-app",
                        "roles": ["User.Read.All"],
                        "certificates": [good.cert_chain_pems[0].bytes().decode()],
                    }
                ]
            }
        )
    )
    with EmulatorProcess(directory=directory, tls_dir=tmp_path / "tls") as emu:

        def token(cert) -> dict:
            app = msal.ConfidentialClientApplication(
                "cert-app",
                authority=f"{emu.url}/{DEMO_TENANT}",
                validate_authority=False,
                instance_discovery=False,
                client_credential={
                    "private_key": cert.private_key_pem.bytes().decode(),
                    "public_certificate": cert.cert_chain_pems[0].bytes().decode(),
                },
                http_client=_VerifyingSession(str(emu.ca)),
            )
            return app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])

        accepted = token(good)
        assert "access_token" in accepted, accepted
        refused = token(other)
        assert refused.get("error") == "invalid_client" and "AADSTS700027" in refused["error_description"]


def test_an_assertion_naming_a_certificate_without_an_rsa_key_is_refused(tmp_path):
    """RS256 and PS256 need an RSA key: an assertion that names a registered EC certificate is a 401, not a crash."""
    ec_cert = trustme.CA().issue_cert("ec-app", key_type=trustme.KeyType.ECDSA)
    pem = ec_cert.cert_chain_pems[0].bytes().decode()
    signer = trustme.CA().issue_cert("signer", key_type=trustme.KeyType.RSA)
    directory = tmp_path / "directory.json"
    directory.write_text(json.dumps({"apps": [{"client_id": "ec-app", "roles": [], "certificates": [pem]}]}))
    base, audience = "https://127.0.0.1", f"https://127.0.0.1/{DEMO_TENANT}/oauth2/v2.0/token"
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    claims = {"iss": "ec-app", "sub": "ec-app", "aud": audience, "exp": int(time.time()) + 600}
    assertion = jwt.encode(claims, signer.private_key_pem.bytes(), algorithm="RS256", headers={"x5t#S256": thumbprint})
    form = {
        "grant_type": "client_credentials",
        "client_id": "ec-app",
        "scope": "https://graph.microsoft.com/.default",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    with pytest.raises(TokenError) as refused:
        Identity(load_directory(directory)).issue_token(base, DEMO_TENANT, form)
    assert refused.value.status == 401 and refused.value.aadsts == "AADSTS700027"


def test_graph_calls_need_a_valid_token(emulator):
    graph = RawGraph(emulator)
    missing = graph.call("GET", "/users", headers={"Authorization": ""})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "InvalidAuthenticationToken"
    forged = graph.call("GET", "/users", token=graph.token[:-4] + "AAAA")
    assert forged.status_code == 401
    assert missing.json()["error"]["innerError"]["request-id"] == missing.headers["request-id"]


def test_tokens_expire(emulator):
    emulator.operator("config", {"token_lifetime": 1})
    graph = RawGraph(emulator)
    assert graph.call("GET", "/users").status_code == 200
    time.sleep(2.1)
    expired = graph.call("GET", "/users")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


def test_permissions_are_enforced(emulator):
    reader = RawGraph(emulator, *READER_APP)
    body = {"@microsoft.graph.teamCreationMode": "migration", "template@odata.bind": TEMPLATE, "displayName": "x"}
    denied = reader.call("POST", "/teams", json=body)
    assert denied.status_code == 403 and "Teamwork.Migrate.All" in denied.json()["error"]["message"]
    other = RawGraph(emulator, *OTHER_APP)
    assert other.call("GET", "/users").status_code == 403
    assert reader.call("GET", "/users").status_code == 200
