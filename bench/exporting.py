"""The export figure: 50 users' chats exported in parallel against the tenant's 200 requests/s.

The emulator is seeded with 1:1 chats through its directory file (as a
tenant with history would be), so the run measures export alone: paging
getAllMessages to the end for every user, writing the archives.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient
from migrator.limits import EXPORT_TENANT_RPS
from migrator.stages.export import ExportOptions, Target, export
from migrator.stages.export.runner import export_limiter
from migrator.timestamps import format_ms, parse_ms

START = parse_ms("2023-05-01T08:00:00.000Z")


@dataclass(frozen=True)
class ExportRun:
    users: int
    requests: int
    seconds: float
    throttled: int
    messages: int
    failed: int

    @property
    def ratio(self) -> float:
        return self.requests / self.seconds / EXPORT_TENANT_RPS


def chat_directory(path: Path, users: int, messages_per_chat: int) -> Path:
    """A directory file: `users` people paired in 1:1 chats of `messages_per_chat` messages each."""
    people = [
        {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-user-{i}")),
            "displayName": f"Person {i}",
            "mail": f"person{i}@contoso.example",
        }
        for i in range(users)
    ]
    chats = []
    for pair in range(users // 2):
        first, second = people[2 * pair]["id"], people[2 * pair + 1]["id"]
        chats.append(
            {
                "id": f"19:{first}_{second}@unq.gbl.spaces",
                "chatType": "oneOnOne",
                "members": [first, second],
                "createdDateTime": format_ms(START - 60_000),
                "messages": [
                    {
                        "from": (first, second)[i % 2],
                        "createdDateTime": format_ms(START + i * 1000),
                        "contentType": "html",
                        "body": f"<p>Message {i}: the <b>numbers</b> for week {i % 52} are in.</p>",
                    }
                    for i in range(messages_per_chat)
                ],
            }
        )
    path.write_text(json.dumps({"users": people, "chats": chats}), encoding="utf-8")
    return path


def run_export(users: int = 50, messages_per_chat: int = 2000) -> ExportRun:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as scratch:
        directory = chat_directory(Path(scratch) / "directory.json", users, messages_per_chat)
        people = [u["id"] for u in json.loads(directory.read_text(encoding="utf-8"))["users"]]
        with (
            EmulatorProcess(directory=directory, startup_timeout=300) as emulator,
            GraphClient(emulator.graph_config(), limiter=export_limiter()) as client,
        ):
            outcome = export(
                client,
                [Target("user", user) for user in people],
                Path(scratch) / "out",
                ExportOptions(model="B", workers=users),
            )
    return ExportRun(
        users=users,
        requests=outcome.requests,
        seconds=outcome.seconds,
        throttled=outcome.throttled,
        messages=sum(t.messages for t in outcome.targets),
        failed=sum(t.status != "done" for t in outcome.targets),
    )
