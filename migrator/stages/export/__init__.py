"""`export`: Teams conversations out through the export APIs, incremental and resumable.

`export()` is the core (also what a benchmark calls); `migrator.cli.export` wraps
it for the command line with the target, logging, progress and the HTML archive.
"""

from migrator.stages.export.archive import ArchiveError
from migrator.stages.export.filters import FilterError, MessageFilter
from migrator.stages.export.outcome import ExportOutcome, Target, TargetOutcome
from migrator.stages.export.runner import ExportOptions, directory_users, export, export_limiter
from migrator.stages.export.state import StateError

__all__ = [
    "ArchiveError",
    "ExportOptions",
    "ExportOutcome",
    "FilterError",
    "MessageFilter",
    "StateError",
    "Target",
    "TargetOutcome",
    "directory_users",
    "export",
    "export_limiter",
]
