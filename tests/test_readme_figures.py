"""README's figures about the sample run cannot drift: this runs `make migrate`'s own command and compares.

The lines README shows under "Migrate" (marked by the comment `the sample run`) must each be a line the run
prints, every count equal; only times (`28 s`, `0.5 min`) may differ. The embedded emulator and the client run with
raised limits so the run takes seconds: the counts do not depend on the pace.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from migrator.cli import app
from migrator.stages.migrate import FIRST_LOOK, NEXT_STEP, REAL_MIGRATION

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- the sample run:"
TIME = re.compile(r"\b\d+(?:\.\d+)? (s|min)\b")


def make_migrate_arguments(out: str) -> list[str]:
    """The arguments `make migrate` gives `python -m migrator`, read from the Makefile's recipe."""
    recipe = next(line for line in (ROOT / "Makefile").read_text().splitlines() if "-m migrator migrate" in line)
    return shlex.split(recipe.split("-m migrator", 1)[1].replace("$(OUT)", out))


def readme_sample_lines() -> list[str]:
    """The fenced block that follows the marker comment in README."""
    text = readme_text()
    after = text[text.index(MARKER) :]
    block = after.split("```", 2)[1]
    return [line for line in block.splitlines() if line.strip()]


def readme_text() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def untimed(line: str) -> str:
    return TIME.sub(r"N \1", line.rstrip())


def test_readme_states_the_counts_the_sample_run_prints(
    no_credentials: None, unpaced_embedded: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("sample_data", "mappings"):  # the command's relative paths, as from a checkout's root
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, make_migrate_arguments("out"))
    assert result.exit_code == 0, result.output
    printed = {untimed(line) for line in result.output.splitlines()}
    stated = readme_sample_lines()
    assert len(stated) >= 10
    assert [line for line in stated if untimed(line) not in printed] == []

    assert FIRST_LOOK in printed and NEXT_STEP in printed  # after the report paths: where to look, what comes next
    first_migration = readme_text().split("## Your first migration", 1)[1].split("\n## ", 1)[0]
    assert REAL_MIGRATION in first_migration  # the next step the run prints is the one README walks through
    for command in ("migrator map ", "migrator preflight ", "migrator migrate "):
        assert command in first_migration

    expected, found = map(int, re.findall(r"verify: .*?(\d+) messages expected, (\d+) found", result.output)[0])
    claims = re.findall(r"verified (\d+) of (\d+) messages", readme_text())
    assert claims and all((int(a), int(b)) == (found, expected) for a, b in claims)
