"""A local certificate authority and server certificate for the emulator.

MSAL only talks to `https` authorities, so the emulator serves TLS; clients
trust it through `ca.pem`. The CA (and its key) are kept in the TLS directory
and reused, so a restarted emulator is still trusted by running clients.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def prepare(tls_dir: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")) -> TlsFiles:
    tls_dir.mkdir(parents=True, exist_ok=True)
    ca_path, ca_key_path = tls_dir / "ca.pem", tls_dir / "ca-key.pem"
    if ca_path.exists() and ca_key_path.exists():
        ca = trustme.CA.from_pem(ca_path.read_bytes(), ca_key_path.read_bytes())
    else:
        ca = trustme.CA(organization_name="teams-migrator Graph emulator")
        _write_private(ca_key_path, ca.private_key_pem.bytes())
        ca.cert_pem.write_to_path(str(ca_path))
    server = ca.issue_cert(*hosts)
    cert_path, key_path = tls_dir / "server.pem", tls_dir / "server-key.pem"
    cert_path.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    _write_private(key_path, server.private_key_pem.bytes())
    return TlsFiles(ca=ca_path, cert=cert_path, key=key_path)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
