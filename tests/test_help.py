"""Every command's `--help` shows every option's full name at the default terminal width (80 columns).

typer draws help with rich, which ignores click's content width and cuts what does not fit ("--complete-with-…"), so
the options are shaped to fit instead: single flags rather than --x/--no-x pairs where one direction is the default,
short help texts. This walks every command of the CLI, so a new command or option is checked too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from migrator.cli import app

# An option row: "│ " and, when the command has a required option, its "*" column; then the option's name and its
# --no- name if any.
SHOWN = re.compile(r"^│ (?:[* ]  )?(-[\w-]+…?)(?: +(-[\w-]+…?))?")


def commands() -> list[tuple[list[str], Any]]:
    """Every runnable command as (its words after `migrator`, the command typer builds: click's, vendored)."""
    found: list[tuple[list[str], Any]] = []

    def walk(words: list[str], command: Any) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk([*words, name], sub)
        else:
            found.append((words, command))

    walk([], typer.main.get_command(app))
    return found


@pytest.mark.parametrize("words, command", commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_help_shows_every_option_name_in_full_at_80_columns(words: list[str], command: Any) -> None:
    result = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80  # drawn at the default width
    assert "…" not in result.output  # nothing cut: names, metavars, defaults, help words
    shown = {name for line in result.output.splitlines() if (m := SHOWN.match(line)) for name in m.groups() if name}
    options = [p for p in command.params if p.param_type_name == "option"]
    expected = {name for p in options for name in (*p.opts, *p.secondary_opts)}
    assert expected <= shown, f"cut or missing: {sorted(expected - shown)}; shown: {sorted(shown)}"


def test_every_command_is_checked() -> None:
    names = {" ".join(words) for words, _ in commands()}
    assert {"load", "migrate", "preflight", "emulator serve", "export team", "sample generate"} <= names
