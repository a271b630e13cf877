"""`reset`: delete a migrated team or channel in Teams and forget it in the journal, so the next load redoes it.

Finding what to reset and doing it are two steps, so that the shell can ask
for confirmation in between. A chat cannot be reset: Graph cannot delete one,
nor the messages imported into it. What can go are the files load put in
OneDrive for it (docs/graph-contract.md#chat-files): `reset --chat` deletes
them, and the next load uploads them again. Nothing of a team, channel or chat people already use (`action: existing`)
is reset: Graph can delete neither it nor the messages imported into it.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrator.graph import GraphClient, NotFoundError
from migrator.journal import REMOVED, DriveFileEntry, JournalStore
from migrator.mapping import MAX_CHANNEL_NAME
from migrator.plan import Manifest, PlannedConversation, PlannedTeam
from migrator.stages.load import select_teams
from migrator.stages.load.errors import SelectionError
from migrator.timestamps import format_ms, now_ms

CHAT_RESET_REFUSED = (
    "chat {name!r} cannot be reset: Microsoft Graph cannot delete a chat, and what was imported into it stays. "
    "A chat can only be reopened with startMigration (its creation time may move only into the past) and topped up "
    "with messages it lacks; it is never redone from scratch. To keep a DM out of Teams, map it to `action: archive` "
    "before it is loaded. `reset --chat` removes only the files load put in OneDrive for it, and this chat has none."
)

EXISTING_RESET_REFUSED = (
    "{kind} {name!r} is one people already use (`action: existing`), so it cannot be reset: Microsoft Graph cannot "
    "delete {what}, nor the messages imported into it, and deleting it would take its people's own messages with it. "
    "What was imported stays. Before importing into an existing channel or chat, do a dry run (transform, then read "
    "the plan and its report) and run `migrator preflight`; to keep a conversation out, map it to `action: archive` "
    "before it is loaded."
)


def _refuse_existing(kind: str, name: str) -> SelectionError:
    what = "the team and its channels" if kind == "team" else f"the {kind}"
    return SelectionError(EXISTING_RESET_REFUSED.format(kind=kind, name=name, what=what))


@dataclass(frozen=True)
class TeamReset:
    team: PlannedTeam
    team_id: str


@dataclass(frozen=True)
class ChannelReset:
    team: PlannedTeam
    channel: PlannedConversation
    team_id: str
    channel_id: str


def team_reset(manifest: Manifest, journal: JournalStore, name: str) -> TeamReset:
    """The team `name` (plan key or display name) and its id in Teams, from the journal."""
    team = select_teams(manifest, name)[0]
    if team.existing:
        raise _refuse_existing("team", team.display_name)
    team_id = journal.team_id(team.key)
    if team_id is None:
        raise SelectionError(f"the journal {journal.where} has no team {team.display_name!r}; nothing to delete")
    return TeamReset(team, team_id)


def channel_reset(manifest: Manifest, journal: JournalStore, name: str) -> ChannelReset:
    """The channel `name` (plan key `team/channel`, or a display name only one channel has) and its ids."""
    team, channel = _find_channel(manifest, name)
    if channel.existing:
        raise _refuse_existing("channel", channel.display_name)
    if channel.general:
        raise SelectionError(
            f"the General channel of {team.display_name!r} cannot be deleted; reset the team instead (--team)"
        )
    team_id, channel_id = journal.team_id(team.key), journal.conversation_id(channel.key)
    if team_id is None or channel_id is None:
        raise SelectionError(f"the journal {journal.where} has no channel {channel.key!r}; nothing to delete")
    return ChannelReset(team, channel, team_id, channel_id)


@dataclass(frozen=True)
class ChatFilesReset:
    chat: PlannedConversation
    files: dict[str, DriveFileEntry]  # upload key -> where load put it, for each file that exists in OneDrive


def chat_files_reset(manifest: Manifest, journal: JournalStore, name: str) -> ChatFilesReset:
    """The chat `name` (plan key or display name) and the OneDrive files the journal records for it; refused with the
    reason when it has none (the chat itself cannot be deleted)."""
    chat = next((c for c in manifest.chats if name in (c.key, c.display_name)), None)
    if chat is None:
        keys = ", ".join(c.key for c in manifest.chats) or "none"
        raise SelectionError(f"--chat {name!r} names no chat of the plan; its chats are: {keys}")
    if chat.existing:
        raise _refuse_existing("chat", chat.display_name or chat.key)
    files = {
        key: entry
        for key, entry in journal.drive_files(chat.key).items()
        if entry.state != REMOVED and entry.drive_id and entry.item_id
    }
    if not files:
        raise SelectionError(CHAT_RESET_REFUSED.format(name=chat.display_name or chat.key))
    return ChatFilesReset(chat, files)


def reset_chat_files(client: GraphClient, journal: JournalStore, reset: ChatFilesReset) -> int:
    """Delete each of the chat's files from its OneDrive (its sharing goes with it) and record it; returns how many
    were already gone."""
    gone = 0
    for key, entry in reset.files.items():
        try:
            client.request("DELETE", f"/drives/{entry.drive_id}/items/{entry.item_id}")
        except NotFoundError:
            gone += 1
        journal.removed_drive_file(reset.chat.key, key)
    return gone


def reset_team(client: GraphClient, journal: JournalStore, reset: TeamReset) -> bool:
    """Delete the team (DELETE /groups/{id}) and forget it; False when it was already deleted in Teams."""
    try:
        client.request("DELETE", f"/groups/{reset.team_id}")
        deleted = True
    except NotFoundError:
        deleted = False
    journal.forget_team(reset.team.key, [c.key for c in reset.team.channels])
    return deleted


def reset_channel(client: GraphClient, journal: JournalStore, reset: ChannelReset) -> bool:
    """Rename, then delete, and forget the channel; False when it was already deleted in Teams.

    Teams keeps a deleted channel's name, and the next load needs that name for the new channel.
    """
    base = f"/teams/{reset.team_id}/channels/{reset.channel_id}"
    suffix = f" (reset {format_ms(now_ms())[:10]})"  # the name the deleted channel keeps, freeing the plan's
    try:
        client.request(
            "PATCH", base, json={"displayName": reset.channel.display_name[: MAX_CHANNEL_NAME - len(suffix)] + suffix}
        )
        client.request("DELETE", base)
        deleted = True
    except NotFoundError:
        deleted = False
    if deleted:  # it counts against the team's channel limits for 30 days (docs/graph-contract.md#capacity-limits)
        journal.note_deleted_channel(reset.team.key, reset.channel.display_name, reset.channel.membership, now_ms())
    journal.forget_conversation(reset.channel.key)
    return deleted


def _find_channel(manifest: Manifest, name: str) -> tuple[PlannedTeam, PlannedConversation]:
    found = [(t, c) for t in manifest.teams for c in t.channels if name in (c.key, c.display_name)]
    if len(found) != 1:
        keys = ", ".join(c.key for _, c in (found or [(t, c) for t in manifest.teams for c in t.channels]))
        raise SelectionError(
            f"--channel {name!r} names {'several' if found else 'no'} channels of the plan; give one of: {keys}"
        )
    return found[0]
