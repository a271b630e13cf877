"""What every reliability check shares: a generated workspace turned into a plan, the CLI pointed at an
emulator as if it were a tenant, load re-run until done, and verify's verdict as one summary line."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.stages import Workspace, generate, mappings, migrator, route_teams, transform
from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT, EmulatorProcess
from migrator.plan import Manifest

RUN_TIMEOUT = 900.0  # one load or verify run; far above what any check needs


class CheckFailed(AssertionError):
    """A reliability check did not hold; the message says what was found."""


@dataclass(frozen=True)
class Planned:
    workspace: Workspace
    plan: Path
    messages: int  # planned message lines (the generator's joins and the like are not imported)


def planned_workspace(work: Path, channels: int, messages: int, seed: int = 7, teams: int = 1) -> Planned:
    """A generated workspace through `map` and `transform`: the plan a consultant would load (with `teams`, its
    channels routed to that many teams)."""
    workspace = generate(work, messages, channels=channels, seed=seed, teams=teams)
    plan = work / f"plan-{messages}-{channels}ch-{teams}teams"
    mapped = mappings(workspace, work)
    if teams > 1:
        route_teams(mapped, teams)
    transform(workspace, mapped, plan, work)
    return Planned(workspace, plan, sum(c.messages for _, c in Manifest.read(plan).conversations()))


def target_env(emulator: EmulatorProcess, secret: str = DEMO_SECRET, cert: Path | None = None) -> dict[str, str]:
    """The environment that points `migrator` at this emulator as a tenant, with a secret or a certificate."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    env.update(
        {
            "MIGRATOR_TENANT_ID": DEMO_TENANT,
            "MIGRATOR_CLIENT_ID": DEMO_CLIENT_ID,
            "MIGRATOR_GRAPH_URL": emulator.url,
            "MIGRATOR_LOGIN_URL": emulator.url,
            "MIGRATOR_CA_BUNDLE": str(emulator.ca),
        }
    )
    if cert is not None:
        env["MIGRATOR_CLIENT_CERT"] = str(cert)
    else:
        env["MIGRATOR_CLIENT_SECRET"] = secret
    return env


def load_command(plan: Path, journal: Path, workers: int) -> list[str]:
    return migrator("load", str(plan), "--journal", str(journal), "--workers", str(workers))


def load_until_done(plan: Path, journal: Path, env: dict[str, str], workers: int, runs: int = 6) -> list[int]:
    """Run load until it exits 0, as a consultant re-runs it after a failure; the exit codes of the runs.

    Any run may stop short under faults (a message that failed every retry, or an error while creating a
    team or channel, exits 1); the next run must pick up from the journal.
    """
    codes: list[int] = []
    while len(codes) < runs:
        done = subprocess.run(
            load_command(plan, journal, workers), env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
        )
        codes.append(done.returncode)
        if done.returncode == 0:
            return codes
    raise CheckFailed(
        f"load still not done after {runs} runs (exit codes {codes}):\n{(done.stdout + done.stderr)[-2000:]}"
    )


def runs_text(codes: list[int]) -> str:
    """`1 load run` or `3 load runs (exits 1, 1, 0)`."""
    if len(codes) == 1:
        return "1 load run"
    return f"{len(codes)} load runs (exits {', '.join(map(str, codes))})"


@dataclass(frozen=True)
class Verdict:
    expected: int
    found: int
    missing: int
    duplicated: int
    mismatched: int
    errors: int

    @property
    def clean(self) -> bool:
        return self.found == self.expected and not (self.missing or self.duplicated or self.mismatched or self.errors)

    def line(self) -> str:
        line = f"{self.found:,}/{self.expected:,} landed, {self.missing} missing, {self.duplicated} duplicated"
        return (
            line
            + (f", {self.mismatched} mismatched" if self.mismatched else "")
            + (f", {self.errors} unreadable" if self.errors else "")
        )


def verify_plan(plan: Path, journal: str | Path, env: dict[str, str], out: Path) -> Verdict:
    """`migrator verify` and its verify.json, reduced to the counts a check judges."""
    done = subprocess.run(
        migrator("verify", str(plan), "--journal", str(journal), "--out", str(out)),
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    report = out / "verify.json"
    out.mkdir(parents=True, exist_ok=True)
    (out / "verify-output.txt").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode not in (0, 1) or not report.is_file():
        raise CheckFailed(f"verify exited {done.returncode}:\n{done.stderr[-2000:]}")
    found = json.loads(report.read_text(encoding="utf-8"))
    return Verdict(
        found["expected"],
        found["found"],
        len(found["missing"]),
        len(found["duplicated"]),
        len(found["mismatched"]),
        len(found["errors"]),
    )


def require_clean(name: str, verdict: Verdict, planned: int) -> None:
    if verdict.expected != planned:
        raise CheckFailed(f"{name}: verify expected {verdict.expected} messages, the plan has {planned}")
    if not verdict.clean:
        raise CheckFailed(f"{name}: {verdict.line()}")
