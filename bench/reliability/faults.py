"""Faults: a whole workspace migrated while the emulator fails, throttles, drops answers and lags; then verified.

`drop` applies a request and closes the connection without an answer: the
lost response after which a careless loader posts the message twice.
"""

from __future__ import annotations

from pathlib import Path

from bench.reliability.migration import Planned, load_until_done, require_clean, runs_text, target_env, verify_plan
from migrator.emulator.runner import EmulatorProcess

SPEC = "500:0.03,503:0.02,429:0.05,drop:0.02,latency:10ms"


def check_faults(planned: Planned, work: Path, workers: int, seed: int = 3) -> str:
    """The summary line; raises CheckFailed when anything is missing, duplicated or different."""
    journal = work / "faults-journal.sqlite"
    with EmulatorProcess(
        directory=planned.workspace.directory, faults=SPEC, extra_args=["--seed", str(seed)]
    ) as emulator:
        env = target_env(emulator)
        runs = load_until_done(planned.plan, journal, env, workers)
        injected = emulator.operator("faults")["injected"]
        emulator.operator("faults", {"spec": ""})
        verdict = verify_plan(planned.plan, journal, env, work / "faults-verify")
    require_clean("faults", verdict, planned.messages)
    faults = ", ".join(f"{count} × {name}" for name, count in sorted(injected.items()))
    return f"faults: {verdict.line()} ({faults} injected; {runs_text(runs)})"
