"""Secrets: a migration run with a client secret, and one with a certificate, leave none of the credentials
behind: not the secret, not an access token or client assertion (any JWT), not the private key.

Every file the runs wrote is searched as bytes (the SQLite journal and its
WAL included), and so is everything they printed.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import trustme

from bench.reliability.migration import (
    RUN_TIMEOUT,
    CheckFailed,
    Planned,
    load_command,
    require_clean,
    target_env,
    verify_plan,
)
from migrator.emulator.directory import DEMO_PATH
from migrator.emulator.runner import DEMO_CLIENT_ID, EmulatorProcess

JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


def check_secrets(planned: Planned, work: Path, workers: int) -> str:
    secret = f"bench-{secrets.token_urlsafe(24)}"
    pem, certificate, key_lines = _certificate(work / "app.pem")
    directory = _directory(planned.workspace.directory, work / "secrets-directory.json", secret, certificate)
    folders = [
        _run(planned, work / f"secrets-{name}", directory, workers, secret=secret, cert=cert)
        for name, cert in (("secret", None), ("certificate", pem))
    ]
    files = [f for folder in folders for f in sorted(folder.rglob("*")) if f.is_file()]
    needles = {"the client secret": [secret.encode()], "the private key": [b"PRIVATE KEY", *key_lines]}
    found = [
        f"{where} holds {what}"
        for where in files
        for what, hits in needles.items()
        if any(hit in where.read_bytes() for hit in hits)
    ]
    found += [f"{where} holds a token (JWT)" for where in files if JWT.search(where.read_bytes())]
    if found:
        raise CheckFailed("secrets: " + "; ".join(found[:10]))
    size = sum(f.stat().st_size for f in files) / 1e6
    return (
        f"secrets: none found in {len(files)} files ({size:.1f} MB: logs, reports, journals, plans, output) "
        f"after a load and verify with a client secret and with a certificate"
    )


def _certificate(path: Path) -> tuple[Path, str, list[bytes]]:
    """A PEM file with the app's private key and its certificate; the certificate; the key's base64 lines."""
    rsa = trustme.KeyType.RSA  # Entra signs client assertions with RS256/PS256
    issued = trustme.CA(key_type=rsa).issue_cert("bench-app.contoso.example", key_type=rsa)
    key = issued.private_key_pem.bytes()
    certificate = issued.cert_chain_pems[0].bytes()
    path.write_bytes(key + certificate)
    lines = [line for line in key.splitlines() if line and not line.startswith(b"-----")]
    return path, certificate.decode(), lines


def _directory(base: Path, path: Path, secret: str, certificate: str) -> Path:
    """The workspace's directory with the migration app registered under this run's secret and certificate."""
    demo = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    app = next(a for a in demo["apps"] if a["client_id"] == DEMO_CLIENT_ID)
    raw = json.loads(base.read_text(encoding="utf-8"))
    raw["apps"] = [{**app, "secret": secret, "certificates": [certificate]}]
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def _run(planned: Planned, folder: Path, directory: Path, workers: int, secret: str, cert: Path | None) -> Path:
    """Load and verify a copy of the plan into a fresh emulator; every file and output lands in `folder`."""
    plan = folder / "plan"
    shutil.copytree(planned.plan, plan)
    journal = folder / "journal.sqlite"
    with EmulatorProcess(directory=directory) as emulator:
        env = target_env(emulator, secret=secret, cert=cert)
        done = subprocess.run(
            load_command(plan, journal, workers) + ["--out", str(folder / "load")],
            env=env,
            capture_output=True,
            timeout=RUN_TIMEOUT,
        )
        (folder / "load-output.txt").write_bytes(done.stdout + done.stderr)
        if done.returncode != 0:
            raise CheckFailed(f"secrets: load exited {done.returncode}: {done.stderr[-1000:]!r}")
        verdict = verify_plan(plan, journal, env, folder / "verify")
    require_clean("secrets", verdict, planned.messages)
    return folder
