"""Every summary line reads as English with one and with two of each thing ("1 person", "2 people").

Each summary is driven from a real or hand-built result in which every count is N and every list holds N items
(so totals of lists of counts are N², still plural for N = 2); a number followed by a noun of the wrong number fails.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from migrator.cli.load import estimate_header, estimate_line
from migrator.cli.progress import _describe, _finished_line
from migrator.mapping.stage import DraftResult
from migrator.reports.analyse import render_report
from migrator.reports.html import render
from migrator.reports.load import context
from migrator.reports.transform import render_html
from migrator.reports.verify import write as write_verify
from migrator.sample.generate import SampleSummary
from migrator.stages.analyse import run_analyse
from migrator.stages.analyse import summary as analyse_summary
from migrator.stages.export.outcome import DONE, ExportOutcome, Target, TargetOutcome
from migrator.stages.fetch import FetchResult
from migrator.stages.fetch import summary as fetch_summary
from migrator.stages.load.estimate import ChannelEstimate
from migrator.stages.load.outcome import ConversationOutcome, LoadOutcome
from migrator.stages.transform import TransformResult
from migrator.stages.transform import summary as transform_summary
from migrator.stages.verify.outcome import ConversationCheck, Finding, VerifyOutcome
from migrator.stages.verify.source import SourceCheck
from migrator.words import counted, plural
from tests.migratekit import plan_sample

ROOT = Path(__file__).resolve().parents[1]
NOUNS = [
    "message",
    "reply",
    "thread",
    "file",
    "conversation",
    "channel",
    "chat",
    "team",
    "person",
    "user",
    "bot",
    "request",
    "part",
    "time",
    "image",
    "upload",
    "placeholder",
    "record",
    "target",
    "page",
    "error",
    "download",
    "call",
    "member",
    "account",
    "problem",
    "entry",
    "string",
    "email",
    "post",
    "version",
    "registration",
    "start",
]
SINGULAR, PLURAL = set(NOUNS), {plural(noun) for noun in NOUNS}
COUNTED = re.compile(r"(?<![\w.,/-])(\d[\d,]*)(?![\d.,/]\d)((?: [\w-]+){1,3})")


def test_counted_says_one_and_many() -> None:
    assert [counted(n, "person") for n in (0, 1, 2)] == ["0 people", "1 person", "2 people"]
    assert counted(1, "extra part") == "1 extra part" and counted(2, "extra part") == "2 extra parts"
    assert counted(1, "reply") == "1 reply" and counted(3, "reply") == "3 replies"
    assert counted(2, "day") == "2 days" and counted(2, "inbox") == "2 inboxes" and counted(2, "match") == "2 matches"
    assert counted(1_234, "message") == "1,234 messages"
    assert counted(2, "person or bot", "people and bots") == "2 people and bots"


def wrong_numbers(text: str) -> list[str]:
    """Each "1 <plural>" and "N <singular>" (N ≠ 1) of the text. The noun is the last of the first run of nouns in
    the three words after the number, a run that starts at the first or second word ("2 stand-in thread starts":
    starts); "2 to channel" and "1 sent in chats" count no noun."""
    found = []
    for match in COUNTED.finditer(text):
        number, words = int(match[1].replace(",", "")), match[2].split()
        nouns = [i for i, word in enumerate(words) if word in SINGULAR | PLURAL]
        if not nouns or nouns[0] > 1 or words[0] in ("to", "of", "in", "at", "per", "with", "the", "a", "an"):
            continue
        last = nouns[0]
        while last + 1 in nouns:
            last += 1
        if words[last] in (PLURAL if number == 1 else SINGULAR - PLURAL):
            found.append(match[0])
    return found


def every(value: Any, n: int) -> Any:
    """`value` with every count n and every list, tuple and dict of counts n long (its first item repeated)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return n
    if isinstance(value, list | tuple):
        items = [every(value[0], n)] * n if value else []
        return type(value)(items)
    if isinstance(value, dict):
        return type(value)({key: every(item, n) for key, item in value.items()})  # a Counter stays one
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: every(getattr(value, f.name), n) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **fields)
    return value


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    found = dict(run_analyse(ROOT / "sample_data" / "slack-grid", tmp_path_factory.mktemp("analyse")))
    found["repaired"] = [{"file": "channels/general/2024-01-01.json", "strings": 1}]
    found["fetched"] = {"folder": "fetched", "files": 1, "emails": 1}
    return found


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> TransformResult:
    return plan_sample(ROOT / "sample_data" / "slack", tmp_path_factory.mktemp("plan"))


def summaries(n: int, inventory: dict[str, Any], planned: TransformResult, tmp: Path) -> dict[str, str]:
    """Every summary line the commands print, and the report headers, with n of each thing."""
    conversation = ConversationOutcome("k", "Team", "general", 1, posted=1, already=1, failed=1, uploads=1)
    conversation.images_moved = 1
    load = every(LoadOutcome([conversation], members_added=1), n)
    load.conversations += [ConversationOutcome(kind, "Team", kind, 0, kind) for kind in ("private channel", "chat")] * n
    finding = Finding("k", "m", "2024-01-01T00:00:00.000Z", ["1"], "missing")
    check = ConversationCheck("k", "Team", "general", "19:x", 1, found=1, missing=[finding], images=1)
    verify = every(VerifyOutcome(requests=1, throttled=1, conversations=[check], sources=[SourceCheck("C1", 1)]), n)
    target = TargetOutcome(Target("team", "t1"), "Team", DONE, pages=1, messages=1, new=1, deleted=1, images=1, files=1)
    export = every(ExportOutcome(requests=1, throttled=1, errors=1, targets=[target]), n)
    fetch_report = {
        "totals": dict.fromkeys(
            ("files", "fetched", "already", "in_export", "deleted", "hidden", "external", "refused", "failed"), 1
        )
        | {"bytes_this_run": 1},
        "people": {"found": 1, "without_email": 1, "still_without": ["Ann"], "error": None},
        "requests": dict.fromkeys(("downloads", "downloads_throttled", "api_calls", "api_throttled"), 1),
        "seconds": 1.0,
    }
    fetch = FetchResult(every(fetch_report, n), tmp / "f.json", tmp / "f.html", tmp / "users.json")  # type: ignore[arg-type]
    draft = every(DraftResult(tmp / "migration.yaml", tmp / "users.csv", 1, 1, 1, 1, 1, 1, 1, True, 1), n)
    sample = every(SampleSummary(tmp / "export", tmp / "directory.json", 1, 1, 1, 1, 1, 1), n)
    row = every(ChannelEstimate("Team", "general", 2, 1, 1), n)
    return {
        "analyse": analyse_summary(every(inventory, n)),  # type: ignore[arg-type]
        "transform": transform_summary(every(planned, n)),
        "load": load.summary(),
        "load --dry-run": estimate_header(n, Counter({"channel": n, "private channel": n, "chat": n}), 4)
        + "\n"
        + estimate_line(row),
        "verify": verify.summary(),
        "export": export.summary() + "\n" + _describe(export.targets[0]) + "\n" + _finished_line(export.targets[0]),
        "fetch": fetch_summary(fetch),
        "map": "\n".join(draft.summary(tmp / "fetched")),
        "sample": sample.line(),
        "analyse report": text_of(render_report(every(inventory, n))),  # type: ignore[arg-type]
        "load report": text_of(render("load.html.j2", **context(load))),
        "transform report": text_of(render_html(every(planned, n).report)),
        "verify report": text_of(write_verify(verify, tmp / "verify")[1].read_text(encoding="utf-8")),
    }


def text_of(html: str) -> str:
    """A report as a reader reads it: its text without the charts' SVG, each cell, term and card part apart ("¦"),
    so a number is read with the words of its own cell ("3 messages") and not with the next cell's."""
    page = BeautifulSoup(html, "html.parser")
    for svg in page.find_all("svg"):
        svg.decompose()
    for cell in page.find_all(["td", "th", "dt", "dd", "div", "li", "p", "h1", "h2", "h3"]):
        cell.append(" ¦ ")
    return " ".join(page.get_text(" ").split())


@pytest.mark.parametrize("n", [1, 2])
def test_every_summary_line_reads_as_english(
    n: int, inventory: dict[str, Any], planned: TransformResult, tmp_path: Path
) -> None:
    lines = summaries(n, inventory, planned, tmp_path)
    assert {name: wrong_numbers(text) for name, text in lines.items() if wrong_numbers(text)} == {}
    people, teams = ("1 person", "1 team") if n == 1 else ("2 people", "2 teams")
    assert f"{people} without email" in lines["analyse"] and f"in {teams} and" in lines["transform"]
    for phrase in ("time moved", "extra part", "stand-in thread start"):
        assert f"{counted(n, phrase).split(' moved')[0]}" in lines["transform"]
    for phrase in ("file", "oversize message", "same-millisecond message", "reply"):
        assert counted(n, phrase) in lines["analyse"]
    assert f"{counted(2 * n, 'channel')} ({n} private) · {counted(n, 'chat')}" in lines["load report"]
    assert f"{counted(n, 'channel')} of {counted(n, 'team')} and {counted(n, 'chat')}" in lines["analyse report"]
    assert f"{counted(n, 'file')} not in the export" in lines["analyse"]
