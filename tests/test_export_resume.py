"""Incremental exports and interrupted runs: no gap, no duplicate, no page paid for twice without need."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from graphkit import ADA
from migrator.stages.export import ExportOptions, Target, export
from migrator.stages.export import runner as export_runner
from migrator.stages.export.archive import safe_name
from migrator.stages.export.runner import WATERMARK_OVERLAP_MS
from migrator.timestamps import parse_ms
from test_export import SampleTeam, archived, client_fixture, graph_fixture, team_fixture  # noqa: F401  (fixtures by name)


def versions(out: Path, target: Target) -> Counter:
    return Counter((m["id"], m["lastModifiedDateTime"]) for m in archived(out, target))


def state(out: Path) -> dict:
    return json.loads((out / "state.json").read_text())


EVERY_PAGE = ExportOptions(
    checkpoint_seconds=0
)  # save the cursor after every page, to test exactly where a run resumes


def test_the_cursor_is_saved_at_checkpoints_not_after_every_page(client, team, tmp_path):
    target = Target("team", team.id)
    with pytest.raises(Interrupted):
        export(client, [target], tmp_path, ExportOptions(checkpoint_seconds=3600), progress=StopAfter(1))
    assert not (tmp_path / "state.json").exists()  # no checkpoint yet: a rerun starts the window again
    again = export(client, [target], tmp_path, ExportOptions()).targets[0]
    assert not again.resumed and again.new == len(team.posted) - 50 and max(versions(tmp_path, target).values()) == 1


class Interrupted(Exception):
    """Stands for a crash or Ctrl-C at a chosen point of a run."""


class StopAfter:
    """A progress listener that interrupts the run after `pages` pages (after their cursor was saved)."""

    def __init__(self, pages: int) -> None:
        self.pages = pages

    def started(self, outcome) -> None:
        pass

    def finished(self, outcome) -> None:
        pass

    def page(self, outcome) -> None:
        if outcome.pages >= self.pages:
            raise Interrupted()


def test_a_daily_run_fetches_only_what_changed_since_the_last_complete_run(client, team, emulator, tmp_path):
    target = Target("team", team.id)
    first = export(client, [target], tmp_path, ExportOptions()).targets[0]
    newest = max(m["lastModifiedDateTime"] for m in team.posted.values())
    assert state(tmp_path)["targets"][target.key]["watermark"] == first.watermark == newest

    nothing = export(client, [target], tmp_path, ExportOptions()).targets[0]
    within_overlap = [
        m for m in team.posted.values() if parse_ms(m["lastModifiedDateTime"]) > parse_ms(newest) - WATERMARK_OVERLAP_MS
    ]
    assert nothing.messages == len(within_overlap) and nothing.new == 0 and nothing.pages == 1
    assert nothing.filter == f"lastModifiedDateTime gt {_minus(newest, WATERMARK_OVERLAP_MS)}"

    ids = sorted(team.posted, key=lambda i: parse_ms(team.posted[i]["createdDateTime"]))
    edited, removed = ids[0], ids[1]
    emulator.operator(
        "mutate", {"op": "edit", "conversation": team.alpha, "message": edited, "content": "<p>changed</p>"}
    )
    emulator.operator("mutate", {"op": "delete", "conversation": team.alpha, "message": removed})
    team.clock += 3_600_000
    added = team.post(team.beta, "a new day", ADA)
    daily = export(client, [target], tmp_path, ExportOptions()).targets[0]
    assert daily.new == 3 and daily.deleted == 1 and daily.messages == 3 + len(within_overlap)
    counts = versions(tmp_path, target)
    assert all(n == 1 for n in counts.values())  # each version once
    by_id = Counter(m["id"] for m in archived(tmp_path, target))
    assert by_id[edited] == 2 and by_id[removed] == 2 and by_id[added["id"]] == 1
    deleted = [m for m in archived(tmp_path, target) if m["id"] == removed and m["deletedDateTime"]]
    assert len(deleted) == 1  # the deleted message is kept, with deletedDateTime
    assert parse_ms(state(tmp_path)["targets"][target.key]["watermark"]) > parse_ms(newest)


def test_an_interrupted_run_resumes_at_the_page_it_had_not_written(client, team, tmp_path):
    target = Target("team", team.id)
    with pytest.raises(Interrupted):
        export(client, [target], tmp_path, EVERY_PAGE, progress=StopAfter(1))
    saved = state(tmp_path)["targets"][target.key]
    assert saved["watermark"] is None and "$skiptoken" in saved["cursor"]["url"]
    assert len(archived(tmp_path, target)) == 50
    resumed = export(client, [target], tmp_path, EVERY_PAGE).targets[0]
    assert resumed.resumed and resumed.status == "done"
    assert resumed.pages == -(-len(team.posted) // 50) - 1  # the written page is not fetched again
    assert sorted(versions(tmp_path, target)) == sorted(
        (m["id"], m["lastModifiedDateTime"]) for m in team.posted.values()
    )
    assert max(versions(tmp_path, target).values()) == 1
    assert state(tmp_path)["targets"][target.key]["cursor"] is None


@pytest.mark.parametrize("crash_on_page", [1, 2])
def test_a_crash_after_writing_a_page_but_before_saving_its_cursor_adds_no_duplicate(
    client, team, tmp_path, monkeypatch, crash_on_page
):
    target = Target("team", team.id)
    real, calls = export_runner.download_images, []
    total = len(team.posted)
    assert total > 50 >= total - 50  # two pages; the only image is on the first

    def crash(*args, **kwargs):
        calls.append(1)
        if len(calls) == crash_on_page:
            raise Interrupted()  # the page's lines are on disk; its images and cursor are not
        return real(*args, **kwargs)

    monkeypatch.setattr(export_runner, "download_images", crash)
    with pytest.raises(Interrupted):
        export(client, [target], tmp_path, EVERY_PAGE)
    assert len(archived(tmp_path, target)) == min(total, 50 * crash_on_page)
    monkeypatch.setattr(export_runner, "download_images", real)
    again = export(client, [target], tmp_path, EVERY_PAGE).targets[0]
    assert again.resumed == (crash_on_page == 2)  # no cursor was saved before the first page completed
    assert again.pages == 3 - crash_on_page and again.new == (total - 50 if crash_on_page == 1 else 0)
    assert again.images == (1 if crash_on_page == 1 else 0)  # a refetched page gets its missing images
    assert max(versions(tmp_path, target).values()) == 1 and len(archived(tmp_path, target)) == total


def test_a_line_cut_short_by_a_crash_is_repaired(client, team, tmp_path):
    target = Target("team", team.id)
    export(client, [target], tmp_path, ExportOptions())
    path = tmp_path / "teams" / safe_name(team.id) / f"{safe_name(team.beta)}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")
    export(client, [target], tmp_path, ExportOptions(full=True))
    assert path.read_text(encoding="utf-8") == "".join(lines)


def test_kill_9_in_the_middle_of_the_cli_then_rerun(emulator, tenant, team, tmp_path):
    """A real process killed hard while paging; the rerun completes the archive exactly."""
    env = {**os.environ, **tenant}
    command = [sys.executable, "-m", "migrator", "export", "team", team.id, "--out", str(tmp_path)]
    emulator.operator("faults", {"spec": "latency:1000ms"})  # the first page arrives after the 2 s checkpoint
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (tmp_path / "state.json").exists() and state(tmp_path)["targets"].get(f"team:{team.id}", {}).get("cursor"):
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    target = Target("team", team.id)
    assert 0 < len(archived(tmp_path, target)) < len(team.posted)
    emulator.operator("faults", {"spec": ""})
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads((tmp_path / "export-summary.json").read_text())
    assert summary["targets"][0]["resumed"] is True
    assert max(versions(tmp_path, target).values()) == 1
    assert sorted(versions(tmp_path, target)) == sorted(
        (m["id"], m["lastModifiedDateTime"]) for m in team.posted.values()
    )


def _minus(stamp: str, ms: int) -> str:
    from migrator.timestamps import format_ms

    return format_ms(parse_ms(stamp) - ms)


def test_a_paging_link_graph_no_longer_accepts_starts_the_window_again(client, team, tmp_path):
    target = Target("team", team.id)
    with pytest.raises(Interrupted):
        export(client, [target], tmp_path, EVERY_PAGE, progress=StopAfter(1))
    saved = state(tmp_path)
    cursor = saved["targets"][target.key]["cursor"]
    cursor["url"] = cursor["url"].split("$skiptoken=")[0] + "$skiptoken=expired!"
    (tmp_path / "state.json").write_text(json.dumps(saved))
    again = export(client, [target], tmp_path, EVERY_PAGE).targets[0]
    assert again.status == "done" and again.resumed and "paging link was refused" in again.notes[0]
    assert again.pages == -(-len(team.posted) // 50) and again.new == len(team.posted) - 50
    assert max(versions(tmp_path, target).values()) == 1


def test_a_window_that_ends_before_the_watermark_fetches_nothing_unless_full(client, team, tmp_path):
    target = Target("team", team.id)
    export(client, [target], tmp_path, ExportOptions())
    until = parse_ms(min(m["lastModifiedDateTime"] for m in team.posted.values())) + 1
    early = export(client, [target], tmp_path, ExportOptions(until_ms=until)).targets[0]
    assert early.status == "done" and early.pages == 0 and "use --full" in early.notes[-1]
    full = export(client, [target], tmp_path, ExportOptions(until_ms=until, full=True)).targets[0]
    assert full.pages == 1 and full.messages == 1 and full.new == 0


def test_a_damaged_meta_file_is_written_again_from_graph(client, team, tmp_path):
    """meta.json holding something other than an object (a crash, a hand edit) is read as unreadable meta is: the
    names are looked up again rather than the export stopping."""
    target = Target("team", team.id)
    export(client, [target], tmp_path, ExportOptions())
    meta = tmp_path / "teams" / safe_name(team.id) / "meta.json"
    written = json.loads(meta.read_text(encoding="utf-8"))
    meta.write_text("[]\n", encoding="utf-8")
    assert export(client, [target], tmp_path, ExportOptions()).targets[0].status == "done"
    assert json.loads(meta.read_text(encoding="utf-8")) == written


def test_a_cut_line_longer_than_a_read_block_is_removed_too(tmp_path):
    from migrator.stages.export.archive import TargetArchive

    complete = json.dumps({"id": "1", "chatId": "19:c", "lastModifiedDateTime": "2024-01-01T00:00:00.000Z"}) + "\n"
    path = tmp_path / "19%3Ac.jsonl"
    path.write_text(complete + '{"id": "2", "body": "' + "x" * 200_000, encoding="utf-8")
    archive = TargetArchive(tmp_path)
    archive.open(None)
    assert path.read_text(encoding="utf-8") == complete and archive.lines == {path.name: 1}


def test_two_runs_cannot_write_into_the_same_folder(client, tmp_path):
    from migrator.stages.export import StateError
    from migrator.stages.export.state import ExportState

    with ExportState(tmp_path), pytest.raises(StateError, match="another export is writing into this folder"):
        export(client, [Target("user", ADA)], tmp_path, ExportOptions())
    assert export(client, [Target("user", ADA)], tmp_path, ExportOptions()).ok  # released when the first one ends


def test_state_changes_are_written_at_most_once_per_interval_and_always_on_close(tmp_path):
    from migrator.stages.export.state import Cursor, ExportState

    with ExportState(tmp_path, flush_seconds=3600) as saved:
        saved.save_cursor(
            "team:a", None, Cursor(url="https://g/next?$skiptoken=1", filter=None, model=None, seen_max=None)
        )
        first = state(tmp_path)  # the first change is written at once
        saved.complete("team:a", None, "2024-01-01T00:00:00.000Z", "2024-01-02T00:00:00.000Z")
        saved.complete("team:b", None, "2024-01-03T00:00:00.000Z", "2024-01-04T00:00:00.000Z")
        assert state(tmp_path) == first and first["targets"]["team:a"]["cursor"]["url"].endswith("=1")
    written = state(tmp_path)["targets"]
    assert written["team:a"]["cursor"] is None and written["team:a"]["watermark"] == "2024-01-01T00:00:00.000Z"
    assert written["team:b"]["watermark"] == "2024-01-03T00:00:00.000Z"
