"""MIGRATOR_TRACE: every Graph exchange as its shape; no content, name, address, token or secret reaches it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from migrator.cli import app
from migrator.emulator.directory import SAMPLE_DIRECTORY
from migrator.emulator.runner import DEMO_SECRET
from migrator.graph.trace import shape, template
from migrator.plan import Manifest, read_lines

ROOT = Path(__file__).resolve().parents[1]


def test_paths_keep_their_shape_and_lose_their_ids_and_names() -> None:
    base = "https://graph.example/v1.0"
    assert template(f"{base}/teams/t1/channels/19:a@thread.tacv2/messages/1/replies?$top=5") == (
        "/v1.0/teams/{team}/channels/{channel}/messages/{message}/replies"
    )
    assert (
        template(f"{base}/users/ada@contoso.example/chats/getAllMessages") == "/v1.0/users/{user}/chats/getAllMessages"
    )
    assert (
        template(f"{base}/drives/d/items/p:/Payroll 2024.xlsx:/content")
        == "/v1.0/drives/{drive}/items/{item}:/{name}:/content"
    )
    assert template("/teams('t1')/operations('o1')") == "/teams({team})/operations({op})"
    message = {"createdDateTime": "2024-03-06T19:18:00.272Z", "body": {"contentType": "html", "content": "<p>hi</p>"}}
    assert shape(message) == {
        "createdDateTime": "2024-03-06T19:18:00.272Z",
        "body": {"contentType": "html", "content": "str:9"},
    }


def test_a_migration_of_the_sample_leaves_no_content_in_its_trace(no_credentials, monkeypatch, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    monkeypatch.setenv("MIGRATOR_TRACE", str(trace))
    result = CliRunner().invoke(
        app,
        [
            "migrate",
            str(ROOT / "sample_data" / "slack"),
            "--mappings",
            str(ROOT / "mappings"),
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    text = trace.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"POST", "GET", "PUT"} <= {line["method"] for line in lines}
    assert any(line["path"].endswith("/messages") and line["status"] == 200 for line in lines)
    plan = next(p.parent for p in (tmp_path / "run").rglob("manifest.json"))
    forbidden = {DEMO_SECRET, "eyJ"}  # the secret, and any JWT
    for _, conversation in Manifest.read(plan).conversations():
        for line in read_lines(plan, conversation):
            words = re.sub(r"<[^>]+>", " ", line["body"]["content"]).split()
            forbidden.update(" ".join(words[i : i + 3]) for i in range(0, max(len(words) - 2, 1)))
    for user in json.loads(SAMPLE_DIRECTORY.read_text(encoding="utf-8"))["users"]:
        forbidden.update({user["displayName"], user["mail"]})
    found = sorted(s for s in forbidden if len(s) > 3 and s in text)
    assert found == []
