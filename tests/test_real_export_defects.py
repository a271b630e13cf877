"""Defects a second set of real exports showed (issue 28): each against a small fixture of the real shape.

The fixtures under tests/fixtures/ copy the shape of real exports (see the README there); every test
reads them through the stage a consultant runs and checks what lands in the plan or the report.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from typer.testing import CliRunner

from migrator.cli import app
from migrator.stages.analyse import run_analyse
from tests.migratekit import plan_sample
from tests.slackkit import zip_folder
from tests.transformkit import plan_lines

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def texts(source: Path, work: Path, source_format: str | None = None) -> list[str]:
    """The text of every planned message body, in plan order, after the mappings a consultant drafts."""
    plan = plan_sample(source, work, source_format).plan_dir
    return [
        BeautifulSoup(line["body"]["content"], "html.parser").get_text()
        for lines in plan_lines(plan).values()
        for line in lines
    ]


def test_slack_file_comment_is_posted_for_the_commenter(tmp_path: Path) -> None:
    """Old exports write a file comment without a top-level `user`: its author is `comment.user`."""
    (body,) = texts(FIXTURES / "slack-file-comment", tmp_path)
    assert body.startswith("Originally posted by Hamza Faran")
    assert "unknown author" not in body


def test_discord_nickname_mentions_name_the_whole_nickname(tmp_path: Path) -> None:
    """DiscordChatExporter writes a mention as `@` + the nickname; the longest name of `mentions[]` is the person."""
    plan = plan_sample(FIXTURES / "discord-nickname-mentions", tmp_path).plan_dir
    ((line,),) = plan_lines(plan).values()
    body = BeautifulSoup(line["body"]["content"], "html.parser")
    assert [b.get_text() for b in body.find_all("b")][-3:] == ["Tim 'mithro' Ansell", "Tim", "Élodie"]
    written = "Thanks Tim 'mithro' Ansell for the review, and Tim for the board files! Élodie too"
    assert body.get_text().endswith(written)


def test_discord_types_written_as_numbers_read_as_what_happened(tmp_path: Path) -> None:
    """DiscordChatExporter writes the types its list lacks as numbers (21: a thread's first message, 20: a bot's
    answer to a slash command, 24: AutoMod); none may land as a note that is only the number."""
    starter, plain, command, automod = texts(FIXTURES / "discord-thread-alone", tmp_path)
    link = "https://discord.com/channels/800000000000000001/800000000000000020/1235590000000000077"
    assert starter == f"Originally posted by KateThis thread started from a message in #hardware: {link}"
    assert command.startswith("Originally posted by PollBotPoll created: Which board?")  # Markdown, not a note
    assert automod.endswith("AutoMod blocked or flagged a message of PollBot")
    bodies = (starter, plain, command, automod)
    assert not [body for body in bodies if re.fullmatch(r"Originally posted by \w+\d+", body)]


def test_discord_thread_exported_alone_says_where_it_belongs(tmp_path: Path) -> None:
    """A thread's file names its parent channel in `category` (DiscordChatExporter's old schema): the draft and the
    channel's description say which channel it belongs to, and the parent's category when the export has the
    parent's file too."""
    thread = FIXTURES / "discord-thread-alone"
    plan = plan_sample(thread, tmp_path / "alone").plan_dir
    manifest = json.loads((plan / "manifest.json").read_text(encoding="utf-8"))
    (channel,) = manifest["teams"][0]["channels"]
    assert channel["display_name"] == "hardware › Which FPGA board for the workshop"
    assert channel["description"] == "A thread of #hardware on the Discord server Open Hardware"
    draft = (tmp_path / "alone" / "mappings" / "migration.yaml").read_text(encoding="utf-8")
    assert "# #hardware › Which FPGA board for the workshop: public, 2 members; a thread of #hardware\n" in draft

    both = tmp_path / "with-parent"
    shutil.copytree(thread, both)
    parent = {
        "guild": {"id": "800000000000000001", "name": "Open Hardware"},
        "channel": {
            "id": "800000000000000020",
            "type": "GuildTextChat",
            "categoryId": "800000000000000002",
            "category": "Projects",
            "name": "hardware",
            "topic": None,
        },
        "messages": [],
        "messageCount": 0,
    }
    (both / "Open Hardware - Projects - hardware [800000000000000020].json").write_text(json.dumps(parent))
    plan = plan_sample(both, tmp_path / "both").plan_dir
    manifest = json.loads((plan / "manifest.json").read_text(encoding="utf-8"))
    described = {c["display_name"]: c["description"] for c in manifest["teams"][0]["channels"]}
    assert described["hardware › Which FPGA board for the workshop"] == (
        "A thread of #hardware (category Projects) on the Discord server Open Hardware"
    )


def refusal(path: Path, tmp_path: Path, *options: str) -> str:
    """What `analyse` says (exit 2) about an export the migrator does not read."""
    result = CliRunner().invoke(app, ["analyse", str(path), "--out", str(tmp_path / "out"), *options])
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.parametrize("options", [(), ("--source-format", "slack")])
def test_slackdump_archive_gets_slackdumps_conversion_not_slack_advice(
    tmp_path: Path, packed: bool, options: tuple[str, ...]
) -> None:
    archive = FIXTURES / "slackdump-archive"
    if packed:
        archive = zip_folder(archive, tmp_path / "archive.zip")
    said = refusal(archive, tmp_path, *options)
    assert "slackdump archive" in said and "slackdump convert -f export" in said
    assert "from Slack's admin settings" not in said and "as downloaded" not in said


def test_teams_export_of_another_tool_is_named_and_gets_teams_advice(tmp_path: Path) -> None:
    said = refusal(FIXTURES / "teams-other-tool", tmp_path)
    assert "Microsoft Teams export written by another tool" in said
    assert "teams/19abc123/messages_19abc123.json" in said and "migrator export team" in said
    assert "Slack" not in said


def test_a_file_stored_outside_slack_is_not_also_counted_missing(tmp_path: Path) -> None:
    """analyse and the transform report agree on `missing_files`: files whose bytes are neither in the export
    nor stored elsewhere (an external Google Doc is linked, not missing)."""
    source = FIXTURES / "slack-external-file"
    inventory = run_analyse(source, tmp_path / "analyse")
    report = plan_sample(source, tmp_path / "plan").report
    assert inventory["issues"]["missing_files"] == report["files"]["missing_files"] == 1
    assert (report["files"]["missing"], report["files"]["external"]) == (1, 1)
    assert len(report["files"]["placeholders"]) == 2  # both still stand in the message with their links


def test_a_bot_the_export_never_names_is_shown_as_a_bot(tmp_path: Path) -> None:
    """No `username`, no `bot_profile`: the author is "a bot (B…)", or the app `integration_logs.json` links by
    the message's `app_id`; never the bare bot id."""
    unnamed, linked = texts(FIXTURES / "slack-unnamed-bots", tmp_path)
    assert unnamed.startswith("Originally posted by a bot (B0JL6UFSL)")
    assert linked.startswith("Originally posted by Deploy NotifierDeployed traveling-sailor")


def test_the_text_form_of_reactions_names_who_reacted(tmp_path: Path) -> None:
    """Slack and DiscordChatExporter list who reacted; the summary line names them (and counts those unnamed)."""
    (slack,) = texts(FIXTURES / "slack-reactions", tmp_path / "slack")
    assert slack.endswith(
        "Reactions: 🎉 Hamza Faran, Dylan Dumesnil · :botman: Hamza Faran · 👍 Hamza Faran and 3 more"
    )
    (discord,) = texts(FIXTURES / "discord-reactions", tmp_path / "discord")
    assert discord.endswith("Reactions: 🎉 Tim 'mithro' Ansell, Tim")


@pytest.mark.parametrize(
    "given, shown",
    [
        ("slackdump-archive/C0123ABCD.jsonl.gz", "slackdump convert -f export"),
        ("teams-other-tool/teams/19abc123", "migrator export team"),
        ("teams-other-tool/teams/19abc123/messages_19abc123.json", "migrator export team"),
    ],
)
def test_a_part_of_another_tools_export_gets_that_tools_advice(tmp_path: Path, given: str, shown: str) -> None:
    """One chunk file, one team's folder or one messages file of another tool is recognised as well."""
    said = refusal(FIXTURES / given, tmp_path)
    assert shown in said and "Slack's admin settings" not in said and "DiscordChatExporter" not in said


def test_slackdump_database_archive_gets_slackdumps_conversion(tmp_path: Path) -> None:
    """slackdump 3.1 and later archive into slackdump.sqlite; its folder, or the file, is recognised by that name."""
    archive = tmp_path / "slackdump_20250110_120000"
    archive.mkdir()
    (archive / "slackdump.sqlite").write_bytes(b"SQLite format 3\x00")
    for given in (archive, archive / "slackdump.sqlite"):
        said = refusal(given, tmp_path)
        assert "slackdump archive" in said and "slackdump convert -f export" in said and "Slack's admin" not in said
