"""HTML bodies made safe: one allow-list sanitiser (nh3, the bindings to Rust's ammonia) and its two policies.

A body written in HTML is input even when Teams wrote it: people and bots put what they like in it, and a
`<script>`, an `onerror=`, a `javascript:` link or a remote image would run or call out wherever the body is
shown next. ammonia parses a body as a browser does (html5ever, so broken nesting, entities and comments mean
what they mean to a browser) and writes it back from an allow-list: what comes out is well-formed, its text
escaped, and holds only the tags, attributes and URLs a policy lists. Tags outside the list are unwrapped
(their text stays); scripts, styles, frames, forms and media go with their content.

- `TEAMS_IMPORT`: a Teams body imported into another tenant (`transform`): the formatting the import API
  takes, links to http(s) and mail, table spans, images from the web.
- `ARCHIVE`: an exported body shown in the HTML archive (`export --format html`): the same formatting with
  link titles, links opened without referrer, images only from Graph's hosted contents (the archive shows
  the downloaded copy, and a remote image would call out when the archive is opened).

Both keep Teams' own elements, `<at>` (a mention), `<emoji>`, `<attachment>` (a file or card) and `<img>`,
with only the attributes read by the step after sanitising, which re-points them: at the target tenant in
`stages/transform/teams_html.py`, at the archive's files in `reports/archive_body.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import nh3

from migrator.sources.common import LONE_SURROGATE

# Graph's address of an inline image of a message: `…/hostedContents/{id}/$value`.
HOSTED_CONTENT = re.compile(r"""/hostedContents/([^/\s"'<>]+)/\$value""")

FORMATTING = frozenset(
    {"p", "div", "br", "hr", "span", "b", "strong", "i", "em", "u", "s", "strike", "del", "sub", "sup", "code", "pre"}
    | {"blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "td", "th", "a", "img"}
    | {"h1", "h2", "h3", "h4", "h5", "h6"}
)
TEAMS_ELEMENTS = frozenset({"at", "emoji", "attachment"})
# Removed with their content: code, styling, embedded documents and controls have no text worth keeping.
DROPPED = frozenset(
    {"script", "style", "noscript", "template", "iframe", "object", "embed", "frame", "frameset", "title", "svg"}
    | {"math", "video", "audio", "source", "form", "input", "button", "textarea", "select", "link", "meta", "base"}
)
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
SPANS = frozenset({"colspan", "rowspan"})
VOID = frozenset({"br", "hr", "img"})  # the kept tags that have no end tag

SETTLING_PASSES = 3  # after the first: one more settles nearly every input, two the rest found by fuzzing
ImageSources = Callable[[str], bool]  # given an <img src>, whether it may stay


@dataclass(frozen=True)
class Policy:
    """What one kind of body keeps: tags, each tag's attributes, and which image sources."""

    name: str
    attributes: Mapping[str, frozenset[str]]
    image_sources: ImageSources
    link_rel: str | None = None  # set on every kept link
    tags: frozenset[str] = FORMATTING | TEAMS_ELEMENTS
    dropped: frozenset[str] = DROPPED
    _cleaner: nh3.Cleaner = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cleaner = nh3.Cleaner(
            tags=self.tags,
            clean_content_tags=self.dropped,
            attributes={"*": frozenset(), **self.attributes},  # none on every tag (ammonia would allow lang, title)
            attribute_filter=self._filter,
            url_schemes=LINK_SCHEMES,
            url_relative="deny",  # a relative link or image would point into whatever shows the body
            link_rel=self.link_rel,
            strip_comments=True,
        )
        object.__setattr__(self, "_cleaner", cleaner)  # built once: a policy is applied to every body

    def clean(self, html: str) -> str:
        """The body with only what this policy keeps, well-formed and escaped; cleaning it again changes nothing.

        Taking a tag out can leave neighbours that a parser nests differently when it reads the result (a
        heading in a heading once the unknown tag between them is gone, a table's caption text unwrapped
        into the table), so the result is cleaned again until it no longer changes: what a browser builds
        from it is then what was checked.
        """
        try:
            clean = self._pass(html)
        except UnicodeEncodeError:  # half a UTF-16 pair, which ammonia (Rust) cannot take: U+FFFD, as a reader makes it
            clean = self._pass(LONE_SURROGATE.sub("\ufffd", html))
        for _ in range(SETTLING_PASSES):
            again = self._pass(clean)
            if again == clean:
                break
            clean = again
        return clean

    def _pass(self, html: str) -> str:
        """One pass of ammonia.

        A parser drops the newline that directly follows `<pre>`, and ammonia does not write one back for a
        `<pre>` whose text starts with a newline, so each pass would lose a line; it is written back here.
        Attribute values come out with `<` escaped, so `<pre>` in the output can only be the tag.
        """
        clean = self._cleaner.clean(html)
        return clean.replace("<pre>\n", "<pre>\n\n") if "<pre>\n" in clean else clean

    def _filter(self, tag: str, attribute: str, value: str) -> str | None:
        """Values the lists alone cannot judge: image sources, and table spans (a number or nothing)."""
        if tag == "img" and attribute == "src":
            return value if self.image_sources(value) else None
        if attribute in SPANS:
            return value if value.isdigit() else None
        return value


def _from_the_web(src: str) -> bool:
    """http(s), hosted content or not: a Teams image that is not the message's own becomes a link to it."""
    return src.lstrip().lower().startswith(("http://", "https://"))


def _hosted_content(src: str) -> bool:
    """Only Graph's hosted contents: the archive shows the copy the export downloaded, nothing remote."""
    return _from_the_web(src) and HOSTED_CONTENT.search(src) is not None


TEAMS_IMPORT = Policy(
    "Teams body for import",
    attributes={
        "a": frozenset({"href"}),
        "img": frozenset({"src", "alt"}),
        "td": SPANS,
        "th": SPANS,
        "at": frozenset({"id"}),
        "emoji": frozenset({"alt"}),
        "attachment": frozenset({"id"}),
    },
    image_sources=_from_the_web,
)
ARCHIVE = Policy(
    "exported body for the HTML archive",
    attributes={
        "a": frozenset({"href", "title"}),
        "img": frozenset({"src", "alt"}),
        "td": SPANS,
        "th": SPANS,
        "emoji": frozenset({"alt"}),
    },
    image_sources=_hosted_content,
    link_rel="noopener noreferrer",  # a link followed from the archive tells the site nothing
)
