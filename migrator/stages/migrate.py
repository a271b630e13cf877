"""`migrate`: the whole job in one command, analyse → transform → load → verify.

Each stage leaves its own files under OUT exactly as if the stages had been
run one by one (analyse/, plan/, journal.sqlite, load-report.*, verify/), so a
consultant reviews every step the same way and can re-run any one of them
alone. Load and verify run through the same command functions as `migrator
load` and `migrator verify`: the tenant when credentials are set, else an
embedded emulator whose data stays in OUT/emulator/, so a re-run of `migrate`
resumes the load instead of starting again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from migrator.reports.analyse import REPORT_FILE
from migrator.reports.load import HTML_FILE as LOAD_HTML
from migrator.reports.transform import REPORT_HTML as TRANSFORM_HTML
from migrator.reports.verify import HTML_FILE as VERIFY_HTML
from migrator.stages.analyse import run_analyse
from migrator.stages.analyse import summary as analyse_summary
from migrator.stages.load.command import run_load
from migrator.stages.transform import summary as transform_summary
from migrator.stages.transform import transform
from migrator.stages.verify.command import run_verify

DEFAULT_TENANT_RPS = 200.0


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


def run_migrate(
    source: Path,
    mappings: Path,
    out: Path,
    directory: Path | None,
    workers: int,
    source_format: str | None = None,
    model: str | None = None,
) -> bool:
    """True when everything landed and read back clean; stage errors exit like the stage's own command."""
    layout = Layout(out)
    typer.echo(analyse_summary(run_analyse(source, layout.analyse, mappings, source_format)))
    typer.echo(transform_summary(transform(source, mappings, layout.plan, source_format=source_format)))
    loaded = run_load(layout.plan, layout.journal, out, workers, None, False, False, directory)
    verified = run_verify(layout.plan, layout.journal, layout.verify, model, DEFAULT_TENANT_RPS, workers, directory)
    typer.echo("reports:")
    for name, path in layout.reports():
        typer.echo(f"  {name:<9} {path}")
    if loaded and verified:
        typer.echo("migrate: done; every planned message landed exactly once and reads back unchanged")
    else:
        typer.echo(
            "migrate: not clean; see the load and verify reports above, fix, and run migrate again "
            "(it resumes where it stopped)",
            err=True,
        )
    return loaded and verified
