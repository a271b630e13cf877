"""The page of a conversation transform kept aside (`archive/{conversation}.html`): it reads like the
conversation did, threads under their first message, from the lines of its `archive/{conversation}.jsonl`."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from migrator.reports.html import render


def render_archive_page(name: str, kind: str, reason: str, lines: list[dict[str, Any]]) -> str:
    return render(
        "transform_archive.html.j2", name=name, kind=kind, reason=reason, count=len(lines), threads=_threads(lines)
    )


def _threads(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Roots in time order with their replies under them (`messages`: the root, then the replies);
    replies whose root is absent form their own group."""
    threads: dict[str, dict[str, Any]] = {}
    first_root: dict[str, str] = {}  # ts -> key of the first root with it (Slack ts are not always unique)
    for line in lines:
        shown = {**line, "html": Markup(line["html"])}  # built by markup.render: escaped, our tags only
        if line["reply"]:
            thread_id = first_root.get(line["thread_ts"], f"missing:{line['thread_ts']}")
            threads.setdefault(thread_id, {"root": None, "replies": []})["replies"].append(shown)
        else:
            first_root.setdefault(line["ts"], line["key"])
            threads.setdefault(line["key"], {"root": None, "replies": []})["root"] = shown
    for thread in threads.values():
        thread["replies"].sort(key=lambda reply: reply["time"])
        thread["messages"] = ([thread["root"]] if thread["root"] else []) + thread["replies"]
    return sorted(threads.values(), key=lambda t: (t["root"] or t["replies"][0])["time"])
