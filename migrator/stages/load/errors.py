"""What stops a load or a reset, split by who has to act: the user (exit 2) or a later run (exit 1)."""

from __future__ import annotations

from migrator.errors import IncompleteError, InputError, MigratorError


class LoadError(MigratorError):
    """A problem the load or reset cannot work around; says what to do."""


class SelectionError(LoadError, InputError):
    """An option names no (or several) teams, channels or chats of the plan or the journal, or names one that
    cannot be reset: the user fixes the command line (exit 2)."""


class TeamFullError(LoadError, InputError):
    """A team of the plan has no room for its channels (Teams' capacity limits): the user moves channels to another
    team, or waits until deleted ones stop counting, before loading again (exit 2)."""


class ProvisionError(LoadError, IncompleteError):
    """Teams did not create or finish a team or channel in time: the run did not complete; loading again later
    resumes it (exit 1)."""
