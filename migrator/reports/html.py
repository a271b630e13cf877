"""Rendering helpers shared by every report: templates, tables and charts."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from migrator.words import counted

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
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(column))}</td>" for column in columns) + "</tr>" for row in rows
    )
    return Markup(
        f'<table class="{classes}" id="{escape(table_id)}">\n<thead><tr>{head}</tr></thead>\n'
        f"<tbody>\n{body}\n</tbody>\n</table>"
    )


def _cell(value: Any) -> Markup | str:
    return "" if value is None else escape(value)


def bar_chart(
    labels: Sequence[str], values: Sequence[int], *, title: str, ylabel: str, horizontal: bool = False
) -> Markup:
    """An inline SVG bar chart (matplotlib without pyplot, so no GUI backend or global state).

    matplotlib is imported here, not at the top: only analyse draws charts, and
    importing it costs every other stage a third of a second of CPU.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_SVG_STYLE):
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
    svg = buffer.getvalue()
    return Markup(svg[svg.index("<svg") :])  # drop the XML prolog and the DTD reference
