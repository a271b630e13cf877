"""`migrate`: the whole job in one command, analyse → transform → load → verify, and where each stage writes.

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

from migrator.reports.analyse import REPORT_FILE
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
    def plan(self) -> Path:
        return self.out / "plan"

    @property
    def journal(self) -> Path:
        return self.out / "journal.sqlite"

    @property
    def verify(self) -> Path:
        return self.out / "verify"

    def reports(self) -> list[tuple[str, Path]]:
        return [
            ("analyse", self.analyse / REPORT_FILE),
            ("transform", self.plan / TRANSFORM_HTML),
            ("load", self.out / LOAD_HTML),
            ("verify", self.verify / VERIFY_HTML),
        ]
