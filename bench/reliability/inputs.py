"""Bad input: every case of the corpus (tests/badinputs.py) through `analyse` and `transform` as commands.

A case passes when each command ends with a clear error (exit 2, one line
that says what is wrong) or goes on (exit 0), and the case shows up somewhere:
refused, or quarantined or split in a report. Archives that must never be read
(truncated, escaping paths, bombs) must be refused. Never a traceback, never
a crash, and each command's peak memory stays under MEMORY_LIMIT_MB.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.child import ChildFailed, measure
from bench.reliability.migration import CheckFailed
from bench.stages import migrator
from migrator.inventory import Inventory
from migrator.reports.analyse import INVENTORY_FILE
from migrator.reports.transform import REPORT_JSON
from migrator.sample.generate import DIRECTORY_FILE, FALLBACK_MAIL
from migrator.transform_report import TransformReport

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from badinputs import CASES, REFUSED, Case, base_workspace  # noqa: E402  (the corpus lives with the tests)

MEMORY_LIMIT_MB = 512  # a 69 MB users.json is read whole (~450 MB); anything else stays far lower


@dataclass(frozen=True)
class Outcome:
    command: str
    code: int
    output: str
    peak_rss_mb: float
    accounted: int  # entries of the command's report about bad items: quarantined, or split in parts


def check_inputs(work: Path) -> list[str]:
    """One summary line per case; raises CheckFailed listing every case that did not hold."""
    root = work / "bad-input"
    base = base_workspace(root / "base")
    mappings = root / "mappings"
    measure(
        migrator(
            "map",
            str(base),
            "--out",
            str(mappings),
            "--fallback",
            FALLBACK_MAIL,
            "--directory",
            str(root / "base" / DIRECTORY_FILE),
        ),
        root / "map.log",
    )
    lines, problems = [], []
    for case in CASES:
        where = root / re.sub(r"[^a-z0-9]+", "-", case.name.lower())
        where.mkdir(parents=True)
        export = case.build(base, where)
        outcomes = [
            _run(where, "analyse", [str(export), "--out", str(where / "analysed")]),
            _run(where, "transform", [str(export), "--mappings", str(mappings), "--out", str(where / "plan")]),
        ]
        wrong = [problem for outcome in outcomes for problem in _judge(case, outcome)]
        if not any(o.code == 2 or o.accounted for o in outcomes):
            wrong.append("neither command refused it nor reported it")
        problems += [f"{case.name}: {w}" for w in wrong]
        lines.append(f"bad input: {case.name}: " + ("; ".join(wrong) if wrong else _describe(outcomes)))
    if problems:
        raise CheckFailed("bad input:\n  " + "\n  ".join(lines))
    return lines


def _run(where: Path, command: str, args: list[str]) -> Outcome:
    log = where / f"{command}.log"
    try:
        cost = measure(migrator(command, *args), log)
        code = 0
    except ChildFailed as failed:
        cost, code = failed.cost, failed.code
    accounted = _accounted(where, command) if code == 0 else 0
    return Outcome(command, code, log.read_text(encoding="utf-8", errors="replace"), cost.peak_rss_mb, accounted)


def _accounted(where: Path, command: str) -> int:
    """Items the stage's record lists as quarantined (and, for transform, messages it split)."""
    if command == "analyse":
        path = where / "analysed" / INVENTORY_FILE
        if not path.is_file():
            return 0
        inventory: Inventory = json.loads(path.read_text(encoding="utf-8"))
        return len(inventory["quarantined"])
    path = where / "plan" / REPORT_JSON
    if not path.is_file():
        return 0
    report: TransformReport = json.loads(path.read_text(encoding="utf-8"))
    return len(report["quarantined"]) + len(report["split"])


def _judge(case: Case, outcome: Outcome) -> list[str]:
    wrong = []
    if "Traceback" in outcome.output:
        wrong.append(f"{outcome.command} printed a traceback")
    if outcome.code not in (0, 2):
        wrong.append(f"{outcome.command} exited {outcome.code}: {_first_line(outcome.output)}")
    if outcome.peak_rss_mb > MEMORY_LIMIT_MB:
        wrong.append(f"{outcome.command} peaked at {outcome.peak_rss_mb:.0f} MB (limit {MEMORY_LIMIT_MB})")
    if case.expect == REFUSED and outcome.code != 2:
        wrong.append(f"{outcome.command} exited {outcome.code}, not 2 (refused)")
    return wrong


def _describe(outcomes: list[Outcome]) -> str:
    """`analyse: 1 reported, transform: refused (error: …); peak 158 MB`."""
    said = [
        f"{o.command}: " + (f"refused ({_first_line(o.output)})" if o.code == 2 else f"{o.accounted} reported")
        for o in outcomes
    ]
    return ", ".join(said) + f"; peak {max(o.peak_rss_mb for o in outcomes):.0f} MB"


def _first_line(output: str) -> str:
    line = next((line for line in output.splitlines() if line.strip()), "")
    return line if len(line) <= 160 else line[:157] + "…"
