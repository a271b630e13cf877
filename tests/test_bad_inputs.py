"""The bad input corpus (tests/badinputs.py) through analyse and transform: a clear error naming what is wrong,
or the bad item quarantined or reported; never another exception. (`make reliability` runs the same corpus
through the commands, with their exit codes, output and peak memory.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from badinputs import CASES, REFUSED, Case, base_workspace
from migrator.mapping import MappingError
from migrator.model import SourceError
from migrator.sample.generate import DIRECTORY_FILE, FALLBACK_MAIL
from migrator.stages.analyse import run_analyse
from migrator.stages.transform import TransformError, transform

CLEAR_ERRORS = (SourceError, MappingError, TransformError)


@pytest.fixture(scope="module")
def corpus_base(tmp_path_factory) -> tuple[Path, Path]:
    """A valid export and the mappings drafted for it (which still apply to every broken variant)."""
    root = tmp_path_factory.mktemp("bad-input-base")
    base = base_workspace(root)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "migrator",
            "map",
            str(base),
            "--out",
            str(root / "mappings"),
            "--fallback",
            FALLBACK_MAIL,
            "--directory",
            str(root / DIRECTORY_FILE),
        ],
        check=True,
        capture_output=True,
    )
    return base, root / "mappings"


def _analyse(export: Path, out: Path) -> tuple[str | None, int]:
    try:
        return None, len(run_analyse(export, out)["quarantined"])
    except CLEAR_ERRORS as error:
        return str(error), 0


def _transform(export: Path, mappings: Path, out: Path) -> tuple[str | None, int]:
    try:
        report = transform(export, mappings, out).report
    except CLEAR_ERRORS as error:
        return str(error), 0
    return None, len(report["quarantined"]) + len(report["split"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_a_clear_error_or_is_reported(case: Case, corpus_base, tmp_path):
    base, mappings = corpus_base
    export = case.build(base, tmp_path)
    said = [_analyse(export, tmp_path / "analysed"), _transform(export, mappings, tmp_path / "plan")]
    for error, _ in said:
        if error is not None:
            assert error.strip() and "\n" not in error.strip().splitlines()[0]
    if case.expect == REFUSED:
        assert all(error is not None and str(export) in error for error, _ in said), said
    else:
        assert any(error is not None or reported for error, reported in said), f"{case.name} vanished silently: {said}"
