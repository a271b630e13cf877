"""The one error base of the migrator, and what each kind of failure means for the exit code.

Every error a person has to act on derives from `MigratorError` and carries the exit
code the command line ends with, so the shell catches one type in one place:

- `InputError` (exit 2): bad input or configuration the user must fix before running
  again: an export, a mapping file, a plan, a missing permission, an unusable option.
- `IncompleteError` (exit 1): the run did not complete what it was asked: messages
  failed, verify found differences, Microsoft Graph kept failing.

The message of an error is what the user reads: it names the file, line or item and
says what to do, and it never holds a secret or a token.
"""

from __future__ import annotations

from typing import ClassVar

INPUT_EXIT_CODE = 2
INCOMPLETE_EXIT_CODE = 1


class MigratorError(Exception):
    """An error the command line reports as one clear line and ends with `exit_code`."""

    exit_code: ClassVar[int] = INCOMPLETE_EXIT_CODE


class InputError(MigratorError):
    """Bad input or configuration the user must fix (a file, a mapping, a missing permission): exit 2."""

    exit_code: ClassVar[int] = INPUT_EXIT_CODE


class IncompleteError(MigratorError):
    """The run did not complete what it was asked (messages failed, Graph kept failing): exit 1."""

    exit_code: ClassVar[int] = INCOMPLETE_EXIT_CODE


class OptionError(InputError):
    """A command line that cannot work: options that exclude each other, or a value out of range: exit 2.

    Values a stage parses itself are its own errors (an export filter, a mapping file); this is for the
    rest, which the shell checks before anything runs.
    """
