"""What each source product, and the whole a draft makes one team of, is called; and what to give the migrator.

Messages that a consultant reads name the product their export came from ("Migrated from the
Discord server …", "give the Mattermost bulk export …"), never Slack for every source. Exports of
other tools that the migrator does not read but recognises (`Foreign`) get advice for that tool.
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


@dataclass(frozen=True)
class Foreign:
    """An export written by a tool the migrator does not read: what it is, and how to turn it into one it reads."""

    name: str
    instead_of: str  # the export it is not
    advice: str  # `{location}` stands for the input's path

    def refusal(self, location: str, evidence: str) -> str:
        """The message for an input recognised as this (`evidence`: the member that shows it)."""
        advice = self.advice.format(location=location)
        return f"{location}: this is {self.name}, not {self.instead_of} ({evidence} shows it); {advice}"


SLACKDUMP_ARCHIVE = Foreign(
    "a slackdump archive (`slackdump archive`: gzip files of chunks, or slackdump.sqlite)",
    "a Slack export",
    "turn it into one with `slackdump convert -f export -o slack_export.zip {location}` and give that .zip",
)
SLACKDUMP_DUMP = Foreign(
    "a slackdump 'dump' archive (one JSON object per conversation)",
    "a Slack export",
    "produce a Slack-export zip with `slackdump export` (or `slackdump convert -f export`, or Slack's own export) "
    "and give that",
)
OTHER_TEAMS_EXPORT = Foreign(
    "a Microsoft Teams export written by another tool (Graph's messages with PascalCase fields)",
    "the folder `migrator export` writes, which is the Teams export the migrator reads",
    "export the team with `migrator export team TEAM_ID --out DIR` (it reads the source tenant through Graph) "
    "and give that folder",
)
