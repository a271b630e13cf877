"""The project's sample migrated for real (transform, then load into an emulator with its directory) and verified.

Unlike test_verify.py's hand-built plan, the plan here is whatever `transform` writes for sample_data/slack
with the example mappings, so verify is checked against the bodies, threads, images and files the real
pipeline produces: it must verify clean, and then report a deletion, a duplicate and an edit made through
the emulator's operator endpoint exactly, and nothing else; verify.html shows the same in a real browser.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.reports.verify import write
from migrator.stages.load import LoadOptions, load
from migrator.stages.transform import transform
from migrator.target import Target as GraphTarget
from slackkit import REPO, SAMPLE, SAMPLE_DIRECTORY
from test_report_chromium import chromium, headless
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


def test_the_migrated_sample_verifies_clean_then_reports_damage_exactly(sample_emulator, migrated, tmp_path):
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
        sample_emulator.operator(
            "mutate",
            {
                "op": op,
                "conversation": conversation_id(journal, key),
                "message": teams_ids(journal, key)[line["key"]],
                "content": "<p>tampered</p>",
            },
        )
    damaged = run_verify(sample_emulator, plan, journal)
    found = findings(damaged)
    assert [(c, k) for c, k, _ in found["missing"]] == [(deleted[0], deleted[1]["key"])]
    assert found["duplicated"] == [(duplicated[0], duplicated[1]["key"], "2 messages in Teams at this time")]
    assert [(c, k) for c, k, _ in found["mismatched"]] == [(edited[0], edited[1]["key"])]
    assert found["mismatched"][0][2].startswith("body differs: planned ")
    assert "inline image" in found["mismatched"][0][2]  # the edit dropped the image from the body too
    assert found["unexpected"] == [] and not damaged.ok
    assert damaged.total("found") == damaged.total("expected") - 1

    json_path, html_path = write(damaged, tmp_path / "report")
    binary = chromium()
    page = BeautifulSoup(headless(binary, tmp_path / "profile", "--dump-dom", html_path.as_uri()).stdout, "html.parser")
    assert page.html["data-sorting"] == "ready" and "problems found" in page.h1.get_text()
    report = damaged.as_json()
    for name in ("expected", "found", "missing", "duplicated", "mismatched", "unexpected"):
        shown = int(page.find(id=name).get_text().replace(",", ""))
        assert shown == (report[name] if isinstance(report[name], int) else len(report[name])), name
    for name, (_, line) in [("missing", deleted), ("duplicated", duplicated), ("mismatched", edited)]:
        assert [row.find_all("td")[1].get_text() for row in page.select(f"#{name}-list tbody tr")] == [line["key"]]
    rows = page.select("#conversations tbody tr")
    assert len(rows) == len(lines) and sum(row.find_all("td")[-1].get_text() == "ok" for row in rows) == (
        len(lines) - len({deleted[0], duplicated[0], edited[0]})
    )
