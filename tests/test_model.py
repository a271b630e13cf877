"""The model's timestamp helpers must be exact: the import API keys messages by millisecond."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrator.model import Message, micros_to_datetime, micros_to_iso, ts_to_micros


def test_ts_is_parsed_exactly_where_a_float_rounds() -> None:
    ts = "1736478630.905399"
    assert ts_to_micros(ts) == 1736478630905399
    # beyond 2**53 microseconds a float cannot hold the value; the string parse still can
    assert int(float("99999999999.999999") * 1_000_000) != 99999999999_999999
    assert ts_to_micros("99999999999.999999") == 99999999999_999999


@given(seconds=st.integers(0, 10**10), micros=st.integers(0, 999_999))
def test_ts_round_trips_against_decimal(seconds: int, micros: int) -> None:
    ts = f"{seconds}.{micros:06d}"
    assert ts_to_micros(ts) == int(Decimal(ts) * 1_000_000)


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("144139100.000008", 144139100_000008),  # 9-digit ts from 1974 (zulip fixture)
        ("1434139102", 1434139102_000000),
        ("1434139102.5", 1434139102_500000),
        ("1434139102.123456000", 1434139102_123456),
    ],
)
def test_ts_shapes_seen_in_real_exports(ts: str, expected: int) -> None:
    assert ts_to_micros(ts) == expected


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "-5.000001", " 1.0", "1434139102.1234567", "١٢٣.٤"])
def test_bad_ts_is_refused_with_the_value(bad: str) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        ts_to_micros(bad)


def test_non_string_ts_is_refused() -> None:
    with pytest.raises(ValueError):
        ts_to_micros(1434139102.5)  # type: ignore[arg-type]


def test_micros_convert_to_utc_without_rounding() -> None:
    us = ts_to_micros("1736478630.905399")
    assert micros_to_datetime(us) == datetime(2025, 1, 10, 3, 10, 30, 905399, tzinfo=UTC)
    assert micros_to_iso(us) == "2025-01-10T03:10:30.905399Z"
    assert micros_to_iso(ts_to_micros("144139100.000008")) == "1974-07-27T06:38:20.000008Z"


def test_reply_and_root_follow_thread_ts() -> None:
    root = Message(ts="1.000001", us=1_000_001, conversation_id="C", origin="c/d.json", thread_ts="1.000001")
    reply = Message(ts="2.000001", us=2_000_001, conversation_id="C", origin="c/d.json", thread_ts="1.000001")
    plain = Message(ts="3.000001", us=3_000_001, conversation_id="C", origin="c/d.json")
    assert (root.is_reply, reply.is_reply, plain.is_reply) == (False, True, False)
    assert (root.root_ts, reply.root_ts, plain.root_ts) == ("1.000001", "1.000001", "3.000001")
