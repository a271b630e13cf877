"""Where an export of several workspaces lands (Slack Enterprise Grid): one team per workspace.

A workspace's own conversations are drafted into its team exactly as a single workspace's are (split over several
teams when over a capacity limit, see `split`). The organisation's own channels (org-wide and multi-workspace ones)
belong to no workspace: each is drafted into the team of the workspace that posted most in it (each message names
the workspace it was posted in, `model.POSTED_IN`; a tie goes to the workspace listed first), and the draft says why
beside it, so a consultant moves one by editing its `team:`. DMs and group DMs are chats, as in any export.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from migrator.model import IN_WORKSPACES, POSTED_IN, Conversation, Message, Source, User, Workspace
from migrator.words import counted

Posts = Callable[[Conversation], Counter[str]]  # a conversation's messages per workspace id they were posted in


def posted_in(message: Message) -> str | None:
    """The id of the workspace a message was posted in, when its export says."""
    value = message.extra.get(POSTED_IN)
    return str(value) if value else None


def posts_by_workspace(messages: Iterable[Message]) -> Counter[str]:
    """How many of these messages were posted in each workspace (by id); messages naming none are not counted."""
    return Counter(w for m in messages if (w := posted_in(m)))


def posts_in(source: Source) -> Posts:
    """A conversation's posts per workspace, read from the export when asked (only org-level channels are)."""
    return lambda conversation: posts_by_workspace(source.messages(conversation))


def home(posts: Counter[str], workspaces: list[Workspace]) -> tuple[Workspace, str]:
    """The workspace an org-level channel is drafted into, and why (for the draft's comment)."""
    known = {w.id: posts[w.id] for w in workspaces if posts[w.id]}
    if not known:
        return workspaces[0], f"org-level channel with no post naming a workspace: drafted into {workspaces[0].name}"
    best = max(workspaces, key=lambda w: known.get(w.id, 0))  # max keeps the first of equals: the order listed
    total = sum(known.values())
    if len(known) == 1:
        return best, f"org-level channel: {counted(total, 'post')}, all made in {best.name}"
    return best, (
        f"org-level channel shared by {len(known)} workspaces: drafted into {best.name}, "
        f"where {known[best.id]:,} of its {counted(total, 'post')} were made"
    )


def belongs_to(posts: Counter[str], workspaces: list[Workspace]) -> str:
    """Which workspace an org-level channel belongs to, for the inventory: the one its posts were made in, or
    "shared by N workspaces"; "" when no post names a workspace of the export."""
    names = [w.name for w in workspaces if posts[w.id]]
    return names[0] if len(names) == 1 else f"shared by {len(names)} workspaces" if names else ""


def workspace_label(conv: Conversation, posts: Counter[str], workspaces: list[Workspace]) -> str:
    """Where a conversation of an export of several workspaces belongs, for the inventory (`ChannelEntry.workspace`):
    the workspace listing it, or for an org-level one "organisation" and the workspace its posts were made in."""
    if not workspaces:
        return ""
    names = {w.id: w.name for w in workspaces}
    if conv.workspace:
        return names.get(conv.workspace, conv.workspace)
    where = belongs_to(posts, workspaces)
    return f"organisation: {where}" if where else "organisation"


def listed_by(space: Workspace, users: Iterable[User]) -> list[str]:
    """The ids of the people a workspace's users list names."""
    return [u.id for u in users if space.id in u.extra.get(IN_WORKSPACES, ())]
