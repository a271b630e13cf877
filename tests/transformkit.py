"""Checks every transform test applies to a plan: the import rules and the report's sums.

The import rules are docs/graph-contract.md#import-message-rules.

They restate the rules on the written files, independently of how transform
reached them, so a plan that passes here is one the emulator accepts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from migrator.capacity import TEAMS_DEFAULTS
from migrator.inventory import Inventory
from migrator.limits import MAX_BODY_BYTES, MAX_INLINE_IMAGE_BYTES
from migrator.plan import Manifest, read_lines
from migrator.timestamps import parse_ms
from migrator.transform_report import TransformReport
from tests.test_bodies import assert_safe

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("MIGRATOR_UPDATE_GOLDEN") == "1"  # rewrite the golden files after a reviewed change


def plan_lines(plan_dir: Path) -> dict[str, list[dict[str, Any]]]:
    manifest = Manifest.read(plan_dir)
    return {conv.key: list(read_lines(plan_dir, conv)) for _, conv in manifest.conversations()}


def assert_plan_rules(plan_dir: Path, now_ms: int) -> None:
    """Times, threads, sizes, references and creation dates, for every conversation of the plan."""
    manifest = Manifest.read(plan_dir)
    keys: set[str] = set()
    for team, conv in manifest.conversations():
        lines = list(read_lines(plan_dir, conv))
        assert len(lines) == conv.messages == conv.roots + conv.replies
        times = [parse_ms(line["createdDateTime"]) for line in lines]
        assert len(set(times)) == len(times), f"{conv.key}: a millisecond is used twice"
        assert times == sorted(times), f"{conv.key}: not in posting (time) order"
        assert all(t <= now_ms for t in times), f"{conv.key}: a message is in the future"
        created = parse_ms(conv.created)
        assert not times or created < times[0], f"{conv.key}: the channel is not created before its first message"
        if team is not None:
            assert parse_ms(team.created) <= created, f"{team.key}: the team is created after its channel {conv.key}"
        uploads = {u.key for u in conv.uploads}
        roots: dict[str, int] = {}
        last_in_thread: dict[str, int] = {}
        for line, ms in zip(lines, times, strict=False):
            assert line["key"] not in keys, f"{line['key']} planned twice"
            keys.add(line["key"])
            if line["kind"] == "root":
                assert line["root_key"] is None
                roots[line["key"]] = ms
                thread = line["key"]
            else:
                assert line["root_key"] in roots, f"{line['key']}: its root is not posted before it"
                thread = line["root_key"]
                assert ms > last_in_thread[thread], f"{line['key']}: not after the previous message of its thread"
            last_in_thread[thread] = ms
            _assert_request(line, uploads)


def _assert_request(line: dict[str, Any], uploads: set[str]) -> None:
    body = line["body"]["content"]
    assert line["body"]["contentType"] == "html"
    assert len(body.encode("utf-8")) <= MAX_BODY_BYTES, f"{line['key']}: body over the import limit"
    assert_safe(body)
    user = line["from"]["user"]
    assert user["id"] and user["userIdentityType"] == "aadUser"
    hosted_ids = [h["@microsoft.graph.temporaryId"] for h in line["hostedContents"]]
    assert body.count("../hostedContents/") == len(hosted_ids)
    for hosted in line["hostedContents"]:
        assert f'src="../hostedContents/{hosted["@microsoft.graph.temporaryId"]}/$value"' in body
        assert len(base64.b64decode(hosted["contentBytes"])) <= MAX_INLINE_IMAGE_BYTES
    assert body.count("<attachment ") == len(line["attachments"]) <= TEAMS_DEFAULTS.files_per_message
    for attachment in line["attachments"]:
        assert f'<attachment id="{attachment["id"]}">' in body and attachment["contentType"] == "reference"
        assert attachment["upload"] in line["uploads"]
    assert set(line["uploads"]) <= uploads, f"{line['key']}: an upload the manifest does not list"
    _assert_native(line)


def _assert_native(line: dict[str, Any]) -> None:
    """Real mentions numbered from 0 in each part, one entry per tag; at most 250 reactions; and a text form
    without either, within the body limit, on every line that carries them."""
    tags = re.findall(r'<at id="([^"]*)">([^<]*)</at>', line["body"]["content"])
    mentions = line.get("mentions") or []
    assert [str(m["id"]) for m in mentions] == [n for n, _ in tags] == [str(n) for n in range(len(tags))]
    assert all(m["mentioned"]["user"]["id"] and m["mentionText"] for m in mentions)
    reactions = line.get("reactions") or []
    assert len(reactions) <= 250 and all(r["reactionType"] and r["user"]["user"]["id"] for r in reactions)
    if mentions or reactions:
        text = line["text"]
        assert "<at " not in text and len(text.encode("utf-8")) <= MAX_BODY_BYTES
        assert_safe(text)
    else:
        assert "text" not in line


def assert_adds_up(report: TransformReport, inventory: Inventory) -> None:
    """The transform report accounts for every message and file analyse counted, per conversation too."""
    assert report["messages"]["balanced"] and report["lines"]["balanced"] and report["files"]["balanced"]
    assert report["messages"]["read"] == inventory["totals"]["messages"]
    assert report["files"]["in_export"] == inventory["totals"]["files"]
    read = {row["id"]: (row["read"], row["files"]) for row in report["conversations"]}
    assert read == {c["id"]: (c["messages"], c["files"]) for c in inventory["channels"]}


def golden_view(plan_dir: Path) -> list[dict[str, Any]]:
    """Every plan line as reviewed: image bytes as their digest, so the golden file stays readable."""
    manifest = Manifest.read(plan_dir)
    out: list[dict[str, Any]] = []
    for team, conv in manifest.conversations():
        out.append(
            {
                "conversation": conv.key,
                "team_created": team.created if team else None,
                "created": conv.created,
                "file": conv.file,
                "uploads": [(u.name, u.size, u.sha256) for u in conv.uploads],
            }
        )
        for line in read_lines(plan_dir, conv):
            line["hostedContents"] = [
                {**h, "contentBytes": "sha256:" + hashlib.sha256(base64.b64decode(h["contentBytes"])).hexdigest()}
                for h in line["hostedContents"]
            ]
            out.append(line)
    return out


def assert_golden(name: str, value: list[dict[str, Any]]) -> None:
    """`value` equals tests/golden/NAME.jsonl line by line; MIGRATOR_UPDATE_GOLDEN=1 rewrites it instead."""
    path = GOLDEN / f"{name}.jsonl"
    text = "".join(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n" for item in value)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8").splitlines()
    actual = text.splitlines()
    for number, (want, got) in enumerate(zip(expected, actual, strict=False), 1):
        assert got == want, f"{path}:{number} differs (MIGRATOR_UPDATE_GOLDEN=1 rewrites it after review)"
    assert len(actual) == len(expected), f"{path}: {len(expected)} lines expected, {len(actual)} written"


def by_thread(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    threads: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        threads[line["root_key"] or line["key"]].append(line)
    return threads
