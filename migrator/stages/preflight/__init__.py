"""`migrator preflight`: prove a customer's tenant accepts the migration before cutover.

Steps run in order, each recorded as passed, failed or skipped with why, Graph's error code and request-id and
how long it took: credentials and consent, the directory, the export licence, a canary migration (`canary.py`, the
only step that writes to the tenant, and which cleans up), capacity (from a plan). A step that cannot run because
an earlier one failed (no token) is skipped with that reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from migrator.graph import AuthenticationError, GraphClient, GraphConfig, GraphError
from migrator.mapping.model import MappingError, MappingFiles
from migrator.mapping.reading import load_all
from migrator.plan import Manifest, PlannedMember
from migrator.stages.preflight import checks
from migrator.stages.preflight.canary import Canary, CanaryPeople
from migrator.stages.preflight.outcome import PreflightOutcome, Step


@dataclass(frozen=True)
class PreflightOptions:
    mappings: Path
    plan: Path | None = None
    model: str | None = None
    canary: bool = True
    keep: bool = False
    canary_chat: bool = False


def read_inputs(options: PreflightOptions) -> MappingFiles:
    """Bad input stops before any request (exit 2): unreadable mappings, no plan at --plan."""
    files = load_all(options.mappings)
    if files.problems:
        raise MappingError("the mapping files have problems:\n" + "\n".join(f"  {p}" for p in files.problems))
    if options.plan is not None:
        Manifest.read(options.plan)
    return files


def preflight(config: GraphConfig, client: GraphClient, options: PreflightOptions, target: str) -> PreflightOutcome:
    files = read_inputs(options)
    outcome = PreflightOutcome(target=target, started=datetime.now(UTC).isoformat(timespec="seconds"))
    with _step(outcome, "credentials and consent") as step:
        checks.credentials(config, step)
    signed_in = "roles" in outcome.steps[-1].facts  # a token was obtained, whatever it lacks
    first = next((row for row in files.rows if row.action == "map" and row.entra_id), None)
    account = files.mappings.fallback_id or (first.entra_id if first else None)
    poster = files.mappings.fallback or (first.source_name if first else "")
    others = tuple(
        PlannedMember(row.entra_id, row.source_name)
        for row in files.rows
        if row.action == "map" and row.entra_id and row.entra_id != account
    )[:2]
    runs: list[tuple[str, Callable[[Step], None]]] = [
        ("directory", lambda step: checks.directory(client, files, step)),
        ("export licence", lambda step: checks.licence(client, account, options.model, step)),
        ("canary migration", lambda step: _canary(client, options, CanaryPeople(account or "", poster, others), step)),
    ]
    for title, run in runs:
        with _step(outcome, title) as step:
            if signed_in:
                run(step)
            else:
                step.skip("no token: see credentials and consent")
    with _step(outcome, "capacity") as step:
        if options.plan is None:
            step.skip("no --plan given")
        else:
            checks.capacity(options.plan, step)
    return outcome


def _canary(client: GraphClient, options: PreflightOptions, people: CanaryPeople, step: Step) -> None:
    if not options.canary:
        step.skip("--no-canary")
    elif not people.account:
        step.skip("no fallback account or mapped person to post as")
    else:
        Canary(client, people, options.model, options.keep, options.canary_chat).run(step)


@contextmanager
def _step(outcome: PreflightOutcome, name: str) -> Iterator[Step]:
    """Time one step and turn a Graph refusal into its failure (with the code and request-id)."""
    step = Step(name)
    outcome.steps.append(step)
    started = time.monotonic()
    try:
        yield step
    except AuthenticationError as error:
        step.fail(f"no token: {error.message}", error)
    except GraphError as error:
        checks.graph_failure(step, error)
    finally:
        step.seconds = round(time.monotonic() - started, 3)
