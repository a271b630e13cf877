"""`migrator worker`: one of the processes that load a plan published in a PostgreSQL journal (README, Large
migrations)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from migrator.cli.options import ImportBudget, JournalOption, LoadWorkers, load_workers
from migrator.cli.shell import step
from migrator.errors import OptionError
from migrator.limits import IMPORT_BUDGET_RPS

if TYPE_CHECKING:
    from migrator.graph import GraphConfig
    from migrator.graph.aimd import AdaptiveRate
    from migrator.stages.load.worker import WorkerOutcome

# Stage and service modules are imported inside the functions below, for start-up time: see migrator.cli.


def worker(
    journal: JournalOption = None,
    workers: LoadWorkers = "auto",
    import_budget: ImportBudget = IMPORT_BUDGET_RPS,
    lease: Annotated[
        float,
        typer.Option(min=1.0, metavar="SECONDS", help="After this, a dead worker's units go to another worker."),
    ] = 60.0,
    out: Annotated[Path, typer.Option(help="Where worker.log goes.")] = Path("."),
    cache: Annotated[
        Path | None,
        typer.Option(help="Where the published plan is written (default: a temporary folder)."),
    ] = None,
    complete_with_failures: Annotated[
        bool, typer.Option("--complete-with-failures", help="Complete channels even when some messages failed.")
    ] = False,
    rate_store: Annotated[
        str | None,
        typer.Option(
            envvar="MIGRATOR_RATE_STORE",
            show_envvar=False,
            metavar="URL",
            help="A redis:// URL: share each app's budget with the other workers (also MIGRATOR_RATE_STORE).",
        ),
    ] = None,
) -> None:
    """Claim and do the units of the plan `load --publish` stored in the PostgreSQL journal, until none is left."""
    options = WorkerSettings(load_workers(workers), import_budget, lease, complete_with_failures, rate_store)
    outcome = run_worker(journal, options, out, cache)
    if outcome.failed:
        raise typer.Exit(1)


@dataclass(frozen=True)
class WorkerSettings:
    workers: int | None
    import_budget: float  # per app
    lease: float
    complete_with_failures: bool
    rate_store: str | None  # redis:// URL, or None: each worker paces its apps alone

    def pace(self, app: GraphConfig) -> AdaptiveRate:
        """The app's import pace in this worker: its own, or shared with the other workers through Redis."""
        from migrator.graph.aimd import AdaptiveRate
        from migrator.graph.sharedrate import SharedRate

        if self.rate_store is None:
            return AdaptiveRate(self.import_budget)
        return SharedRate(self.rate_store, app.tenant_id, app.client_id, self.import_budget)


def run_worker(journal: str | None, settings: WorkerSettings, out: Path, cache: Path | None) -> WorkerOutcome:
    import os
    import tempfile
    from contextlib import ExitStack

    from migrator.graph import GraphClient, GraphConfig
    from migrator.graph.config import apps_from_env
    from migrator.journals import is_url
    from migrator.logfile import log_to
    from migrator.pgjournal import PostgresJournal
    from migrator.stages.load.accounts import check_accounts
    from migrator.stages.load.worker import Worker, WorkerOptions
    from migrator.target import graph_target
    from migrator.workqueue import WorkQueue

    with step("worker"):
        if not journal or not is_url(journal):
            raise OptionError("a worker needs the PostgreSQL journal: --journal postgresql://… or MIGRATOR_JOURNAL_URL")
        if not GraphConfig.has_credentials(os.environ):
            raise OptionError(
                "a worker talks to the tenant the MIGRATOR_* credentials name (all workers to the same one); "
                "set them, or point them at `migrator emulator serve`"
            )
        with (
            log_to(out / "worker.log"),
            PostgresJournal(journal) as opened,
            tempfile.TemporaryDirectory(prefix="migrator-worker-") as scratch,
            graph_target(Path(scratch) / "emulator") as target,
        ):
            opened.bind(target.fingerprint)
            queue = WorkQueue(opened)
            plan_dir = cache or Path(scratch) / "plan"
            manifest = queue.fetch_plan(plan_dir)
            with ExitStack() as clients:  # one per app registration, each with its own import budget
                apps = [clients.enter_context(GraphClient(app, pace=settings.pace(app))) for app in apps_from_env()]
                check_accounts(apps[0], plan_dir, manifest, manifest.teams, manifest.chats)
                options = WorkerOptions(
                    settings.workers, settings.import_budget, settings.lease, settings.complete_with_failures
                )
                chosen = Worker(queue, apps, plan_dir, options)
                typer.echo(
                    f"worker {chosen.owner}: loading {opened.where} into {target.description} with {len(apps)} app(s)"
                )
                outcome = chosen.run()
    typer.echo(
        f"worker {outcome.owner}: {len(outcome.done)} units done ({len(outcome.resumed)} resumed after another "
        f"worker's lease expired), {len(outcome.failed)} failed; {outcome.total('posted')} messages posted, "
        f"{outcome.total('already')} already present, {outcome.total('failed')} failed, "
        f"{outcome.members_added} members added"
    )
    for unit, why in outcome.failed.items():
        typer.echo(f"worker: {unit}: {why}", err=True)
    return outcome
