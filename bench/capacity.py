"""emulator_rps: how many simple import requests per second the emulator itself can answer.

If the emulator were slower than the migrator, every load figure would
measure the emulator. Its limits are raised out of the way, and several
client processes (so no single client's CPU is the ceiling) post messages
over keep-alive TLS connections with a deliberately thin HTTP client: a
request written in one piece, one response read, nothing else. Only answers that
arrive within the measured window and are 2xx count.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.plans import even_plan
from migrator.emulator.runner import EmulatorProcess
from migrator.graph import GraphClient
from migrator.journal import Journal
from migrator.stages.load.provision import Provisioner
from migrator.timestamps import format_ms, parse_ms

UNLIMITED = {
    "channel_rps": 1e9,
    "teams_calls_per_10s": 1e12,
    "channel_writes_per_s": 1e9,
    "team_creates_per_s": 1e9,
    "team_reads_per_s": 1e9,
}
FIRST_MESSAGE = parse_ms("2022-03-02T00:00:00.000Z")  # after even_plan's channels were created


@dataclass(frozen=True)
class Drive:
    """What one client process needs: where to post, as whom, and the window to count in."""

    url: str
    ca: str
    token: str
    channels: list[str]
    author: dict
    connections: int
    index: int
    start: float  # time.time() at which counting starts
    stop: float


def measure_capacity(processes: int = 3, connections: int = 8, channels: int = 8, seconds: float = 6.0) -> float:
    """Import requests/s the emulator answered with 2xx, summed over the client processes."""
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as scratch, EmulatorProcess() as emulator:
        emulator.operator("config", UNLIMITED)
        paths, author, token = _provision(emulator, Path(scratch), channels)
        start = time.time() + 3.0  # every process connected and warm before counting
        drives = [
            Drive(emulator.url, str(emulator.ca), token, paths, author, connections, index, start, start + seconds)
            for index in range(processes)
        ]
        context = multiprocessing.get_context("spawn")
        with context.Pool(processes) as pool:
            counts = pool.map(_drive, drives)
    return sum(counts) / seconds


def _provision(emulator: EmulatorProcess, scratch: Path, channels: int) -> tuple[list[str], dict, str]:
    """A team and its channels in migration mode, created by the loader's own provisioning."""
    manifest = even_plan(scratch / "plan", channels, 0)
    team = manifest.teams[0]
    with Journal(scratch / "journal.sqlite") as journal, GraphClient(emulator.graph_config()) as client:
        journal.bind("bench")
        provisioner = Provisioner(client, journal)
        team_id = provisioner.team(team)
        paths = [
            f"/v1.0/teams/{team_id}/channels/{provisioner.channel(team.key, team_id, c)}/messages"
            for c in team.channels
        ]
        token = client.request("GET", f"/teams/{team_id}").request.headers["Authorization"].removeprefix("Bearer ")
    owner = team.members[0]
    return (
        paths,
        {"user": {"id": owner.user_id, "displayName": owner.display_name, "userIdentityType": "aadUser"}},
        token,
    )


def _drive(drive: Drive) -> int:
    try:
        import uvloop

        return uvloop.run(_connections(drive))
    except ImportError:
        return asyncio.run(_connections(drive))


async def _connections(drive: Drive) -> int:
    context = ssl.create_default_context(cafile=drive.ca)
    counts = await asyncio.gather(*(_connection(drive, context, n) for n in range(drive.connections)))
    return sum(counts)


async def _connection(drive: Drive, context: ssl.SSLContext, number: int) -> int:
    where = urlsplit(drive.url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port, ssl=context)
    slot = drive.index * drive.connections + number
    path = drive.channels[slot % len(drive.channels)]
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {where.netloc}\r\nAuthorization: Bearer {drive.token}\r\n"
        "Content-Type: application/json\r\n"
    )
    answered = 0
    sequence = 0
    while time.time() < drive.stop:
        sequence += 1
        created = format_ms(FIRST_MESSAGE + slot * 100_000_000 + sequence)  # unique in its channel
        body = json.dumps(
            {
                "createdDateTime": created,
                "from": drive.author,
                "body": {"contentType": "html", "content": f"<p>message {sequence}</p>"},
            }
        ).encode()
        writer.write(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status = await _response(reader)
        if drive.start <= time.time() < drive.stop and 200 <= status < 300:
            answered += 1
    writer.close()
    return answered


async def _response(reader: asyncio.StreamReader) -> int:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status
