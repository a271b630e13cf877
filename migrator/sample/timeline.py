"""When, by whom and in which thread each message of one synthetic conversation is posted.

A conversation is produced day by day so that only one day and the replies
still to come of open threads are ever in memory, which is what lets the
generator write millions of messages with flat memory. The counts are exact:
a conversation asked for N records yields exactly N (joins, roots and
replies), because a root decides its whole thread (how many replies, when,
by whom) when it is posted, drawing from the replies still to hand out.

Realism that matters to the import: working-hour peaks and quiet weekends,
threads that run over several days, and messages that share a millisecond
with another one (in the same thread or elsewhere in the conversation).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

US_PER_DAY = 86_400_000_000
_US_PER_S = 1_000_000
ROOTS_PER_DAY = 12  # average on a working day; a long history spreads over more days
MAX_DAYS = 3650
MEAN_THREAD = 4.0  # replies per thread, on average
SAME_MS_SHARE = 0.004  # messages placed in the millisecond of the one before them


@dataclass(slots=True)
class Post:
    """One record to write. `thread_us` is the root's time for replies and for roots with replies."""

    us: int
    user: str
    kind: str  # "join" | "root" | "reply"
    thread_us: int | None = None
    parent_user: str | None = None
    replies: list[tuple[int, str]] = field(default_factory=list)  # (us, user) of a root's replies


@dataclass(frozen=True)
class Shape:
    """How many records a conversation gets and of what kind."""

    records: int
    joins: int
    replies: int

    @property
    def roots(self) -> int:
        return self.records - self.joins - self.replies

    @classmethod
    def of(cls, records: int, members: int, reply_share: float, join_members: bool) -> Shape:
        joins = min(members, records // 10) if join_members else 0
        rest = records - joins
        replies = min(round(rest * reply_share), max(rest - 1, 0))  # at least one root to hang them on
        return cls(records, joins, replies)


def days_for(roots: int) -> int:
    return max(1, min(MAX_DAYS, math.ceil(roots / ROOTS_PER_DAY)))


def _day_weight(rng: random.Random, day: int, weekday_of_first: int) -> float:
    weekend = (weekday_of_first + day) % 7 >= 5
    return (0.15 if weekend else 1.0) * rng.uniform(0.4, 1.6)


def _time_of_day(rng: random.Random) -> int:
    """Microseconds into the day: mostly office hours (UTC), some early or late."""
    hour = rng.gauss(13.5, 2.5) if rng.random() < 0.9 else rng.uniform(0, 24)
    return min(max(int(hour * 3600 * _US_PER_S), 0), US_PER_DAY - 1) + rng.randrange(_US_PER_S)


class Timeline:
    """The posts of one conversation, grouped by UTC day, in time order within each day."""

    def __init__(
        self,
        seed: str,
        shape: Shape,
        members: Sequence[str],
        first_day_us: int,
        weekday: int,
        bot: str | None = None,
        bot_share: float = 0.0,
    ):
        self.seed = seed
        self.shape = shape
        self.members = list(members)
        self.first_day_us = first_day_us
        self.weekday = weekday
        self.bot, self.bot_share = bot, bot_share
        self.days = days_for(shape.roots)
        self._rng = random.Random(seed)
        self._pending: list[tuple[int, int, str, int, str]] = []  # (us, seq, user, root us, root user)
        self._used: set[int] = set()
        self._sequence = 0

    def __iter__(self) -> Iterator[tuple[int, list[Post]]]:
        """(start of the day in µs, posts of that day) for every day that has posts."""
        weights = self._weights()
        weight_left = sum(weights)
        roots_left, replies_left = self.shape.roots, self.shape.replies
        day = 0
        while day < self.days or self._pending:
            start = self.first_day_us + day * US_PER_DAY
            self._forget_before(start)
            posts = self._joins(start) if day == 0 else []
            if day < self.days:
                share = roots_left if day == self.days - 1 else round(roots_left * weights[day] / weight_left)
                weight_left -= weights[day]
                for us in self._root_times(start, share):
                    roots_left -= 1
                    post, taken = self._root(us, roots_left, replies_left)
                    replies_left -= taken
                    posts.append(post)
            posts.extend(self._due(start + US_PER_DAY))
            if posts:
                posts.sort(key=lambda p: p.us)
                yield start, posts
            day += 1

    def _weights(self) -> list[float]:
        """Per-day activity, drawn from its own stream so the day split does not shift other draws."""
        rng = random.Random(self.seed + ":days")
        return [_day_weight(rng, day, self.weekday) for day in range(self.days)]

    def _forget_before(self, start: int) -> None:
        if self._used and min(self._used) < start:
            self._used = {us for us in self._used if us >= start}

    def _take(self, us: int) -> int:
        """A time no other record of the conversation has (Slack ts identify messages)."""
        while us in self._used:
            us += 1
        self._used.add(us)
        return us

    def _joins(self, start: int) -> list[Post]:
        first = start + 8 * 3600 * _US_PER_S
        return [
            Post(self._take(first + i * 7 * _US_PER_S + self._rng.randrange(_US_PER_S)), user, "join")
            for i, user in enumerate(self.members[: self.shape.joins])
        ]

    def _root_times(self, start: int, count: int) -> list[int]:
        times = sorted(start + _time_of_day(self._rng) for _ in range(count))
        for i in range(1, len(times)):
            if self._rng.random() < SAME_MS_SHARE:
                times[i] = times[i - 1] - times[i - 1] % 1000 + self._rng.randrange(1000)
        return [self._take(us) for us in times]

    def _author(self) -> str:
        if self.bot and self._rng.random() < self.bot_share:
            return self.bot
        # A few people write most messages, as in every real workspace.
        return self.members[min(int(self._rng.paretovariate(1.2)) - 1, len(self.members) - 1)]

    def _root(self, us: int, roots_left: int, replies_left: int) -> tuple[Post, int]:
        post = Post(us, self._author(), "root")
        size = self._thread_size(roots_left, replies_left)
        at = us
        for index in range(size):
            if index == 0 and us % 1000 < 999 and self._rng.random() < SAME_MS_SHARE * 10:
                at = us + self._rng.randint(1, 999 - us % 1000)  # a reply in its root's millisecond
            else:
                at += int(self._rng.expovariate(1 / 600) * _US_PER_S) + self._rng.randrange(1, _US_PER_S)
                if self._rng.random() < 0.03:
                    at += self._rng.randrange(1, 3) * US_PER_DAY  # picked up again a day or two later
            at = self._take(at)
            reply_user = self.members[self._rng.randrange(len(self.members))]
            post.replies.append((at, reply_user))
            self._sequence += 1
            heapq.heappush(self._pending, (at, self._sequence, reply_user, us, post.user))
        if size:
            post.thread_us = us
        return post, size

    def _thread_size(self, roots_left: int, replies_left: int) -> int:
        """Replies for this root, keeping the expected total on target; the last root takes the rest."""
        if replies_left <= 0:
            return 0
        if roots_left == 0:
            return replies_left
        if self._rng.random() >= min(1.0, replies_left / (roots_left * MEAN_THREAD)):
            return 0
        return min(replies_left, 1 + int(self._rng.expovariate(1 / (MEAN_THREAD - 1))))

    def _due(self, before: int) -> list[Post]:
        due = []
        while self._pending and self._pending[0][0] < before:
            us, _, user, root_us, root_user = heapq.heappop(self._pending)
            due.append(Post(us, user, "reply", thread_us=root_us, parent_user=root_user))
        return due
