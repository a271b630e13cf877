"""Real @mentions and reactions in the plan (issue 21): who becomes one, what stays text and why, the text form each
line carries for load's fallback, and migration.yaml's `defaults.mentions` / `defaults.reactions: text`."""

from __future__ import annotations

import re
from pathlib import Path

from migratekit import NOW_MS, plan_sample
from migrator.limits import MAX_BODY_BYTES
from migrator.mapping import check_against, load_all, load_mappings, resolve_targets
from migrator.plan import read_lines
from migrator.sources import open_source
from migrator.stages.transform import native_forms, transform
from tests.slackkit import message
from tests.test_transform import transform_export

ADA, GRACE = "ada@example.com", "grace@example.com"
TEXT_FORMS = {"\nteams:\n": "\ndefaults:\n  mentions: text\n  reactions: text\nteams:\n"}


def general(lines: dict[str, list[dict]]) -> list[dict]:
    (found,) = [v for k, v in lines.items() if k.endswith("/General")]
    return found


def plan(tmp_path: Path, messages: list[dict], edit: dict[str, str] | None = None):
    result, lines = transform_export(tmp_path, {"general/2023-11-14.json": messages}, edit=edit)
    return result.report, general(lines)


def test_mentions_of_mapped_people_are_real_and_the_rest_counted_by_why(tmp_path) -> None:
    rich = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "user", "user_id": "U2"},
                    {"type": "text", "text": " and "},
                    {"type": "user", "user_id": "U3"},
                    {"type": "usergroup", "usergroup_id": "S1"},
                ],
            }
        ],
    }
    report, (first, second) = plan(
        tmp_path,
        [
            message("1700000000.000100", "ask <@U2> and <@U1>, or <@U3> <!here> <!subteam^S1|@ops>"),
            message("1700000001.000100", "", blocks=[rich]),
        ],
    )
    body = first["body"]["content"]
    assert body.startswith('<p>ask <at id="0">Grace Hopper</at> and <at id="1">Ada Lovelace</at>, or <b>')
    assert [(m["id"], m["mentionText"]) for m in first["mentions"]] == [(0, "Grace Hopper"), (1, "Ada Lovelace")]
    assert first["mentions"][0]["mentioned"]["user"]["userIdentityType"] == "aadUser"
    assert first["text"].startswith("<p>ask <b>Grace Hopper</b> and <b>Ada Lovelace</b>, or <b>")
    assert "<at" not in first["text"] and "@here" in first["text"]
    assert [m["mentionText"] for m in second["mentions"]] == ["Grace Hopper"]  # rich_text user elements too
    assert report["mentions_as_text"] == {
        "people without an Entra account in users.csv": 2,
        "@channel / @here / @everyone": 1,
        "user groups": 2,
    }
    assert report["conversions"]["native_mentions"] == 2


def test_reactions_of_mapped_people_are_real_in_source_order_and_the_line_keeps_the_rest(tmp_path) -> None:
    reactions = [
        {"name": "+1::skin-tone-3", "users": ["U2", "U3"], "count": 4},
        {"name": "shipit", "users": ["U1"], "count": 1},  # custom: stays text
        {"name": "tada", "users": ["U1"], "count": 1},
    ]
    _, (line,) = plan(tmp_path, [message("1700000000.000100", "done", reactions=reactions)])
    assert [(r["reactionType"], r["user"]["user"]["displayName"]) for r in line["reactions"]] == [
        ("👍🏼", "Grace Hopper"),
        ("🎉", "Ada Lovelace"),
    ]
    assert "createdDateTime" not in line["reactions"][0]  # the message's: to_request fills it once it is placed
    summary = re.search(r"Reactions: ([^<]*)", line["body"]["content"]).group(1)
    assert "Grace" not in summary and "🎉" not in summary and ":shipit: Ada Lovelace" in summary
    assert "and 2 more" in summary
    full = re.search(r"Reactions: ([^<]*)", line["text"]).group(1)
    assert full.startswith("👍🏼 Grace Hopper, ") and full.endswith("🎉 Ada Lovelace")


def test_all_reactions_imported_leave_no_line_and_at_most_250_are_real(tmp_path) -> None:
    _, (few,) = plan(
        tmp_path / "few", [message("1700000000.000100", "x", reactions=[{"name": "eyes", "users": ["U1"], "count": 1}])]
    )
    assert "Reactions" not in few["body"]["content"] and "Reactions: 👀 Ada Lovelace" in few["text"]
    many = [{"name": name, "users": ["U1", "U2"], "count": 2} for name in ["eyes", "tada", "rocket"] * 50]
    many += [{"name": "heart", "users": ["U1", "U2"], "count": 2}] * 2
    _, (line,) = plan(tmp_path / "many", [message("1700000000.000100", "x", reactions=many)])
    assert len(line["reactions"]) == 250 and line["reactions"][-1]["reactionType"] == "🎉"  # the 125th, 2nd user
    assert "❤️ Ada Lovelace, Grace Hopper · ❤️ Ada Lovelace, Grace Hopper" in line["body"]["content"]


def test_a_split_message_numbers_mentions_per_part_and_its_text_form_fits(tmp_path) -> None:
    words = " ".join(f"<@U{1 + n % 2}> word{n}" for n in range(2500))
    _, lines = plan(
        tmp_path, [message("1700000000.000100", words, reactions=[{"name": "eyes", "users": ["U2"], "count": 1}])]
    )
    assert len(lines) > 1
    for line in lines:  # transform_export checks numbering, entries and sizes of every line (transformkit)
        assert line["mentions"][0]["id"] == 0
        assert len(line["text"].encode("utf-8")) <= MAX_BODY_BYTES
    assert [bool(line.get("reactions")) for line in lines] == [False] * (len(lines) - 1) + [True]


def test_text_forms_chosen_in_migration_yaml_plan_todays_bodies(tmp_path) -> None:
    reactions = [{"name": "eyes", "users": ["U1"], "count": 1}]
    report, (line,) = plan(tmp_path, [message("1700000000.000100", "ask <@U2>", reactions=reactions)], edit=TEXT_FORMS)
    assert "mentions" not in line and "reactions" not in line and "text" not in line
    assert "<b>Grace Hopper</b>" in line["body"]["content"] and "Reactions: 👀 Ada Lovelace" in line["body"]["content"]
    assert report["mentions_as_text"] == {"people mapped, but migration.yaml says mentions: text": 1}


def test_migration_yaml_names_a_wrong_form_with_its_line(tmp_path) -> None:
    path = tmp_path / "migration.yaml"
    path.write_text(
        "version: 1\nsource: x\ndefaults:\n  mentions: text\n  reactions: loud\nteams: {}\nconversations: []\n",
        encoding="utf-8",
    )
    mappings, problems = load_mappings(path)
    assert (mappings.mentions, mappings.reactions) == ("text", "native")
    assert [(p.line, p.message) for p in problems] == [
        (5, "defaults: reactions must be one of native, text, not 'loud'")
    ]


def test_a_workspace_overrides_the_defaults_and_org_level_channels_keep_them(tmp_path) -> None:
    """The org-wide sample: `workspaces:` names a workspace by name (resolved to its id); #launch-2026, where Ada is
    mentioned, is an org-level channel (drafted into Northwind Sales' team), so `defaults` decide for it."""
    grid = Path(__file__).resolve().parents[1] / "sample_data" / "slack-grid"
    native = plan_sample(grid, tmp_path / "native")
    mappings = tmp_path / "native" / "mappings" / "migration.yaml"
    text = mappings.read_text(encoding="utf-8").replace(
        "\nteams:\n",
        "\ndefaults:\n  mentions: text\nworkspaces:\n  Northwind Sales:\n    mentions: native\n"
        "  T0ENG:\n    reactions: text\nteams:\n",
        1,
    )
    mappings.write_text(text, encoding="utf-8")
    overridden = transform(grid, mappings.parent, tmp_path / "text-plan", now_ms=NOW_MS)

    def mentions(result) -> int:
        return sum(
            len(line.get("mentions", []))
            for _, conv in result.manifest.conversations()
            for line in read_lines(result.plan_dir, conv)
        )

    assert mentions(native) == 1 and mentions(overridden) == 0
    assert overridden.report["mentions_as_text"] == {"people mapped, but migration.yaml says mentions: text": 1}
    files = load_all(mappings)
    assert native_forms(files.mappings, open_source(grid)) == {"T0SALES": (True, True), "T0ENG": (False, False)}


def test_a_workspace_the_export_lacks_is_a_mapping_problem(tmp_path) -> None:
    grid = Path(__file__).resolve().parents[1] / "sample_data" / "slack-grid"
    plan_sample(grid, tmp_path)
    mappings = tmp_path / "mappings" / "migration.yaml"
    text = mappings.read_text(encoding="utf-8")
    mappings.write_text(text.replace("\nteams:\n", "\nworkspaces:\n  Nortwind Sales:\n    mentions: text\nteams:\n"))
    source, files = open_source(grid), load_all(mappings)
    resolved = resolve_targets(files.mappings, source.conversations())
    problems = [p.message for p in check_against(resolved, files.rows, source)]
    assert problems == [
        "workspaces: 'Nortwind Sales' is not a workspace of the export (its workspaces: Northwind Engineering (T0ENG), "
        "Northwind Sales (T0SALES))"
    ]
