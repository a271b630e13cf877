"""The loader against the emulator's stricter readings of real tenants (issue 17, items 5, 8 and 9): inline images
refused, bulk members with per-member results, membership lag, stuck chats and 502s on chat imports.

Each test runs the loader over real HTTPS and then checks what landed (the emulator's dump) and, where the plan was
changed on the way (images moved to files), that `verify` still finds exactly what was posted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graphkit import ADA, ALAN, GRACE, KATHERINE, RawGraph
from migrator.graph import GraphClient
from migrator.journal import IMAGES_MOVED, Journal
from migrator.plan import Manifest, PlannedMember, read_lines, write_lines
from migrator.reports.load import rows, write
from migrator.stages.export import export_limiter
from migrator.stages.export.files import share_id
from migrator.stages.load import LoadOptions, load, provision
from migrator.stages.verify import VerifyOptions, verify
from plankit import PNG, assert_landed_exactly, build_plan


def run_load(emulator, plan: Path, journal: Path, **options):
    with Journal(journal) as j, GraphClient(emulator.graph_config(), backoff_base=0.05) as client:
        j.bind("test")
        return load(plan, client, j, LoadOptions(**options))


def run_verify(emulator, plan: Path, journal: Path):
    with Journal(journal, readonly=True) as j, GraphClient(emulator.graph_config(), limiter=export_limiter()) as client:
        return verify(plan, client, j, VerifyOptions())


def add_chat_image(plan: Path) -> None:
    """The 1:1 chat's first message carries an inline image too (build_plan's chats have none)."""
    chat = next(c for c in Manifest.read(plan).chats if c.key == "chats/ada-alan")
    lines = list(read_lines(plan, chat))
    lines[0]["body"]["content"] += '<p><img src="../hostedContents/1/$value"></p>'
    lines[0]["hostedContents"] = [
        {"@microsoft.graph.temporaryId": "1", "contentBytes": PNG, "contentType": "image/png"}
    ]
    write_lines(plan / chat.file, lines)


# --------------------------------------------------------------- item 5: inline images refused by the tenant
@pytest.mark.parametrize("refusal", ["400", "403", "413"])
def test_messages_refused_for_their_images_are_posted_again_with_them_as_files(emulator, tmp_path, refusal):
    """A tenant whose cap is below even the plan's small images: every message with one is refused (400 or 403,
    both seen on real tenants), posted again with its image as a file, in a channel's folder or in a chat's sender's
    OneDrive shared with the chat, journalled and counted; every channel completes and verify finds exactly what was
    posted."""
    emulator.operator(
        "config", {"channel_rps": 10_000, "reading": {"inline_image_max_bytes": 10, "inline_image_refusal": refusal}}
    )
    plan = tmp_path / "plan"
    build_plan(plan, channels=2, messages=6, chats=True)
    add_chat_image(plan)
    journal = tmp_path / "journal.sqlite"
    outcome = run_load(emulator, plan, journal, workers=2)
    assert outcome.ok, [c.reasons for c in outcome.conversations]
    assert outcome.total("images_moved") == 3 and outcome.total("images_left_out") == 0
    assert all(c.completed for c in outcome.conversations)
    by_name = {row["channel"]: row for row in rows(outcome)}
    assert by_name["General"]["images_moved_to_files"] == 1
    dump = emulator.operator("dump")
    channel_messages = [m for t in dump["teams"] for c in t["channels"] for m in c["messages"]]
    moved = [m for m in channel_messages if any(a["name"].startswith("image-") for a in m["attachments"])]
    assert len(moved) == 2 and all(not m["hostedContents"] for m in moved)
    assert {f["name"] for f in dump["files"]} >= {a["name"] for m in moved for a in m["attachments"]}
    chat = next(c for c in dump["chats"] if c["chatType"] == "oneOnOne" and c["migrationMode"])
    first = chat["messages"][0]
    (attachment,) = first["attachments"]
    assert not first["hostedContents"] and attachment["contentType"] == "reference"
    image = RawGraph(emulator).ok("GET", f"/shares/{share_id(attachment['contentUrl'])}/driveItem")
    base = f"/drives/{image['parentReference']['driveId']}/items/{image['id']}"
    permissions = RawGraph(emulator).ok("GET", f"{base}/permissions")["value"]
    assert {p["grantedToV2"]["user"]["id"] for p in permissions} == {ADA, ALAN}  # the chat's two, no one else
    with Journal(journal, readonly=True) as j:
        assert j.moved("acme/General") == {"acme/General:1"}
        assert j.messages("chats/ada-alan")["chats/ada-alan:0"].how == IMAGES_MOVED
    assert run_verify(emulator, plan, journal).ok
    again = run_load(emulator, plan, journal)
    assert again.ok and again.total("posted") == 0 and again.total("images_moved") == 0


def test_a_chat_image_nobodys_onedrive_can_take_becomes_a_line_naming_it(emulator, tmp_path):
    """Neither the sender nor the migration account has a OneDrive: the refused chat image is named in the message,
    which lands, and counted as left out."""
    emulator.operator(
        "config", {"channel_rps": 10_000, "users_without_drive": 1.0, "reading": {"inline_image_max_bytes": 10}}
    )
    plan = tmp_path / "plan"
    build_plan(plan, channels=1, messages=2, chats=True)
    add_chat_image(plan)
    journal = tmp_path / "journal.sqlite"
    outcome = run_load(emulator, plan, journal, workers=2)
    assert outcome.ok and outcome.total("images_left_out") == 1, [c.reasons for c in outcome.conversations]
    chat = next(c for c in emulator.operator("dump")["chats"] if c["chatType"] == "oneOnOne" and c["migrationMode"])
    first = chat["messages"][0]
    assert not first["hostedContents"] and not first["attachments"]
    assert "refused inline by Teams" in first["body"]["content"]
    assert run_verify(emulator, plan, journal).ok


def test_a_refusal_that_is_not_about_the_images_is_reported_once_and_nothing_is_lost(emulator, tmp_path):
    """Teams refuses the message for good, with its image inline and as a file alike (an emulator refuse rule): the
    first refusal is what the report says, the message is failed (not dropped) and its channel stays open for
    another load."""
    emulator.operator("config", {"channel_rps": 10_000, "reading": {"inline_image_max_bytes": 10}})
    emulator.operator(
        "faults", {"spec": "", "refuse": [{"path": "/teams/*/channels/*/messages", "body": "message 1 "}]}
    )
    plan = tmp_path / "plan"
    build_plan(plan, channels=1, messages=3)
    outcome = run_load(emulator, plan, tmp_path / "journal.sqlite")
    (general,) = outcome.conversations
    assert general.failed == 2 and not general.completed and general.images_moved == 0  # it and its reply
    assert [reason for reason in general.reasons if "Refused for good by an emulator refuse rule" in reason]
    assert not [reason for reason in general.reasons if "larger than this tenant accepts" in reason]


# --------------------------------------------------------------- item 9: stuck chats and 502 on chat imports
def test_a_stuck_chat_is_reported_with_its_request_id_and_everything_else_is_loaded(emulator, tmp_path):
    """Ada and Alan's chat was migrated before and Teams holds it stuck (msteams-docs 14576): load reports it with
    the request-id and what to do, and still loads and completes the team and the other chat."""
    graph = RawGraph(emulator)
    existing = graph.ok(
        "POST",
        "/chats",
        json={"chatType": "oneOnOne", "members": [_member(ADA), _member(ALAN)]},
    )["id"]
    graph.ok("POST", f"/chats/{existing}/startMigration", json={"conversationCreationDateTime": "2020-01-01T00:00:00Z"})
    emulator.operator("faults", {"spec": "stuck-chat:1"})
    graph.ok("POST", f"/chats/{existing}/completeMigration")
    emulator.operator("config", {"channel_rps": 10_000})
    plan = tmp_path / "plan"
    build_plan(plan, channels=2, messages=4, chats=True)
    outcome = run_load(emulator, plan, tmp_path / "journal.sqlite", workers=2)
    (stuck,) = outcome.blocked_conversations
    assert not outcome.ok and stuck.key == "chats/ada-alan"
    why = "; ".join(stuck.described_reasons())
    assert existing in why and "support case" in why and "request-id " in why and "request-id -" not in why
    assert outcome.teams_completed == ["Acme"] and outcome.total("failed") == 0
    done = {c.key: c.completed for c in outcome.conversations}
    assert done == {"acme/General": True, "acme/channel-1": True, "chats/trio": True, "chats/ada-alan": False}
    _, html = write(outcome, tmp_path / "report")
    page = html.read_text(encoding="utf-8")
    assert "Channels and chats not completed" in page and existing in page


def test_502_on_chat_imports_is_retried_and_every_message_lands_once(emulator, tmp_path):
    """msteams-docs 13680: chat imports answer 502 now and then (after applying them, the worst case)."""
    emulator.operator("config", {"channel_rps": 10_000})
    emulator.operator("faults", {"spec": "chat-import-502:0.5", "seed": 7})
    plan = tmp_path / "plan"
    build_plan(plan, channels=1, messages=3, chats=True)
    outcome = run_load(emulator, plan, tmp_path / "journal.sqlite", workers=2)
    assert outcome.ok, [c.reasons for c in outcome.conversations]
    assert emulator.operator("faults", None)["injected"].get("chat-import-502", 0) >= 2
    assert_landed_exactly(emulator.operator("dump"), plan)


def _member(user: str) -> dict:
    return {
        "@odata.type": "#microsoft.graph.aadUserConversationMember",
        "roles": ["owner"],
        "user@odata.bind": f"https://graph.microsoft.com/v1.0/users('{user}')",
    }


# --------------------------------------------------------------- item 8: members in bulk, membership lag
def with_members(plan: Path, *people: str) -> None:
    """The plan's team lists these people as members too (build_plan lists Ada, owner, and Grace)."""
    manifest = Manifest.read(plan)
    manifest.teams[0].members += [PlannedMember(person) for person in people]
    manifest.write(plan)


def test_members_are_added_in_bulk_and_only_the_refused_ones_are_sent_again(emulator, tmp_path, monkeypatch):
    """`members/add` answers per member; with single members failing now and then (a 207), each later request
    carries exactly the members the previous one did not add, until all are in."""
    monkeypatch.setattr(provision, "MEMBER_RETRY_PAUSE", 0.05)
    emulator.operator("config", {"channel_rps": 10_000})
    emulator.operator("faults", {"spec": "member-add-error:0.5", "seed": 3})
    plan = tmp_path / "plan"
    build_plan(plan, channels=1, messages=2)
    with_members(plan, ALAN, KATHERINE)
    sent: list[list[str]] = []
    answered: list[set[str]] = []
    request = GraphClient.request

    def spy(self, method, path, **kwargs):
        response = request(self, method, path, **kwargs)
        if path.endswith("/members/add"):
            sent.append([m["user@odata.bind"].split("'")[1] for m in kwargs["json"]["values"]])
            answered.append({r["userId"] for r in response.json()["value"] if r["error"] is None})
        return response

    monkeypatch.setattr(GraphClient, "request", spy)
    outcome = run_load(emulator, plan, tmp_path / "journal.sqlite")
    assert outcome.ok and outcome.members_added == 4
    assert len(sent) > 1, "the fault refused some members, so a second request was needed"
    for before, added, after in zip(sent, answered, sent[1:], strict=False):
        assert sorted(after) == sorted(set(before) - added)
    (team,) = emulator.operator("dump")["teams"]
    assert sorted(m["userId"] for m in team["members"]) == sorted([ADA, GRACE, ALAN, KATHERINE])


def test_private_channels_wait_for_new_members_to_become_visible(emulator, tmp_path):
    """`--membership-lag`: the private channel is refused with 400 until its members (added a moment before,
    after the team's completion) are visible; the loader retries with backoff and everything lands."""
    emulator.operator("config", {"channel_rps": 10_000, "membership_lag": 2})
    plan = tmp_path / "plan"
    build_plan(plan, channels=1, messages=3, private=True)
    outcome = run_load(emulator, plan, tmp_path / "journal.sqlite")
    assert outcome.ok and all(c.completed for c in outcome.conversations)
    assert_landed_exactly(emulator.operator("dump"), plan)


def test_a_private_channel_still_refused_after_the_wait_is_reported(emulator, tmp_path):
    emulator.operator("config", {"channel_rps": 10_000, "membership_lag": 60})
    plan = tmp_path / "plan"
    build_plan(plan, channels=1, messages=3, private=True)
    outcome = run_load(emulator, plan, tmp_path / "journal.sqlite", membership_wait=1.0)
    (private,) = [c for c in outcome.conversations if c.key == "acme/private"]
    assert not outcome.ok and not private.completed
    assert [
        r for r in private.reasons if "'leadership': Teams kept refusing it for 1s" in r and "load again later" in r
    ]
