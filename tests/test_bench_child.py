"""The benchmark's peak-memory figures are the measured command's own, not the benchmark's."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.child import ChildFailed, measure


def test_peak_memory_is_the_commands_own_whatever_the_benchmark_holds(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the starter is found by its path, whatever folder the benchmark runs in
    ballast = b"b" * (200 << 20)  # the benchmark process grown large before it starts the command
    small = measure([sys.executable, "-c", "pass"], tmp_path / "small.log")
    busy = "data = b'x' * (80 << 20)\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    large = measure([sys.executable, "-c", "import time\n" + busy], tmp_path / "large.log")
    assert len(ballast) and small.peak_rss_mb < 60, "a bare Python start read as the benchmark's size"
    assert 80 <= large.peak_rss_mb < 80 + 60
    assert large.cpu_seconds >= 0.3 > small.cpu_seconds and large.seconds >= large.cpu_seconds * 0.9


def test_a_failing_command_says_how_it_ended_with_its_cost(tmp_path: Path) -> None:
    with pytest.raises(ChildFailed) as failed:
        measure([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], tmp_path / "fail.log")
    assert failed.value.code == 3 and "exited 3" in str(failed.value) and "boom" in str(failed.value)
    with pytest.raises(ChildFailed) as killed:
        measure(
            [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"], tmp_path / "kill.log"
        )
    assert killed.value.code == -9 and "was killed by SIGKILL" in str(killed.value)
    with pytest.raises(ChildFailed) as missing:
        measure([str(tmp_path / "no-such-program")], tmp_path / "missing.log")
    assert missing.value.code == 127 and "cannot start" in str(missing.value) and "No such file" in str(missing.value)
