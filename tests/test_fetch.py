"""`migrator fetch` against the Slack emulator over HTTPS: every case of issue 29.

The export is the sample as a standard export gives it (links only; `fetchkit`): five files Slack serves,
one it answers 404 for, one deleted and one hidden before the export, one external; two people without an
email of whom Slack knows both addresses.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from typer.testing import CliRunner, Result

from bench.fetching import linked_export
from fetchkit import EXPORT_TOKEN, SAMPLE, TOKEN, every_file_under, files_folder, slack_emulator, standard_export
from migrator.cli import app
from migrator.emulator.runner import SlackEmulatorProcess
from migrator.slack.config import SlackConfig
from migrator.slack.web import SlackWeb
from migrator.stages.fetch import LOCK_FILE

SERVED = {"F01CHART", "F02RUNBOOK", "F05MOCKUP", "F06PHOTO", "F07PLAN", "F08BENCH", "F09BOOKING"}
DEFAULTS = {"files_rps": 1000, "users_per_minute": 1000, "signin": []}


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackEmulatorProcess]:
    root = tmp_path_factory.mktemp("slack")
    standard_export(root)
    shutil.rmtree(files_folder(root) / "__uploads" / "F03DECK")  # Slack answers 404 for it: deleted since
    with slack_emulator(root) as emulator:
        yield emulator


@pytest.fixture
def fresh(slack: SlackEmulatorProcess) -> SlackEmulatorProcess:
    slack.operator("reset", {})
    slack.operator("faults", {"spec": ""})
    slack.operator("config", DEFAULTS)
    return slack


def fetch(slack: SlackEmulatorProcess, out: Path, token: str = TOKEN, *extra: str) -> Result:
    result = CliRunner().invoke(
        app, ["fetch", str(slack.export), "--out", str(out), *extra], env=slack.env(token), catch_exceptions=False
    )
    print(result.output)
    assert "Traceback" not in result.output
    return result


def report(out: Path) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((out / "fetch-report.json").read_text()))


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in every_file_under(folder)}


def test_fetch_gets_every_served_file_and_the_missing_emails_and_counts_the_rest(
    fresh: SlackEmulatorProcess, tmp_path: Path
) -> None:
    export_before = digest(fresh.export)
    result = fetch(fresh, tmp_path / "fetched")
    assert result.exit_code == 0
    totals = report(tmp_path / "fetched")["totals"]
    assert {k: totals[k] for k in ("files", "fetched", "deleted", "hidden", "external", "refused", "failed")} == {
        "files": 11,
        "fetched": 7,
        "deleted": 2,  # tombstoned before the export, and 404 now
        "hidden": 1,
        "external": 1,
        "refused": 0,
        "failed": 0,
    }
    assert totals["balanced"]
    assert_every_served_file_fetched(tmp_path / "fetched")
    not_fetched = {row["file"]: row for row in report(tmp_path / "fetched")["not_fetched"]}
    assert not_fetched["F03DECK"]["status"] == "deleted" and "404" in not_fetched["F03DECK"]["reason"]
    assert not_fetched["F10HIDDEN"]["status"] == "hidden" and not_fetched["F04GDOC"]["status"] == "external"
    users = {u["id"]: u for u in json.loads((tmp_path / "fetched" / "users.json").read_text())}
    assert users["U08SOREN"]["profile"]["email"] == "soren@contoso.example"
    assert users["U10ZOE"]["profile"]["email"] == "zoe@contoso.example"
    people = report(tmp_path / "fetched")["people"]
    assert (people["without_email"], people["found"], people["still_without"]) == (2, 2, [])
    rows = {row["name"]: row for row in report(tmp_path / "fetched")["conversations"]}
    assert (rows["engineering"]["fetched"], rows["engineering"]["deleted"], rows["engineering"]["external"]) == (
        2,
        1,
        1,
    )
    assert rows["random"]["hidden"] == 1 and rows["leadership"]["fetched"] == 1
    assert digest(fresh.export) == export_before  # the export itself is never modified
    assert fresh.operator("stats")["query_tokens"] == 0  # the link's ?t= token was never sent
    assert "7 fetched" in result.output and "2 of 2 people without an email" in result.output
    assert (tmp_path / "fetched" / "fetch-report.html").read_text().count("F03DECK") == 1


def test_neither_token_is_written_anywhere_nor_printed(fresh: SlackEmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "fetched"
    result = fetch(fresh, out)
    assert result.exit_code == 0
    written = list(every_file_under(out))
    assert len(written) >= 8
    for path in written:
        data = path.read_bytes()
        assert TOKEN.encode() not in data and EXPORT_TOKEN.encode() not in data, path
        assert b"xox" not in data, path
    assert TOKEN not in result.output and EXPORT_TOKEN not in result.output


def test_a_second_run_downloads_only_what_is_missing(fresh: SlackEmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "fetched"
    assert fetch(fresh, out).exit_code == 0
    chart = next((out / "__uploads" / "F01CHART").iterdir())
    chart.unlink()
    next((out / "__uploads" / "F06PHOTO").iterdir()).write_bytes(b"cut short")  # a size that does not match
    fresh.operator("reset", {})
    assert fetch(fresh, out).exit_code == 0
    totals = report(out)["totals"]
    assert (totals["fetched"], totals["already"]) == (2, 5)
    assert fresh.operator("stats")["files"] == 3  # the two missing ones, and the 404 asked again
    assert chart.read_bytes() == (SAMPLE / "__uploads" / "F01CHART" / "signups.png").read_bytes()


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("xoxb-not-a-token", "is not a valid Slack token"),
        ("xoxb-emulator-no-email-scope", "lacks the scope users:read.email"),
        ("xoxb-emulator-other-workspace", "belongs to the workspace Another workspace (T0OTHERTEAM), but the export"),
        ("", "SLACK_TOKEN is not set"),
    ],
)
def test_a_token_that_cannot_do_the_job_stops_before_any_download(
    fresh: SlackEmulatorProcess, tmp_path: Path, token: str, words: str
) -> None:
    result = fetch(fresh, tmp_path / "fetched", token)
    assert result.exit_code == 2 and words in result.output
    stats = fresh.operator("stats")
    assert stats["files"] == 0 and stats["users.list"] == 0 and stats["auth.test"] <= 1
    assert not (tmp_path / "fetched" / "__uploads").exists()


def test_one_fetch_at_a_time_writes_into_a_folder(fresh: SlackEmulatorProcess, tmp_path: Path) -> None:
    out = tmp_path / "fetched"
    out.mkdir()
    with open(out / LOCK_FILE, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another fetch, running
        result = fetch(fresh, out)
    assert result.exit_code == 2 and "another fetch is writing into this folder" in result.output
    assert fresh.operator("stats")["files"] == 0


def test_http_is_refused_for_a_host_that_is_not_loopback(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["fetch", str(SAMPLE), "--out", str(tmp_path)],
        env={"SLACK_TOKEN": TOKEN, "MIGRATOR_SLACK_URL": "http://slack-mirror.example"},
    )
    assert result.exit_code == 2 and "plain http is accepted only for a loopback address" in result.output


def test_the_sign_in_page_is_never_stored_as_the_file(fresh: SlackEmulatorProcess, tmp_path: Path) -> None:
    fresh.operator("config", {"signin": ["F01CHART"]})  # Slack's answer once the token lost access to it
    out = tmp_path / "fetched"
    result = fetch(fresh, out)
    assert result.exit_code == 1 and "1 failed" in result.output
    assert not (out / "__uploads" / "F01CHART").exists()
    [failed] = [row for row in report(out)["not_fetched"] if row["status"] == "failed"]
    assert failed["file"] == "F01CHART" and "sign-in page" in failed["reason"]
    assert not list((out / ".partial").glob("*"))


def test_the_sign_in_page_for_a_bad_token_is_recognised_on_download(
    fresh: SlackEmulatorProcess, tmp_path: Path
) -> None:
    """Even past auth.test (a token revoked mid-run), the 200 HTML answer is not taken for the file."""
    from migrator.graph.ratelimit import RateLimiter
    from migrator.slack.download import Downloader, Result, Wanted

    config = SlackConfig.from_env({**fresh.env("xoxb-revoked")})
    wanted = Wanted(
        "F02RUNBOOK", "runbook.txt", f"{fresh.url}/files-pri/T01NORTHWIND-F02RUNBOOK/runbook.txt", 145, "text/plain"
    )
    done = Downloader(config, tmp_path / ".partial", RateLimiter.unlimited()).fetch(wanted, tmp_path / "runbook.txt")
    assert done.result is Result.FAILED and "sign-in page" in done.reason
    assert not (tmp_path / "runbook.txt").exists()


def test_files_the_token_may_not_read_are_counted_apart(fresh: SlackEmulatorProcess, tmp_path: Path) -> None:
    result = fetch(fresh, tmp_path / "fetched", "xoxb-emulator-public-only")
    assert result.exit_code == 0
    totals = report(tmp_path / "fetched")["totals"]
    assert (totals["fetched"], totals["refused"]) == (4, 3)  # the private channel's file and the two DMs'
    refused = [r["file"] for r in report(tmp_path / "fetched")["not_fetched"] if r["status"] == "refused"]
    assert sorted(refused) == ["F07PLAN", "F08BENCH", "F09BOOKING"]


def assert_every_served_file_fetched(out: Path) -> None:
    for file_id in SERVED:
        [fetched] = (out / "__uploads" / file_id).iterdir()
        assert fetched.read_bytes() == next((SAMPLE / "__uploads" / file_id).iterdir()).read_bytes()


def test_429s_are_waited_out_after_retry_after(fresh: SlackEmulatorProcess, tmp_path: Path) -> None:
    fresh.operator("config", {"files_rps": 2})
    out = tmp_path / "fetched"
    result = fetch(fresh, out, TOKEN, "--rps", "100")
    assert result.exit_code == 0
    assert report(out)["requests"]["downloads_throttled"] == fresh.operator("stats")["throttled"] > 0
    assert_every_served_file_fetched(out)


def test_errors_and_cut_downloads_are_retried(fresh: SlackEmulatorProcess, tmp_path: Path) -> None:
    fresh.operator("faults", {"spec": "500:0.2,drop:0.2", "seed": 6})  # drop: half the file, then the line goes
    out = tmp_path / "fetched"
    result = fetch(fresh, out)
    assert result.exit_code == 0
    assert sum(fresh.operator("faults", {"spec": ""})["injected"].values()) > 0
    assert report(out)["totals"]["fetched"] == 7
    assert_every_served_file_fetched(out)


def test_users_list_is_paged_with_its_cursor(fresh: SlackEmulatorProcess) -> None:
    web = SlackWeb(SlackConfig.from_env(fresh.env(TOKEN)))
    emails = dict(web.emails(page=5))
    assert fresh.operator("stats")["users.list"] == 3  # 12 users, 5 a page
    assert emails["U10ZOE"] == "zoe@contoso.example" and "U11DEPLOY" not in emails


def test_kill_9_leaves_no_partial_file_and_the_next_run_completes(tmp_path: Path) -> None:
    sizes = [6 * 1024 * 1024] * 4
    export, files = linked_export(tmp_path, sizes)
    out = tmp_path / "fetched"
    with SlackEmulatorProcess(
        export, files, tls_dir=tmp_path / "tls", extra_args=["--faults", "latency:50ms"]
    ) as slack:
        command = [sys.executable, "-m", "migrator", "fetch", str(export), "--out", str(out), "--workers", "2"]
        env = {**os.environ, **slack.env(TOKEN)}
        for _ in range(1):
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while not any((out / ".partial").glob("*.part")) and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait()
            for path in (out / "__uploads").rglob("*") if (out / "__uploads").exists() else []:
                assert path.is_dir() or path.stat().st_size == sizes[0], path  # only complete files have final names
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for folder in (files / "__uploads").iterdir():
        [original] = folder.iterdir()
        assert (out / "__uploads" / folder.name / original.name).read_bytes() == original.read_bytes()
