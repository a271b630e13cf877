"""Bodies of the other sources: Mattermost and Discord Markdown, Teams HTML kept, all of it safe."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrator.model import File, FileStatus, Message
from migrator.sources.common import DISCORD_MARKDOWN, HTML, MARKDOWN, PLAIN, TEXT_FORMAT
from migrator.stages.transform import bodies
from migrator.stages.transform.context import Context
from migrator.stages.transform.files import FileParts
from migrator.stages.transform.markup import Element, el, render
from tests.test_bodies import assert_safe

HEADINGS = {f"h{n}": set() for n in range(1, 7)}
KEPT = {
    "div": set(),
    "u": set(),
    "sub": set(),
    "sup": set(),
    "thead": set(),
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}


def ctx() -> Context:
    return Context(users={"ada": "Ada Lovelace", "u-grace": "Grace Hopper (Contoso)"}, channels={})


def message(text: str, kind: str, **fields: Any) -> Message:
    extra = {TEXT_FORMAT: kind, **fields.pop("extra", {})}
    return Message(ts="1.000000", us=1_000_000, conversation_id="C", origin="test", text=text, extra=extra, **fields)


def body(text: str, kind: str, parts: FileParts | None = None, **fields: Any) -> str:
    return render(bodies.content(message(text, kind, **fields), ctx(), parts))


@pytest.fixture(autouse=True)
def allow_kept_teams_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    """Teams bodies keep divs, headings, underlines and table headers and spans, which Slack bodies never produce."""
    from tests import test_bodies

    monkeypatch.setattr(test_bodies, "ALLOWED", {**test_bodies.ALLOWED, **HEADINGS, **KEPT})


@pytest.mark.parametrize(
    "text, html",
    [
        ("plain words", "<p>plain words</p>"),
        ("**bold** _it_ ~~gone~~ `x`", "<p><b>bold</b> <i>it</i> <s>gone</s> <code>x</code></p>"),
        ("hi @ada and @nobody, @channel", "<p>hi <b>Ada Lovelace</b> and <b>@nobody</b>, <b>@channel</b></p>"),
        ("line one\nline two", "<p>line one<br>line two</p>"),
        ("```\n<b>code</b>\n```", "<pre>&lt;b&gt;code&lt;/b&gt;</pre>"),
        ("- one\n- two", "<ul><li>one</li><li>two</li></ul>"),
        ("# Release", "<p><b>Release</b></p>"),
        ("see [docs](https://example.com) :tada:", '<p>see <a href="https://example.com">docs</a> 🎉</p>'),
        (
            "[x](javascript:alert(1)) <script>alert(1)</script>",
            "<p>[x](javascript:alert(1)) &lt;script&gt;alert(1)&lt;/script&gt;</p>",
        ),
        ("mail ada@example.com", "<p>mail ada@example.com</p>"),
    ],
)
def test_mattermost_markdown(text: str, html: str) -> None:
    rendered = body(text, MARKDOWN)
    assert rendered == html
    assert_safe(rendered)


def test_discord_markdown_keeps_tildes_as_text() -> None:
    assert body("~not-a-channel **ok**", DISCORD_MARKDOWN) == "<p>~not-a-channel <b>ok</b></p>"
    assert body("~town-square", MARKDOWN) == "<p><b>~town-square</b></p>"


def test_plain_text_and_system_events_are_not_parsed() -> None:
    assert body("2*3*4 <b>", PLAIN) == "<p>2*3*4 &lt;b&gt;</p>"
    event = body("members added: Ada", PLAIN, system=True)
    assert event.endswith("members added: Ada</span></p>")


def image_parts() -> FileParts:
    """What FilePlanner gives a Teams message with one inline image and one linked file."""
    parts = FileParts()
    image = el("p", Element("img", [], (("src", "../hostedContents/1/$value"),)))
    placeholder = el("p", el("span", "📎 report.docx"))
    parts.nodes += [image, placeholder]
    parts.by_file.update({"C/m1/hc1": image, "att-1": placeholder})
    return parts


def test_teams_html_is_kept_with_images_mentions_and_files_in_place() -> None:
    files = [
        File(
            id="C/m1/hc1",
            name="hc1.png",
            mimetype="image/png",
            status=FileStatus.AVAILABLE,
            extra={"hosted_content": "hc1"},
        )
    ]
    mentions = [{"id": 0, "mentionText": "Grace", "mentioned": {"user": {"id": "u-grace"}}}]
    html = (
        '<div><p>Hi <at id="0">Grace</at>, <strong>look</strong>:</p>'
        '<p><img src="https://graph.microsoft.com/v1.0/teams/t/channels/c/messages/m1/hostedContents/hc1/$value" '
        'onerror="alert(1)" style="width:100px"></p><attachment id="att-1"></attachment>'
        '<script>alert(1)</script><a href="javascript:x()">bad</a> <a href="https://ok.example">ok</a></div>'
    )
    parts = image_parts()
    rendered = body(html, HTML, parts, files=files, extra={"mentions": mentions})
    assert rendered == (
        "<div><p>Hi <b>Grace Hopper (Contoso)</b>, <b>look</b>:</p>"
        '<p><img src="../hostedContents/1/$value"></p><span>📎 report.docx</span>'
        '<span>bad</span> <a href="https://ok.example">ok</a></div>'
    )
    assert parts.nodes == [] and parts.by_file == {}  # placed in the body, not appended after it
    assert_safe(rendered.replace('<img src="../hostedContents/1/$value">', ""))  # bs4 writes void tags as <img/>


def test_teams_html_loose_text_becomes_paragraphs_and_unknown_tags_unwrap() -> None:
    rendered = body('text <custom>inside</custom><p>para</p>tail <emoji alt="😀">x</emoji>', HTML)
    assert rendered == "<p>text inside</p><p>para</p><p>tail 😀</p>"
    assert (
        body('<img src="https://elsewhere.example/a.png" alt="chart">', HTML)
        == '<p><a href="https://elsewhere.example/a.png">🖼 chart</a></p>'
    )


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>&\"'/=ab pscriptimgonerrorhref:[]()*_~`#@!-\n")), max_size=80))
@example("<![a:")  # malformed marked sections: Python's HTMLParser asserts on them (found by this test)
@example("<![:")
@example("<![CDATA[<script>alert(1)</script>]]>")
def test_no_text_of_another_source_can_inject_markup(text: str) -> None:
    for kind in (MARKDOWN, DISCORD_MARKDOWN, HTML, PLAIN):
        assert_safe(body(text, kind))


@pytest.mark.parametrize("kind", [None, MARKDOWN, DISCORD_MARKDOWN, HTML])  # None: Slack mrkdwn
def test_a_character_reference_to_half_a_character_becomes_u_fffd(kind: str | None) -> None:
    """The readers repair lone surrogates in the JSON; what a body's own decoder makes of a reference to one
    (html.unescape, html.parser, markdown-it) is U+FFFD too, so every body encodes and transform needs no repair."""
    html = body("cut &#xd83d; &#55357; &#xDC00; here, link https://x.example/&#xd83d;", kind)
    assert html.count("\ufffd") >= 3 and html.encode("utf-8")
