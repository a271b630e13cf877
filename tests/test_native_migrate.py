"""Real @mentions and reactions end to end (issue 21): the Slack sample lands them as Graph mentions and reactions,
and a tenant that refuses them (`--refuse-native-elements`) gets every such message in its text form instead,
journalled and counted, with verify clean either way."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from graphkit import ADA, ALAN, GRACE, KATHERINE
from migratekit import migrate_sample
from migrator.emulator.reading import Reading
from migrator.emulator.runner import EmulatorProcess
from migrator.journal import SENT_AS_TEXT, Journal
from migrator.plan import Manifest, read_lines
from migrator.timestamps import parse_ms
from plankit import IMG, assert_landed_exactly
from test_migrate import DIRECTORY, migrate, planned_messages
from test_sources_migrate import SAMPLES, target, target_process  # noqa: F401  (fixtures)
from tests.conftest import tenant_env


@pytest.fixture(scope="module")
def refusing_tenant(tmp_path_factory):
    """The sample's directory in a tenant that refuses every imported mention and reaction."""
    with EmulatorProcess(
        directory=DIRECTORY,
        tls_dir=tmp_path_factory.mktemp("refusing-tenant"),
        reading=Reading(refuse_native_elements=True),
    ) as emu:
        yield emu


def native_lines(plan: Path) -> dict[str, dict]:
    manifest = Manifest.read(plan)
    return {
        line["key"]: line
        for _, conv in manifest.conversations()
        for line in read_lines(plan, conv)
        if line.get("mentions") or line.get("reactions")
    }


def test_a_tenant_refusing_mentions_and_reactions_gets_their_text_form(
    refusing_tenant, monkeypatch, tmp_path, unpaced
) -> None:
    refusing_tenant.operator("config", {"channel_rps": 10_000})  # not about pacing
    for name, value in tenant_env(refusing_tenant).items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out"
    result = migrate(out)
    assert result.exit_code == 0, result.output
    planned, native = planned_messages(out / "plan"), native_lines(out / "plan")
    assert len(native) > 10
    verified = json.loads((out / "verify" / "verify.json").read_text())
    assert verified["ok"] and verified["expected"] == verified["found"] == planned
    assert f"{planned} posted, 0 already present, 0 failed" in result.output
    assert f"{len(native)} messages with mentions/reactions sent as text" in result.output
    with open(out / "load-report.csv", encoding="utf-8") as handle:
        assert sum(int(row["mentions_reactions_sent_as_text"]) for row in csv.DictReader(handle)) == len(native)
    with Journal(out / "journal.sqlite", readonly=True) as journal:
        degraded = {
            key
            for _, conv in Manifest.read(out / "plan").conversations()
            for key in journal.posted_as(conv.key, SENT_AS_TEXT)
        }
    assert degraded == set(native)
    dump = refusing_tenant.operator("dump")
    landed = [m for t in dump["teams"] for c in t["channels"] for r in c["messages"] for m in [r, *r["replies"]]]
    landed += [m for c in dump["chats"] for m in c["messages"]]
    assert not any(m["mentions"] or m["reactions"] for m in landed)
    by_time = {parse_ms(m["createdDateTime"]): m["body"]["content"] for m in landed}
    assert all(
        IMG.sub("IMG", by_time[parse_ms(line["createdDateTime"])]) == IMG.sub("IMG", line["text"])
        for line in native.values()
    )


# People the samples without Entra accounts mention and react as, mapped by hand in users.csv as a consultant would.
BY_HAND = {
    "mattermost": {"ada": ADA, "grace": GRACE, "alan": ALAN},
    "discord": {"180000000000000001": ADA, "180000000000000002": GRACE, "180000000000000003": ALAN},
    "teams": {},  # its authors are matched by the emails its export records
}


@pytest.mark.parametrize("sample", sorted(BY_HAND))
def test_each_source_lands_real_mentions_and_reactions(sample: str, target, tmp_path: Path) -> None:  # noqa: F811
    migration = migrate_sample(target, SAMPLES / sample, tmp_path, mapped=BY_HAND[sample])
    assert migration.loaded.ok and migration.verified.ok, migration.verified.as_json()
    dump = target.operator("dump")
    assert_landed_exactly(dump, migration.plan.plan_dir)  # every planned mention and reaction, as planned
    landed = [m for t in dump["teams"] for c in t["channels"] for r in c["messages"] for m in [r, *r["replies"]]]
    landed += [m for c in dump["chats"] for m in c["messages"]]
    assert any(m["mentions"] for m in landed) and any(m["reactions"] for m in landed)
    assert {mention["mentioned"]["user"]["id"] for message in landed for mention in message["mentions"]} <= {
        ADA,
        GRACE,
        ALAN,
        KATHERINE,
    }
    if sample == "mattermost":  # its reactions carry their own time (create_at), a minute or so after the post
        assert any(
            parse_ms(r["createdDateTime"]) > parse_ms(m["createdDateTime"]) for m in landed for r in m["reactions"]
        )
