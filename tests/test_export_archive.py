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
    team.post(team.beta, EVIL, GRACE)
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
