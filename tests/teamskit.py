"""A Teams export made the way a consultant makes one: our exporter run against a tenant that has history.

The tenant is the emulator after a migration of the Slack sample (threads,
inline images, uploaded files, people mapped or posting through the
migration account) plus the demo directory's seeded chats (a 1:1 with a
system event, a group chat with a bot). Then one message is edited and one
deleted, and the export runs again, incrementally, as a daily job would: the
archive gets the new versions appended, which is what the Teams reader must
fold back into one message each.

`python tests/teamskit.py OUT` writes sample_data/teams/ this way.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from graphkit import ADA  # noqa: E402
from migratekit import migrate_sample  # noqa: E402
from migrator.emulator.runner import EmulatorProcess  # noqa: E402
from migrator.graph import GraphClient  # noqa: E402
from migrator.journal import Journal  # noqa: E402
from migrator.plan import Manifest, read_lines  # noqa: E402
from migrator.stages.export import ExportOptions, Target, export, export_limiter  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SLACK_SAMPLE = REPO / "sample_data" / "slack"
RUN_FILES = ("export.log", ".export.lock")  # about the run (timings, the emulator's address), not content


def write_teams_export(emulator: EmulatorProcess, work: Path, out: Path) -> Path:
    """Migrate the Slack sample into the emulator, export its main team and Ada's chats, edit and delete, export
    again.
    """
    migration = migrate_sample(emulator, SLACK_SAMPLE, work / "slack")
    assert migration.loaded.ok and migration.verified.ok, "the Slack sample must migrate cleanly first"
    plan_dir = migration.plan.plan_dir
    manifest = Manifest.read(plan_dir)
    with Journal(migration.journal, readonly=True) as journal:
        targets = [Target("team", str(journal.team_id(manifest.teams[0].key))), Target("user", ADA)]
        edits = _edits(journal, manifest, plan_dir)
    with GraphClient(emulator.graph_config(), limiter=export_limiter()) as client:
        assert export(client, targets, out, ExportOptions(workers=4)).ok
        for change in edits:
            emulator.operator("mutate", change)
        assert export(client, targets, out, ExportOptions(workers=4)).ok
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    return out


def _edits(journal: Journal, manifest: Manifest, plan_dir: Path) -> list[dict[str, str]]:
    """An edit of the first channel's third message and the deletion of its last reply."""
    _, channel = next(manifest.conversations())
    lines = list(read_lines(plan_dir, channel))
    posted = journal.posted(channel.key)
    conversation = str(journal.conversation_id(channel.key))
    reply = next(line for line in reversed(lines) if line["kind"] == "reply")
    return [
        {
            "op": "edit",
            "conversation": conversation,
            "message": posted[lines[2]["key"]],
            "content": "<p>Edited after the migration: the <b>numbers</b> were updated.</p>",
        },
        {"op": "delete", "conversation": conversation, "message": posted[reply["key"]]},
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1])
    if target.exists():
        shutil.rmtree(target)
    with tempfile.TemporaryDirectory() as scratch, EmulatorProcess() as emu:
        print(write_teams_export(emu, Path(scratch), target))
