"""Rendering helpers shared by every report: templates, tables and charts."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from migrator.words import counted, noun

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType  # for the checker only: matplotlib is imported where charts are drawn

_ENV = Environment(
    loader=PackageLoader("migrator.reports", "templates"),
    autoescape=True,
    undefined=StrictUndefined,  # a missing number must fail loudly, not render as blank
    trim_blocks=True,
    lstrip_blocks=True,
)


def duration(seconds: float) -> str:
    """A length of time as a person reads it: "23 s", "12 min", "3 h 05 min", "2 d 4 h"."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


_ENV.filters["num"] = lambda value: f"{value:,}" if isinstance(value, int) else value
_ENV.filters["duration"] = duration
_ENV.filters["counted"] = counted  # {{ n|counted("person") }}: "1 person", "2 people"
_ENV.filters["noun"] = noun  # {{ n|noun("person") }}: "person", "people" (the number shown on its own)

# Text stays text (smaller, selectable); a fixed salt keeps the output byte-identical between runs.
_SVG_STYLE: dict[RcKeyType, Any] = {"svg.fonttype": "none", "svg.hashsalt": "teams-migrator", "font.size": 9}


def render(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)


def table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], table_id: str, *, sortable: bool = False
) -> Markup:
    """An HTML table of `columns` from each row (a missing or None value is an empty cell).

    Every header and cell is escaped, so source names cannot inject markup. Written
    here rather than through a DataFrame: importing pandas cost every stage 0.4 s of CPU
    for what is only ever a list of rows shown as a table.
    """
    classes = "data sortable" if sortable else "data"
    head = "".join(f"<th>{_breakable(column)}</th>" for column in columns)
    body = "\n".join("<tr>" + "".join(_cell(row.get(column)) for column in columns) + "</tr>" for row in rows)
    return Markup(  # the wrapper scrolls a table wider than its card inside the card, never past its edge
        f'<div class="table-scroll"><table class="{classes}" id="{escape(table_id)}">\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table></div>"
    )


def _breakable(column: str) -> Markup:
    """A header such as `chat_files_in_migration_onedrive` may wrap after each underscore, so it does not widen its
    column past its values."""
    return Markup("_<wbr>").join(escape(column).split("_"))


LONG_TEXT = 60  # characters: a cell longer than this (failure reasons, paths) keeps a readable width and wraps


def _cell(value: Any) -> str:
    text = "" if value is None else escape(value)
    return f'<td class="text">{text}</td>' if len(text) > LONG_TEXT else f"<td>{text}</td>"


def bar_chart(
    labels: Sequence[str], values: Sequence[int], *, title: str, ylabel: str, horizontal: bool = False
) -> Markup:
    """An inline SVG bar chart (matplotlib without pyplot, so no GUI backend or global state).

    matplotlib is imported here, not at the top: only analyse draws charts, and
    importing it costs every other stage a third of a second of CPU.
    """
    from matplotlib.figure import Figure

    with _drawing():
        height = max(2.6, 0.28 * len(labels) + 1) if horizontal else 3.2
        figure = Figure(figsize=(8, height), layout="constrained")
        axes = figure.add_subplot()
        if horizontal:
            axes.barh(list(labels), list(values), color="#4f6bed")
            axes.invert_yaxis()
            axes.set_xlabel(ylabel)
        else:
            axes.bar(list(labels), list(values), color="#4f6bed")
            axes.set_ylabel(ylabel)
            axes.tick_params(axis="x", labelrotation=45 if len(labels) > 8 else 0)
        axes.set_title(title)
        axes.spines[["top", "right"]].set_visible(False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _inline(buffer)


@dataclass(frozen=True)
class Span:
    """One bar of a timeline: `label` from `start` to `end` seconds; `marked` draws it apart, with `note`."""

    label: str
    start: float
    end: float
    marked: bool = False
    note: str = ""


def timeline_chart(spans: Sequence[Span], *, limit: float, limit_label: str, title: str) -> Markup:
    """An inline SVG timeline (seconds on x): one bar per span, top to bottom in the order given, and a vertical
    line at `limit` (the physical limit a run is compared with)."""
    from matplotlib.figure import Figure

    with _drawing():
        figure = Figure(figsize=(8, max(2.2, 0.3 * len(spans) + 1.2)), layout="constrained")
        axes = figure.add_subplot()
        labels = [f"{span.label} ({span.note})" if span.note else span.label for span in spans]
        colours = ["#b35c00" if span.marked else "#4f6bed" for span in spans]
        widths = [max(span.end - span.start, 0.05) for span in spans]  # a bar of nothing still shows where it was
        axes.barh(labels, widths, left=[span.start for span in spans], color=colours, height=0.6)
        axes.invert_yaxis()
        axes.axvline(limit, color="#b3261e", linestyle="--", linewidth=1.2, label=limit_label)
        figure.legend(loc="outside lower center", frameon=False)
        axes.set_xlabel("seconds since the load started")
        axes.set_xlim(left=0)
        axes.set_title(title)
        axes.spines[["top", "right"]].set_visible(False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _inline(buffer)


@contextmanager
def _drawing() -> Iterator[None]:
    """matplotlib with the reports' style. Text stays text in the SVG and the browser draws it with its own fonts,
    so matplotlib's "Glyph … missing from font(s) DejaVu Sans" (a CJK or emoji name, measured for layout only) is no
    warning for the user."""
    from matplotlib import rc_context

    with rc_context(_SVG_STYLE), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        yield


def _inline(buffer: io.StringIO) -> Markup:
    svg = buffer.getvalue()
    return Markup(svg[svg.index("<svg") :])  # drop the XML prolog and the DTD reference
