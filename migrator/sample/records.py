"""Turn a timeline's posts into Slack export records, the way Slack writes them.

Joins, roots with their thread summary (`reply_count`, `replies`, …),
replies with `parent_user_id`, bot messages with legacy attachments, edits,
reactions, rich_text blocks and attached files all follow the field names
and shapes of real exports, so that a reader sees nothing synthetic.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from migrator.sample import text
from migrator.sample import vocabulary as vocab
from migrator.sample.files import SampleFile
from migrator.sample.timeline import Post

EDIT_SHARE = 0.04
REACTION_SHARE = 0.12
BROADCAST_SHARE = 0.01  # replies also sent to the channel


def slack_ts(us: int) -> str:
    """Slack's `ts`: seconds and exactly six digits of microseconds, as a string."""
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


@dataclass(frozen=True)
class Bot:
    user_id: str
    bot_id: str
    name: str


class RecordWriter:
    """Records of one conversation; draws from its own random stream so conversations are independent."""

    def __init__(
        self,
        rng: random.Random,
        team_id: str,
        profiles: Mapping[str, dict[str, Any]],
        audience: text.Audience,
        bot: Bot | None,
        join_subtype: str = "channel_join",
        plain: bool = False,
    ):
        self.rng = rng
        self.plain = plain  # plain text by people only: the messages transform's speed target is set for
        self.team_id = team_id
        self.profiles = profiles
        self.audience = audience
        self.bot = bot
        self.join_subtype = join_subtype

    def record(self, post: Post, files: list[SampleFile]) -> dict[str, Any]:
        ts = slack_ts(post.us)
        if post.kind == "join":
            return {
                "type": "message",
                "subtype": self.join_subtype,
                "user": post.user,
                "text": f"<@{post.user}> has joined the channel",
                "ts": ts,
            }
        if self.bot is not None and post.user == self.bot.user_id:
            record = self._bot_message(self.bot, ts)
        else:
            record = self._user_message(post.user, ts)
        if files:
            record["files"] = [_file_entry(f, post, self.team_id) for f in files]
            record["upload"] = False
            record["display_as_bot"] = False
        if post.replies:
            self._thread_summary(record, post)
        elif post.thread_us is not None:  # a reply: only replies and roots with replies (above) have one
            record["thread_ts"] = slack_ts(post.thread_us)
            record["parent_user_id"] = post.parent_user
            if not self.plain and self.rng.random() < BROADCAST_SHARE:
                record["subtype"] = "thread_broadcast"
        if not self.plain:
            self._decorate(record, post)
        return record

    def _user_message(self, user: str, ts: str) -> dict[str, Any]:
        segments: list[text.Segment] = (
            [("text", text.sentence(self.rng))] if self.plain else text.draw(self.rng, self.audience)
        )
        record: dict[str, Any] = {
            "client_msg_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "type": "message",
            "text": text.mrkdwn(segments),
            "user": user,
            "ts": ts,
            "team": self.team_id,
            "user_team": self.team_id,
            "source_team": self.team_id,
        }
        if user in self.profiles:
            record["user_profile"] = self.profiles[user]
        if not self.plain and self.rng.random() < text.BLOCKS_SHARE:
            record["blocks"] = [text.rich_text(segments, _block_id(self.rng))]
        return record

    def _bot_message(self, bot: Bot, ts: str) -> dict[str, Any]:
        n = self.rng.randint(100, 9999)
        summary = self.rng.choice(vocab.BOT_TEXTS).format(n=n)
        return {
            "type": "message",
            "subtype": "bot_message",
            "text": "",
            "ts": ts,
            "bot_id": bot.bot_id,
            "username": bot.name,
            "attachments": [
                {
                    "id": 1,
                    "color": self.rng.choice(("36a64f", "daa038", "a30200")),
                    "fallback": summary,
                    "title": summary,
                    "title_link": f"https://ci.example.com/runs/{n}",
                    "text": "Triggered by a push to `main`",
                    "fields": [{"title": "Duration", "value": f"{n % 60}m", "short": True}],
                }
            ],
        }

    def _thread_summary(self, record: dict[str, Any], post: Post) -> None:
        users = list(dict.fromkeys(user for _, user in post.replies))
        record.update(
            {
                "thread_ts": record["ts"],
                "reply_count": len(post.replies),
                "reply_users_count": len(users),
                "latest_reply": slack_ts(post.replies[-1][0]),
                "reply_users": users[:5],
                "is_locked": False,
                "subscribed": False,
                "replies": [{"user": user, "ts": slack_ts(us)} for us, user in post.replies],
            }
        )

    def _decorate(self, record: dict[str, Any], post: Post) -> None:
        if record.get("subtype") != "bot_message" and self.rng.random() < EDIT_SHARE:
            record["edited"] = {"user": post.user, "ts": slack_ts(post.us + self.rng.randrange(1, 3_600_000_000))}
        if self.rng.random() < REACTION_SHARE and self.audience.members:
            record["reactions"] = [
                self._reaction(name) for name in self.rng.sample(vocab.EMOJI, self.rng.randint(1, 3))
            ]

    def _reaction(self, name: str) -> dict[str, Any]:
        members = self.audience.members
        users = self.rng.sample(members, min(len(members), self.rng.randint(1, 4)))
        return {"name": name, "users": users, "count": len(users)}


def _block_id(rng: random.Random) -> str:
    return "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=5))


def _file_entry(file: SampleFile, post: Post, team_id: str) -> dict[str, Any]:
    """The file object of a message; the download URL carries an access token, as real exports' do."""
    base = f"https://files.slack.com/files-pri/{team_id}-{file.id}/{file.name}"
    entry: dict[str, Any] = {
        "id": file.id,
        "created": post.us // 1_000_000,
        "timestamp": post.us // 1_000_000,
        "name": file.name,
        "title": file.title,
        "mimetype": file.mimetype,
        "filetype": file.filetype,
        "pretty_type": file.pretty_type,
        "user": post.user,
        "user_team": team_id,
        "editable": False,
        "size": len(file.data),
        "mode": "hosted",
        "is_external": False,
        "external_type": "",
        "is_public": True,
        "public_url_shared": False,
        "display_as_bot": False,
        "username": "",
        "url_private": base,
        "url_private_download": (
            f"{base.replace('files-pri', 'files-pri-download', 1)}?t=xoxe-{team_id.lower()}-{file.id.lower()}"
        ),
        "permalink": f"https://example.slack.com/files/{post.user}/{file.id}/{file.name}",
        "is_starred": False,
        "has_rich_preview": False,
        "file_access": "visible",
    }
    if file.width:
        entry.update(original_w=file.width, original_h=file.height, thumb_64=base + "?thumb=64")
    return entry
