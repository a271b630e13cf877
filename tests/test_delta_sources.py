"""The delta pass for every source format (issue 27): each sample cut at a moment into an earlier export, migrated,
then the whole sample as the newer export with `map --update`, the same plan folder and journal: every new message
lands once, the conversations completed earlier reopened and completed again, verify clean."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from migratekit import NOW_MS, demo_lookup, migrate_sample
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.mapping import source_reference
from migrator.mapping.update import run_update
from migrator.stages.export import export_limiter
from migrator.stages.load import LoadOptions, load
from migrator.stages.transform import transform
from migrator.stages.verify import VerifyOptions, verify
from migrator.target import Target
from test_sources_migrate import SAMPLES, target, target_process  # noqa: F401  (fixtures)

Record = dict[str, Any]


def _seconds(record: Record) -> float:
    """A message's time in any of the formats: Discord's `timestamp`, Graph's `createdDateTime`, Mattermost's
    `create_at` (ms)."""
    if "create_at" in record:
        return float(record["create_at"]) / 1000
    stamp = record.get("timestamp") or record["createdDateTime"]
    return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def _discord(folder: Path, keep: Callable[[Record], bool]) -> None:
    for path in folder.glob("*.json"):
        export = json.loads(path.read_text(encoding="utf-8"))
        export["messages"] = [m for m in export["messages"] if keep(m)]
        export["messageCount"] = len(export["messages"])
        path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")


def _teams(folder: Path, keep: Callable[[Record], bool]) -> None:
    for path in folder.rglob("*.jsonl"):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        kept = [line for line in lines if keep(line)]
        path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in kept), encoding="utf-8")


def _mattermost(folder: Path, keep: Callable[[Record], bool]) -> None:
    path = folder / "import.jsonl"
    out = []
    for text in path.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        post = line.get(line["type"]) if line["type"] in ("post", "direct_post") else None
        if post is not None:
            if not keep(post):
                continue
            post["replies"] = [reply for reply in post.get("replies") or [] if keep(reply)]
        out.append(json.dumps(line, ensure_ascii=False))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


CUTTERS = {"discord": _discord, "teams": _teams, "mattermost": _mattermost}
CUT_AT = {"discord": "2024-03-05T00:00:00Z", "teams": "2024-03-12T00:00:00Z", "mattermost": "2024-01-08T00:00:00Z"}


def earlier_export(sample: str, root: Path) -> Path:
    """The sample as it was exported at CUT_AT: only the messages sent before then."""
    folder = shutil.copytree(SAMPLES / sample, root / sample)
    cut = datetime.fromisoformat(CUT_AT[sample].replace("Z", "+00:00")).timestamp()
    CUTTERS[sample](folder, lambda record: _seconds(record) < cut)
    return folder


@pytest.mark.parametrize("sample", sorted(CUTTERS))
def test_a_newer_export_of_every_format_moves_only_what_is_new(sample: str, target, tmp_path: Path) -> None:  # noqa: F811
    work = tmp_path / "out"
    first = migrate_sample(target, earlier_export(sample, tmp_path / "early"), work)
    assert first.loaded.ok and first.verified.ok, first.verified.as_json()
    early = first.loaded.total("posted")
    newer = SAMPLES / sample
    run_update(newer, work / "mappings", demo_lookup, source_reference(newer, work / "mappings"))
    planned = transform(newer, work / "mappings", work / "plan", now_ms=NOW_MS)
    total = sum(conv.messages for _, conv in planned.manifest.conversations())
    assert 0 < early < total, "the cut must leave messages for each pass"
    with (
        Journal(work / "journal.sqlite") as journal,
        GraphClient(target.graph_config(), limiter=RateLimiter.unlimited()) as client,
    ):
        journal.bind(Target(target.graph_config(), None).fingerprint)
        delta = load(work / "plan", client, journal, LoadOptions(workers=4))
    assert delta.ok, delta.blocked_conversations
    assert (delta.total("posted"), delta.total("already")) == (total - early, early)
    with (
        Journal(work / "journal.sqlite", readonly=True) as journal,
        GraphClient(target.graph_config(), limiter=export_limiter()) as client,
    ):
        verified = verify(work / "plan", client, journal, VerifyOptions())
    assert verified.ok, verified.as_json()
    assert verified.total("found") == total
