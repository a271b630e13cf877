"""Which journal `--journal` names: a SQLite file (migrator.journal), or a PostgreSQL URL (migrator.pgjournal)."""

from __future__ import annotations

from pathlib import Path

from migrator.journal import Journal, JournalStore

URL_SCHEMES = ("postgresql://", "postgres://")  # a --journal that starts so names a PostgreSQL journal
JOURNAL_FILE = "journal.sqlite"  # the SQLite journal's name where `load` (in the plan folder) and `migrate` keep it


def is_url(journal: str | Path) -> bool:
    """Whether `--journal` names a PostgreSQL journal rather than a SQLite file."""
    return str(journal).startswith(URL_SCHEMES)


def open_journal(journal: str | Path, readonly: bool = False) -> JournalStore:
    """The journal `--journal` names: a SQLite file (created unless `readonly`) or a PostgreSQL URL."""
    if is_url(journal):
        from migrator.pgjournal import PostgresJournal  # psycopg only for those who use it

        return PostgresJournal(str(journal), readonly=readonly)
    return Journal(Path(journal), readonly=readonly)


def journal_exists(journal: str | Path) -> bool:
    """Whether a load already wrote this journal (verify, reset and a dry run read an existing one only)."""
    if is_url(journal):
        from migrator.pgjournal import postgres_journal_exists

        return postgres_journal_exists(str(journal))
    return Path(journal).is_file()


def emulator_dir(journal: str | Path, plan_dir: Path) -> Path:
    """Where the embedded emulator keeps its tenant: beside a SQLite journal, in the plan folder for a URL."""
    return plan_dir / "emulator" if is_url(journal) else Path(journal).parent / "emulator"
