"""What preflight found: one record per step, and the verdict the exit code follows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from migrator.graph import GraphError

Status = Literal["passed", "failed", "skipped"]


@dataclass
class Step:
    """One step: its status and why, Graph's error code and request-id when Graph refused, and how long it took."""

    name: str
    status: Status = "passed"
    reason: str = ""
    code: str | None = None
    request_id: str | None = None
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)  # one line per finding (a permission, a users.csv line)
    facts: dict[str, Any] = field(default_factory=dict)  # figures the step measured

    def fail(self, reason: str, error: GraphError | None = None) -> None:
        self.status = "failed"
        self.reason = reason
        if error is not None:
            self.code, self.request_id = error.code, error.request_id

    def skip(self, reason: str) -> None:
        self.status, self.reason = "skipped", reason

    @property
    def verdict(self) -> str:
        """The one line the command prints for this step."""
        where = f" [{self.code}, request-id {self.request_id}]" if self.code or self.request_id else ""
        return f"{self.name}: {self.status} ({self.seconds:.1f} s){': ' + self.reason if self.reason else ''}{where}"


@dataclass
class PreflightOutcome:
    target: str
    started: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every step that ran passed; a skipped step does not fail the preflight."""
        return all(step.status != "failed" for step in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "started": self.started, "ok": self.ok, "steps": [asdict(s) for s in self.steps]}
