"""A whole migration of one export into the test emulator: map, transform, load, verify.

Mappings are drafted as a consultant would (`run_map`), matched by email
against the emulator's own demo directory so every mapped id exists there;
people it lacks post through its migration account.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.mapping import run_map
from migrator.stages.export import export_limiter
from migrator.stages.load import LoadOptions, LoadOutcome, load
from migrator.stages.transform import TransformResult, transform
from migrator.stages.verify import VerifyOptions, verify
from migrator.stages.verify.outcome import VerifyOutcome
from migrator.target import Target as GraphTarget
from migrator.timestamps import parse_ms

DEMO_DIRECTORY = Path(__file__).resolve().parents[1] / "migrator" / "emulator" / "demo_directory.json"
FALLBACK = "migration@contoso.example"
NOW_MS = parse_ms("2026-01-01T00:00:00.000Z")  # after every sample's messages, fixed so plans are golden


def demo_lookup(mail: str) -> Mapping[str, Any] | None:
    """The demo directory's user with this mail, as `map` looks people up."""
    users = json.loads(DEMO_DIRECTORY.read_text(encoding="utf-8"))["users"]
    return next((u for u in users if str(u.get("mail", "")).casefold() == mail.casefold()), None)


def plan_sample(
    source: Path, work: Path, source_format: str | None = None, mapped: Mapping[str, str] | None = None
) -> TransformResult:
    """Drafted mappings and the plan for an export, in `work/mappings` and `work/plan`; `mapped` (source id → Entra
    id) are people a consultant maps by hand in users.csv, as a source without emails needs."""
    run_map(source, work / "mappings", demo_lookup, fallback=FALLBACK, force=True, source_format=source_format)
    if mapped:
        map_by_hand(work / "mappings" / "users.csv", mapped)
    return transform(source, work / "mappings", work / "plan", now_ms=NOW_MS, source_format=source_format)


def map_by_hand(users_csv: Path, mapped: Mapping[str, str]) -> None:
    """Rows of users.csv set to `map` to the given Entra ids."""
    with open(users_csv, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["source_id"] in mapped:
            row.update(entra_id=mapped[row["source_id"]], action="map")
    with open(users_csv, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@dataclass
class Migration:
    plan: TransformResult
    journal: Path
    loaded: LoadOutcome
    verified: VerifyOutcome


def migrate_sample(
    emulator: EmulatorProcess,
    source: Path,
    work: Path,
    source_format: str | None = None,
    mapped: Mapping[str, str] | None = None,
) -> Migration:
    """Plan, load into the emulator and read back through the export API."""
    emulator.operator("config", {"channel_rps": 10_000})
    planned = plan_sample(source, work, source_format, mapped)
    journal = work / "journal.sqlite"
    with Journal(journal) as j, GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        j.bind(GraphTarget(emulator.graph_config(), None).fingerprint)  # as `migrator load` binds it
        loaded = load(planned.plan_dir, client, j, LoadOptions(workers=4))
    with Journal(journal, readonly=True) as j, GraphClient(emulator.graph_config(), limiter=export_limiter()) as client:
        verified = verify(planned.plan_dir, client, j, VerifyOptions())
    return Migration(planned, journal, loaded, verified)
