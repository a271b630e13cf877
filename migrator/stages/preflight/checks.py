"""Preflight's read-only steps: credentials and consent, the directory, the export licence, capacity.

Each takes the step record it fills in; none writes to the tenant.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from migrator.critical import critical_path, planned_requests
from migrator.graph import GraphClient, GraphConfig, GraphError, PaymentRequiredError
from migrator.limits import CHANNEL_RPS, IMPORT_BUDGET_RPS
from migrator.mapping.model import MappingFiles
from migrator.permissions import token_roles, unmet
from migrator.plan import Manifest
from migrator.stages.export.billing import explain
from migrator.stages.load.accounts import find_users
from migrator.stages.preflight.outcome import Step
from migrator.words import counted

USER_FIELDS = "id,mail,userPrincipalName,accountEnabled"


def consent_url(config: GraphConfig) -> str:
    """Where a tenant administrator grants the app's configured permissions (the identity platform's admin consent)."""
    return f"{config.login_url}/{config.tenant_id}/adminconsent?client_id={config.client_id}"


def credentials(config: GraphConfig, step: Step) -> None:
    """A token is obtained, and its `roles` allow every call of every stage (graph-contract.md#authentication)."""
    roles = token_roles(config)
    step.facts["roles"] = sorted(roles)
    missing = unmet(roles)
    step.details = [str(call) for call in missing]
    if missing:
        stages = sorted({call.stage for call in missing})
        step.facts["missing_by_stage"] = {
            stage: sorted({" or ".join(call.any_of) for call in missing if call.stage == stage}) for stage in stages
        }
        step.facts["consent_url"] = consent_url(config)
        step.fail(
            f"the app lacks permissions for {', '.join(stages)}: add them to the app registration, "
            f"then have an administrator grant them at {consent_url(config)}"
        )


def directory(client: GraphClient, files: MappingFiles, step: Step) -> None:
    """Every mapped person and the fallback account exist, are enabled and hold the id the mapping gives them
    (graph-contract.md#directory-look-ups)."""
    mappings = files.mappings
    wanted = {row.entra_id: row for row in files.rows if row.action == "map" and row.entra_id}
    ids = list(wanted) + ([mappings.fallback_id] if mappings.fallback_id and mappings.fallback_id not in wanted else [])
    found = find_users(client, ids, USER_FIELDS)
    users_csv = mappings.users_path.as_posix()
    yaml_line = f"{mappings.path.as_posix()}:{mappings.lines.get('users', 0)}"
    where = {
        entra_id: f"{users_csv}:{row.line}: {row.source_name or row.source_id} ({row.email or 'no email'})"
        for entra_id, row in wanted.items()
    }
    if mappings.fallback_id:
        where[mappings.fallback_id] = f"{yaml_line}: the fallback account {mappings.fallback or ''}"
    for user_id in ids:
        step.details.extend(_problem(where[user_id], user_id, found.get(user_id), wanted.get(user_id)))
    if not mappings.fallback_id:
        step.details.append(f"{mappings.path.as_posix()}: no fallback_id: people without an account post as nobody")
    step.facts.update(people=len(wanted), fallback=mappings.fallback_id, problems=len(step.details))
    if step.details:
        step.fail(f"{len(step.details):,} of {counted(len(ids), 'account')} missing, disabled or not the mapped person")


def _problem(where: str, user_id: str, user: dict[str, Any] | None, row: Any) -> list[str]:
    if user is None:
        return [f"{where}: {user_id} is not a user of this tenant"]
    if user.get("accountEnabled") is False:
        return [f"{where}: {user_id} is disabled (accountEnabled false)"]
    email = (getattr(row, "email", "") or "").lower()
    addresses = {str(user.get("mail") or "").lower(), str(user.get("userPrincipalName") or "").lower()}
    if email and email not in addresses:
        return [f"{where}: {user_id} is {user.get('mail') or user.get('userPrincipalName')}, not {email}"]
    return []


def licence(client: GraphClient, user_id: str | None, model: str | None, step: Step) -> None:
    """One export read as the configured billing model; a 402 says what it means (graph-contract.md#export-billing)."""
    if user_id is None:
        step.skip("no mapped person or fallback account to read the chats of")
        return
    params = {"$top": 1, **({"model": model} if model else {})}
    try:
        client.get_json(f"/users/{user_id}/chats/getAllMessages", params=params)
    except PaymentRequiredError as error:
        step.fail(explain(error, model), error)
    step.facts["model"] = model or "evaluation"


def capacity(plan_dir: Path, step: Step) -> None:
    """The plan's requests and conversations, its critical path at 5 requests/s per conversation
    (`migrator/critical.py`, what load schedules by), and the tenant's import budget per app registration: when the
    budget, not the critical path, bounds the load, more app registrations would shorten it."""
    manifest = Manifest.read(plan_dir)
    conversations = [conv for _, conv in manifest.conversations()]
    requests = sum(planned_requests(conv) for conv in conversations)
    path = critical_path(manifest.teams, manifest.chats)
    budget_seconds = requests / IMPORT_BUDGET_RPS
    apps = max(1, math.ceil(budget_seconds / path.seconds)) if path.seconds else 1
    longest = path.longest
    step.facts.update(
        requests=requests,
        conversations=len(conversations),
        critical_path_seconds=round(path.seconds, 1),
        critical_chain=longest.name if longest else None,
        budget_requests_per_second=IMPORT_BUDGET_RPS,
        budget_seconds=round(budget_seconds, 1),
        app_registrations_that_would_shorten_it=apps - 1,
    )
    step.reason = (
        f"{counted(requests, 'request')} in {counted(len(conversations), 'conversation')}; "
        f"critical path {path.seconds:,.0f} s at "
        f"{CHANNEL_RPS:g} requests/s per conversation ({longest.name if longest else 'nothing'}); the tenant's budget "
        f"of {IMPORT_BUDGET_RPS:,.0f} requests/s per app needs {budget_seconds:,.0f} s"
        + (
            f"; {counted(apps - 1, 'more app registration')} would bring the load to its critical path"
            if apps > 1
            else ""
        )
    )


def graph_failure(step: Step, error: GraphError) -> None:
    step.fail(f"{error.status or 'no answer'} {error.code or ''}: {error.message}".replace("  ", " "), error)
