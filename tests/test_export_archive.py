"""`export --format html` in a real browser: index, threads, authors, images from local files, nothing executed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest
from bs4 import BeautifulSoup

from graphkit import ADA, GRACE
from migrator.reports.archive_body import archive_body
from migrator.reports.export_archive import latest_versions, render_archive
from migrator.stages.export import ExportOptions, Target, export
from migrator.stages.export.archive import read_messages, safe_name
from migrator.timestamps import parse_ms
from test_export import SampleTeam, client_fixture, graph_fixture, team_fixture  # noqa: F401  (fixtures by name)
from test_report_chromium import chromium, headless

EVIL = (
    '<p>evil</p><script>document.title="pwned"</script><img src="https://example.invalid/x.png" '
    "onerror=\"document.title='pwned'\"><a href=\"javascript:document.title='pwned'\">click</a>"
    '<at id="0">Grace Hopper</at> <emoji alt="🎉"></emoji><style>body{display:none}</style>'
)


@pytest.fixture
def archive(client, team, emulator, tmp_path) -> tuple[SampleTeam, Path]:
    grace = {"id": GRACE, "displayName": "Grace Hopper", "userIdentityType": "aadUser"}
    team.post(team.beta, EVIL, GRACE, mentions=[{"id": 0, "mentionText": "Grace Hopper", "mentioned": {"user": grace}}])
    ids = sorted(team.posted, key=lambda i: parse_ms(team.posted[i]["createdDateTime"]))
    emulator.operator(
        "mutate", {"op": "edit", "conversation": team.alpha, "message": ids[0], "content": "<p>edited text</p>"}
    )
    emulator.operator("mutate", {"op": "delete", "conversation": team.alpha, "message": ids[1]})
    outcome = export(client, [Target("team", team.id), Target("user", ADA)], tmp_path, ExportOptions())
    assert outcome.ok
    render_archive(tmp_path)
    return team, tmp_path


def dom(binary: str, page: Path, profile: Path) -> BeautifulSoup:
    html = headless(binary, profile, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()).stdout
    return BeautifulSoup(html, "html.parser")


def test_the_index_lists_every_conversation_with_its_counts(archive):
    binary = chromium()
    team, out = archive
    page = dom(binary, out / "index.html", out / "profile")
    links = {a.get_text(strip=True): a["href"] for a in page.select("a.conversation")}
    assert set(links) >= {"Alpha", "Beta", "Launch planning", "Ada Lovelace, Grace Hopper"}
    for href in links.values():
        assert (out / unquote(href)).is_file()
    rows = {
        tr.find("a").get_text(strip=True): [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in page.select("table tbody tr")
    }
    alpha_lines = list(read_messages(out / "teams" / safe_name(team.id) / f"{safe_name(team.alpha)}.jsonl"))
    assert int(rows["Alpha"][2]) == len(latest_versions(alpha_lines)) and rows["Alpha"][3] == "1"
    assert int(page.find(id="total-messages").get_text().replace(",", "")) == len(team.posted) + 6


def test_a_conversation_page_shows_threads_authors_images_and_attachments(archive):
    binary = chromium()
    team, out = archive
    page = dom(binary, out / "teams" / safe_name(team.id) / f"{safe_name(team.alpha)}.html", out / "profile")
    assert page.html["data-images"] == "1" and page.html["data-images-loaded"] == "1"  # the PNG loaded from disk
    alpha = [m for m in team.posted.values() if m["channelIdentity"]["channelId"] == team.alpha]
    assert len(page.select("article.message")) == len(alpha)
    for thread in page.select("section.thread"):
        root, *replies = thread.select("article.message")
        assert "reply" not in root["class"]
        for reply in replies:
            assert team.posted[reply["data-id"]]["replyToId"] == root["data-id"]
    ids = sorted(alpha, key=lambda m: parse_ms(m["createdDateTime"]))
    edited, deleted = page.find(id=f"m-{ids[0]['id']}"), page.find(id=f"m-{ids[1]['id']}")
    assert "edited text" in edited.get_text() and "edited" in edited.select_one(".meta").get_text()
    assert "deleted" in deleted["class"] and "deleted" in deleted.select_one(".meta").get_text()
    for message in alpha:
        shown = page.find(id=f"m-{message['id']}").select_one(".author").get_text()
        assert shown == message["from"]["user"]["displayName"]
    assert {m["from"]["user"]["displayName"] for m in alpha} == {"Ada Lovelace", "Grace Hopper", "Alan Turing"}
    link = page.select_one("ul.attachments a")
    assert link.get_text() == "plan.txt" and link["href"] == team.file["webUrl"]


def test_exported_content_cannot_run_or_call_out(archive):
    binary = chromium()
    team, out = archive
    page = dom(binary, out / "teams" / safe_name(team.id) / f"{safe_name(team.beta)}.html", out / "profile")
    assert page.title.get_text().startswith("Beta")
    evil = next(a for a in page.select("article.message") if "evil" in a.get_text())
    body = evil.select_one(".body")
    assert not body.find_all(["script", "style"]) and not body.find_all("img")
    assert all(not any(k.startswith("on") for k in tag.attrs) for tag in body.find_all(True))
    assert body.find("a").get("href") is None
    assert body.find("b").get_text() == "Grace Hopper" and "🎉" in body.get_text()
    assert "[image not in the archive]" in body.get_text()


def test_an_archived_body_keeps_formatting_and_only_local_images():
    html = (
        '<div><p>Hi <b>there</b> <a href="https://contoso.example/x" onclick="x()">link</a></p>'
        '<img src="https://graph/v1.0/chats/c/messages/1/hostedContents/abc/$value" onload="x()">'
        '<iframe src="https://evil"></iframe><custom>kept text</custom></div>'
    )
    clean = archive_body(html, lambda src: "hostedContents/c/1/abc.png" if "abc" in src else None)
    assert clean == (
        '<div><p>Hi <b>there</b> <a href="https://contoso.example/x" rel="noopener noreferrer">link</a></p>'
        '<img class="archive-image" src="hostedContents/c/1/abc.png">kept text</div>'
    )


def test_an_archived_body_shows_teams_elements_as_a_browser_can():
    html = (
        '<p><at id="0">Grace <i>Hopper</i></at> <emoji alt="🎉">:tada:</emoji> <emoji>😀</emoji>'
        '<attachment id="1">card</attachment><img src="https://elsewhere.example/a.png" alt="remote"></p>'
    )
    assert archive_body(html, lambda src: None) == (
        '<p><b>Grace <i>Hopper</i></b> 🎉 😀📎<span class="missing-image">[image not in the archive]</span></p>'
    )


# ------------------------------------------------ reactions, events, versions, files
def test_reactions_system_events_earlier_versions_and_downloaded_files_are_shown(client, team, emulator, tmp_path):
    from migrator.reports.export_archive import PAGE_SIZE, paged, threads

    ids = sorted(team.posted, key=lambda i: team.posted[i]["createdDateTime"])
    first = ids[0]
    for content in ("<p>second wording</p>", "<p>third wording</p>"):
        export(client, [Target("team", team.id)], tmp_path, ExportOptions())  # each version lands in the JSONL
        emulator.operator("mutate", {"op": "edit", "conversation": team.alpha, "message": first, "content": content})
    for who in (GRACE, ADA):
        emulator.operator(
            "mutate",
            {"op": "react", "conversation": team.alpha, "message": first, "reactionType": "heart", "user": who},
        )
    emulator.operator(
        "mutate",
        {
            "op": "event",
            "conversation": team.alpha,
            "eventDetail": {
                "@odata.type": "#microsoft.graph.membersAddedEventMessageDetail",
                "members": [{"id": GRACE, "displayName": None, "userIdentityType": "aadUser"}],
                "initiator": {"user": {"id": ADA, "displayName": None, "userIdentityType": "aadUser"}},
            },
        },
    )
    targets = [Target("team", team.id), Target("user", ADA)]
    assert export(client, targets, tmp_path, ExportOptions(attachments="download")).ok
    render_archive(tmp_path)
    page = BeautifulSoup(
        (tmp_path / "teams" / safe_name(team.id) / f"{safe_name(team.alpha)}.html").read_text(encoding="utf-8"),
        "html.parser",
    )
    edited = page.find(id=f"m-{first}")
    assert "third wording" in edited.select_one(".body").get_text()
    versions = edited.select("details.versions .version .body")
    assert [v.get_text() for v in versions] == ["second wording", "alpha 0 bold"]  # newest first; reactions skipped
    assert edited.select_one("details.versions summary").get_text() == "2 earlier versions"
    assert edited.select_one("li.reaction").get_text(" ", strip=True) == "❤️ 2 Grace Hopper, Ada Lovelace"
    system = page.select_one("article.system")
    assert system.select_one(".event").get_text() == "Ada Lovelace added Grace Hopper"
    local = page.select_one("a.local-file")
    assert local.get_text() == "plan.txt"
    assert (tmp_path / "teams" / safe_name(team.id) / unquote(local["href"])).read_bytes() == b"the plan"
    assert [h.get_text() for h in page.select("h2.day")][0] == team.posted[ids[0]]["createdDateTime"][:10]
    chat = BeautifulSoup(
        next((tmp_path / "users" / ADA).glob("*thread.v2.html")).read_text(encoding="utf-8"), "html.parser"
    )
    assert (
        chat.select_one("div.conversation.compact")
        and "Launch draft.docx" in chat.select_one("ul.attachments").get_text()
    )
    messages = [{"id": str(n), "createdDateTime": f"2024-01-01T00:00:{n % 60:02d}.000Z"} for n in range(5)]
    assert [len(c) for c in paged(threads(messages), size=2)] == [2, 2, 1] and PAGE_SIZE == 1_000


@pytest.mark.parametrize(
    "detail, says",
    [
        (
            {
                "@odata.type": "#microsoft.graph.callEndedEventMessageDetail",
                "callDuration": "PT1H2M3S",
                "callParticipants": [{"participant": {"user": {"id": ADA}}}, {"participant": {"user": {"id": GRACE}}}],
            },
            "Call ended after 1 h 2 min 3 s with Ada Lovelace and Grace Hopper",
        ),
        (
            {
                "@odata.type": "#microsoft.graph.chatRenamedEventMessageDetail",
                "chatDisplayName": "Q3",
                "initiator": {"user": {"id": "gone", "displayName": "Old Name"}},
            },
            "Old Name renamed the chat to “Q3”",
        ),
        (
            {"@odata.type": "#microsoft.graph.membersLeftEventMessageDetail", "members": [{"id": GRACE}]},
            "Grace Hopper left",
        ),
        (
            {
                "@odata.type": "#microsoft.graph.conversationMemberRoleUpdatedEventMessageDetail",
                "conversationMemberUser": {"id": GRACE},
                "conversationMemberRoles": ["owner"],
                "initiator": {"user": {"id": ADA}},
            },
            "Ada Lovelace made Grace Hopper owner",
        ),
        (
            {"@odata.type": "#microsoft.graph.someFutureThingEventMessageDetail", "initiator": {"user": {"id": ADA}}},
            "Ada Lovelace: some future thing",
        ),
        (None, ""),
    ],
)
def test_a_system_event_reads_as_a_sentence(detail, says):
    from migrator.reports.archive_events import event_text

    people = {ADA: {"name": "Ada Lovelace", "email": ""}, GRACE: {"name": "Grace Hopper", "email": ""}}
    assert event_text(detail, people) == says
