"""Real-export shapes that once lost or misplaced a source record, each on a small fixture under tests/fixtures/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from migratekit import FALLBACK, demo_lookup, plan_sample
from migrator.errors import MigratorError
from migrator.mapping import load_all, run_map
from migrator.model import ConversationKind
from migrator.sources import open_source
from migrator.stages.analyse import run_analyse
from migrator.stages.transform import transform
from tests.transformkit import plan_lines

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def texts_of(line: dict[str, Any]) -> list[str]:
    """The pieces of text of a planned body, markup removed."""
    return [part for part in re.split(r"<[^>]+>", line["body"]["content"]) if part.strip()]


def texts_by_thread(plan_dir: Path) -> dict[str, list[str]]:
    """Each planned thread as the texts of its messages, root first, keyed by the root's text (the body's last
    piece of text: after the fallback account's "Originally posted by" line)."""
    threads: dict[str, list[str]] = {}
    text_of: dict[str, str] = {}
    for lines in plan_lines(plan_dir).values():
        for line in lines:
            text = texts_of(line)[-1]
            text_of[line["key"]] = text
            threads.setdefault(text_of[line["root_key"] or line["key"]], []).append(text)
    return threads


@pytest.mark.parametrize("fixture", ["mattermost-same-ms-roots", "discord-same-ms-roots"])
def test_two_roots_in_one_millisecond_keep_their_own_replies(tmp_path: Path, fixture: str) -> None:
    source = FIXTURES / fixture
    assert run_analyse(source, tmp_path / "analysis")["totals"]["threads"] == 2
    threads = texts_by_thread(plan_sample(source, tmp_path).plan_dir)
    assert threads == {
        "first root": ["first root", "reply to the first root"],
        "second root": ["second root", "reply to the second root"],
    }


@pytest.mark.parametrize(
    ("given", "source_format"),
    [("export.json", None), ("export.json", "mattermost"), ("", None), ("", "mattermost")],
)
def test_a_mattermost_export_named_json_is_read_as_mattermost(tmp_path: Path, given: str, source_format: str) -> None:
    """mmctl writes whatever name it is given: the content, not the name, says which product wrote it."""
    path = FIXTURES / "mattermost-export-json" / given
    with open_source(path, source_format) as source:
        assert source.kind == "mattermost"
        assert [len(list(source.messages(c))) for c in source.conversations()] == [4]


def test_a_message_exported_twice_is_quarantined_not_lost(tmp_path: Path) -> None:
    inventory = run_analyse(FIXTURES / "discord-duplicate-message", tmp_path / "analysis")
    assert inventory["totals"]["messages"] == 2
    [quarantined] = inventory["quarantined"]
    assert quarantined["item"] == 2
    assert "1200000000000000002" in quarantined["error"] and "item 1" in quarantined["error"]


def test_a_unicode_reaction_without_its_code_is_shown_as_the_emoji(tmp_path: Path) -> None:
    [[line]] = plan_lines(plan_sample(FIXTURES / "discord-reaction-without-code", tmp_path).plan_dir).values()
    assert "❤\ufe0f 2" in line["body"]["content"] and ":❤" not in line["body"]["content"]


def test_a_pinned_message_says_so_in_teams(tmp_path: Path) -> None:
    result = plan_sample(FIXTURES / "mattermost-pinned", tmp_path)
    [lines] = plan_lines(result.plan_dir).values()
    pinned = {texts_of(line)[2]: "📌 Pinned in the source" in texts_of(line) for line in lines}  # after "posted by"
    assert pinned == {"the rules of this channel": True, "an ordinary message": False}
    assert result.report["conversions"]["pins"] == 1


def test_analyse_without_mappings_reports_where_the_draft_would_send_each_conversation(tmp_path: Path) -> None:
    """README: the default report follows the draft `map` writes; a note to self cannot be a Teams chat."""
    source = FIXTURES / "mattermost-self-dm"
    reported = {c["id"]: c["goes_to"] for c in run_analyse(source, tmp_path / "analysis")["channels"]}
    assert reported == {"acme.general": "channel", "dm:ada": "archive", "dm:ada,alan": "chat"}
    run_map(source, tmp_path / "mappings", demo_lookup, fallback=FALLBACK, force=True)
    drafted = {route.source: route.action for route in load_all(tmp_path / "mappings").mappings.routes}
    assert drafted["dm:ada"] == "archive"


@pytest.mark.parametrize(("given", "draft_into"), [("MAPS", "MAPS"), ("MAPS/migration.yaml", "MAPS")])
def test_a_missing_mappings_folder_is_named_whole_in_the_hint(tmp_path: Path, given: str, draft_into: str) -> None:
    with pytest.raises(MigratorError) as raised:
        transform(FIXTURES / "mattermost-pinned", tmp_path / given, tmp_path / "plan")
    assert f"--out {tmp_path / draft_into}`" in str(raised.value)


def test_a_teams_export_without_meta_keeps_a_one_on_one_chat_and_a_new_team_description() -> None:
    ada, grace = "a0000000-0000-4000-8000-000000000002", "a0000000-0000-4000-8000-000000000003"
    with open_source(FIXTURES / "teams-without-meta") as source:
        conversations = {c.id: c for c in source.conversations()}
        chat = conversations[f"19:{ada}_{grace}@unq.gbl.spaces"]
        assert chat.kind is ConversationKind.DM and set(chat.members) == {ada, grace}
        channel = conversations["19:general0000000000000000000000@thread.tacv2"]
        texts = [m.text for m in source.messages(channel) if m.system]
    assert texts == ["team description updated: Where the lab plans its experiments"]


def test_authors_the_user_list_lacks_are_named_as_the_export_names_them_elsewhere(tmp_path: Path) -> None:
    """users.json lacks two people: one is named by a join message (`<@U…|sam>`), one by the profile on an earlier
    message of theirs; their messages without a profile say who wrote them, not their id."""
    [lines] = plan_lines(plan_sample(FIXTURES / "slack-unlisted-author", tmp_path).plan_dir).values()
    posted_by = {texts_of(line)[2]: texts_of(line)[1] for line in lines if "Originally posted by" in texts_of(line)[0]}
    assert posted_by["hello from sam"] == "sam"
    assert posted_by["kim again, without a profile"] == "Kim Lee"
    assert not any(name.startswith("U05") for name in posted_by.values())


def test_a_name_the_export_gives_after_a_persons_messages_reaches_them(tmp_path: Path) -> None:
    """Lee's first message (in #general) comes before the profile on a later one of theirs (in #random, planned
    after); Rio is mentioned before a join message names them: every message shows the name, none the id. A record
    the reader refuses is quarantined once."""
    result = plan_sample(FIXTURES / "slack-named-later", tmp_path)
    assert len(result.report["quarantined"]) == 1, "reading ahead for names quarantines nothing twice"
    plans = plan_lines(result.plan_dir).values()
    lines = [line for lines in plans for line in lines]
    posted_by = {texts_of(line)[2]: texts_of(line)[1] for line in lines if "Originally posted by" in texts_of(line)[0]}
    assert {text: posted_by[text] for text in ("lee speaks first", "rio here", "lee in random")} == {
        "lee speaks first": "Lee Park",
        "rio here": "rio",
        "lee in random": "Lee Park",
    }
    assert not any(name.startswith("U05") for name in posted_by.values())
    [mention] = [line["body"]["content"] for line in lines if "are you there?" in line["body"]["content"]]
    assert "<b>rio</b>" in mention and "U0500003431" not in mention
