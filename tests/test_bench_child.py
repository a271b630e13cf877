"""The benchmark's peak-memory figures are the measured command's own, not the benchmark's."""

from __future__ import annotations

import sys

import pytest

from bench.child import ChildFailed, measure


def test_peak_memory_is_the_commands_own_whatever_the_benchmark_holds(tmp_path) -> None:
    ballast = b"b" * (200 << 20)  # the benchmark process grown large before it starts the command
    small = measure([sys.executable, "-c", "pass"], tmp_path / "small.log")
    large = measure([sys.executable, "-c", "data = b'x' * (80 << 20)"], tmp_path / "large.log")
    assert len(ballast) and small.peak_rss_mb < 60, "a bare Python start read as the benchmark's size"
    assert 80 <= large.peak_rss_mb < 80 + 60
    assert large.cpu_seconds >= 0 and large.seconds > 0


def test_a_failing_command_says_how_it_ended_with_its_cost(tmp_path) -> None:
    with pytest.raises(ChildFailed) as failed:
        measure([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], tmp_path / "fail.log")
    assert failed.value.code == 3 and "boom" in str(failed.value) and failed.value.cost.seconds > 0
    with pytest.raises(ChildFailed) as missing:
        measure([str(tmp_path / "no-such-program")], tmp_path / "missing.log")
    assert missing.value.code == 127
