"""Offline stage figures: generate, analyse and transform as child processes, timed, with peak memory.

Each stage runs as `python -m migrator …`, exactly what a consultant runs,
in its own process so its peak RSS is its own.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from bench.child import ChildCost, measure
from migrator.sample.generate import DIRECTORY_FILE, EXPORT_DIR, FALLBACK_MAIL, TEAM_PREFIX

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


def generate(
    work: Path,
    messages: int,
    channels: int = CHANNELS,
    seed: int = 1,
    plain: bool = False,
    teams: int = 1,
    private_channels: int = 1,
) -> Workspace:
    """A realistic workspace (every kind of message, one file per 2,000), or only plain-text messages; with `teams`,
    its channels are named for that many teams (`route_teams` routes them there)."""
    shape = f"-{teams}teams-{private_channels}private" if teams > 1 or private_channels != 1 else ""
    root = work / f"workspace-{messages}-seed{seed}{'-plain' if plain else ''}{shape}"
    content = ["--plain"] if plain else ["--files", str(max(10, messages // 2000))]
    content += ["--teams", str(teams), "--private-channels", str(private_channels)]
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


def route_teams(mappings_dir: Path, teams: int) -> None:
    """Edit the drafted migration.yaml as a consultant would: channels named `tK-...` by `sample generate --teams`
    go to a team K of their own (every mapped person a member), the others stay in the drafted team."""
    yaml = YAML()
    path = mappings_dir / "migration.yaml"
    document = yaml.load(path.read_text(encoding="utf-8"))
    (main_key, main), *_ = document["teams"].items()
    for number in range(2, teams + 1):
        key = f"{main_key}-{number}"
        document["teams"][key] = {
            "name": f"{main['name']} {number}",
            "description": main["description"],
            "members": "all",
        }
        prefix = TEAM_PREFIX.format(number)
        for route in document["conversations"]:
            if route.get("team") == main_key and str(route.get("name", "")).startswith(prefix):
                route["team"] = key
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(document, out)


def transform(workspace: Workspace, mappings_dir: Path, plan: Path, work: Path) -> ChildCost:
    return measure(
        migrator("transform", str(workspace.export), "--mappings", str(mappings_dir), "--out", str(plan)),
        work / "logs" / f"transform-{workspace.root.name}.log",
    )
