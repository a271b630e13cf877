"""The synthetic workspace generator: exact, deterministic, realistic, readable, and flat in memory."""

from __future__ import annotations

import hashlib
import json
import re
import struct
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest

from bench.child import measure
from migrator.model import ConversationKind
from migrator.sample import SampleError, SampleOptions, generate
from migrator.sources.slack import SlackExport


def digest(folder: Path) -> str:
    """One hash over every file's path and bytes."""
    sha = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        sha.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return sha.hexdigest()


def records(export: Path) -> list[dict]:
    found = []
    for folder in sorted(p for p in export.iterdir() if p.is_dir() and p.name != "__uploads"):
        for day in sorted(folder.glob("*.json")):
            found += json.loads(day.read_text(encoding="utf-8"))
    return found


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("sample")
    return out, generate(out, SampleOptions(channels=12, messages=3000, threads_ratio=0.3, files=25, seed=7))


def test_the_counts_asked_for_are_exact(workspace):
    out, summary = workspace
    written = records(out / "slack")
    assert len(written) == summary.messages == 3000
    assert sum(1 for r in written for _ in r.get("files", [])) == summary.files == 25
    replies = [r for r in written if r.get("thread_ts") and r["thread_ts"] != r["ts"]]
    assert len(replies) == summary.replies
    assert 0.2 < len(replies) / 3000 < 0.35  # joins are never replies, so a little under the ratio


def test_a_seed_always_writes_the_same_bytes(tmp_path, workspace):
    out, _ = workspace
    generate(tmp_path / "again", SampleOptions(channels=12, messages=3000, threads_ratio=0.3, files=25, seed=7))
    generate(tmp_path / "other", SampleOptions(channels=12, messages=3000, threads_ratio=0.3, files=25, seed=8))
    assert digest(tmp_path / "again") == digest(out)
    assert digest(tmp_path / "other") != digest(out)


def test_the_reader_takes_it_whole(workspace):
    out, _ = workspace
    with SlackExport(out / "slack") as source:
        kinds = Counter(c.kind for c in source.conversations())
        messages = [m for c in source.conversations() for m in source.messages(c)]
        assert source.quarantine == [] and source.ignored == []
    assert kinds[ConversationKind.PUBLIC] == 11 and kinds[ConversationKind.PRIVATE] == 1
    assert kinds[ConversationKind.DM] >= 1 and kinds[ConversationKind.GROUP_DM] >= 1
    assert len(messages) == 3000
    assert all(f.status == "available" for m in messages for f in m.files)


def test_threads_are_consistent_and_replies_follow_their_root(workspace):
    out, _ = workspace
    written = records(out / "slack")
    by_ts = {r["ts"]: r for r in written}
    for reply in (r for r in written if r.get("thread_ts") and r["thread_ts"] != r["ts"]):
        root = by_ts[reply["thread_ts"]]
        assert {"user": reply["user"], "ts": reply["ts"]} in root["replies"]
        assert reply["parent_user_id"] == root.get("user", root.get("bot_id")) or root.get("subtype") == "bot_message"
        assert float(reply["ts"]) > float(root["ts"])
    for root in (r for r in written if r.get("reply_count")):
        assert root["reply_count"] == len(root["replies"]) and root["latest_reply"] == root["replies"][-1]["ts"]
    assert len(by_ts) == len(written), "every ts is unique"


def test_it_has_what_real_exports_have(workspace):
    out, _ = workspace
    written = records(out / "slack")
    texts = " ".join(r["text"] for r in written)
    ms = Counter()
    for r in written:
        ms[(r["ts"][:14])] += 1
    assert any(count > 1 for count in ms.values()), "messages sharing a millisecond"
    assert re.search(r"<@U[0-9A-Z]+>", texts) and re.search(r"<#C[0-9A-Z]+\|[a-z-]+>", texts)
    assert re.search(r":[a-z_+0-9-]+:", texts) and "```" in texts and "&gt; " in texts and "&amp;" in texts
    assert re.search(r"[^\x00-\x7f]", texts) and re.search(r"[\U0001F300-\U0001FAFF]", texts)
    subtypes = Counter(r.get("subtype") for r in written)
    assert subtypes["channel_join"] and subtypes["bot_message"] and subtypes["thread_broadcast"]
    assert any("edited" in r for r in written) and any("reactions" in r for r in written)
    assert any(b["type"] == "rich_text" for r in written for b in r.get("blocks", []))
    uploads = list((out / "slack" / "__uploads").glob("*/*"))
    images = [p for p in uploads if p.suffix == ".png"]
    assert images and len(images) < len(uploads)
    for image in images:
        data = image.read_bytes()
        width, height = struct.unpack(">II", data[16:24])
        idat = data[33 + 8 : 33 + 8 + struct.unpack(">I", data[33:37])[0]]
        assert len(zlib.decompress(idat)) == height * (1 + 3 * width), f"{image} is a valid RGB PNG"


def test_the_directory_matches_the_people_by_email(workspace):
    out, _ = workspace
    users = json.loads((out / "slack" / "users.json").read_text(encoding="utf-8"))
    directory = json.loads((out / "directory.json").read_text(encoding="utf-8"))["users"]
    mails = {u["mail"] for u in directory}
    people = [u for u in users if not u.get("is_bot")]
    assert {u["profile"]["email"] for u in people if not u["deleted"]} <= mails
    assert [u["profile"]["email"] in mails for u in people if u["deleted"]] == [False]
    assert "migration@contoso.example" in mails
    private = json.loads((out / "slack" / "groups.json").read_text(encoding="utf-8"))
    by_id = {u["id"]: u for u in users}
    assert len(private) == 1 and private[0]["members"]
    assert all(by_id[m]["profile"]["email"] in mails for m in private[0]["members"]), (
        "private history needs no fallback"
    )


def test_bad_options_are_refused_and_a_used_folder_is_never_mixed(tmp_path, workspace):
    out, _ = workspace
    with pytest.raises(SampleError, match="not empty"):
        generate(out, SampleOptions(channels=2, messages=10))
    with pytest.raises(SampleError, match="threads-ratio"):
        generate(tmp_path / "x", SampleOptions(channels=2, messages=10, threads_ratio=1.0))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "migrator",
            "sample",
            "generate",
            "--channels",
            "0",
            "--messages",
            "5",
            "--out",
            str(tmp_path / "y"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "channels" in result.stderr and "Traceback" not in result.stderr


def test_the_command_writes_a_workspace(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "migrator",
            "sample",
            "generate",
            "--channels",
            "3",
            "--messages",
            "120",
            "--files",
            "2",
            "--seed",
            "3",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "120 messages" in result.stdout and (tmp_path / "directory.json").is_file()
    assert len(records(tmp_path / "slack")) == 120


def test_a_plain_workspace_holds_only_plain_text_by_people(tmp_path):
    """What the transform speed target is set for: threads as usual, nothing else to convert."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "migrator",
            "sample",
            "generate",
            "--channels",
            "4",
            "--messages",
            "600",
            "--plain",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    messages = records(tmp_path / "slack")
    assert len(messages) == 600 and not (tmp_path / "slack" / "__uploads").exists()
    assert any(m.get("thread_ts") not in (None, m["ts"]) for m in messages), "plain messages still form threads"
    extras = {"blocks", "files", "subtype", "bot_id", "edited", "reactions", "attachments"}
    assert not [m for m in messages if extras & m.keys()]
    assert not [m["text"] for m in messages if set(m["text"]) & set("<>&*_~`:\n")], "plain text has no mrkdwn"
    with pytest.raises(SampleError, match="--plain messages carry no files"):
        generate(tmp_path / "x", SampleOptions(channels=2, messages=10, files=3, plain=True))


def peak_rss_mb(messages: int, out: Path) -> float:
    """Peak memory of a child process generating `messages`: its own, not pytest's (see bench/child.py)."""
    code = (
        "import sys; from pathlib import Path; from migrator.sample import SampleOptions, generate; "
        f"generate(Path(sys.argv[1]), SampleOptions(channels=20, messages={messages}, files=20))"
    )
    return measure([sys.executable, "-c", code, str(out)], out.with_suffix(".log")).peak_rss_mb


def test_memory_stays_flat_as_messages_grow_tenfold(tmp_path):
    small = peak_rss_mb(10_000, tmp_path / "small")
    large = peak_rss_mb(100_000, tmp_path / "large")
    assert large - small < 15, f"{small:.0f} MB for 10k messages, {large:.0f} MB for 100k"


def test_teams_and_private_channels_shape_a_workspace_the_bench_routes_into_teams(tmp_path):
    """`--teams 2 --private-channels 3`: channels named for two teams, three private ones, which the drafted mapping
    routed by name (bench.stages.route_teams) turns into two teams, each with its private channels, and chats."""
    from bench import stages
    from migrator.plan import Manifest

    (tmp_path / "logs").mkdir()
    workspace = stages.generate(tmp_path, 600, channels=12, seed=4, teams=2, private_channels=3)
    conversations = SlackExport(workspace.export).conversations()
    private = [c.name for c in conversations if c.kind == ConversationKind.PRIVATE]
    assert len(private) == 3 and sum(name.startswith("t2-") for name in private) == 1
    publics = [c.name for c in conversations if c.kind == ConversationKind.PUBLIC]
    assert len(publics) == 9 and sum(name.startswith("t2-") for name in publics) == 4  # #general stays in team 1
    mappings = stages.mappings(workspace, tmp_path)
    stages.route_teams(mappings, 2)
    stages.transform(workspace, mappings, tmp_path / "plan", tmp_path)
    manifest = Manifest.read(tmp_path / "plan")
    assert [sum(c.membership == "private" for c in t.channels) for t in manifest.teams] == [2, 1]
    assert all(c.display_name.startswith("t2-") for c in manifest.teams[1].channels)
    assert manifest.chats


def test_more_private_channels_than_channels_are_refused(tmp_path):
    with pytest.raises(SampleError, match="--private-channels 3 leaves no public channel"):
        generate(tmp_path / "x", SampleOptions(channels=3, messages=10, private_channels=3))
