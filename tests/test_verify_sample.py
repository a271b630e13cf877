"""The project's sample migrated for real (transform, then load into an emulator with its directory) and verified.

Unlike test_verify.py's hand-built plan, the plan here is whatever `transform` writes for sample_data/slack
with the example mappings, so verify is checked against the bodies, threads, images and files the real
pipeline produces: it must verify clean, and then report a deletion, a duplicate and an edit made through
the emulator's operator endpoint exactly, and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.stages.load import LoadOptions, load
from migrator.stages.transform import transform
from migrator.target import Target as GraphTarget
from slackkit import REPO, SAMPLE, SAMPLE_DIRECTORY
from test_verify import conversation_id, findings, planned, run_verify, teams_ids


@pytest.fixture
def sample_emulator(tmp_path):
    with EmulatorProcess(directory=SAMPLE_DIRECTORY, tls_dir=tmp_path / "tls") as emulator:
        emulator.operator("config", {"channel_rps": 10_000})  # load's pace is tested elsewhere
        yield emulator


@pytest.fixture
def migrated(sample_emulator, tmp_path) -> tuple[Path, Path]:
    plan = transform(SAMPLE, REPO / "mappings", tmp_path / "plan").plan_dir
    journal = tmp_path / "journal.sqlite"
    with Journal(journal) as j, GraphClient(sample_emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        j.bind(GraphTarget(sample_emulator.graph_config(), None).fingerprint)
        assert load(plan, client, j, LoadOptions(workers=4)).ok
    return plan, journal


def test_the_migrated_sample_verifies_clean_then_reports_damage_exactly(sample_emulator, migrated):
    plan, journal = migrated
    lines = planned(plan)
    clean = run_verify(sample_emulator, plan, journal)
    assert clean.ok, clean.summary()
    assert clean.total("expected") == clean.total("found") == sum(len(v) for v in lines.values()) > 300
    assert clean.total("images") == sum(len(line.get("hostedContents") or []) for v in lines.values() for line in v) > 0
    assert findings(clean) == {"missing": [], "duplicated": [], "mismatched": [], "unexpected": []}

    every = [(key, line) for key, v in sorted(lines.items()) for line in v]
    deleted = next((k, line) for k, line in every if line.get("kind") == "reply")
    duplicated = next((k, line) for k, line in every if line.get("attachments") and (k, line) != deleted)
    edited = next((k, line) for k, line in every if line.get("hostedContents"))
    for (key, line), op in [(deleted, "delete"), (duplicated, "duplicate"), (edited, "edit")]:
        sample_emulator.operator("mutate", {"op": op, "conversation": conversation_id(journal, key),
                                            "message": teams_ids(journal, key)[line["key"]], "content": "<p>tampered</p>"})
    damaged = run_verify(sample_emulator, plan, journal)
    found = findings(damaged)
    assert [(c, k) for c, k, _ in found["missing"]] == [(deleted[0], deleted[1]["key"])]
    assert found["duplicated"] == [(duplicated[0], duplicated[1]["key"], "2 messages in Teams at this time")]
    assert [(c, k) for c, k, _ in found["mismatched"]] == [(edited[0], edited[1]["key"])]
    assert found["mismatched"][0][2].startswith("body differs: planned ")
    assert "inline image" in found["mismatched"][0][2]  # the edit dropped the image from the body too
    assert found["unexpected"] == [] and not damaged.ok
    assert damaged.total("found") == damaged.total("expected") - 1
