"""The journal's rows come back as the records they were written as, after a reopen as after a crash."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.journal import (
    COMPLETED,
    CREATED,
    FAILED,
    POSTED,
    REQUESTED,
    ConversationEntry,
    Journal,
    MessageEntry,
    TeamEntry,
)

ids = st.none() | st.text(min_size=1, max_size=20)
keys = st.text(min_size=1, max_size=20)


@settings(max_examples=50, deadline=None)
@given(team_id=ids, operation=ids, state=st.sampled_from([REQUESTED, CREATED, COMPLETED]))
def test_a_team_row_round_trips(tmp_path_factory, team_id, operation, state) -> None:
    path = tmp_path_factory.mktemp("journal") / "journal.sqlite"
    with Journal(path) as journal:
        journal.set_team("acme", state, team_id=team_id, operation=operation)
    with Journal(path, readonly=True) as journal:
        assert journal.team("acme") == TeamEntry(team_id=team_id, operation=operation, state=state)
        assert journal.team_id("acme") == team_id
        assert journal.team("other") is None and journal.team_id("other") is None


def test_a_later_state_keeps_the_ids_already_known(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal:
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


@settings(max_examples=50, deadline=None)
@given(posted=st.dictionaries(keys, keys, max_size=5), failed=st.dictionaries(keys, keys, max_size=5))
def test_message_rows_round_trip(tmp_path_factory, posted, failed) -> None:
    failed = {key: error for key, error in failed.items() if key not in posted}
    path = tmp_path_factory.mktemp("journal") / "journal.sqlite"
    with Journal(path) as journal:
        for key, message_id in posted.items():
            journal.mark_posted("c", key, message_id, how="reconciled")
        for key, error in failed.items():
            journal.mark_failed("c", key, error, request_id="r-1")
    with Journal(path, readonly=True) as journal:
        assert journal.messages("c") == {
            **{key: MessageEntry(POSTED, message_id, "reconciled", None) for key, message_id in posted.items()},
            **{key: MessageEntry(FAILED, None, None, error) for key, error in failed.items()},
        }
        assert journal.posted("c") == posted
        assert journal.messages("other") == {}


def test_forgetting_a_team_forgets_its_conversations_and_members(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal.sqlite") as journal:
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
