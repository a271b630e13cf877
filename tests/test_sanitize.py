"""The one HTML sanitiser (nh3) and its two policies: what each keeps, and for any input nothing that can run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from migrator.sanitize import ARCHIVE, TEAMS_IMPORT, Policy

# What each policy may let through, written out here rather than read from the module under test.
FORMATTING = (
    {"p", "div", "br", "hr", "span", "b", "strong", "i", "em", "u", "s", "strike", "del", "sub", "sup", "code"}
    | {"pre", "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "td", "th", "a", "img"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "at", "emoji", "attachment"}
)
VOID = {"br", "hr", "img"}
SPANS = {"colspan", "rowspan"}
LINK_SCHEMES = {"http", "https", "mailto"}
HOSTED = "https://graph.microsoft.com/v1.0/chats/19:c@thread.v2/messages/1/hostedContents/aWQ9/$value"


@dataclass(frozen=True)
class Expected:
    policy: Policy
    attributes: dict[str, set[str]]
    hosted_images_only: bool

    def __repr__(self) -> str:
        return self.policy.name


TEAMS = Expected(
    TEAMS_IMPORT,
    {"a": {"href"}, "img": {"src", "alt"}, "td": SPANS, "th": SPANS, "at": {"id"}, "emoji": {"alt"}}
    | {"attachment": {"id"}},
    hosted_images_only=False,
)
ARCHIVED = Expected(
    ARCHIVE,
    {"a": {"href", "title", "rel"}, "img": {"src", "alt"}, "td": SPANS, "th": SPANS, "emoji": {"alt"}},
    hosted_images_only=True,
)
POLICIES = pytest.mark.parametrize("expected", [TEAMS, ARCHIVED], ids=["teams-import", "archive"])


class Seen(HTMLParser):
    """Everything in a fragment as a second, independent parser (the stdlib's) reads it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.other: list[str] = []  # comments, declarations, processing instructions
        self.open: list[str] = []
        self.balanced = True
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.other.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        self.balanced &= bool(self.open) and self.open.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.other.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.other.append(f"declaration {decl!r}")

    def unknown_decl(self, data: str) -> None:
        self.other.append(f"marked section {data!r}")

    def handle_pi(self, data: str) -> None:
        self.other.append(f"processing instruction {data!r}")


def assert_safe(expected: Expected, html: str) -> Seen:
    """Only the policy's tags and attributes, URLs only with a safe scheme, every element closed in order."""
    seen = Seen(html)
    assert not seen.other, f"{seen.other} in {html!r}"
    assert seen.balanced and not seen.open, f"unbalanced: {html!r}"
    for tag, attrs in seen.tags:
        assert tag in FORMATTING, f"<{tag}> in {html!r}"
        assert set(attrs) <= expected.attributes.get(tag, set()), f"<{tag} {attrs}> in {html!r}"
        if "href" in attrs:
            assert urlsplit(attrs["href"]).scheme.lower() in LINK_SCHEMES, f"href in {html!r}"
        if "src" in attrs:
            assert urlsplit(attrs["src"]).scheme.lower() in {"http", "https"}, f"src in {html!r}"
            assert not expected.hosted_images_only or "/hostedContents/" in attrs["src"], f"src in {html!r}"
        for name in SPANS & set(attrs):
            assert attrs[name].isdigit()
    return seen


# --- what each policy keeps -------------------------------------------------------------------------


@POLICIES
def test_formatting_stays_and_scripts_styles_and_frames_go_with_their_content(expected: Expected) -> None:
    html = (
        "<div><p>Hi <b>there</b>, <strong>x</strong> <em>y</em> <u>u</u> <del>d</del> <code>c</code></p>"
        "<script>alert(1)</script><style>p{display:none}</style><iframe>frame</iframe><svg><text>s</text></svg>"
        "<custom>unwrapped</custom><!-- gone --><ul><li>one</li></ul><h2>head</h2></div>"
    )
    assert expected.policy.clean(html) == (
        "<div><p>Hi <b>there</b>, <strong>x</strong> <em>y</em> <u>u</u> <del>d</del> <code>c</code></p>"
        "unwrapped<ul><li>one</li></ul><h2>head</h2></div>"
    )


def test_teams_policy_keeps_links_spans_and_teams_elements_for_the_step_after() -> None:
    html = (
        '<p onclick="x()" style="color:red"><at id="0" class="m">Grace</at> <emoji alt="🎉" title="party"></emoji>'
        '<a href="https://ok.example/?a=1&amp;b=2" title="t">ok</a> <a href="javascript:alert(1)">bad</a> '
        '<a href="/relative">rel</a> <a href="mailto:ada@example.com">mail</a></p><attachment id="att-1"></attachment>'
        '<table><tr><td colspan="2" rowspan="x" width="9">cell</td></tr></table>'
    )
    assert TEAMS_IMPORT.clean(html) == (
        '<p><at id="0">Grace</at> <emoji alt="🎉"></emoji>'
        '<a href="https://ok.example/?a=1&amp;b=2">ok</a> <a>bad</a> '
        '<a>rel</a> <a href="mailto:ada@example.com">mail</a></p><attachment id="att-1"></attachment>'
        '<table><tbody><tr><td colspan="2">cell</td></tr></tbody></table>'
    )


def test_archive_policy_keeps_link_titles_and_opens_links_without_referrer() -> None:
    html = '<a href="https://ok.example" title="t">ok</a><a href="javascript:x">bad</a><at id="0">Grace</at>'
    assert ARCHIVE.clean(html) == (
        '<a href="https://ok.example" title="t" rel="noopener noreferrer">ok</a>'
        '<a rel="noopener noreferrer">bad</a><at>Grace</at>'
    )


@pytest.mark.parametrize(
    "src, teams, archive",
    [
        (HOSTED, True, True),  # the message's own image: re-hosted on import, its downloaded copy in the archive
        ("https://elsewhere.example/a.png", True, False),  # a link on import; the archive never calls out
        ("data:image/png;base64,iVBORw0KGgo=", False, False),
        ("javascript:alert(1)", False, False),
        ("/v1.0/chats/c/messages/1/hostedContents/aWQ9/$value", False, False),  # relative: not Graph's own
        ("mailto:ada@example.com", False, False),
    ],
)
def test_image_sources_each_policy_allows(src: str, teams: bool, archive: bool) -> None:
    for policy, kept in ((TEAMS_IMPORT, teams), (ARCHIVE, archive)):
        clean = policy.clean(f'<img src="{src}" alt="chart" onerror="alert(1)">')
        assert clean == (f'<img src="{escape(src)}" alt="chart">' if kept else '<img alt="chart">'), policy.name


@POLICIES
def test_text_is_escaped_once_and_a_pre_keeps_its_first_newline(expected: Expected) -> None:
    policy = expected.policy
    assert policy.clean("1 < 2 & 3 > 2 &lt;b&gt; &amp;lt;") == "1 &lt; 2 &amp; 3 &gt; 2 &lt;b&gt; &amp;lt;"
    assert policy.clean("<pre>\n\nindented\n</pre>") == "<pre>\n\nindented\n</pre>"  # a browser shows one newline
    assert policy.clean("<pre>\nline</pre>") == "<pre>line</pre>"  # the newline a browser drops anyway
    assert policy.clean('<img alt="<pre>\nx">') == '<img alt="&lt;pre&gt;\nx">'  # not a <pre>: left as it is
    assert policy.clean("cut \ud83d here") == "cut \ufffd here"  # half a UTF-16 pair, as a reader repairs it


# --- for any input ------------------------------------------------------------------------------------

ADVERSARIAL = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<script>",
        "</script>",
        "<style>p{}</style>",
        "<iframe src=https://evil.example>",
        "<object data=x>",
        "<embed src=x>",
        "<svg onload=alert(1)>",
        "<math><mi xlink:href=javascript:x>",
        "<img src=x onerror=alert(1)>",
        '<img src="data:image/png;base64,AAAA">',
        "<img src=https://evil.example/x.png>",
        f'<img src="{HOSTED}" alt="a">',
        '<a href="javascript:alert(1)">',
        '<a href="JaVaScRiPt:alert(1)">',
        '<a href="java\tscript:x">',
        '<a href="jav&#x61;script:x">',
        '<a href=" javascript:x">',
        '<a href="vbscript:x">',
        '<a href="data:text/html,<script>x</script>">',
        '<a href="https://ok.example/?a=1&amp;b=2" title="t" onclick="x()">',
        '<a href="mailto:ada@example.com">',
        '<a href="//evil.example">',
        "</a>",
        "<b>",
        "</b>",
        "<p>",
        "</p>",
        "<pre>",
        "</pre>",
        "<table>",
        "<tr>",
        "<td colspan=2 rowspan=x>",
        "</td>",
        "</table>",
        "<caption>",
        "<tfoot>",
        "<h1>",
        "<h2>",
        "</h1>",
        "<center>",
        "<marquee>",
        "<dl>",
        "<option>",
        "<ul>",
        "<li>",
        "<!--",
        "-->",
        "<!-- comment -->",
        "<![CDATA[",
        "]]>",
        "<![a:",
        "<!doctype html>",
        "<?php x ?>",
        "</",
        "<",
        ">",
        "&",
        "&lt;",
        "&gt;",
        "&amp;",
        "&#0;",
        "&#xd83d;",
        "&nbsp;",
        "&#x3c;script&#x3e;",
        '<at id="0">',
        "</at>",
        '<emoji alt="🎉">',
        "</emoji>",
        '<attachment id="1">',
        "</attachment>",
        "<custom x=1>",
        "</custom>",
        '<div style="background:url(javascript:x)">',
        '<span onmouseover="x">',
        "<base href=https://evil.example>",
        "<meta http-equiv=refresh content='0;url=javascript:x'>",
        "<form action=javascript:x><button>",
        "<textarea>",
        '<noscript><p title="</noscript><img src=x onerror=x>">',
        "<template><script>x</script></template>",
        "<plaintext>",
        "<xmp>",
        "<select><option>",
        "\n",
        "\r\n",
        " ",
        "\x00",
    ]
)
MARKUP = st.lists(ADVERSARIAL | st.text(max_size=4), max_size=30).map("".join)


@POLICIES
@settings(max_examples=400, deadline=None)
@given(MARKUP)
@example("<pre>\n\n<pre>\n\nx")
@example("<table><caption>cap<tr><td>x")
@example('<noscript><p title="</noscript><img src=x onerror=alert(1)>">')
def test_any_markup_comes_out_safe_and_cleaning_again_changes_nothing(expected: Expected, html: str) -> None:
    clean = expected.policy.clean(html)
    assert_safe(expected, clean)
    assert expected.policy.clean(clean) == clean


# Markup that moves no text: formatting, unknown tags (unwrapped), and elements dropped with their own content.
TEXT_NEUTRAL = ["<b>", "</b>", "<i>", "</i>", "<p>", "</p>", "<div>", "</div>", "<span>", "</span>", "<li>"] + [
    "<custom>",
    "</custom>",
    "<h1>",
    "</h1>",
    "<br>",
    "<script>gone()</script>",
    "<style>gone</style>",
]


def as_parsed(text: str) -> str:
    """Text as an HTML parser reads it: newlines as LF, NUL dropped, half a UTF-16 pair as U+FFFD."""
    return re.sub("[\ud800-\udfff]", "\ufffd", text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))


@POLICIES
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text() | st.sampled_from(TEXT_NEUTRAL), max_size=12))
def test_text_in_markup_comes_out_as_the_same_text(expected: Expected, pieces: list[str]) -> None:
    """Text (escaped, as HTML carries it) never becomes markup and is never lost, whatever tags surround it."""
    html = "".join(piece if piece in TEXT_NEUTRAL else escape(piece) for piece in pieces)
    seen = assert_safe(expected, expected.policy.clean(html))
    text = "".join(as_parsed(piece) for piece in pieces if piece not in TEXT_NEUTRAL)
    assert "".join(seen.text) == text
