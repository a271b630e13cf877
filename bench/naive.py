"""The naive loader the benchmark compares ours with: one request at a time, one channel after another.

Written only for `make bench` (load_vs_naive). It provisions teams and
channels with the loader's own Provisioner, so the two differ only where a
migration spends its time: posting. Here every channel waits for the one
before it, each paced at 5 requests/s by the same Graph client.
"""

from __future__ import annotations

import time
from pathlib import Path

from migrator.graph import GraphClient
from migrator.journal import Journal
from migrator.plan import Manifest, read_lines, to_request
from migrator.stages.load.provision import Provisioner
from migrator.stages.load.uploads import read_upload, upload


def naive_load(plan_dir: Path, client: GraphClient, journal: Journal) -> float:
    """Load the plan sequentially; returns the seconds it took."""
    started = time.monotonic()
    provisioner = Provisioner(client, journal)
    for team in Manifest.read(plan_dir).teams:
        team_id = provisioner.team(team)
        for channel in team.channels:
            channel_id = provisioner.channel(team.key, team_id, channel)
            base = f"/teams/{team_id}/channels/{channel_id}"
            folder = client.get_json(f"{base}/filesFolder")
            urls = {
                u.key: upload(client, folder, u, read_upload(plan_dir, u), f"channel:{team_id}/{channel_id}")["webUrl"]
                for u in channel.uploads
            }
            ids: dict[str, str] = {}
            for line in read_lines(plan_dir, channel):
                target = (
                    f"{base}/messages/{ids[line['root_key']]}/replies"
                    if line["kind"] == "reply"
                    else f"{base}/messages"
                )
                ids[line["key"]] = client.post_json(target, to_request(line, urls))["id"]
            provisioner.complete_channel(team_id, channel_id)
        provisioner.complete_team(team, team_id)
        provisioner.add_members(team, team_id)
    return time.monotonic() - started
