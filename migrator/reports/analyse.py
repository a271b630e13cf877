"""The analyse report: `inventory.json`, and `report.html`, the inventory laid out for a customer, every number
taken from inventory.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migrator.inventory import ChannelEntry, Inventory
from migrator.reports.html import bar_chart, render, table
from migrator.sources.products import product

INVENTORY_FILE = "inventory.json"
REPORT_FILE = "report.html"

# What each conversion means for the customer (docs/graph-contract.md#import-scope).
CONVERSIONS = {
    "mentions": ("@mentions", "the person's name in bold; Teams import cannot create real mentions"),
    "special_mentions": ("@here / @channel", "bold text; nobody is notified again"),
    "reactions": ("reactions", "one summary line under the message naming who reacted (e.g. 👍 Ada, Grace)"),
    "emoji": (":emoji: codes", "Unicode emoji; custom emoji stay as :name:"),
    "code_blocks": ("code blocks", "preformatted text (<pre>)"),
    "inline_code": ("inline code", "monospace text"),
    "quotes": ("quotes", "an indented block"),
    "links": ("links", "ordinary links"),
    "edits": ("edited messages", "the last version, marked “(edited)”"),
    "bot_attachments": ("bot attachments", "a readable card in the message body"),
    "system_messages": (
        "system messages (joins, topic…)",
        "small grey notes, or skipped by a mapping option; counted either way",
    ),
    "thread_broadcasts": ("replies also sent to the channel", "kept as replies in their thread"),
    "deleted_placeholders": (
        "deleted messages kept for their replies",
        "a “message deleted” root so the replies keep their thread",
    ),
    "canvases": ("canvases", "not importable: listed here, content stays in the source or is exported separately"),
    "pins": ("pinned messages", "not importable: the pin is lost, the message is migrated"),
}
CONVERSATION_COLUMNS = [
    "id",
    "conversation",
    "kind",
    "destination",
    "messages",
    "threads",
    "replies",
    "files",
    "first",
    "last",
]
# What each issue counts: its noun (the report says "1 message", "2 messages") and what follows it.
ISSUES = {
    "ms_collisions": (
        "message",
        "in the same millisecond as another message of the same thread; Teams keeps milliseconds and refuses "
        "duplicates, so transform moves each 1 ms apart (counted in its report)",
    ),
    "ms_collisions_channel": (
        "message",
        "in the same millisecond as another message anywhere in the same conversation (the stricter rule of "
        "Microsoft's newer import article)",
    ),
    "replies_before_root": (
        "reply",
        "stamped before the first message of the thread; Teams refuses such replies, so transform moves each just "
        "after it",
    ),
    "oversize_messages": (
        "message",
        "estimated above the import body limit; transform splits each into numbered parts, never truncates (an upper "
        "estimate from the text until transform has converted them)",
    ),
    "missing_files": (
        "file",
        "whose bytes are not in the export; each becomes a placeholder with its name and original link",
    ),
    "duplicate_ts": ("record", "sharing a timestamp with another (both are kept)"),
    "orphan_replies": ("reply", "whose thread root is not in the export"),
}


def write(inventory: Inventory, out_dir: Path) -> tuple[Path, Path]:
    """inventory.json and report.html in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / INVENTORY_FILE, out_dir / REPORT_FILE
    json_path.write_text(json.dumps(inventory, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    html_path.write_text(render_report(inventory), encoding="utf-8")
    return json_path, html_path


WORKSPACE_COLUMNS = ["name", "level", "conversations", "messages", "people"]


def _conversation_columns(inventory: Inventory) -> list[str]:
    """The conversations table's columns; with the workspace of each in an export of several."""
    if not inventory["workspaces"]:
        return CONVERSATION_COLUMNS
    at = CONVERSATION_COLUMNS.index("conversation") + 1
    return [*CONVERSATION_COLUMNS[:at], "workspace", *CONVERSATION_COLUMNS[at:]]


def _conversations(channels: list[ChannelEntry]) -> list[dict[str, Any]]:
    return [
        {**c, "conversation": c["label"], "first": (c["first"] or "")[:10], "last": (c["last"] or "")[:10]}
        for c in channels
    ]


def _out_of_scope(inventory: Inventory) -> list[dict[str, Any]]:
    """Every conversation that is not public or not imported into a standard channel, and where it goes."""
    return [
        {
            "conversation": c["label"],
            "kind": c["kind"],
            "goes to": c["goes_to"],
            "where": c["destination"],
            "members": c["members"],
            "messages": c["messages"],
        }
        for c in inventory["channels"]
        if c["kind"] != "public" or c["goes_to"] != "channel"
    ]


def render_report(inventory: Inventory) -> str:
    """The whole HTML page; inline CSS, JS and SVG only, so it opens offline."""
    months = inventory["messages_per_month"]
    kinds: dict[str, int] = {}
    for channel in inventory["channels"]:
        kinds[channel["kind"]] = kinds.get(channel["kind"], 0) + channel["messages"]
    conversions = [
        {"key": key, "what": CONVERSIONS[key][0], "messages": count, "becomes in Teams": CONVERSIONS[key][1]}
        for key, count in inventory["conversions"].items()
    ]
    return render(
        "analyse.html.j2",
        inv=inventory,
        product=product(inventory["source"]["kind"]).name,
        conversations=table(
            _conversations(inventory["channels"]), _conversation_columns(inventory), "conversations", sortable=True
        ),
        workspaces=table(inventory["workspaces"], WORKSPACE_COLUMNS, "workspaces") if inventory["workspaces"] else None,
        month_chart=bar_chart(list(months), list(months.values()), title="Messages per month", ylabel="messages")
        if months
        else None,
        kind_chart=bar_chart(
            list(kinds),
            list(kinds.values()),
            title="Messages per kind of conversation",
            ylabel="messages",
            horizontal=True,
        )
        if kinds
        else None,
        conversions=table(conversions, ["key", "what", "messages", "becomes in Teams"], "conversions"),
        out_of_scope=table(
            _out_of_scope(inventory),
            ["conversation", "kind", "goes to", "where", "members", "messages"],
            "out-of-scope",
        ),
        issues=ISSUES,
        quarantined=table(inventory["quarantined"], ["file", "item", "error"], "quarantined"),
        repaired=table(inventory["repaired"], ["file", "strings"], "repaired"),
        ignored=table(inventory["ignored"], ["path", "entries", "reason"], "ignored"),
        subtypes=table(
            [{"subtype": k, "messages": v} for k, v in inventory["subtypes"].items()],
            ["subtype", "messages"],
            "subtypes",
        ),
        unknown=table(
            [{"field": k, "messages": v} for k, v in inventory["unknown_fields"].items()],
            ["field", "messages"],
            "unknown-fields",
        ),
    )
