"""What each source product, and the whole a draft makes one team of, is called; and what to give the migrator.

Messages that a consultant reads name the product their export came from ("Migrated from the
Discord server …", "give the Mattermost bulk export …"), never Slack for every source.
"""

from __future__ import annotations

from dataclasses import dataclass

# What to give when the format is not known yet (no --source-format, and nothing at the path to detect).
ANY_EXPORT = "the export: the .zip as downloaded, its unpacked folder, or a Mattermost .jsonl or Discord .json file"


@dataclass(frozen=True)
class Product:
    kind: str  # the source format (`migrator.sources.SOURCE_KINDS`)
    name: str  # the product, as its users call it
    workspace: str  # what the product calls the whole that `map` drafts one team for
    export: str  # what to give the migrator, for the message of a path that is not an export

    def described(self, workspace: str) -> str:
        """The description a drafted team gets."""
        return f"Migrated from the {self.name} {self.workspace} {workspace}"


PRODUCTS = {
    "slack": Product("slack", "Slack", "workspace", "the Slack export .zip as downloaded, or its unpacked folder"),
    "mattermost": Product(
        "mattermost",
        "Mattermost",
        "team",
        "the Mattermost bulk export (mmctl export create): its .zip, its unpacked folder or its .jsonl file",
    ),
    "discord": Product(
        "discord", "Discord", "server", "DiscordChatExporter's JSON: one .json file, or a folder or .zip of them"
    ),
    "teams": Product("teams", "Microsoft Teams", "team", "the folder `migrator export` wrote, or a .zip of it"),
}


def product(kind: str) -> Product:
    """The product of a source format; a format this table does not know is named by its kind."""
    return PRODUCTS.get(kind) or Product(kind, kind, "workspace", ANY_EXPORT)
