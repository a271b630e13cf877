"""One error base: every exception the migrator raises at its user is a MigratorError with the right exit code."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import migrator
from migrator.emulator.directory import DirectoryError
from migrator.emulator.faults import FaultSpecError
from migrator.emulator.listen import EmulatorConfigError
from migrator.emulator.runner import EmulatorStartError
from migrator.emulator.slack.workspace import SlackEmulatorError
from migrator.errors import IncompleteError, InputError, MigratorError, OptionError
from migrator.existing import ExistingTargetError
from migrator.graph import errors as graph
from migrator.journal import JournalError
from migrator.ledger import LedgerError
from migrator.mapping import MappingError
from migrator.model import SourceError
from migrator.plan import PlanError
from migrator.sample import SampleError
from migrator.slack.config import SlackConfigError
from migrator.slack.web import SlackAuthError, SlackUnavailableError
from migrator.stages.export import ArchiveError, FilterError, StateError
from migrator.stages.fetch import FetchLockedError
from migrator.stages.load import LoadError, ProvisionError, SelectionError, TeamFullError
from migrator.stages.load.accounts import AccountsError
from migrator.stages.load.chatfiles import NoDriveError
from migrator.stages.load.errors import StuckChatError
from migrator.stages.load.uploads import UploadError
from migrator.stages.transform import TransformError
from migrator.tracefile import TraceFileError

# Exceptions that stay outside the hierarchy because they never reach the user; each docstring says why.
INTERNAL = {
    "migrator.sources.common.Refused",  # a reader quarantines the record instead
    "migrator.emulator.errors.GraphFault",  # the emulator's HTTP answers, never the migrator's errors
    "migrator.emulator.errors.TokenError",
    "migrator.stages.transform.split.SplitError",  # a bug guard: no input can cause it
    "migrator.slack.download.Refusal",  # a download that is not the file is counted and listed instead
    "migrator.stages.export.runner._Stopped",  # unwinds a target when another stopped the run; its place is saved
    "migrator.stages.preflight.canary.CanaryError",  # recorded as the canary step's failure, never raised further
    "migrator.stages.load.worker.LeaseLost",  # a worker stops the unit another took over; never leaves the worker
}

BAD_INPUT = [
    SourceError,
    MappingError,
    TransformError,
    PlanError,
    LedgerError,
    JournalError,
    SelectionError,
    TeamFullError,
    AccountsError,
    FilterError,
    StateError,
    SampleError,
    FaultSpecError,
    EmulatorConfigError,
    EmulatorStartError,
    DirectoryError,
    OptionError,
    graph.ConfigError,
    graph.UnauthorizedError,
    graph.PaymentRequiredError,
    graph.ForbiddenError,
    graph.AuthenticationError,
    SlackConfigError,
    SlackAuthError,
    SlackEmulatorError,
    FetchLockedError,
    TraceFileError,
    ExistingTargetError,
]
NOT_COMPLETED = [
    ProvisionError,
    StuckChatError,
    UploadError,
    NoDriveError,
    ArchiveError,
    graph.GraphError,
    graph.BadRequestError,
    graph.NotFoundError,
    graph.ConflictError,
    graph.ThrottledError,
    graph.ServerError,
    graph.ConnectionLostError,
    graph.ForeignHostError,
    SlackUnavailableError,
]


def _every_exception_class() -> list[type[BaseException]]:
    for module in pkgutil.walk_packages(migrator.__path__, "migrator."):
        if not module.name.endswith(".__main__"):  # importing it would run the command line
            importlib.import_module(module.name)
    found, todo = [], [BaseException]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("migrator."):
            found.append(cls)
    return found


def test_every_exception_of_the_migrator_derives_from_the_one_base_or_is_listed_as_internal():
    outside = {cls for cls in _every_exception_class() if not issubclass(cls, MigratorError)}
    roots = {cls for cls in outside if not outside & set(cls.__bases__)}  # GraphFault's subclasses go with it
    assert {f"{cls.__module__}.{cls.__qualname__}" for cls in roots} == INTERNAL


@pytest.mark.parametrize("error", BAD_INPUT, ids=lambda cls: cls.__name__)
def test_bad_input_and_configuration_exit_2(error: type[MigratorError]):
    assert issubclass(error, InputError) and error.exit_code == 2


@pytest.mark.parametrize("error", NOT_COMPLETED, ids=lambda cls: cls.__name__)
def test_a_run_that_did_not_complete_exits_1(error: type[MigratorError]):
    assert not issubclass(error, InputError) and error.exit_code == 1


def test_the_lists_above_cover_every_error_class():
    listed = set(BAD_INPUT) | set(NOT_COMPLETED) | {MigratorError, InputError, IncompleteError, LoadError}
    assert {cls for cls in _every_exception_class() if issubclass(cls, MigratorError)} == listed


def test_a_graph_error_keeps_its_message_and_fields_through_the_new_bases():
    error = graph.ForbiddenError("no permission", status=403, code="Forbidden", method="GET", url="https://g/x?a=1")
    assert str(error) == "GET /x → 403 Forbidden: [Forbidden] no permission" and error.exit_code == 2
    assert isinstance(error, graph.GraphError) and isinstance(error, InputError)
