"""Where an error becomes an exit code: once, for every command, in the root command group.

Stages raise a `MigratorError` that says what went wrong and what to do; the
shell prints it as one line on stderr, prefixed with the step it came from
(`load: …`, `export: …`; `error: …` outside a named step), and exits with the
error's code. No traceback reaches the user for an error they can act on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import typer
from typer.core import TyperGroup

from migrator.errors import MigratorError

_step: ContextVar[str] = ContextVar("migrator_step", default="error")


@contextmanager
def step(name: str) -> Iterator[None]:
    """Errors raised inside read `name: message`; `migrate` names load and verify this way, as their commands do."""
    token = _step.set(name)
    yield  # an error leaves the name set for Shell.invoke, which resets it after printing
    _step.reset(token)


class Shell(TyperGroup):
    """The root command group: runs the command and turns a MigratorError into one line and its exit code."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click.Context, which typer does not export by name
        token = _step.set("error")
        try:
            return super().invoke(ctx)
        except MigratorError as error:
            typer.echo(f"{_step.get()}: {error}", err=True)
            raise typer.Exit(error.exit_code) from None
        finally:
            _step.reset(token)
