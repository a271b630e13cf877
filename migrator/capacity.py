"""Teams' capacity limits: what one team, channel, chat or message may hold (docs/graph-contract.md#capacity-limits).

Rate limits pace a migration (`migrator.limits`); capacity limits decide whether it can finish at all: Teams refuses
the 1,001st channel of a team hours into a cutover. One table, read by `map` (drafting and `--check`), transform,
load and the emulator, keeps them agreeing; a tenant that differs overrides any of them in `migration.yaml`
(`defaults.limits`), which the plan carries to load.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

from migrator.limits import DELETED_RETENTION_DAYS, MAX_BODY_BYTES

# A deleted channel counts against its team's channel limits until it is gone for good (limits-page footnote 4).
DELETED_CHANNELS_COUNT_DAYS = DELETED_RETENTION_DAYS


@dataclass(frozen=True)
class CapacityLimits:
    """The numbers of Microsoft's "Limits and specifications for Microsoft Teams" (see the contract's table for the
    copy read and the numbers reported raised but not confirmed)."""

    channels_per_team: int = 1_000  # standard, private and shared, General and deleted ones (30 days) included
    private_channels_per_team: int = 30  # deleted ones (30 days) included
    members_per_private_channel: int = 250
    private_channel_members_per_request: int = 200  # members a private channel is created with (Graph: Create channel)
    members_per_team: int = 25_000
    owners_per_team: int = 100
    people_per_group_chat: int = 250
    chat_members_per_request: int = 200  # people added to a group chat at once
    files_per_message: int = 10  # file attachments on one message
    message_bytes: int = MAX_BODY_BYTES  # an imported body; Microsoft says "approximately 28 KB"

    def overridden(self, values: Mapping[str, int]) -> CapacityLimits:
        """These limits with some replaced (names as in `LIMIT_NAMES`, values checked by `limit_problems`)."""
        return replace(self, **values)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


LIMIT_NAMES = tuple(f.name for f in fields(CapacityLimits))
TEAMS_DEFAULTS = CapacityLimits()


def limit_problems(name: object, value: object) -> str | None:
    """Why `name: value` cannot override a limit (None when it can): an unknown name, or not a positive whole
    number."""
    if name not in LIMIT_NAMES:
        return f"unknown limit {name!r} (known: {', '.join(LIMIT_NAMES)})"
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return f"limit {name} must be a whole number of at least 1, not {value!r}"
    return None


def from_dict(values: Mapping[str, object] | None) -> CapacityLimits:
    """The limits a plan manifest carries (Teams' defaults for the names it lacks: plans written before the table)."""
    known = {k: v for k, v in (values or {}).items() if isinstance(v, int) and limit_problems(k, v) is None}
    return TEAMS_DEFAULTS.overridden(known)
