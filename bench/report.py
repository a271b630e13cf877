"""The figures of a benchmark run: one printed line each, and bench/results.json for machines."""

from __future__ import annotations

import json
import operator
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_COMPARE = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


@dataclass
class Figure:
    name: str
    value: float | None  # None: could not be measured (see note)
    target: str = ""  # e.g. ">= 0.95"; empty when the figure is informative only
    unit: str = ""
    note: str = ""

    @property
    def ok(self) -> bool | None:
        if not self.target:
            return None
        if self.value is None:
            return False
        sign, limit = self.target.split()
        return _COMPARE[sign](self.value, float(limit.replace(",", "")))

    def line(self) -> str:
        value = "not measured" if self.value is None else _number(self.value)
        unit = f" {self.unit}" if self.unit and self.value is not None else ""
        target = f" (target: {self.target})" if self.target else ""
        verdict = {True: "", False: "  MISSED", None: ""}[self.ok]
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.name}: {value}{unit}{target}{verdict}{note}"


@dataclass
class GrowthRow:
    stage: str
    messages: int
    seconds: float  # wall time
    peak_rss_mb: float | None = None
    cpu_seconds: float | None = None  # the stage's own process; wall time also counts whatever else the machine ran

    @property
    def us_per_message(self) -> float:
        return self.seconds / self.messages * 1e6 if self.messages else 0.0


@dataclass
class Results:
    command: str
    figures: list[Figure] = field(default_factory=list)
    growth: list[GrowthRow] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(figure.line(), flush=True)
        return figure

    def grow(self, row: GrowthRow) -> None:
        self.growth.append(row)

    def growth_table(self) -> str:
        lines = ["growth: stage      messages     seconds   µs/message   CPU seconds   peak RSS MB"]
        for row in self.growth:
            rss = f"{row.peak_rss_mb:11.0f}" if row.peak_rss_mb is not None else f"{'-':>11}"
            cpu = f"{row.cpu_seconds:13.1f}" if row.cpu_seconds is not None else f"{'-':>13}"
            lines.append(
                f"growth: {row.stage:<10} {row.messages:>9,} {row.seconds:>11.1f} {row.us_per_message:>12.1f} {cpu} "
                f"{rss}"
            )
        return "\n".join(lines)

    def write(self, path: Path) -> None:
        data: dict[str, Any] = {
            "command": self.command,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            },  # other work on the machine skews speeds
            "figures": {f.name: {**asdict(f), "ok": f.ok} for f in self.figures},
            "growth": [{**asdict(r), "us_per_message": round(r.us_per_message, 2)} for r in self.growth],
        }
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
