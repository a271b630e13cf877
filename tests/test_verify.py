"""verify against the emulator: a loaded plan verifies clean; every kind of damage is reported exactly."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graphkit import ALAN
from migrator.bodies import normalise_html
from migrator.cli import app
from migrator.graph import GraphClient, RateLimiter
from migrator.journal import Journal
from migrator.plan import Manifest, read_lines, write_lines
from migrator.stages.export import export_limiter
from migrator.stages.load import LoadOptions, load
from migrator.stages.verify import VerifyOptions, verify
from migrator.stages.verify.compare import Evidence, check_conversation
from migrator.stages.verify.outcome import ConversationCheck
from migrator.target import Target as GraphTarget
from plankit import build_plan
from test_export import png


@pytest.fixture
def loaded(emulator, tmp_path) -> tuple[Path, Path]:
    """A plan (3 channels with replies, images and files, a private channel, two chats) loaded into the emulator."""
    emulator.operator("config", {"channel_rps": 10_000})
    plan = tmp_path / "plan"
    build_plan(plan, channels=3, messages=12, private=True, chats=True)
    journal = tmp_path / "journal.sqlite"
    with Journal(journal) as j, GraphClient(emulator.graph_config(), limiter=RateLimiter.unlimited()) as client:
        j.bind(GraphTarget(emulator.graph_config(), None).fingerprint)  # as `migrator load` binds it
        assert load(plan, client, j, LoadOptions(workers=4)).ok
    return plan, journal


def run_verify(emulator, plan: Path, journal: Path, **options):
    with Journal(journal, readonly=True) as j, GraphClient(emulator.graph_config(), limiter=export_limiter()) as client:
        return verify(plan, client, j, VerifyOptions(**options))


def planned(plan: Path) -> dict[str, list[dict]]:
    manifest = Manifest.read(plan)
    return {conv.key: list(read_lines(plan, conv)) for _, conv in manifest.conversations()}


def teams_ids(journal: Path, key: str) -> dict[str, str]:
    with Journal(journal, readonly=True) as j:
        return j.posted(key)


def conversation_id(journal: Path, key: str) -> str:
    with Journal(journal, readonly=True) as j:
        return j.conversation_id(key)


def findings(outcome) -> dict[str, list[tuple[str, str, str]]]:
    data = outcome.as_json()
    return {
        name: sorted((f["conversation"], f["key"], f["detail"]) for f in data[name])
        for name in ("missing", "duplicated", "mismatched", "unexpected")
    }


def test_a_loaded_plan_verifies_clean(emulator, loaded):
    plan, journal = loaded
    outcome = run_verify(emulator, plan, journal)
    lines = planned(plan)
    total = sum(len(v) for v in lines.values())
    assert outcome.ok and outcome.total("expected") == outcome.total("found") == total == 3 * 12 + 5 + 4 + 4
    assert findings(outcome) == {"missing": [], "duplicated": [], "mismatched": [], "unexpected": []}
    assert outcome.total("images") == sum(1 for v in lines.values() for line in v if line.get("hostedContents")) == 3
    assert {c.key for c in outcome.conversations} == set(lines)
    assert outcome.throttled == 0


def test_a_deleted_a_duplicated_and_an_edited_message_are_reported_exactly(emulator, loaded):
    plan, journal = loaded
    lines = planned(plan)
    general, first, second = "acme/General", "acme/channel-1", "acme/channel-2"
    deleted, duplicated, edited = lines[first][5], lines[second][6], lines[general][7]
    for key, line, op in [(first, deleted, "delete"), (second, duplicated, "duplicate"), (general, edited, "edit")]:
        emulator.operator(
            "mutate",
            {
                "op": op,
                "conversation": conversation_id(journal, key),
                "message": teams_ids(journal, key)[line["key"]],
                "content": "<p>tampered</p>",
            },
        )
    outcome = run_verify(emulator, plan, journal)
    found = findings(outcome)
    assert [(c, k) for c, k, _ in found["missing"]] == [(first, deleted["key"])]
    assert found["missing"][0][2].startswith("deleted in Teams at ")
    assert found["duplicated"] == [(second, duplicated["key"], "2 messages in Teams at this time")]
    assert [(c, k) for c, k, _ in found["mismatched"]] == [(general, edited["key"])]
    assert found["mismatched"][0][2] == (
        f"body differs: planned {edited['body']['content']!r}, Teams has '<p>tampered</p>'"
    )
    assert found["unexpected"] == [] and not outcome.ok
    data = outcome.as_json()
    assert data["expected"] == data["found"] + 1
    per_channel = {c["key"]: c for c in data["conversations"]}
    assert (
        len(per_channel[first]["missing"]),
        len(per_channel[second]["duplicated"]),
        len(per_channel[general]["mismatched"]),
    ) == (1, 1, 1)
    assert per_channel[first]["found"] == per_channel[first]["expected"] - 1
    original = teams_ids(journal, second)[duplicated["key"]]
    assert data["duplicated"][0]["ids"][0] == original and len(set(data["duplicated"][0]["ids"])) == 2


def tamper(plan: Path, key: str, index: int, change) -> dict:
    """Change one planned line after the load, as if Teams had kept something else."""
    manifest = Manifest.read(plan)
    conversation = next(c for _, c in manifest.conversations() if c.key == key)
    lines = list(read_lines(plan, conversation))
    change(lines[index])
    write_lines(plan / conversation.file, iter(lines))
    return lines[index]


def _other_image(line: dict) -> None:
    line["hostedContents"][0]["contentBytes"] = base64.b64encode(png(rgb=(0, 0, 255))).decode()


def _other_root(line: dict) -> None:
    line["root_key"] = "acme/channel-1:0"


def _other_author(line: dict) -> None:
    line["from"]["user"]["id"] = ALAN


def _renamed_attachment(line: dict) -> None:
    line["attachments"][0]["name"] = "renamed.txt"


def _other_attachment(line: dict) -> None:
    line["attachments"][0]["id"] = "0000"


def _a_reaction(line: dict) -> None:
    line["reactions"] = [{"reactionType": "👍", "user": {"user": {"id": ALAN, "userIdentityType": "aadUser"}}}]


def _a_mention(line: dict) -> None:
    user = {"id": ALAN, "displayName": "Alan", "userIdentityType": "aadUser"}
    line["mentions"] = [{"id": 0, "mentionText": "Alan", "mentioned": {"user": user}}]


@pytest.mark.parametrize(
    "index, change, detail",
    [
        (0, _a_reaction, f"reactions differ: planned [('👍', '{ALAN}')], Teams has []"),
        (0, _a_mention, f"mentions differ: planned [('0', '{ALAN}', 'Alan')], Teams has []"),
        (1, _other_image, "inline image 1 differs"),
        (5, _other_root, "under root"),
        (0, _other_author, f"planned as {ALAN}"),
        (4, _renamed_attachment, "attachment renamed.txt is named 'report-1.txt'"),
        (4, _other_attachment, "attachment report-1.txt is missing; attachment report-1.txt was not planned"),
    ],
)
def test_each_kind_of_difference_is_named(emulator, loaded, index, change, detail):
    plan, journal = loaded
    line = tamper(plan, "acme/channel-1", index, change)
    found = findings(run_verify(emulator, plan, journal))
    assert [(c, k) for c, k, _ in found["mismatched"]] == [("acme/channel-1", line["key"])]
    assert detail in found["mismatched"][0][2]
    assert found["missing"] == found["duplicated"] == []


def test_a_wrong_journal_id_is_reported(emulator, loaded):
    plan, journal = loaded
    line = planned(plan)["acme/General"][3]
    real = teams_ids(journal, "acme/General")[line["key"]]
    with Journal(journal) as j:
        j.mark_posted("acme/General", line["key"], "12345")
    found = findings(run_verify(emulator, plan, journal))
    assert found["mismatched"] == [
        ("acme/General", line["key"], f"the journal records id 12345, Teams has {real} at this time")
    ]


def test_conversations_the_journal_never_created_are_all_missing(emulator, loaded, tmp_path):
    plan, journal = loaded
    empty = tmp_path / "other" / "journal.sqlite"
    with Journal(empty) as j:
        j.bind("test")
    outcome = run_verify(emulator, plan, empty)
    assert outcome.total("found") == 0 and outcome.count("missing") == outcome.total("expected") == 49
    assert all("never created" in f["detail"] for f in outcome.as_json()["missing"])


def test_a_402_makes_conversations_unreadable_with_the_billing_explanation(emulator, loaded):
    plan, journal = loaded
    emulator.operator("config", {"evaluation_capacity": 0})
    outcome = run_verify(emulator, plan, journal)
    assert not outcome.ok and all(c.error and "evaluation mode capacity" in c.error for c in outcome.conversations)
    assert run_verify(emulator, plan, journal, model="B").ok


@pytest.mark.parametrize("spec", ["429:0.3", "503:0.3", "drop:0.3"])
def test_throttling_and_lost_answers_while_reading_back_change_nothing(emulator, loaded, spec):
    plan, journal = loaded
    emulator.operator("faults", {"spec": spec, "seed": 7})  # verify sends 5 requests; this seed faults the 2nd and 4th
    outcome = run_verify(emulator, plan, journal)
    assert outcome.ok, outcome.summary()
    assert outcome.total("found") == outcome.total("expected") == 49 and outcome.total("images") == 3
    assert sum(emulator.operator("faults")["injected"].values()) > 0
    if spec.startswith("429"):
        assert outcome.throttled > 0 and f"({outcome.throttled:,} throttled)" in outcome.summary()


def test_unexpected_messages_are_listed_but_do_not_fail():
    check = ConversationCheck("acme/x", "Acme", "x", "19:x", 1)
    line = {
        "key": "k1",
        "kind": "root",
        "createdDateTime": "2021-01-01T00:00:00.000Z",
        "from": {"user": {"id": "u"}},
        "body": {"contentType": "html", "content": "<p>a</p>"},
    }
    exported = [
        {
            "id": "1",
            "createdDateTime": "2021-01-01T00:00:00.000Z",
            "replyToId": None,
            "from": {"user": {"id": "u"}},
            "body": {"contentType": "html", "content": "<div><p>a</p></div>"},
            "attachments": [],
        },
        {
            "id": "2",
            "createdDateTime": "2021-01-02T00:00:00.000Z",
            "replyToId": None,
            "from": {"user": {"id": "u"}},
            "body": {"contentType": "html", "content": "later"},
            "attachments": [],
        },
    ]
    check_conversation(None, check, [line], exported, Evidence(posted={"k1": "1"}, uploads={}))  # type: ignore[arg-type]
    assert check.ok and check.found == 1 and [f.ids for f in check.unexpected] == [["2"]]


@pytest.mark.parametrize(
    "planned_html, landed_html, same",
    [
        ("<p>a  b</p>", "<div><p>a b</p></div>", True),
        ('<p class="x" id="y">a</p>', '<p id="y" class="x">a</p>', True),
        (
            '<p>a</p><img src="../hostedContents/1/$value">',
            '<p>a</p><img src="https://g/v1.0/teams/t/channels/c/messages/1/hostedContents/aWQ9/$value">',
            True,
        ),
        ("<p>a &amp; b</p>", "<p>a &#38; b</p>", True),
        ("<p>a</p>", "<p>b</p>", False),
        ("<b>a</b>", "<i>a</i>", False),
    ],
)
def test_body_comparison_ignores_only_serialisation(planned_html, landed_html, same):
    assert (normalise_html(planned_html) == normalise_html(landed_html)) is same


def test_the_command_writes_both_reports_and_exits_by_the_result(emulator, tenant, loaded, tmp_path):
    plan, journal = loaded
    out = tmp_path / "report"
    clean = CliRunner().invoke(app, ["verify", str(plan), "--journal", str(journal), "--out", str(out)])
    assert clean.exit_code == 0, clean.output
    assert "0 missing, 0 duplicated, 0 mismatched" in clean.output
    assert json.loads((out / "verify.json").read_text())["ok"] is True and (out / "verify.html").is_file()
    line = planned(plan)["acme/channel-2"][2]
    emulator.operator(
        "mutate",
        {
            "op": "delete",
            "conversation": conversation_id(journal, "acme/channel-2"),
            "message": teams_ids(journal, "acme/channel-2")[line["key"]],
        },
    )
    broken = CliRunner().invoke(app, ["verify", str(plan), "--journal", str(journal), "--out", str(out)])
    assert broken.exit_code == 1 and f"missing: acme/channel-2 {line['key']}" in broken.output
    report = json.loads((out / "verify.json").read_text())
    assert [f["key"] for f in report["missing"]] == [line["key"]]
    assert line["key"] in (out / "verify.html").read_text()
    missing_journal = CliRunner().invoke(app, ["verify", str(plan), "--journal", str(tmp_path / "none.sqlite")])
    assert missing_journal.exit_code == 2 and "no journal here" in missing_journal.output
