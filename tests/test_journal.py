"""The journal's rows come back as the records they were written as, after a reopen as after a crash, in both
stores: SQLite and PostgreSQL (each test on a schema of its own)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.journal import (
    COMPLETED,
    CREATED,
    FAILED,
    POSTED,
    REQUESTED,
    ConversationEntry,
    JournalError,
    MessageEntry,
    TeamEntry,
)
from migrator.journals import journal_exists, open_journal
from services import fresh_schema, require_postgres

ids = st.none() | st.text(min_size=1, max_size=20).filter(lambda text: "\x00" not in text)
keys = st.text(min_size=1, max_size=20).filter(lambda text: "\x00" not in text)  # PostgreSQL text holds no NUL
# A test's journals come from `new_journal`: a fresh location per call (hypothesis runs many examples in one test).
fresh_per_call = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=["sqlite", "postgresql"])
def new_journal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], str]]:
    """Makes a location for a new, empty journal: a SQLite path, or a PostgreSQL URL with a schema of its own."""
    if request.param == "postgresql":
        require_postgres()
    with ExitStack() as cleanup:

        def new() -> str:
            if request.param == "sqlite":
                return str(tmp_path_factory.mktemp("journal") / "journal.sqlite")
            return cleanup.enter_context(fresh_schema())

        yield new


@fresh_per_call
@given(team_id=ids, operation=ids, state=st.sampled_from([REQUESTED, CREATED, COMPLETED]))
def test_a_team_row_round_trips(new_journal, team_id, operation, state) -> None:
    where = new_journal()
    with open_journal(where) as journal:
        journal.set_team("acme", state, team_id=team_id, operation=operation)
    with open_journal(where, readonly=True) as journal:
        assert journal.team("acme") == TeamEntry(team_id=team_id, operation=operation, state=state)
        assert journal.team_id("acme") == team_id
        assert journal.team("other") is None and journal.team_id("other") is None


def test_a_later_state_keeps_the_ids_already_known(new_journal) -> None:
    with open_journal(new_journal()) as journal:
        journal.set_team("acme", REQUESTED, team_id="T1", operation="https://graph/operations/1")
        journal.set_team("acme", CREATED)
        assert journal.team("acme") == TeamEntry("T1", "https://graph/operations/1", CREATED)
        assert journal.team_key_of("T1") == "acme" and journal.team_key_of("T2") is None
        journal.set_conversation("acme/general", "acme", REQUESTED, graph_id="19:c")
        journal.set_conversation("acme/general", "acme", COMPLETED)
        assert journal.conversation("acme/general") == ConversationEntry(graph_id="19:c", state=COMPLETED)
        assert journal.conversation_id("acme/general") == "19:c"
        assert journal.conversation_key_of("19:c") == "acme/general"
        assert journal.conversation("acme/random") is None and journal.conversation_id("acme/random") is None


@fresh_per_call
@given(posted=st.dictionaries(keys, keys, max_size=5), failed=st.dictionaries(keys, keys, max_size=5))
def test_message_rows_round_trip(new_journal, posted, failed) -> None:
    failed = {key: error for key, error in failed.items() if key not in posted}
    where = new_journal()
    with open_journal(where) as journal:
        for key, message_id in posted.items():
            journal.mark_posted("c", key, message_id, how="reconciled")
        for key, error in failed.items():
            journal.mark_failed("c", key, error, request_id="r-1")
    with open_journal(where, readonly=True) as journal:
        assert journal.messages("c") == {
            **{key: MessageEntry(POSTED, message_id, "reconciled", None) for key, message_id in posted.items()},
            **{key: MessageEntry(FAILED, None, None, error) for key, error in failed.items()},
        }
        assert journal.posted("c") == posted
        assert journal.posted_as("c", "reconciled") == set(posted) and journal.moved("c") == set()
        assert journal.failures("c") == {key: f"{error} (request-id r-1)" for key, error in failed.items()}
        assert journal.messages("other") == {}


def test_forgetting_a_team_forgets_its_conversations_and_members(new_journal) -> None:
    with open_journal(new_journal()) as journal:
        journal.set_team("acme", CREATED, team_id="T1")
        journal.add_member("acme", "u1")
        journal.set_conversation("acme/general", "acme", CREATED, graph_id="19:c")
        journal.set_upload("acme/general", "f1", "item-1", "https://sharepoint/f1")
        journal.mark_posted("acme/general", "m1", "1001")
        assert journal.members("acme") == {"u1"}
        assert journal.uploads("acme/general") == {"f1": "https://sharepoint/f1"}
        journal.forget_team("acme", ["acme/general"])
        assert journal.team("acme") is None and journal.members("acme") == set()
        assert journal.conversation("acme/general") is None
        assert journal.uploads("acme/general") == {} and journal.messages("acme/general") == {}


def test_a_chat_file_becomes_an_upload_once_shared(new_journal) -> None:
    with open_journal(new_journal()) as journal:
        journal.set_drive_file("chat", "f1", "uploading", "u1")
        journal.set_drive_file("chat", "f1", "uploaded", "u1", ("d1", "item-1", "https://onedrive/f1"))
        journal.shared_drive_file("chat", "f1", "item-1", "https://onedrive/f1")
        assert journal.drive_files("chat")["f1"].state == "shared"
        assert journal.uploads("chat") == {"f1": "https://onedrive/f1"}
        assert journal.upload_items() == {"item-1"}
        journal.removed_drive_file("chat", "f1")
        assert journal.drive_files("chat")["f1"].state == "removed" and journal.uploads("chat") == {}
        journal.note_deleted_channel("acme", "old", "standard", 1000)
        assert (
            journal.deleted_channels("acme", 999) == [("standard", 1000)]
            and journal.deleted_channels("acme", 1001) == []
        )


def test_a_journal_is_bound_to_one_target(new_journal) -> None:
    where = new_journal()
    assert not journal_exists(where)
    with pytest.raises(JournalError, match="no journal here"):
        open_journal(where, readonly=True)
    with open_journal(where) as journal:
        journal.bind("tenant-a@loopback-emulator")
        journal.bind("tenant-a@loopback-emulator")
    assert journal_exists(where)
    with open_journal(where) as journal, pytest.raises(JournalError, match="records a migration into tenant-a"):
        journal.bind("tenant-b@graph.microsoft.com")


@pytest.mark.parametrize(("version", "why"), [(99, "written by a newer migrator"), (0, "has no upgrade from it")])
def test_a_postgresql_journal_of_another_schema_version_is_refused_with_the_reason(version: int, why: str) -> None:
    require_postgres()
    import psycopg

    from migrator.pgjournal import split_url

    with fresh_schema() as where:
        open_journal(where).close()
        conninfo, schema = split_url(where)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"UPDATE {schema}.meta SET value = '{version}' WHERE name = 'schema_version'".encode())
        for readonly in (False, True):
            with pytest.raises(JournalError, match=f"schema version {version}.*{why}"):
                open_journal(where, readonly=readonly)


def test_a_postgresql_journal_of_version_1_is_upgraded_by_a_writer_and_refused_by_a_reader() -> None:
    require_postgres()
    import psycopg

    from migrator.pgjournal import SCHEMA_VERSION, split_url

    with fresh_schema() as where:
        with open_journal(where) as journal:
            journal.set_team("acme", CREATED, team_id="T1")
        conninfo, schema = split_url(where)
        with psycopg.connect(conninfo, autocommit=True) as conn:  # as version 1 left it
            conn.execute(f"DROP TABLE {schema}.plan_files, {schema}.work".encode())
            conn.execute(f"UPDATE {schema}.meta SET value = '1' WHERE name = 'schema_version'".encode())
        with pytest.raises(JournalError, match="schema version 1, written by an older migrator"):
            open_journal(where, readonly=True)
        with open_journal(where) as journal:
            assert journal.team("acme") == TeamEntry("T1", None, CREATED)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            version = conn.execute(f"SELECT value FROM {schema}.meta WHERE name = 'schema_version'".encode()).fetchone()
            assert version == (str(SCHEMA_VERSION),)
            assert conn.execute(f"SELECT count(*) FROM {schema}.work".encode()).fetchone() == (0,)
