"""Every failure path README promises is safe: Graph refuses something for good, and the run goes on.

Each case makes the emulator refuse one thing for good (a message in a standard channel, in a private
channel, in a chat; a file upload; the team's creation; a member; a completion), then runs `load` and
`verify` as a consultant would. The run must go on with everything else, write every report with exact
counts, name what is blocked with Graph's reason and request-id, and end 1. Once the refusal is lifted,
a re-run must complete, every planned message in Teams exactly once.
"""

from __future__ import annotations

import csv
import json
import re
import time
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import tenant_env
from migrator.cli import app
from migrator.emulator.runner import EmulatorProcess
from migrator.plan import Manifest
from migrator.sample.generate import FALLBACK_MAIL, SampleOptions, generate
from migrator.timestamps import parse_ms
from plankit import GRACE, assert_landed_exactly, build_plan
from transformkit import plan_lines

REQUEST_ID = re.compile(r"request-id [0-9a-f-]{36}")
REFUSED = "Refused for good by an emulator refuse rule."
# build_plan(channels=2, messages=6, private=True, chats=True): what each conversation holds.
PLANNED = {"General": 6, "channel-1": 6, "leadership": 5, "": 4, "Launch crew": 4}
TEAM_WAITS = "not created: its team is not completed yet (see Teams); load again (×1)"


@dataclass
class Case:
    """A refusal, and what the first load must report: per conversation (posted, failed, completed) and the
    words each blocked one is listed with; the team's words; how many messages verify finds missing."""

    refuse: dict[str, Any]
    rows: dict[str, tuple[int, int, bool]]
    reasons: dict[str, list[str]] = field(default_factory=dict)
    team: str | None = None
    missing: int = 0


ALL_LAND = {name: (count, 0, True) for name, count in PLANNED.items()}
# General is completed with its team, last (docs/graph-contract.md#team-completion): it waits while the team does.
GENERAL_WAITS = (PLANNED["General"], 0, False)
CASES = {
    "message in a standard channel": Case(
        {"path": "/teams/*/channels/*/messages", "body": "message 1 in acme/channel-1"},  # a root; 2 replies to it
        {**ALL_LAND, "General": GENERAL_WAITS, "channel-1": (4, 2, False), "leadership": (0, 0, False)},
        {
            "channel-1": [f"400 BadRequest: {REFUSED} (×1; request-id", "its thread root was not imported (×1)"],
            "leadership": [TEAM_WAITS],
        },
        team="channels still in migration mode because something failed: channel-1",
        missing=2 + 5,
    ),
    "message in a private channel": Case(
        {"path": "/teams/*/channels/*/messages", "body": "secret 2 of acme/private"},
        {**ALL_LAND, "leadership": (4, 1, False)},
        {"leadership": [f"400 BadRequest: {REFUSED} (×1; request-id"]},
        missing=1,
    ),
    "message in a chat": Case(
        {"path": "/chats/*/messages", "body": "secret 1 of chats/trio", "status": 403, "code": "Forbidden"},
        {**ALL_LAND, "Launch crew": (3, 1, False)},
        {"Launch crew": [f"403 Forbidden: {REFUSED} (×1; request-id"]},
        missing=1,
    ),
    "file upload": Case(
        {"method": "PUT", "path": "/drives/*/items/*/report-1.txt:/content", "code": "invalidRequest"},
        {**ALL_LAND, "General": GENERAL_WAITS, "channel-1": (4, 2, False), "leadership": (0, 0, False)},
        {
            "channel-1": [
                "upload report-1.txt: PUT /v1.0/drives/",
                f"400 Bad Request: [invalidRequest] {REFUSED} (×1; request-id",
                "upload 'F1' has not been uploaded (×1)",  # the message that carries it
                "its thread root was not imported (×1)",  # and the reply to that message
            ],
            "leadership": [TEAM_WAITS],
        },
        team="channels still in migration mode because something failed: channel-1",
        missing=2 + 5,
    ),
    "team creation": Case(
        {"path": "/teams"},
        {**ALL_LAND, "General": (0, 0, False), "channel-1": (0, 0, False), "leadership": (0, 0, False)},
        dict.fromkeys(("General", "channel-1", "leadership"), ["not created: its team was not created (see Teams)"]),
        team=f"not created: POST /v1.0/teams → 400 Bad Request: [BadRequest] {REFUSED} (request-id",
        missing=6 + 6 + 5,
    ),
    "a member": Case(
        {"path": "/teams/*/members", "body": GRACE},
        {**ALL_LAND, "leadership": (0, 0, False)},
        {"leadership": ["not created: POST /v1.0/teams/", "→ 400 Bad Request", "(×1; request-id"]},
        team=f"members not added: Grace Hopper ({GRACE}): BadRequest: {REFUSED} (request-id",  # her bulk-add result
        missing=5,
    ),
    "a channel's completion": Case(
        {"path": "/teams/*/channels/*/completeMigration"},
        {**ALL_LAND, "General": GENERAL_WAITS, "channel-1": (6, 0, False), "leadership": (0, 0, False)},
        {
            "channel-1": ["completeMigration refused: POST /v1.0/teams/", f"{REFUSED} (×1; request-id"],
            "leadership": [TEAM_WAITS],
        },
        team="channels still in migration mode because something failed: channel-1",
        missing=5,
    ),
    "the team's completion": Case(
        {"path": "/teams/*/completeMigration"},
        {**ALL_LAND, "leadership": (0, 0, False)},
        {"leadership": [TEAM_WAITS]},
        team="completeMigration refused: POST /v1.0/teams/",
        missing=5,
    ),
}


def run(*args: str | Path):
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert "Traceback" not in result.output, result.output
    return result


def report_rows(plan: Path) -> dict[str, dict[str, str]]:
    with open(plan / "load-report.csv", encoding="utf-8") as handle:
        return {row["channel"]: row for row in csv.DictReader(handle)}


@pytest.mark.parametrize("name", list(CASES))
def test_a_refusal_for_good_leaves_every_report_and_a_rerun_completes_once(
    name: str, emulator, tenant, tmp_path: Path
) -> None:
    case = CASES[name]
    plan = tmp_path / "plan"
    build_plan(plan, channels=2, messages=6, private=True, chats=True)
    emulator.operator("faults", {"spec": "", "refuse": [case.refuse]})

    loaded = run("load", plan)
    assert loaded.exit_code == 1, loaded.output
    rows = report_rows(plan)
    assert set(rows) == set(PLANNED)
    for channel, (posted, failed, completed) in case.rows.items():
        row = rows[channel]
        assert (int(row["planned"]), int(row["posted"]), int(row["already_present"]), int(row["failed"])) == (
            PLANNED[channel],
            posted,
            0,
            failed,
        ), channel
        assert row["completed"] == ("yes" if completed else "no"), channel
        for words in case.reasons.get(channel, []):
            assert words in row["failure_reasons"], (channel, row["failure_reasons"])
        if not completed:  # listed in the summary and the HTML report
            assert f"/ {channel or 'chats/ada-alan'} not completed: " in loaded.output
    for channel, words in case.reasons.items():  # Graph's answers carry its request-id; our own notes need none
        assert bool(REQUEST_ID.search(rows[channel]["failure_reasons"])) == any("request-id" in w for w in words)
    html = unescape((plan / "load-report.html").read_text(encoding="utf-8"))
    assert "Channels and chats not completed" in html
    if case.team:
        assert f"load: team 'Acme' not completed: {case.team}" in loaded.output
        assert case.team in html
    total_posted = sum(posted for posted, _, _ in case.rows.values())
    total_failed = sum(failed for _, failed, _ in case.rows.values())
    assert f"load: {total_posted} posted, 0 already present, {total_failed} failed" in loaded.output

    verified = run("verify", plan)
    assert verified.exit_code == 1, verified.output
    report = json.loads((plan / "verify" / "verify.json").read_text(encoding="utf-8"))
    assert (report["expected"], report["found"], len(report["missing"])) == (25, 25 - case.missing, case.missing)
    assert report["duplicated"] == report["mismatched"] == []
    refused = [f["detail"] for f in report["missing"] if "load could not post it" in f["detail"]]
    assert len(refused) == total_failed, refused
    assert (plan / "verify" / "verify.html").is_file()

    emulator.operator("faults", {"spec": ""})  # the cause is removed
    again = run("load", plan)
    assert again.exit_code == 0, again.output
    assert f"load: {25 - total_posted} posted, {total_posted} already present, 0 failed" in again.output
    assert all(row["completed"] == "yes" for row in report_rows(plan).values())
    verified = run("verify", plan)
    assert verified.exit_code == 0, verified.output
    assert_landed_exactly(emulator.operator("dump"), plan)  # members and completion included


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A small generated workspace (channels, a private channel, DMs) and a tenant holding its directory."""
    folder = tmp_path_factory.mktemp("clock")
    sample = generate(folder, SampleOptions(channels=2, messages=60, plain=True, seed=3))
    with EmulatorProcess(directory=sample.directory, tls_dir=folder / "tls") as emulator:
        yield sample, emulator


def test_migrate_with_the_tenant_clock_behind_part_of_the_history(workspace, monkeypatch, tmp_path: Path) -> None:
    """The issue's own reproduction: the messages after the tenant's "now" are refused as in the future, for
    good while the clock stays. migrate goes on, writes every report, names what failed, ends 1; once the clock
    is right, migrate again lands the rest exactly once."""
    sample, emulator = workspace
    emulator.operator("reset", {})
    for name, value in tenant_env(emulator).items():
        monkeypatch.setenv(name, value)
    mappings, out = tmp_path / "mappings", tmp_path / "out"
    assert run("map", sample.export, "--out", mappings, "--fallback", FALLBACK_MAIL).exit_code == 0
    assert run("transform", sample.export, "--mappings", mappings, "--out", out / "plan").exit_code == 0
    private = {c.key for _, c in Manifest.read(out / "plan").conversations() if c.membership == "private"}
    lines = plan_lines(out / "plan")
    times = sorted(parse_ms(line["createdDateTime"]) for lines_ in lines.values() for line in lines_)
    cut = max(range(len(times) // 3, 2 * len(times) // 3), key=lambda i: times[i] - times[i - 1])  # the widest gap
    late = len(times) - cut
    # A private channel waits for its team's completion, which the refused messages hold back: not posted, not failed.
    waiting = [parse_ms(line["createdDateTime"]) for key in private for line in lines[key]]
    failed = late - sum(ms >= times[cut] for ms in waiting)
    posted = len(times) - late - sum(ms < times[cut] for ms in waiting)
    emulator.operator("config", {"clock_offset_ms": (times[cut - 1] + times[cut]) // 2 - int(time.time() * 1000)})

    first = run("migrate", sample.export, "--mappings", mappings, "--out", out)
    assert first.exit_code == 1, first.output
    assert waiting and f"load: {posted} posted, 0 already present, {failed} failed" in first.output
    assert "400 BadRequest: " in first.output and "request-id" in first.output
    assert "migrate: not clean; see the fetch, load and verify reports above" in first.output
    for report in ("load-report.csv", "load-report.html", "verify/verify.json", "verify/verify.html"):
        assert (out / report).is_file(), report
    verified = json.loads((out / "verify" / "verify.json").read_text(encoding="utf-8"))
    assert (verified["expected"], verified["found"], len(verified["missing"])) == (
        len(times),
        posted,
        len(times) - posted,
    )
    said = [f["detail"] for f in verified["missing"] if "load could not post it: " in f["detail"]]
    assert len(said) == failed and sum("400 BadRequest: createdDateTime cannot be in the future" in d for d in said) > 0

    emulator.operator("config", {"clock_offset_ms": 0})  # the cause is removed
    again = run("migrate", sample.export, "--mappings", mappings, "--out", out)
    assert again.exit_code == 0, again.output
    assert f"load: {len(times) - posted} posted, {posted} already present, 0 failed" in again.output
    assert_landed_exactly(emulator.operator("dump"), out / "plan")
