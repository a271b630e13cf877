"""Message bodies: Slack mrkdwn and Block Kit to safe HTML, conversions counted, no way to inject markup."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator.model import Edit, File, FileStatus, Message, Reaction
from migrator.stages.transform import bodies, mrkdwn
from migrator.stages.transform.blocks import render_blocks
from migrator.stages.transform.cards import render_cards
from migrator.stages.transform.context import Context
from migrator.stages.transform.markup import NOTE_STYLE, render
from tests.slackkit import ZULIP, shared_fixtures

# Every tag and attribute the renderer may produce; anything else came from the source.
ALLOWED = {
    "p": set(),
    "b": set(),
    "i": set(),
    "s": set(),
    "u": set(),
    "code": set(),
    "pre": set(),
    "blockquote": set(),
    "br": set(),
    "hr": set(),
    "ul": set(),
    "ol": {"start"},
    "li": set(),
    "table": set(),
    "tbody": set(),
    "tr": set(),
    "td": set(),
    "a": {"href"},
    "span": {"style"},
    "img": {"src"},
    "attachment": {"id"},
    "at": {"id"},
}
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def ctx() -> Context:
    return Context(users={"U1": "Ada Lovelace", "U2": "Grace <Hopper>"}, channels={"C1": "general"})


def mrk(text: str, context: Context | None = None) -> str:
    return render(mrkdwn.blocks(text, context or ctx()))


def assert_safe(html: str) -> None:
    """Only our tags and attributes, links only to safe schemes, and balanced (re-serialising changes nothing)."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        assert tag.name in ALLOWED, f"unexpected <{tag.name}> in {html!r}"
        assert set(tag.attrs) <= ALLOWED[tag.name], f"unexpected attributes {tag.attrs} in {html!r}"
        if tag.name == "a":
            assert tag["href"].lower().startswith(SAFE_SCHEMES)
        if tag.name == "span" and tag.attrs:
            assert tag["style"] == NOTE_STYLE
    # bs4 turns a whitespace-only string into one space or newline; whitespace cannot unbalance anything
    reserialised = re.sub(r"<(br|hr|img)([^>]*)/>", r"<\1\2>", str(soup))  # void elements as we write them
    assert "".join(reserialised.split()) == "".join(html.split())


# --- mrkdwn ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, html",
    [
        ("*bold* _italic_ ~strike~ `code`", "<p><b>bold</b> <i>italic</i> <s>strike</s> <code>code</code></p>"),
        ("snake_case_name and 2*3*4 stay", "<p>snake_case_name and 2*3*4 stay</p>"),
        ("*bold _and italic_*", "<p><b>bold <i>and italic</i></b></p>"),
        ("*not closed", "<p>*not closed</p>"),
        ("* not bold *", "<p>* not bold *</p>"),
        ("*across\nlines*", "<p>*across<br>lines*</p>"),
        ("`*no* <@U1>`", "<p><code>*no* Ada Lovelace</code></p>"),
        (
            "Stack trace:\n```\nline 1\n  *line* 2 -&gt; x\n```",
            "<p>Stack trace:</p><pre>line 1\n  *line* 2 -&gt; x</pre>",
        ),
        ("before ```inline code``` after", "<p>before </p><pre>inline code</pre><p> after</p>"),
        ("three ``` fences ``` odd ```", "<p>three </p><pre> fences </pre><p> odd ```</p>"),
        ("&gt; quoted\n&gt; twice\nanswer", "<blockquote><p>quoted<br>twice</p></blockquote><p>answer</p>"),
        ("&gt;&gt;&gt; all\nthe rest", "<blockquote><p>all<br>the rest</p></blockquote>"),
        (
            "<https://example.com/a?b=1&amp;c=2|the &amp; link>",
            '<p><a href="https://example.com/a?b=1&amp;c=2">the &amp; link</a></p>',
        ),
        ("<https://example.com>", '<p><a href="https://example.com">https://example.com</a></p>'),
        (
            "<mailto:ada@example.com|mail Ada> <mailto:grace@example.com>",
            '<p><a href="mailto:ada@example.com">mail Ada</a> <a '
            'href="mailto:grace@example.com">grace@example.com</a></p>',
        ),
        ("<javascript:alert(1)|click>", "<p><span>click</span></p>"),
        (
            "hi <@U1>, <@U2> and <@U404|zed>",
            "<p>hi <b>Ada Lovelace</b>, <b>Grace &lt;Hopper&gt;</b> and <b>zed</b></p>",
        ),
        ("see <#C1> and <#C9|random>", "<p>see <b>#general</b> and <b>#random</b></p>"),
        (
            "<!here> <!channel> <!everyone> <!subteam^S1|@eng>",
            "<p><b>@here</b> <b>@channel</b> <b>@everyone</b> <b>@eng</b></p>",
        ),
        ("due <!date^1392734382^{date_pretty}|Feb 18, 2014>", "<p>due Feb 18, 2014</p>"),
        (
            ":tada: :+1::skin-tone-3: :thumbsup: :partyparrot: at 10:30:45",
            "<p>🎉 👍🏼 👍 :partyparrot: at 10:30:45</p>",
        ),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("&amp;lt;b&amp;gt; typed literally", "<p>&amp;lt;b&amp;gt; typed literally</p>"),
        ("Fish &amp; chips", "<p>Fish &amp; chips</p>"),
    ],
)
def test_mrkdwn(text: str, html: str) -> None:
    assert mrk(text) == html
    assert_safe(html)


def test_conversions_are_recorded() -> None:
    context = ctx()
    mrk("*b* <@U1> <!here> <#C1> :tada: `x` <https://a.example|a>\n```c```\n&gt; q", context)
    assert context.features == {
        "mentions",
        "special_mentions",
        "channel_links",
        "emoji",
        "inline_code",
        "links",
        "code_blocks",
        "quotes",
    }


MARKUP_ALPHABET = st.sampled_from(
    list("ab *_~`<>&|:@#!\n\"'=/")
    + ["&lt;", "&gt;", "&amp;", "<script>", "javascript:", "<@U1>", "```", "&gt; ", "onerror=", "<img src=x>"]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(MARKUP_ALPHABET | st.text(max_size=3), max_size=40).map("".join))
def test_no_source_text_can_inject_markup(text: str) -> None:
    assert_safe(mrk(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="*_~`<>&:\r", blacklist_categories=("Cs",)), max_size=60))
def test_plain_text_comes_through_unchanged(text: str) -> None:
    html = mrk(text)
    if not text.strip():
        assert html == ""  # nothing to show: the message gets the "no text" note instead
        return
    soup = BeautifulSoup(html.replace("<br>", "\n"), "html.parser")
    assert soup.get_text() == text


# --- Block Kit -------------------------------------------------------------------


def section(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "rich_text_section", "elements": list(elements)}


def rich(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "rich_text", "elements": list(elements)}]


def test_rich_text_styles_links_mentions_and_emoji() -> None:
    context = ctx()
    html = render(
        render_blocks(
            rich(
                section(
                    {"type": "text", "text": "a <b> & ", "style": {"bold": True, "italic": True}},
                    {"type": "link", "url": "https://example.com", "text": "site", "style": {"strike": True}},
                    {"type": "user", "user_id": "U1"},
                    {"type": "channel", "channel_id": "C1"},
                    {"type": "broadcast", "range": "here"},
                    {"type": "emoji", "name": "+1", "unicode": "1f44d-1f3fd"},
                    {"type": "emoji", "name": "wave", "skin_tone": 2},
                    {"type": "emoji", "name": "partyparrot"},
                    {"type": "text", "text": "x", "style": {"code": True}},
                )
            ),
            context,
        )
    )
    assert html == (
        '<p><b><i>a &lt;b&gt; &amp; </i></b><s><a href="https://example.com">site</a></s><b>Ada Lovelace</b>'
        "<b>#general</b><b>@here</b>👍🏽👋🏻:partyparrot:<code>x</code></p>"
    )
    assert {"mentions", "channel_links", "special_mentions", "emoji", "links", "inline_code"} <= context.features


def test_rich_text_nested_lists_quotes_code_and_sections_run_on() -> None:
    blocks = rich(
        section({"type": "text", "text": "intro "}),
        section({"type": "text", "text": "same line\n"}),
        {
            "type": "rich_text_list",
            "style": "ordered",
            "indent": 0,
            "elements": [section({"type": "text", "text": "one"})],
        },
        {
            "type": "rich_text_list",
            "style": "bullet",
            "indent": 1,
            "elements": [section({"type": "text", "text": "one.a"})],
        },
        {
            "type": "rich_text_list",
            "style": "ordered",
            "indent": 0,
            "offset": 1,
            "elements": [section({"type": "text", "text": "two"})],
        },
        {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "a -> b\n  c"}]},
        {"type": "rich_text_quote", "elements": [{"type": "text", "text": "wise"}]},
    )
    assert render(render_blocks(blocks, ctx())) == (
        "<p>intro same line</p><ol><li>one<ul><li>one.a</li></ul></li><li>two</li></ol>"
        "<pre>a -&gt; b\n  c</pre><blockquote><p>wise</p></blockquote>"
    )


def test_layout_blocks_and_unsupported_ones_are_counted() -> None:
    context = ctx()
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Release *2*"}},
        {"type": "divider"},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*done* <https://ci.example|build>"},
            "fields": [{"type": "plain_text", "text": "a_b_c"}],
            "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Go"}},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "by <@U1>"}]},
        {"type": "actions", "elements": []},
        {
            "type": "table",
            "rows": [
                [
                    {"type": "rich_text", "elements": [section({"type": "text", "text": "cell"})]},
                    {"type": "raw_text", "text": "raw"},
                ]
            ],
        },
    ]
    assert render(render_blocks(blocks, context)) == (
        '<p><b>Release *2*</b></p><hr><p><b>done</b> <a href="https://ci.example">build</a></p><p>a_b_c</p>'
        f'<p><span style="{NOTE_STYLE}">by <b>Ada Lovelace</b></span></p>'
        "<table><tbody><tr><td><p>cell</p></td><td><p>raw</p></td></tr></tbody></table>"
    )
    assert context.unsupported == {"block button": 1, "block actions": 1}
    assert "unsupported_blocks" in context.features


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=30),
    st.text(max_size=30),
    st.sampled_from(["https://x.example", "javascript:alert(1)", "data:text/html,<b>", " JAVASCRIPT:x"]),
)
def test_no_block_text_or_url_can_inject_markup(text: str, label: str, url: str) -> None:
    blocks = rich(
        section({"type": "text", "text": text, "style": {"bold": True}}, {"type": "link", "url": url, "text": label}),
        {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": text}]},
    )
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    html = render(render_blocks(blocks, ctx()))
    assert_safe(html.replace("\ufffd", ""))


def test_legacy_attachments_become_cards() -> None:
    context = ctx()
    html = render(
        render_cards(
            [
                {
                    "pretext": "Deploy *finished*",
                    "author_name": "ci",
                    "title": "api 2.3.0",
                    "title_link": "https://ci.example/1",
                    "text": "all _green_",
                    "fields": [{"title": "Env", "value": "prod"}],
                    "footer": "CI <@U1>",
                },
                {"fallback": "only a fallback"},
                {"color": "good"},
            ],
            context,
        )
    )
    assert html == (
        '<p>Deploy <b>finished</b></p><blockquote><p>ci</p><p><b><a href="https://ci.example/1">api 2.3.0</a></b></p>'
        f'<p>all <i>green</i></p><p><b>Env</b><br>prod</p><p><span style="{NOTE_STYLE}">CI <b>Ada '
        "Lovelace</b></span></p></blockquote>"
        "<blockquote><p>only a fallback</p></blockquote>"
    )
    assert context.unsupported == {"empty attachment": 1}


# --- whole messages ------------------------------------------------------------------


def message(**fields: Any) -> Message:
    return Message(ts="1700000000.000100", us=1_700_000_000_000_100, conversation_id="C1", origin="x.json", **fields)


def test_message_notes_edits_reactions_broadcasts_and_deleted_roots() -> None:
    context = ctx()
    edited = message(
        text="hi",
        edited=Edit("U1", "1700000001.0"),
        subtype="thread_broadcast",
        reactions=[Reaction("+1::skin-tone-2", 2), Reaction("partyparrot", 1)],
    )
    html = render(bodies.content(edited, context) + bodies.notes(edited, context))
    note = f'<p><span style="{NOTE_STYLE}">'
    assert (
        html
        == f"<p>hi</p>{note}(also sent to the channel)</span></p>{note}(edited)</span></p>{note}Reactions: 👍🏻 2 · "
        ":partyparrot: 1</span></p>"
    )
    assert (
        render(bodies.content(message(subtype="tombstone", text="This message was deleted."), context))
        == f"{note}{bodies.DELETED}</span></p>"
    )
    joined = message(text="<@U1> has joined the channel", subtype="channel_join", system=True)
    assert render(bodies.content(joined, context)) == f"{note}<b>Ada Lovelace</b> has joined the channel</span></p>"
    assert {"edits", "reactions", "thread_broadcasts", "deleted_placeholders", "system_messages"} <= context.features


def test_blocks_win_over_text_and_me_messages_are_italic() -> None:
    both = message(text="*fallback*", blocks=rich(section({"type": "text", "text": "shown"})))
    assert render(bodies.content(both, ctx())) == "<p>shown</p>"
    assert render(bodies.content(message(text="waves", subtype="me_message"), ctx())) == "<p><i>waves</i></p>"
    comment = message(
        text="nice", subtype="file_comment", commented_file=File(id="F1", name="plan.pdf", status=FileStatus.MISSING)
    )
    assert render(bodies.content(comment, ctx())).endswith(
        f'<p><span style="{NOTE_STYLE}">Comment on the file <b>plan.pdf</b></span></p>'
    )


# --- the real exports' message fixtures (zulip's Slack importer, see ../shared/fixtures/SOURCES.md) ------


def fixture(name: str) -> dict[str, Any]:
    shared_fixtures()
    data = json.loads((ZULIP / "exported_messages_fixtures" / f"{name}.json").read_text(encoding="utf-8"))
    return data[0] if isinstance(data, list) else data


def fixture_html(name: str, context: Context | None = None) -> str:
    raw = fixture(name)
    msg = message(text=raw.get("text"), blocks=raw.get("blocks") or [], attachments=raw.get("attachments") or [])
    html = render(bodies.content(msg, context or ctx()))
    assert_safe(html)
    return html


def test_zulip_fixture_basic_formatting() -> None:
    assert fixture_html("message_with_basic_formatting") == (
        "<p>Hello there, I am a basic rich text block!</p><p>Hello there, <b>I am a bold rich text block!</b></p>"
        "<p>Hello there, <i>I am an italic rich text block!</i></p><p>Hello there, <s>I am a strikethrough rich text "
        "block!</s></p>"
    )


def test_zulip_fixture_nested_ordered_list() -> None:
    assert fixture_html("message_with_nested_ordered_list") == (
        "<p>ordered list with subitems:</p><ol><li>main item 1<ul><li>nested item 1</li><li>nested item 2</li>"
        "<li>nested item 3</li></ul></li><li>main item 2<ol><li>nested item 1</li></ol></li></ol>"
    )


def test_zulip_fixture_code_block_keeps_its_arrow_escaped_once() -> None:
    assert fixture_html("message_with_code_block") == (
        "<pre># I'm a code block!\n\ndef convert_slack_formatting(text: str) -&gt; str:\n    return text</pre>"
    )


def test_zulip_fixture_workspace_mentions_and_emojis() -> None:
    assert (
        fixture_html("message_with_workspace_mentions")
        == "<p><b>@channel</b> <b><i><u><b>@here</b></u></i></b> test mention</p>"
    )
    assert fixture_html("message_with_emojis") == "<p>Hello there! Here are some emojis 🏀 🏂 🏁</p>"


def test_zulip_fixture_user_mentions_name_known_and_unknown_users() -> None:
    context = Context(users={"U06NU4E26M9": "Alya"}, channels={})
    assert (
        fixture_html("message_with_user_mentions", context) == "<p><b>Alya</b> test user mention <b>U074VRHQ11T</b></p>"
    )


def test_zulip_fixture_varying_block_types_and_unknown_element() -> None:
    context = ctx()
    html = fixture_html("message_with_varying_block_types", context)
    assert html.startswith("<p>Hello there, I am a basic rich text block!</p>")
    assert (
        "<hr><p>This is a mrkdwn section block 👻 <b>this is bold</b>, and <s>this is crossed out</s>, and "
        '<a href="https://google.com">this is a link</a></p><p><b>This is a header block</b></p>' in html
    )
    assert html.endswith(
        "<table><tbody><tr><td><p><b>Header 1</b></p></td><td><p><b>Header 2</b></p></td></tr>"
        "<tr><td><p>Datum 1</p></td><td><p>Datum 2</p></td></tr></tbody></table>"
    )
    unknown = ctx()
    assert (
        fixture_html("message_with_unknown_rich_text_block", unknown)
        == "<p>Hello there, I am a basic rich text block!</p>"
    )
    assert unknown.unsupported == {"rich_text element unknown_block": 1}


def test_zulip_fixture_inline_code_and_link_preview_card() -> None:
    html = fixture_html("message_with_inline_code")
    assert html.startswith(
        "<p>Hello there, I am an <code>inline code</code><br><b>Hello there, I am an </b><b><code>inline "
        "code</code></b><br>"
    )
    assert html.endswith(
        '<blockquote><p><b><a href="https://chat.zulip.org/">Public view of Zulip Community | Zulip team '
        "chat</a></b></p>"
        "<p>Browse the publicly accessible channels in Zulip Community without logging in.</p></blockquote>"
    )
