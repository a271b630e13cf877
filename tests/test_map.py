"""map: drafting the mapping files, and --check explaining every problem with file and line."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from migrator.cli import app
from migrator.mapping import (
    CHANNEL,
    CHAT,
    GENERAL,
    PRIVATE_CHANNEL,
    MappingError,
    Mappings,
    Route,
    channel_name_problems,
    check_against,
    draft_mappings,
    draft_users,
    load_all,
    load_mappings,
    resolve_targets,
    run_check,
    run_map,
)
from migrator.mapping.document import dump_document, load_document
from migrator.mapping.writing import write_mappings
from migrator.model import Conversation, ConversationKind, User, Workspace
from migrator.sources import open_source
from migrator.sources.products import PRODUCTS
from migrator.stages.analyse import run_analyse
from migrator.stages.transform import summary, transform
from tests.slackkit import SAMPLE, write_export

SLACK = PRODUCTS["slack"]
DIRECTORY = {
    "ada@contoso.example": "e-ada",
    "grace@contoso.example": "e-grace",
    "alan@contoso.example": "e-alan",
    "migration@contoso.example": "e-migration",
}


def fake_lookup(mail: str) -> Mapping[str, Any] | None:
    """Stands in for `GET /users?$filter=mail eq '…'` in the pure tests."""
    found = DIRECTORY.get(mail.lower())
    return {"id": found, "mail": mail} if found else None


@pytest.fixture
def drafted(tmp_path: Path) -> Path:
    """A project folder with a copy-free reference to the sample export and freshly drafted mappings."""
    out = tmp_path / "mappings"
    run_map(SAMPLE, out, fake_lookup, fallback="migration@contoso.example")
    return out


def edit(folder: Path, old: str, new: str, name: str = "migration.yaml") -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(folder: Path, needle: str, name: str = "migration.yaml") -> int:
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line and not line.lstrip().startswith("#"))


def problems_of(folder: Path) -> list[str]:
    return [str(p) for p in run_check(folder)]


# --- drafting -------------------------------------------------------------------


def test_draft_of_the_sample_follows_the_rules(drafted: Path) -> None:
    mappings, problems = load_mappings(drafted)
    assert problems == [] and problems_of(drafted) == []
    routes = {r.source: r for r in mappings.routes}
    assert (routes["C01GENERAL"].team, routes["C01GENERAL"].channel) == ("northwind-labs", GENERAL)
    assert (routes["C03ENGINEERING"].team, routes["C03ENGINEERING"].channel) == ("northwind-labs", "engineering")
    leadership = routes["G01LEADERSHIP"]
    assert (leadership.kind, leadership.team, leadership.channel) == (PRIVATE_CHANNEL, "northwind-labs", "leadership")
    assert list(mappings.teams) == ["northwind-labs"]
    assert (
        mappings.teams["northwind-labs"].members is None and mappings.teams["northwind-labs"].name == "Northwind Labs"
    )
    assert (routes["D01ADAGRACE"].action, routes["D01ADAGRACE"].kind) == ("migrate", CHAT)  # ada and Grace are in Entra
    assert {routes[c].action for c in ("D02ALANMEI", "G02MPIM")} == {"archive"}  # 美 is not in the fake directory
    text = (drafted / "migration.yaml").read_text(encoding="utf-8")
    assert "action: archive  # 美 has no Entra account in users.csv, and a Teams chat needs every participant" in text
    assert (drafted / mappings.source).resolve() == SAMPLE.resolve()
    assert (mappings.fallback, mappings.fallback_id) == ("migration@contoso.example", "e-migration")


def test_draft_users_by_email_with_fallback_for_the_rest(drafted: Path) -> None:
    with (drafted / "users.csv").open(encoding="utf-8") as handle:
        rows = {row["source_id"]: row for row in csv.DictReader(handle)}
    assert list(next(csv.reader((drafted / "users.csv").open(encoding="utf-8")))) == [
        "source_id",
        "source_name",
        "email",
        "entra_id",
        "action",
    ]
    assert (rows["U01ADA"]["entra_id"], rows["U01ADA"]["action"]) == ("e-ada", "map")
    assert (rows["U08SOREN"]["entra_id"], rows["U08SOREN"]["action"]) == ("", "fallback")  # not in the directory
    assert rows["U10ZOE"]["action"] == "fallback" and rows["U10ZOE"]["email"] == ""  # no email
    assert rows["U11DEPLOY"]["action"] == "fallback"  # bots post through the fallback with their name
    assert rows["U06MEI"]["source_name"] == "李美 (Li Mei)"


def test_bots_are_never_looked_up() -> None:
    asked = []
    bot = User(id="B1", name="bot", email="ada@contoso.example", is_bot=True)
    rows = draft_users([bot], lambda mail: asked.append(mail) or None)
    assert asked == [] and rows[0].action == "fallback"


def test_drafted_channel_names_always_pass_the_teams_rules() -> None:
    names = ["general", "General", "a/b:c?", "_hidden", ".dot", "ends.", "x" * 70, "a/b:c*", "naïve-ünïcode", "GENERAL"]
    conversations = [Conversation(id="C0", name="main", kind=ConversationKind.PUBLIC, is_general=True)]
    conversations += [Conversation(id=f"C{i + 1}", name=n, kind=ConversationKind.PUBLIC) for i, n in enumerate(names)]
    mappings = draft_mappings(
        Path("m/migration.yaml"), Workspace(id="T", name="Acme"), conversations, None, product=SLACK
    )
    channels = [r.channel for r in mappings.routes]
    assert channels[0] == GENERAL and GENERAL not in channels[1:]
    assert len({c.casefold() for c in channels}) == len(channels)  # unique, as Teams compares them
    for channel in channels:
        assert channel_name_problems(channel) == [], channel
    assert channels[3] == "a-b-c-" and channels[9] == "naïve-ünïcode"


def test_old_exports_without_is_general_use_the_channel_named_general() -> None:
    conversations = [
        Conversation(id="C1", name="random", kind=ConversationKind.PUBLIC),
        Conversation(id="C2", name="general", kind=ConversationKind.PUBLIC),
    ]
    mappings = draft_mappings(
        Path("m/migration.yaml"), Workspace(id="T", name="Acme"), conversations, None, product=SLACK
    )
    assert [r.channel for r in mappings.routes] == ["random", GENERAL]


def test_drafting_never_overwrites_edits_without_force(drafted: Path) -> None:
    with pytest.raises(MappingError, match="already exist and may hold your edits"):
        run_map(SAMPLE, drafted, fake_lookup)
    run_map(SAMPLE, drafted, fake_lookup, force=True)
    assert load_mappings(drafted)[0].fallback is None


@pytest.mark.parametrize(
    ("kind", "description"),
    [
        ("discord", "Migrated from the Discord server Northwind Gaming"),
        ("mattermost", "Migrated from the Mattermost team Northwind Traders"),
        ("teams", "Migrated from the Microsoft Teams team "),
    ],
)
def test_a_draft_names_the_product_its_export_came_from(tmp_path: Path, kind: str, description: str) -> None:
    out = tmp_path / kind
    run_map(SAMPLE.parent / kind, out, fake_lookup, fallback="migration@contoso.example")
    text = (out / "migration.yaml").read_text(encoding="utf-8")
    assert text.startswith(f"# Where every {PRODUCTS[kind].name} conversation goes in Microsoft Teams")
    assert "Slack" not in text
    (team,) = load_mappings(out)[0].teams.values()
    assert team.description.startswith(description)
    with (out / "users.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    csv_text = (out / "users.csv").read_text(encoding="utf-8")
    (out / "users.csv").write_text(csv_text + "U99GHOST,Ghost,,,skip\n", encoding="utf-8")
    problems = problems_of(out)
    assert rows and problems == [
        f"{out / 'users.csv'}:{len(rows) + 2}: unknown {PRODUCTS[kind].name} user 'U99GHOST': "
        "the export has no such user"
    ]


def test_a_second_general_channel_is_named_after_its_source() -> None:
    conversations = [
        Conversation(id="C1", name="general", kind=ConversationKind.PUBLIC, is_general=True),
        Conversation(id="C2", name="General", kind=ConversationKind.PUBLIC),
    ]
    workspace = Workspace(id="G", name="Guild")
    drafted = draft_mappings(Path("m/migration.yaml"), workspace, conversations, None, product=PRODUCTS["discord"])
    assert [r.channel for r in drafted.routes] == [GENERAL, "General-discord"]


# --- --check: every rule, with file and line ------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("x" * 51, "is 51 characters long"),
        ("a/b", "contains /"),
        ("what?", "contains ?"),
        ("it's", "contains '"),
        ("_private", "starts with '_' or '.'"),
        (".hidden", "starts with '_' or '.'"),
        ("end.", "ends with '.'"),
        ("general", "is reserved"),
        ("GENERAL", "is reserved"),
    ],
)
def test_channel_name_rules(drafted: Path, name: str, reason: str) -> None:
    edit(drafted, "channel: random", f'channel: "{name}"')
    (problem,) = problems_of(drafted)
    assert problem.startswith(f"{drafted / 'migration.yaml'}:{line_of(drafted, 'source: C02RANDOM')}: ")
    assert reason in problem


def test_unknown_source_and_duplicates(drafted: Path) -> None:
    edit(drafted, "source: C02RANDOM", "source: C99NOPE")
    edit(drafted, "source: C04DESIGN", "source: C03ENGINEERING")
    problems = problems_of(drafted)
    yaml = drafted / "migration.yaml"
    assert f"{yaml}:{line_of(drafted, 'source: C99NOPE')}: unknown source conversation 'C99NOPE'" in problems[0]
    dup_line = [i for i, text in enumerate(yaml.read_text().splitlines(), 1) if "source: C03ENGINEERING" in text][1]
    assert any(p.startswith(f"{yaml}:{dup_line}: conversation C03ENGINEERING is listed twice") for p in problems)
    # the two conversations that lost their entries are reported as unmapped
    assert sum("has no entry" in p for p in problems) == 2


def test_two_sources_into_one_channel_need_merge(drafted: Path) -> None:
    edit(drafted, "channel: design", "channel: engineering")
    (problem,) = problems_of(drafted)
    assert f":{line_of(drafted, 'source: C04DESIGN')}: " in problem and "add `merge: true`" in problem
    edit(
        drafted, "channel: engineering\n  # #announcements", "channel: engineering\n    merge: true\n  # #announcements"
    )
    assert problems_of(drafted) == []
    edit(drafted, "    channel: engineering\n    merge: true", "    channel: Engineering\n    merge: true")
    (problem,) = problems_of(drafted)
    assert "differs only in case" in problem


def test_private_content_never_reaches_people_who_could_not_read_it(drafted: Path) -> None:
    edit(drafted, "target: private_channel", "target: own_team")
    (problem,) = problems_of(drafted)
    assert (
        f":{line_of(drafted, 'source: G01LEADERSHIP')}: private conversation leadership would be readable by every "
        "member" in problem
    )
    edit(
        drafted,
        "teams:\n",
        "teams:\n  leadership:\n    name: Leadership\n    members: [U01ADA, U02GRACE, U03ALAN, U05JOSE]\n",
    )
    edit(drafted, "team: northwind-labs\n    channel: leadership", "team: leadership\n    channel: General")
    (problem,) = problems_of(drafted)
    assert "would become readable by U05JOSE" in problem
    edit(drafted, "    target: chat", "    target: own_team\n    team: leadership\n    channel: dm")
    assert any(
        "dm conversation D01ADAGRACE would become readable by U03ALAN, U05JOSE" in p for p in problems_of(drafted)
    )


def test_a_private_channel_has_exactly_its_members(drafted: Path) -> None:
    at = line_of(drafted, "source: G01LEADERSHIP")
    edit(drafted, "    channel: leadership", "    channel: General")
    (problem,) = problems_of(drafted)
    assert f":{at}: General is the team's standard channel" in problem
    edit(drafted, "    channel: General\n  # group", "    channel: design\n  # group")
    (problem,) = problems_of(drafted)
    assert f":{at}: G01LEADERSHIP and C04DESIGN" in problem and "holds exactly one Slack conversation" in problem
    edit(drafted, "    channel: design\n  # group", "    channel: leadership\n  # group")
    edit(drafted, "    members: all", "    members: [U01ADA, U02GRACE]")
    (problem,) = problems_of(drafted)
    assert (
        f":{at}: U03ALAN could read private channel leadership in Slack but is not in team 'northwind-labs'" in problem
    )
    edit(drafted, "    members: [U01ADA, U02GRACE]", "    members: all")
    rows = (drafted / "users.csv").read_text(encoding="utf-8").replace(",map\n", ",fallback\n")
    (drafted / "users.csv").write_text(rows, encoding="utf-8")
    assert any(
        f":{at}: no member of private channel leadership has an Entra account" in p for p in problems_of(drafted)
    )


def test_targets_must_suit_the_conversation(drafted: Path) -> None:
    edit(drafted, "    target: chat\n", "    target: chat\n    team: northwind-labs\n    channel: dm\n")
    edit(drafted, "    channel: random", "    channel: random\n    target: chat")
    edit(
        drafted,
        "  - source: D02ALANMEI\n    name: D02ALANMEI\n    action: archive",
        "  - source: D02ALANMEI\n    name: D02ALANMEI\n    target: chats",
    )
    problems = problems_of(drafted)
    assert any(
        f":{line_of(drafted, 'source: C02RANDOM')}: target 'chat' is not possible for public conversation random" in p
        for p in problems
    )
    assert any(
        f":{line_of(drafted, 'source: D01ADAGRACE')}: D01ADAGRACE goes to a chat, which has no team or channel" in p
        for p in problems
    )
    assert any(
        f":{line_of(drafted, 'target: chats')}: conversation D02ALANMEI: target 'chats' is not one of" in p
        for p in problems
    )


def test_a_chat_whose_people_are_not_all_in_entra_is_noted_not_refused(drafted: Path) -> None:
    edit(
        drafted,
        "  - source: D02ALANMEI\n    name: D02ALANMEI\n    action: archive",
        "  - source: D02ALANMEI\n    name: D02ALANMEI",
    )
    notes: list = []
    assert run_check(drafted, notes=notes) == []
    (note,) = notes
    assert (
        f":{line_of(drafted, 'source: D02ALANMEI')}: note: DM: alan.t, 美 will be archived, not a chat: "
        "美 has no Entra account" in str(note)
    )
    result = CliRunner().invoke(app, ["map", "--check", str(drafted)])
    assert result.exit_code == 0 and "will be archived, not a chat" in result.output


def test_shape_problems_name_their_line(drafted: Path) -> None:
    edit(drafted, "    channel: random", "    chanel: random")
    edit(drafted, "team: northwind-labs\n    channel: leadership", "team: nowhere\n    channel: leadership")
    problems = problems_of(drafted)
    assert f":{line_of(drafted, 'chanel: random')}: unknown key 'chanel'" in problems[0]
    assert any(
        f":{line_of(drafted, 'source: C02RANDOM')}: conversation C02RANDOM has no 'channel'" in p for p in problems
    )
    assert any(f":{line_of(drafted, 'source: G01LEADERSHIP')}: team 'nowhere' is not defined" in p for p in problems)


def test_half_a_character_escaped_in_yaml_is_refused_with_its_line(drafted: Path) -> None:
    """YAML reads "\\ud83d" as a lone UTF-16 surrogate, which no plan, report or Teams name could hold."""
    edit(drafted, "    channel: design", '    channel: "design \\ud83d"')
    (problem,) = problems_of(drafted)
    line = line_of(drafted, 'channel: "design')
    assert f":{line}: not valid YAML: half a character" in problem


def test_invalid_yaml_and_duplicate_keys_are_placed(drafted: Path) -> None:
    edit(drafted, "    channel: design", "    channel: design\n    channel: again")
    (problem,) = problems_of(drafted)
    assert f":{line_of(drafted, 'channel: again')}: not valid YAML: key 'channel' appears twice" in problem
    edit(drafted, "    channel: again", "    channel: [unclosed")
    (problem,) = problems_of(drafted)
    opened = line_of(drafted, "channel: [unclosed")
    assert f"migration.yaml:{opened + 2}: not valid YAML: expected ',' or ']'" in problem  # where the parser gave up
    assert f"(while parsing a flow sequence on line {opened})" in problem


def test_users_csv_rules(drafted: Path) -> None:
    csv_path = drafted / "users.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    ada = next(i for i, row in enumerate(lines) if row.startswith("U01ADA"))
    lines[ada] = lines[ada].replace("e-ada", "")  # map without an Entra id
    grace = next(i for i, row in enumerate(lines) if row.startswith("U02GRACE"))
    lines[grace] = lines[grace].replace(",map", ",maybe")
    lines = [row for row in lines if not row.startswith("U03ALAN")]  # a user without a row
    lines.append(lines[ada])  # a duplicate
    lines.append("U99GHOST,Ghost,,,skip")
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    where = str(csv_path)
    problems = [p for p in problems_of(drafted) if p.startswith(where)]
    assert f"{where}:{ada + 1}: user U01ADA (Ada Lovelace) has action map but no entra_id" in problems[0]
    assert f"{where}:{grace + 1}: action 'maybe' is not one of map, fallback, skip" in problems[1]
    assert any(p.startswith(f"{where}:") and "user U01ADA is listed twice" in p for p in problems)
    assert any("unknown Slack user 'U99GHOST'" in p for p in problems)
    assert any(p.startswith(f"{where}: user U03ALAN (alan.t) has no row") for p in problems)


def test_the_old_slack_headers_of_users_csv_are_read_with_a_note(drafted: Path, tmp_path: Path) -> None:
    csv_path = drafted / "users.csv"
    text = csv_path.read_text(encoding="utf-8")
    assert text.startswith("source_id,source_name,email,entra_id,action\n")
    rows = load_all(drafted).rows
    csv_path.write_text(text.replace("source_id,source_name,", "slack_id,slack_name,", 1), encoding="utf-8")
    notes: list = []
    assert run_check(drafted, notes=notes) == []
    assert load_all(drafted).rows == rows  # read exactly as with the new names: every row, every decision
    (note,) = [str(n) for n in notes if "header" in str(n)]
    assert note.startswith(f"{csv_path}:1: note: the header uses the old column names slack_id, slack_name")
    assert "rename slack_id to source_id, slack_name to source_name" in note
    result = CliRunner().invoke(app, ["map", "--check", str(drafted)])
    assert result.exit_code == 0 and "uses the old column names" in result.output
    plan = transform(SAMPLE, drafted, tmp_path / "plan")
    assert plan.report["mapping_notes"] == [note]
    assert "uses the old column names" in plan.report_html.read_text(encoding="utf-8")
    assert "uses the old column names" in summary(plan)
    assert run_analyse(SAMPLE, tmp_path / "analysed", drafted)["mapping_notes"] == [note]
    csv_path.write_text(text, encoding="utf-8")
    assert transform(SAMPLE, drafted, tmp_path / "plan").report["mapping_notes"] == []


def test_a_header_mixing_old_and_new_names_is_read_and_one_missing_column_is_named(drafted: Path) -> None:
    csv_path = drafted / "users.csv"
    text = csv_path.read_text(encoding="utf-8")
    csv_path.write_text(text.replace("source_id,source_name,", "source_id,slack_name,", 1), encoding="utf-8")
    notes: list = []
    assert run_check(drafted, notes=notes) == []
    assert any("the old column name slack_name, read as source_name" in str(n) for n in notes)
    csv_path.write_text(text.replace("source_id,source_name,", "id,source_name,", 1), encoding="utf-8")
    problem = problems_of(drafted)[0]
    assert problem == (
        f"{csv_path}:1: header must name the columns source_id,source_name,email,entra_id,action; missing source_id"
    )


def test_fallback_users_need_a_fallback_account(drafted: Path) -> None:
    edit(drafted, "fallback_id: e-migration", "fallback_id: null")
    (problem,) = problems_of(drafted)
    assert f"migration.yaml:{line_of(drafted, 'users:')}: users.csv sends 9 users to the fallback account" in problem


def test_every_conversation_needs_an_entry(tmp_path: Path) -> None:
    root = write_export(tmp_path / "export", {})
    out = tmp_path / "mappings"
    run_map(root, out, fake_lookup, fallback="migration@contoso.example")
    edit(out, "  - source: C2\n    name: dev\n    team: export\n    channel: dev\n", "")
    (problem,) = problems_of(out)
    assert f":{line_of(out, 'conversations:')}: conversation C2 (public dev) has no entry" in problem


def test_a_consultants_comments_and_edits_survive_reading_checking_and_a_round_trip(drafted: Path) -> None:
    """Reading and checking never rewrite the file; a document loaded and dumped again (as `map --update` will)
    keeps every comment, the quoting and the order, and still reads the same."""
    edit(drafted, "    channel: random\n", "    channel: random  # edited: kept for the sales team's habits\n")
    edit(drafted, "teams:\n", "# Reviewed with the customer on 3 March.\nteams:\n")
    edit(drafted, "    channel: design", '    channel: "design"')
    before = (drafted / "migration.yaml").read_text(encoding="utf-8")
    assert problems_of(drafted) == []
    assert (drafted / "migration.yaml").read_text(encoding="utf-8") == before
    document, problems = load_document(drafted / "migration.yaml")
    assert problems == []
    copy = drafted / "copy" / "migration.yaml"
    copy.parent.mkdir()
    dump_document(document, copy)
    assert copy.read_text(encoding="utf-8") == before
    assert load_mappings(copy)[0].routes == load_mappings(drafted)[0].routes


def test_the_draft_reads_back_as_drafted(drafted: Path) -> None:
    """Every comment the draft writes is there, and a value that YAML would read as something else is quoted."""
    text = (drafted / "migration.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Where every ") and "# Private content may only reach people" in text
    assert "fallback: migration@contoso.example  # Entra account that posts for people without one" in text
    assert "\n  # #general: public, 10 members\n  - source: C01GENERAL\n" in text
    conversations = [Conversation(id="123", name="true", kind=ConversationKind.PUBLIC)]
    mappings = draft_mappings(
        drafted / "numbers.yaml", Workspace(id="T", name="null"), conversations, "2024", product=SLACK
    )
    write_mappings(drafted / "numbers.yaml", mappings, conversations, {}, SLACK)
    again, problems = load_mappings(drafted / "numbers.yaml")
    (route,) = again.routes
    assert problems == [] and (route.source, route.name, route.team, route.channel) == ("123", "true", "null", "true")
    assert (again.source, again.teams["null"].name) == ("2024", "null")


# --- target resolution: an explicit step, never a side effect of checking ------------------


def test_resolution_is_its_own_step_and_checking_changes_nothing(drafted: Path) -> None:
    edit(drafted, "    target: private_channel\n", "")  # leadership now lands the default way of its kind
    files = load_all(drafted)
    mappings, rows = files.mappings, files.rows
    assert files.problems == []
    as_read = mappings.routes
    source = open_source(SAMPLE)
    try:
        resolved = resolve_targets(mappings, source.conversations())
        assert check_against(resolved, rows, source) == []
        assert check_against(resolved, rows, source) == []  # the same answer twice: nothing was changed
    finally:
        source.close()
    assert mappings.routes is as_read and {r.source: r.kind for r in as_read}["G01LEADERSHIP"] is None
    assert resolved.route("G01LEADERSHIP").kind == PRIVATE_CHANNEL  # type: ignore[union-attr]
    assert resolved.route("C02RANDOM").kind == CHANNEL  # type: ignore[union-attr]
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.routes = ()  # type: ignore[misc]


def test_routes_are_found_by_source_id() -> None:
    conversations = [Conversation(id=f"C{i}", name=f"c{i}", kind=ConversationKind.PUBLIC) for i in range(3)]
    routes = (
        Route(source="C0", team="t", channel="first"),
        Route(source="C1", action="skip"),
        Route(source="C0", team="t", channel="again"),  # listed twice: the rules report it, lookups see the first
        Route(source="C9", team="t", channel="gone"),  # not in the export: no kind to give it
    )
    resolved = resolve_targets(Mappings(path=Path("m/migration.yaml"), source=None, routes=routes), conversations)
    assert [r.channel for r in resolved.routes] == ["first", None, "again", "gone"]  # the file's order
    assert resolved.route("C0") == Route(source="C0", team="t", channel="first", kind=CHANNEL)
    assert resolved.route("C9").kind is None  # type: ignore[union-attr]
    assert resolved.route("C2") is None
    assert dict(resolved.by_source) == {"C0": resolved.routes[0], "C1": resolved.routes[1], "C9": resolved.routes[3]}
    with pytest.raises(TypeError):
        resolved.by_source["C2"] = routes[0]  # type: ignore[index]


# --- the command line --------------------------------------------------------------


def test_cli_check_exit_codes(drafted: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["map", "--check", str(drafted)])
    assert ok.exit_code == 0 and "no problems" in ok.output
    edit(drafted, "channel: random", "channel: ran/dom")
    bad = runner.invoke(app, ["map", "--check", str(drafted)])
    assert bad.exit_code == 1
    assert f"migration.yaml:{line_of(drafted, 'source: C02RANDOM')}: channel name 'ran/dom' contains /" in bad.output
    missing = runner.invoke(app, ["map", "--check", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "not found; draft it with `migrator map" in missing.output


def test_cli_map_needs_source_and_out() -> None:
    result = CliRunner().invoke(app, ["map"])
    assert result.exit_code == 2 and "give SOURCE and --out" in result.output


def test_the_committed_example_for_the_sample_checks_clean() -> None:
    example = SAMPLE.parents[1] / "mappings"
    assert problems_of(example) == []
    mappings, _ = load_mappings(example)
    routes = {r.source: r for r in mappings.routes}
    assert (routes["G01LEADERSHIP"].kind, routes["G01LEADERSHIP"].channel) == (PRIVATE_CHANNEL, "leadership")
    assert {routes[c].kind for c in ("D01ADAGRACE", "D02ALANMEI", "G02MPIM")} == {
        CHAT
    }  # the sample's DMs land as chats
