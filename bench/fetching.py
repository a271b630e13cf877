"""`fetch_throughput`: `migrator fetch` against the Slack emulator, 2,000 files from 1 KB to 20 MB.

The export is a standard one (links, no bytes) whose messages share files of
chosen sizes; the emulator serves the bytes from another folder with its rate
raised, so the figure is the fetch's own cost (TLS, streaming to disk, checks,
fsync, rename). The command runs in its own process (`bench.child`), so its
peak RSS is its own; memory must stay flat as file sizes grow, so a run of
small files only is measured beside it.
"""

from __future__ import annotations

import json
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.child import ChildCost, measure
from migrator.emulator.runner import SlackEmulatorProcess

TEAM = "T0BENCH"
TOKEN = "xoxb-emulator-fetch"
KB, MB = 1024, 1024 * 1024
FILES = 2_000
LARGE_EVERY = 100  # one file in a hundred is 1–20 MB, the others 1 KB–1 MB (about 0.4 GB in all)


@dataclass(frozen=True)
class FetchRun:
    files: int
    bytes: int
    seconds: float  # the stage's own time, from its report
    cost: ChildCost  # the whole command: wall and CPU seconds, peak RSS


def sizes(count: int = FILES, seed: int = 29) -> list[int]:
    """Log-uniform sizes: mostly 1 KB to 1 MB, every LARGE_EVERY-th 1 MB to 20 MB."""
    rng = random.Random(seed)
    return [
        int(MB * 20 ** rng.random()) if index % LARGE_EVERY == LARGE_EVERY - 1 else int(KB * 1024 ** rng.random())
        for index in range(count)
    ]


def linked_export(root: Path, file_sizes: list[int], seed: int = 29) -> tuple[Path, Path]:
    """A standard Slack export (one channel, one message per file, links only) and the folder of its files' bytes
    (`__uploads/{FILE_ID}/{name}`, for the emulator's --files). Links carry a `?t=` token, as real exports' do."""
    export, files = root / "export", root / "files"
    (export / "general").mkdir(parents=True)
    _write_json(export / "team_info.json", {"team": {"id": TEAM, "name": "Bench", "domain": "bench"}})
    _write_json(
        export / "users.json", [{"id": "U1", "name": "ada", "team_id": TEAM, "profile": {"email": "ada@x.example"}}]
    )
    _write_json(export / "channels.json", [{"id": "C1", "name": "general", "is_general": True, "members": ["U1"]}])
    rng = random.Random(seed)
    messages = []
    for index, size in enumerate(file_sizes):
        file_id, name = f"F{index:07d}", f"file-{index}.bin"
        folder = files / "__uploads" / file_id
        folder.mkdir(parents=True)
        with open(folder / name, "wb") as out:
            left = size
            while left:
                chunk = min(left, 4 * MB)
                out.write(rng.randbytes(chunk))
                left -= chunk
        base = f"https://files.slack.com/files-pri/{TEAM}-{file_id}"
        messages.append(
            {
                "type": "message",
                "user": "U1",
                "text": f"file {index}",
                "ts": f"{1704067200 + index}.000100",
                "files": [
                    {
                        "id": file_id,
                        "name": name,
                        "mimetype": "application/octet-stream",
                        "filetype": "binary",
                        "mode": "hosted",
                        "size": size,
                        "url_private": f"{base}/{name}",
                        "url_private_download": f"{base}/download/{name}?t=xoxe-1-bench-{file_id.lower()}",
                    }
                ],
            }
        )
    _write_json(export / "general" / "2024-01-01.json", messages)
    return export, files


def run_fetch(root: Path, file_sizes: list[int], work: Path, workers: int = 8) -> FetchRun:
    """Build the export, serve it, and fetch it all once as the command a consultant runs."""
    export, files = linked_export(root, file_sizes)
    out = root / "fetched"
    with SlackEmulatorProcess(export, files, tls_dir=root / "tls", extra_args=["--files-rps", "100000"]) as slack:
        command = [sys.executable, "-m", "migrator", "fetch", str(export), "--out", str(out)]
        command += ["--workers", str(workers), "--rps", "100000"]
        cost = measure(command, work / "logs" / f"fetch-{root.name}.log", env={**os.environ, **slack.env(TOKEN)})
    report = json.loads((out / "fetch-report.json").read_text())
    totals = report["totals"]
    if totals["fetched"] != len(file_sizes):
        raise RuntimeError(f"fetch fetched {totals['fetched']} of {len(file_sizes)} files: {out / 'fetch-report.html'}")
    return FetchRun(totals["fetched"], totals["bytes_this_run"], report["seconds"], cost)


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value), encoding="utf-8")
