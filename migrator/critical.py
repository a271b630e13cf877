"""The critical path of a load: the chain of conversations that decides how long it takes, at best.

Each conversation imports at 5 requests/s on its own (limits.CHANNEL_RPS), so
with enough of them in parallel a load lasts as long as its longest chain of
conversations that must follow one another:

- a team: its largest standard channel, then its largest private channel (a
  private channel waits for its team's members, who wait for the team's
  completion, which waits for every standard channel);
- a chat: on its own.

This is the physical limit the benchmarks compare wall time with, the order
the scheduler starts conversations in (the longest path through a
conversation first, so the last to finish is the one that had to), and the
estimate `load --dry-run` prints. Provisioning is not in it: the scheduler's
job is to hide it behind posting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from migrator.limits import CHANNEL_RPS
from migrator.plan import CHAT_TYPES, PlannedConversation, PlannedTeam


def planned_requests(conv: PlannedConversation) -> int:
    """Import requests a conversation takes from scratch: its messages and files (a chat's files also shared with
    the chat, one grant each), the files folder read when it has files, and its completeMigration."""
    grants = len(conv.uploads) if conv.membership in CHAT_TYPES else 0
    return conv.messages + len(conv.uploads) + grants + (1 if conv.uploads else 0) + 1


@dataclass(frozen=True)
class Chain:
    """One team's or chat's conversations that follow one another, each with its seconds at the per-conversation
    rate; `first` runs before `then` (a team's private channel), either may be absent."""

    name: str  # the team's display name, or the chat's
    first: tuple[str, float] | None  # (conversation key, seconds): the largest standard channel, or the chat
    then: tuple[str, float] | None  # the largest private channel

    @property
    def seconds(self) -> float:
        return sum(link[1] for link in (self.first, self.then) if link is not None)


@dataclass(frozen=True)
class CriticalPath:
    chains: tuple[Chain, ...]
    remaining: dict[str, float]  # conversation key → seconds of the longest chain through it, from its start
    follow: list[tuple[list[str], list[str]]]  # per chain, the keys that may run first, and those that follow them

    @property
    def seconds(self) -> float:
        """The physical limit: the longest chain."""
        return max((chain.seconds for chain in self.chains), default=0.0)

    @property
    def longest(self) -> Chain | None:
        return max(self.chains, key=lambda chain: chain.seconds, default=None)

    def priority(self, key: str) -> float:
        """What a conversation's start decides: the longer, the sooner it should start."""
        return self.remaining.get(key, 0.0)


def chain_requests(standard: Iterable[int], private: Iterable[int]) -> int:
    """A team's chain in requests: its largest standard channel, then its largest private channel (a chat: its own
    requests as `standard`, no `private`). `analyse` estimates with this from the export, before any plan exists."""
    return max(standard, default=0) + max(private, default=0)


def critical_path(
    teams: list[PlannedTeam],
    chats: list[PlannedConversation],
    requests: Callable[[PlannedConversation], int] = planned_requests,
    rps: float = CHANNEL_RPS,
    open_private: frozenset[str] = frozenset(),
) -> CriticalPath:
    """The chains of `teams` and `chats` with each conversation's `requests` (planned ones by default, or what is
    left of them after an earlier run) sent at `rps`; the private channels in `open_private` (an earlier pass
    created them and their team: stages/load/delta.py) run alongside the standard ones instead of after them."""
    chains: list[Chain] = []
    remaining: dict[str, float] = {}
    follow: list[tuple[list[str], list[str]]] = []
    for team in teams:
        links = [(c.key, requests(c) / rps, c.membership != "private" or c.key in open_private) for c in team.channels]
        standard = [(key, seconds) for key, seconds, first in links if first]
        private = [(key, seconds) for key, seconds, first in links if not first]
        then = max(private, key=lambda link: link[1], default=None)
        chains.append(Chain(team.display_name, max(standard, key=lambda link: link[1], default=None), then))
        for key, seconds in standard:
            remaining[key] = seconds + (then[1] if then else 0.0)
        remaining.update(private)
        follow.append(([key for key, _ in standard], [key for key, _ in private]))
    for chat in chats:
        link = (chat.key, requests(chat) / rps)
        chains.append(Chain(chat.display_name or chat.key, link, None))
        remaining[chat.key] = link[1]
        follow.append(([chat.key], []))
    return CriticalPath(tuple(chains), remaining, follow)
