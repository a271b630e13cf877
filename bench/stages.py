"""Offline stage figures: generate, analyse and transform as child processes, timed, with peak memory.

Each stage runs as `python -m migrator …`, exactly what a consultant runs,
in its own process so its peak RSS is its own.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench.child import ChildCost, measure
from migrator.sample.generate import DIRECTORY_FILE, EXPORT_DIR, FALLBACK_MAIL

CHANNELS = 50


@dataclass(frozen=True)
class Workspace:
    root: Path
    messages: int
    generated: ChildCost

    @property
    def export(self) -> Path:
        return self.root / EXPORT_DIR

    @property
    def directory(self) -> Path:
        return self.root / DIRECTORY_FILE


def migrator(*args: str) -> list[str]:
    return [sys.executable, "-m", "migrator", *args]


def generate(work: Path, messages: int, channels: int = CHANNELS, seed: int = 1, plain: bool = False) -> Workspace:
    """A realistic workspace (every kind of message, one file per 2,000), or only plain-text messages."""
    root = work / f"workspace-{messages}-seed{seed}{'-plain' if plain else ''}"
    content = ["--plain"] if plain else ["--files", str(max(10, messages // 2000))]
    cost = measure(
        migrator(
            "sample",
            "generate",
            "--channels",
            str(channels),
            "--messages",
            str(messages),
            *content,
            "--seed",
            str(seed),
            "--out",
            str(root),
        ),
        work / "logs" / f"generate-{root.name}.log",
    )
    return Workspace(root, messages, cost)


def analyse(workspace: Workspace, work: Path) -> ChildCost:
    out = work / f"analyse-{workspace.root.name}"
    return measure(
        migrator("analyse", str(workspace.export), "--out", str(out)),
        work / "logs" / f"analyse-{workspace.root.name}.log",
    )


def mappings(workspace: Workspace, work: Path) -> Path:
    """The drafted mappings, matched against the workspace's own directory (not timed: map is not a figure)."""
    out = work / f"mappings-{workspace.root.name}"
    measure(
        migrator(
            "map",
            str(workspace.export),
            "--out",
            str(out),
            "--fallback",
            FALLBACK_MAIL,
            "--directory",
            str(workspace.directory),
        ),
        work / "logs" / f"map-{workspace.root.name}.log",
    )
    return out


def transform(workspace: Workspace, mappings_dir: Path, plan: Path, work: Path) -> ChildCost:
    return measure(
        migrator("transform", str(workspace.export), "--mappings", str(mappings_dir), "--out", str(plan)),
        work / "logs" / f"transform-{workspace.root.name}.log",
    )
