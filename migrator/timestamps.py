"""Graph timestamps as integer UTC milliseconds.

Graph keeps `createdDateTime` to the millisecond and refuses a millisecond
already used in a channel or chat, so every stage reasons in integer ms and
formats with exactly three fractional digits; floats would round.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import lru_cache

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_ms(value: str) -> int:
    """ISO-8601 to UTC epoch ms, truncating (never rounding) extra digits as Graph does.

    A value without a zone is taken as UTC, like Graph does.
    Raises ValueError naming the value when it is not a timestamp.
    """
    match = _ISO.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"not an ISO-8601 timestamp: {value!r}")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    ms = int((moment - _EPOCH).total_seconds()) * 1000 + int((frac or "0").ljust(3, "0")[:3])
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
    return ms


def format_ms(ms: int) -> str:
    """UTC epoch ms to `YYYY-MM-DDTHH:MM:SS.fffZ`.

    Every plan line carries one, so only the date goes through strftime (once
    per day, cached); the time of day is plain arithmetic.
    """
    days, ms_of_day = divmod(ms, 86_400_000)
    seconds, millis = divmod(ms_of_day, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{_date(days)}T{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"


@lru_cache(maxsize=4096)
def _date(days: int) -> str:
    """`YYYY-MM-DD` of a day counted from the epoch."""
    return time.strftime("%Y-%m-%d", time.gmtime(days * 86_400))


def now_ms() -> int:
    return time.time_ns() // 1_000_000
