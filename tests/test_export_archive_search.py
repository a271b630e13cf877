"""The archive at scale, in headless Chromium: a 6,000-message chat in pages, searched offline and filtered.

The chat is seeded in the emulator's directory (so it comes back through the
real export APIs, reactions and a system event included), exported by the
real exporter, rendered, and then searched the way a person would: typing a
word into `search.html` and following the result to its page.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from graphkit import ADA, ALAN, GRACE
from migrator.emulator.directory import DEMO_PATH
from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient
from migrator.reports.export_archive import PAGE_SIZE, render_archive
from migrator.stages.export import ExportOptions, Target, export, export_limiter
from migrator.stages.export.archive import safe_name
from migrator.timestamps import format_ms, parse_ms
from test_report_chromium import chromium, headless

CHAT = "19:5000000000000000000000000000beef@thread.v2"
MESSAGES = 6_000
NEEDLE = 4_321  # the one message that says "quokka"
START = parse_ms("2024-04-01T08:00:00Z")
STEP_MS = 7 * 60_000  # 6,000 messages over 29 days
PEOPLE = [ADA, GRACE, ALAN]


def seeded_chat() -> dict:
    messages = []
    for n in range(MESSAGES):
        seed = {
            "from": PEOPLE[n % 3],
            "createdDateTime": format_ms(START + n * STEP_MS),
            "body": f"<p>message {n} about the launch" + (" of the quokka mascot" if n == NEEDLE else "") + "</p>",
            "contentType": "html",
        }
        if n == 10:
            seed["reactions"] = [{"reactionType": "like", "user": GRACE}, {"reactionType": "like", "user": ALAN}]
        messages.append(seed)
    messages.append(
        {
            "createdDateTime": format_ms(START + MESSAGES * STEP_MS),
            "messageType": "systemEventMessage",
            "body": "<systemEventMessage/>",
            "contentType": "html",
            "eventDetail": {
                "@odata.type": "#microsoft.graph.chatRenamedEventMessageDetail",
                "chatDisplayName": "Launch (archived)",
                "initiator": {"user": {"id": ADA, "displayName": None, "userIdentityType": "aadUser"}},
            },
        }
    )
    return {
        "id": CHAT,
        "chatType": "group",
        "topic": "Launch room",
        "members": PEOPLE,
        "createdDateTime": format_ms(START - 60_000),
        "messages": messages,
    }


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = chromium()  # skips the module's tests before any work when there is no browser
    assert binary
    work = tmp_path_factory.mktemp("big-archive")
    demo = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    directory = work / "directory.json"
    directory.write_text(json.dumps({"users": demo["users"], "chats": [seeded_chat()]}), encoding="utf-8")
    out = work / "out"
    with EmulatorProcess(directory=directory, tls_dir=work / "tls") as emulator:
        emulator.operator("config", {"channel_rps": 10_000, "tenant_rps": 10_000, "app_export_rps": 10_000})
        with GraphClient(emulator.graph_config(), limiter=export_limiter(10_000)) as client:
            outcome = export(client, [Target("user", ADA)], out, ExportOptions())
    assert outcome.ok and outcome.total("messages") == MESSAGES + 1
    render_archive(out)
    return out


def browse(out: Path, page: str, profile: str) -> BeautifulSoup:
    """The DOM of `page` (a file of the archive, with an optional ?query) once its scripts ran."""
    name, _, query = page.partition("?")
    uri = (out / name).as_uri() + (f"?{query}" if query else "")
    html = headless(chromium(), out / profile, "--virtual-time-budget=10000", "--dump-dom", uri).stdout
    return BeautifulSoup(html, "html.parser")


def chat_page(out: Path, number: int) -> Path:
    stem = out / "users" / ADA / f"{safe_name(CHAT)}.jsonl"
    return stem.with_suffix(".html" if number == 1 else f".p{number}.html")


def test_the_chat_is_split_into_pages_of_at_most_a_thousand_with_a_heading_per_day(big_archive):
    pages = -(-(MESSAGES + 1) // PAGE_SIZE)
    assert all(chat_page(big_archive, n).is_file() for n in range(1, pages + 1))
    assert not chat_page(big_archive, pages + 1).exists()
    shown = []
    for n in range(1, pages + 1):
        page = BeautifulSoup(chat_page(big_archive, n).read_text(encoding="utf-8"), "html.parser")
        articles = page.select("article.message")
        assert len(articles) <= PAGE_SIZE and page.select_one("div.conversation.compact")
        days = {a.find("time")["datetime"][:10] for a in articles}
        assert [h.get_text() for h in page.select("h2.day")] == sorted(days)
        assert len(page.select("nav.pages")) == 2
        shown += [a["data-id"] for a in articles]
    assert len(shown) == len(set(shown)) == MESSAGES + 1
    first = BeautifulSoup(chat_page(big_archive, 1).read_text(encoding="utf-8"), "html.parser")
    liked = first.select("li.reaction")
    assert [(r.get_text(" ", strip=True)) for r in liked] == ["👍 2 Grace Hopper, Alan Turing"]
    last = BeautifulSoup(chat_page(big_archive, pages).read_text(encoding="utf-8"), "html.parser")
    event = last.select_one("article.system .event").get_text()
    assert event == "Ada Lovelace renamed the chat to “Launch (archived)”"


def test_a_word_typed_into_the_search_page_finds_its_message_on_its_page(big_archive):
    index = browse(big_archive, "index.html", "profile-index")
    assert index.find(id="search-link")["href"] == "search.html"
    found = browse(big_archive, "search.html?q=Quokka", "profile-search")
    assert found.html["data-search"] == "ready" and found.html["data-results"] == "1"
    [result] = found.select("a.result")
    assert result.get_text() == "Launch room" and "quokka mascot" in found.select_one(".snippet").get_text()
    href = urlsplit(result["href"])
    target = (big_archive / unquote(href.path)).resolve()
    assert target == chat_page(big_archive, NEEDLE // PAGE_SIZE + 1).resolve()
    page = BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser")
    assert "quokka" in page.find(id=unquote(href.fragment)).get_text()


def test_the_search_page_filters_by_person_and_date(big_archive):
    day = format_ms(START + 1_000 * STEP_MS)[:10]
    query = f"search.html?q=launch&person={quote('Grace Hopper')}&from={day}&to={day}"
    found = browse(big_archive, query, "profile-filter")
    expected = [n for n in range(MESSAGES) if PEOPLE[n % 3] == GRACE and format_ms(START + n * STEP_MS)[:10] == day]
    assert found.html["data-results"] == str(len(expected)) and expected
    assert all("Grace Hopper" in where.get_text() for where in found.select(".where"))
    nothing = browse(big_archive, "search.html?q=launch+zebra", "profile-none")
    assert nothing.html["data-results"] == "0"
