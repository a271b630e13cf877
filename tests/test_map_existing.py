"""`action: existing` in migration.yaml: what a route into a channel or chat people already use must say, each
problem placed on its line (the tenant's half of the check, over HTTPS, is in test_existing_targets.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from responses import matchers

from migrator.existing import TEAMS_ONLY, ExistingTargetError, find_team
from migrator.existing_rules import Audience, channel_readers
from migrator.mapping import EXISTING, ResolvedMappings, load_mappings, resolve_targets
from migrator.mapping.rules import check_mappings
from migrator.model import Conversation, ConversationKind
from migrator.stages.analyse import destination
from test_graph_client import GRAPH, client_fixture, rsps_fixture, sleeps_fixture  # noqa: F401  (fixtures: a mocked Graph)

HEAD = "version: 1\nteams:\n  eng: {name: Engineering}\nconversations:\n"


def _read(tmp_path: Path, entry: str) -> tuple[list[str], list]:
    path = tmp_path / "migration.yaml"
    path.write_text(HEAD + entry, encoding="utf-8")
    mappings, problems = load_mappings(path)
    return [str(p) for p in problems], list(mappings.routes)


def _resolved(tmp_path: Path, entries: str, conversations: list[Conversation]) -> ResolvedMappings:
    """migration.yaml with these `conversations:` entries, read without a problem and resolved for the export."""
    path = tmp_path / "migration.yaml"
    path.write_text(HEAD + entries, encoding="utf-8")
    mappings, problems = load_mappings(path)
    assert problems == []
    return resolve_targets(mappings, conversations)


def test_a_route_into_an_existing_channel_or_chat_is_read(tmp_path: Path) -> None:
    problems, routes = _read(
        tmp_path,
        "  - {source: C1, action: existing, existing_team: Product, existing_channel: '19:abc@thread.tacv2'}\n"
        "  - {source: D1, action: existing, existing_chat: '19:x_y@unq.gbl.spaces'}\n",
    )
    assert problems == []
    channel, chat = routes
    assert (channel.action, channel.existing_team, channel.existing_channel, channel.team) == (
        EXISTING,
        "Product",
        "19:abc@thread.tacv2",
        None,
    )
    assert (chat.existing_chat, chat.existing_team, chat.target) == ("19:x_y@unq.gbl.spaces", None, None)


@pytest.mark.parametrize(
    ("entry", "line", "message"),
    [
        (
            "  - source: C1\n    action: existing\n    existing_team: Product\n",
            6,
            "conversation C1: `action: existing` has no existing_channel: name the existing team and channel",
        ),
        (
            "  - source: C1\n    action: existing\n",
            6,
            "`action: existing` has no existing_team and existing_channel",
        ),
        (
            "  - source: C1\n    action: existing\n    existing_chat: '19:x'\n    existing_team: Product\n",
            7,
            "give existing_chat (a chat) or existing_team with existing_channel (a channel), not both",
        ),
        (
            "  - source: C1\n    action: existing\n    team: eng\n    existing_chat: '19:x'\n",
            7,
            "team is not read with `action: existing` (team: is for what the migration creates)",
        ),
        (
            "  - source: C1\n    team: eng\n    channel: general\n    existing_channel: incidents\n",
            8,
            "existing_channel is read only with `action: existing`; add that action or remove existing_channel",
        ),
    ],
)
def test_a_route_that_names_its_existing_target_badly_is_refused_on_its_line(
    tmp_path: Path, entry: str, line: int, message: str
) -> None:
    problems, _ = _read(tmp_path, entry)
    assert len(problems) == 1 and f"migration.yaml:{line}: " in problems[0] and message in problems[0], problems


def test_a_public_channel_goes_to_an_existing_channel_not_an_existing_chat(tmp_path: Path) -> None:
    conversations = [
        Conversation(id="C1", name="general", kind=ConversationKind.PUBLIC, members=("U1", "U2")),
        Conversation(id="G1", name="leads", kind=ConversationKind.PRIVATE, members=("U1",)),
    ]
    entries = (
        "  - {source: C1, action: existing, existing_chat: '19:x'}\n"
        "  - {source: G1, action: existing, existing_chat: '19:y'}\n"
    )
    problems = check_mappings(_resolved(tmp_path, entries, conversations), conversations, [], "Slack")
    assert [(p.line, p.message) for p in problems] == [
        (
            5,
            "public channel general goes to an existing chat; a chat is for a DM, group DM or private channel whose "
            "people are its members: give it an existing_team and existing_channel instead",
        )
    ]


def test_analyse_says_which_existing_target_a_conversation_goes_to(tmp_path: Path) -> None:
    conversations = [
        Conversation(id="C1", name="general", kind=ConversationKind.PUBLIC),
        Conversation(id="D1", name="", kind=ConversationKind.DM, members=("U1", "U2")),
    ]
    entries = (
        "  - {source: C1, action: existing, existing_team: Product, existing_channel: incidents}\n"
        "  - {source: D1, action: existing, existing_chat: '19:x'}\n"
    )
    resolved = _resolved(tmp_path, entries, conversations)
    assert [destination(resolved, conv, None, {}) for conv in conversations] == [
        ("existing", "Product / incidents"),
        ("existing", "chat 19:x"),
    ]


@pytest.mark.parametrize(
    ("readable", "forbidden", "refused"),
    [
        (["g2"], [], None),
        (["g2"], ["g1"], "the app may not read g1 (403) of the 2 teams named 'Product'; give existing_team the id"),
        ([], ["g1"], "the app may not read g1 (403) of the 1 team named 'Product'"),
    ],
)
def test_a_team_found_by_name_never_guesses_past_one_the_app_may_not_read(
    rsps,  # noqa: F811
    client,  # noqa: F811
    readable: list[str],
    forbidden: list[str],
    refused: str | None,
) -> None:
    """Only teams' groups are listed (resourceProvisioningOptions); a 403 on one of them no longer stops the lookup,
    but a team the app may not read could be the one meant, so it counts when deciding whether the name is unique."""
    groups = [{"id": g, "displayName": "Product"} for g in forbidden + readable]
    filtered = matchers.query_param_matcher({"$filter": f"displayName eq 'Product' and {TEAMS_ONLY}"})
    rsps.add("GET", f"{GRAPH}/groups", json={"value": groups}, match=[filtered])
    for group in forbidden:
        rsps.add("GET", f"{GRAPH}/teams/{group}", status=403, json={"error": {"code": "Forbidden", "message": "no"}})
    for group in readable:
        rsps.add("GET", f"{GRAPH}/teams/{group}", json={"id": group, "displayName": "Product"})
    if refused is None:
        assert find_team(client, "Product")["id"] == "g2"
    else:
        with pytest.raises(ExistingTargetError, match=re.escape(refused)):
            find_team(client, "Product")


def test_a_member_without_an_account_id_is_named_so() -> None:
    audience = Audience("private conversation x", "Slack", True, {"a1": "Ada"})
    [reason] = channel_readers({"displayName": "T"}, {"displayName": "C"}, [{"userId": "a1"}, {}], audience)
    assert "a member without an account id could read it there but not in Slack" in reason
