"""`verify.json` and `verify.html`: every finding of verify, per conversation and in total."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from migrator.ledger import FATES, NO_CONVERSATION
from migrator.reports.html import render, table
from migrator.stages.verify.outcome import PROBLEMS, VerifyOutcome

JSON_FILE = "verify.json"
HTML_FILE = "verify.html"
COLUMNS = [
    "team",
    "conversation",
    "expected",
    "found",
    "missing",
    "duplicated",
    "mismatched",
    "unexpected",
    "images",
    "result",
]


SOURCE_COLUMNS = ["conversation", "source records", *FATES, "landed", "unaccounted"]


def write(outcome: VerifyOutcome, out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / JSON_FILE
    json_path.write_text(json.dumps(outcome.as_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = [
        {
            "team": c.team,
            "conversation": c.name,
            "expected": c.expected,
            "found": c.found,
            **{name: len(getattr(c, name)) for name in (*PROBLEMS, "unexpected")},
            "images": c.images,
            "result": "ok" if c.ok else (c.error or "problems"),
        }
        for c in outcome.conversations
    ]
    findings = {
        name: [(c, f) for c in outcome.conversations for f in getattr(c, name)] for name in (*PROBLEMS, "unexpected")
    }
    sources = [
        {
            "conversation": s.conversation or NO_CONVERSATION,
            "source records": s.records,
            **{fate: s.fates.get(fate, 0) for fate in FATES},
            "landed": s.landed,
            "unaccounted": len(s.unaccounted),
        }
        for s in outcome.sources or []
    ]
    unaccounted = [asdict(u) for s in outcome.sources or [] for u in s.unaccounted]
    html_path = out_dir / HTML_FILE
    html_path.write_text(
        render(
            "verify.html.j2",
            outcome=outcome,
            findings=findings,
            conversations=table(rows, COLUMNS, "conversations", sortable=True),
            sources=table(sources, SOURCE_COLUMNS, "sources", sortable=True) if outcome.sources is not None else None,
            unaccounted=table(unaccounted, ["conversation", "file", "item", "id", "detail"], "unaccounted-list"),
            unaccounted_count=len(unaccounted),
        ),
        encoding="utf-8",
    )
    return json_path, html_path
