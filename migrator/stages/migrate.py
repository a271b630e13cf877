"""`migrate`: the whole job in one command, analyse → transform → load → verify, and where each stage writes.

With SLACK_TOKEN set and a Slack export, `fetch` runs first, into OUT/fetched/, and
every later stage reads that folder with the export (as `--fetched` does).
Each stage leaves its own files under OUT exactly as if the stages had been
run one by one (analyse/, plan/, journal.sqlite, load-report.*, verify/), so a
consultant reviews every step the same way and can re-run any one of them
alone. Load and verify run as `migrator load` and `migrator verify` do: the
tenant when credentials are set, else an embedded emulator whose data stays in
OUT/emulator/, so a re-run of `migrate` resumes the load instead of starting
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from migrator.journals import JOURNAL_FILE
from migrator.reports.analyse import REPORT_FILE
from migrator.reports.fetch import HTML_FILE as FETCH_HTML
from migrator.reports.load import HTML_FILE as LOAD_HTML
from migrator.reports.transform import REPORT_HTML as TRANSFORM_HTML
from migrator.reports.verify import HTML_FILE as VERIFY_HTML


@dataclass(frozen=True)
class Layout:
    """Where each stage of one migration writes, under one OUT folder."""

    out: Path

    @property
    def analyse(self) -> Path:
        return self.out / "analyse"

    @property
    def fetched(self) -> Path:
        """Where `migrate` fetches a Slack export's files and emails when SLACK_TOKEN is set."""
        return self.out / "fetched"

    @property
    def plan(self) -> Path:
        return self.out / "plan"

    @property
    def journal(self) -> Path:
        return self.out / JOURNAL_FILE

    @property
    def verify(self) -> Path:
        return self.out / "verify"

    def reports(self, fetched: Path | None = None) -> list[tuple[str, Path]]:
        """Each stage's page; the fetch's first when a fetch folder was used."""
        return [
            *([("fetch", fetched / FETCH_HTML)] if fetched is not None and (fetched / FETCH_HTML).is_file() else []),
            ("analyse", self.analyse / REPORT_FILE),
            ("transform", self.plan / TRANSFORM_HTML),
            ("load", self.out / LOAD_HTML),
            ("verify", self.verify / VERIFY_HTML),
        ]


FIRST_LOOK = (
    "look first at the verify report (every planned message read back: missing, duplicated or changed), then the "
    "load report (each channel and chat, and a timeline of what decided the time)"
)
# The same commands README's "Your first migration" walks through (tests/test_readme_figures.py checks it does).
REAL_MIGRATION = "migrator analyse YOUR_EXPORT --out work/analyse"
NEXT_STEP = (
    f'next, for a real migration: {REAL_MIGRATION}, then map, preflight and migrate (README "Your first migration")'
)


def guidance(embedded: bool) -> list[str]:
    """What a newcomer reads after the report paths: which report to open first and, after a run on the embedded
    emulator (the sample, a trial), the next step towards a real migration."""
    return [FIRST_LOOK, *([NEXT_STEP] if embedded else [])]
