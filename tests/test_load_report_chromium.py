"""The load report in a real browser at 1300 px: every table stays inside its card (it wraps, or scrolls within it),
the header counts channels and chats apart, and the timeline shows each conversation, the one that decided the end
and the physical limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from migrator.reports.load import write
from migrator.stages.load.outcome import ConversationOutcome, LoadOutcome
from tests.test_report_chromium import chromium, headless

# (name, kind, messages, first and last request in seconds after the load started): the sample's load
SAMPLE_RUN = [
    ("General", "channel", 82, 0.0, 16.4),
    ("random", "channel", 57, 0.1, 11.5),
    ("engineering", "channel", 106, 0.0, 21.2),
    ("design", "channel", 36, 0.2, 7.4),
    ("announcements", "channel", 19, 0.2, 4.0),
    ("Ada Lovelace, José Martínez, 李美 (Li Mei)", "chat", 12, 0.3, 2.7),
    ("Ada Lovelace, Grace Hopper", "chat", 15, 0.3, 3.3),
    ("Alan Turing, 李美 (Li Mei)", "chat", 12, 0.3, 2.7),
    ("leadership", "private channel", 32, 21.4, 28.3),
]
# What a channel table's row looks like when Graph refused messages: long reasons with request-ids.
REASON = "POST /teams/19:3f2a/channels/19:9c1d/messages: 400 BadRequest: createdDateTime is before the channel's ({n})"

MEASURE = """<script>
var found = [];
document.querySelectorAll("div.table-scroll").forEach(function (wrapper) {
  var card = wrapper.closest("section").getBoundingClientRect(), box = wrapper.getBoundingClientRect();
  var table = wrapper.querySelector("table");
  found.push({id: table.id, inside: box.left >= card.left && box.right <= card.right,
              fits: table.scrollWidth <= wrapper.clientWidth, scrolls: getComputedStyle(wrapper).overflowX === "auto"});
});
document.documentElement.setAttribute("data-tables", JSON.stringify(found));
</script>"""


def sample_outcome() -> LoadOutcome:
    outcome = LoadOutcome(started=1000.0, seconds=28.4, critical_seconds=28.2, teams_completed=["Northwind Labs"])
    for name, kind, messages, first, last in SAMPLE_RUN:
        team = "(chats)" if kind == "chat" else "Northwind Labs"
        conversation = ConversationOutcome(f"key/{name}", team, name, messages, kind, posted=messages, completed=True)
        conversation.started, conversation.finished = 1000.0 + first, 1000.0 + last
        outcome.conversations.append(conversation)
    for n in range(3):
        outcome.conversations[2].fail(REASON.format(n=n), f"{n}a7c9e2f-0b1d-4e5f-8a9b-c0d1e2f3a4b5")
    return outcome


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> tuple[BeautifulSoup, Path]:
    binary = chromium()
    out = tmp_path_factory.mktemp("load-report")
    _, html = write(sample_outcome(), out)
    measured = out / "measured.html"  # the report with a script that measures its laid-out tables
    measured.write_text(html.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = headless(binary, out / "profile", "--window-size=1300,2400", "--dump-dom", measured.as_uri()).stdout
    return BeautifulSoup(dom, "html.parser"), out


def test_every_table_stays_inside_its_card_at_1300_px(shown: tuple[BeautifulSoup, Path]) -> None:
    dom, _ = shown
    tables = json.loads(dom.html["data-tables"])
    assert [t["id"] for t in tables] == ["channels"]
    assert all(t["inside"] and (t["fits"] or t["scrolls"]) for t in tables), tables
    reasons = dom.find("table", id="channels").find_all("td", class_="text")
    assert len(reasons) == 1 and "request-id 0a7c9e2f" in reasons[0].get_text()


def test_the_header_counts_channels_and_chats_apart(shown: tuple[BeautifulSoup, Path]) -> None:
    dom, _ = shown
    assert dom.find(id="counts").get_text() == "6 channels (1 private) · 3 chats · 28 s"


def test_the_timeline_has_a_bar_per_conversation_the_end_marked_and_the_physical_limit(
    shown: tuple[BeautifulSoup, Path],
) -> None:
    dom, _ = shown
    svg = dom.find(id="timeline").find("svg")
    texts = [t.get_text() for t in svg.find_all("text")]
    bars = [t for t in texts if t.startswith("Northwind Labs / ") or t.startswith(("Ada ", "Alan "))]
    assert len(bars) == len(SAMPLE_RUN)
    assert [t for t in texts if "decided the end" in t] == ["Northwind Labs / leadership (decided the end)"]
    assert "physical limit: the critical path, 28 s at 5 requests/s" in texts
