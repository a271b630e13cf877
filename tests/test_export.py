"""Export against the emulator over HTTPS: paging, files as Graph returned them, images, attachments, filters."""

from __future__ import annotations

import base64
import csv
import json
import struct
import zlib
from pathlib import Path

import pytest

from graphkit import ADA, ALAN, GRACE, RawGraph, author, message
from migrator.graph import GraphClient, RateLimiter
from migrator.stages.export import ExportOptions, FilterError, MessageFilter, Target, export
from migrator.stages.export.archive import read_messages, safe_name
from migrator.stages.export.filters import build_filter, parse_moment
from migrator.timestamps import format_ms, parse_ms

START = parse_ms("2021-03-01T09:00:00.000Z")
NAMES = {ADA: "Ada Lovelace", GRACE: "Grace Hopper", ALAN: "Alan Turing"}


def png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real (decodable) PNG, so a browser can show it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


IMAGE = png()


class SampleTeam:
    """A team built over raw HTTP: `alpha` (roots, replies, an image, a file) and `beta`; `posted` by id."""

    def __init__(self, graph: RawGraph, alpha_roots: int = 60, beta_roots: int = 15) -> None:
        self.graph = graph
        self.id = graph.create_team("Export Co")
        self.alpha = graph.create_channel(self.id, "Alpha")
        self.beta = graph.create_channel(self.id, "Beta")
        self.posted: dict[str, dict] = {}
        self.clock = START
        folder = graph.ok("GET", f"/teams/{self.id}/channels/{self.alpha}/filesFolder")
        drive, parent = folder["parentReference"]["driveId"], folder["id"]
        self.file = graph.ok("PUT", f"/drives/{drive}/items/{parent}:/plan.txt:/content", data=b"the plan")
        people = [ADA, GRACE, ALAN]
        for i in range(alpha_roots):
            extra, content = {}, f"<p>alpha {i} <b>bold</b></p>"
            if i == 3:
                content += '<img src="../hostedContents/1/$value">'
                extra["hostedContents"] = [
                    {
                        "@microsoft.graph.temporaryId": "1",
                        "contentBytes": base64.b64encode(IMAGE).decode(),
                        "contentType": "image/png",
                    }
                ]
            if i == 7:
                content += '<attachment id="att-7"></attachment>'
                extra["attachments"] = [
                    {"id": "att-7", "contentType": "reference", "contentUrl": self.file["webUrl"], "name": "plan.txt"}
                ]
            root = self.post(self.alpha, content, people[i % 2], **extra)
            if i % 10 == 0:
                for r in range(2):
                    self.post(self.alpha, f"reply {r} to {i}", people[(i + r + 1) % 3], reply_to=root["id"])
        for i in range(beta_roots):
            self.post(self.beta, f"beta {i}", people[i % 3])

    def post(self, channel: str, content: str, who: str, reply_to: str | None = None, **extra) -> dict:
        self.clock += 10_000  # the whole team spans longer than the export's watermark overlap
        path = f"/teams/{self.id}/channels/{channel}/messages" + (f"/{reply_to}/replies" if reply_to else "")
        body = message(format_ms(self.clock), content, who, **extra)
        body["from"] = author(who, NAMES[who])
        posted = self.graph.ok("POST", path, json=body)
        self.posted[posted["id"]] = posted
        return posted

    def export_view(self) -> dict[str, dict]:
        """Every message as getAllMessages returns it, by id (the oracle for file contents)."""
        found, link = {}, f"/teams/{self.id}/channels/getAllMessages"
        params = {"$top": "50"}
        while link:
            page = self.graph.ok("GET", link, params=params)
            found.update({m["id"]: m for m in page["value"]})
            link, params = page.get("@odata.nextLink"), {}
        return found


@pytest.fixture(name="graph")
def graph_fixture(emulator) -> RawGraph:
    emulator.operator("config", {"channel_rps": 10_000})
    return RawGraph(emulator)


@pytest.fixture(name="team")
def team_fixture(graph) -> SampleTeam:
    return SampleTeam(graph)


@pytest.fixture(name="client")
def client_fixture(emulator):
    with GraphClient(
        emulator.graph_config(), limiter=RateLimiter(per_key=5, shared=200), backoff_base=0.05
    ) as graph_client:
        yield graph_client


def archived(out: Path, target: Target) -> list[dict]:
    """Every line of every JSONL file of a target."""
    root = out / target.folder / safe_name(target.id)
    return [m for path in sorted(root.glob("*.jsonl")) for m in read_messages(path)]


def test_a_team_is_paged_to_the_end_and_written_as_graph_returned_it(client, team, tmp_path):
    target = Target("team", team.id)
    outcome = export(client, [target], tmp_path, ExportOptions())
    result = outcome.targets[0]
    total = len(team.posted)
    assert result.status == "done" and result.name == "Export Co"
    assert result.messages == result.new == total and result.pages == -(-total // 50)
    lines = archived(tmp_path, target)
    assert len(lines) == total and len({m["id"] for m in lines}) == total
    assert {m["id"]: m for m in lines} == team.export_view()  # byte for byte what Graph returned
    root = tmp_path / "teams" / safe_name(team.id)
    alpha = list(read_messages(root / f"{safe_name(team.alpha)}.jsonl"))
    assert {m["channelIdentity"]["channelId"] for m in alpha} == {team.alpha}
    replies = [m for m in alpha if m["replyToId"]]
    assert len(replies) == 12 and all(m["replyToId"] in team.posted for m in replies)
    assert result.conversations == 2
    meta = json.loads((root / "meta.json").read_text())
    assert meta["name"] == "Export Co" and meta["conversations"][team.beta]["name"] == "Beta"


def test_inline_images_are_downloaded_next_to_the_jsonl_and_attachments_listed(client, team, tmp_path):
    target = Target("team", team.id)
    result = export(client, [target], tmp_path, ExportOptions()).targets[0]
    assert result.images == 1 and not result.image_failures and result.attachments == 1
    with_image = next(m for m in team.posted.values() if "hostedContents" in m["body"]["content"])
    files = list(
        (
            tmp_path
            / "teams"
            / safe_name(team.id)
            / "hostedContents"
            / safe_name(team.alpha)
            / safe_name(with_image["id"])
        ).glob("*")
    )
    assert [f.suffix for f in files] == [".png"] and files[0].read_bytes() == IMAGE
    with open(tmp_path / "teams" / safe_name(team.id) / "attachments.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["name"], r["contentUrl"], r["conversation"]) for r in rows] == [
        ("plan.txt", team.file["webUrl"], team.alpha)
    ]
    again = export(client, [target], tmp_path, ExportOptions(full=True)).targets[0]
    assert again.images == 0 and again.images_present == 1 and again.new == 0


def test_chats_of_users_are_exported_per_chat(client, emulator, tmp_path):
    ada, katherine = Target("user", ADA), Target("user", "a0000000-0000-4000-8000-000000000005")
    outcome = export(client, [ada, katherine, ada], tmp_path, ExportOptions())
    assert [t.status for t in outcome.targets] == ["done", "done"]
    lines = archived(tmp_path, ada)
    assert len(lines) == 6 and {m["chatId"] for m in lines} == {
        "19:a0000000-0000-4000-8000-000000000002_a0000000-0000-4000-8000-000000000003@unq.gbl.spaces",
        "19:0f1e2d3c4b5a69788796a5b4c3d2e1f0@thread.v2",
    }
    assert outcome.targets[0].name == "Ada Lovelace" and outcome.targets[1].messages == 0
    meta = json.loads((tmp_path / "users" / ADA / "meta.json").read_text())
    assert meta["conversations"]["19:0f1e2d3c4b5a69788796a5b4c3d2e1f0@thread.v2"]["name"] == "Launch planning"


# ------------------------------------------------------------------ filters
SYSTEM_FORMS = [
    (MessageFilter(), None),
    (MessageFilter(from_users=(GRACE,)), f"from/user/id eq '{GRACE}'"),
    (MessageFilter(from_users=(GRACE, ALAN)), f"from/user/id eq '{GRACE}' or from/user/id eq '{ALAN}'"),
    (MessageFilter(user_types=("aadUser",)), "from/user/userIdentityType eq 'aadUser'"),
    (MessageFilter(app_types=("bot",)), "from/application/applicationIdentityType eq 'bot'"),
    (MessageFilter(system_messages="only"), "messageType eq 'systemEventMessage'"),
    (MessageFilter(system_messages="exclude"), "messageType ne 'systemEventMessage'"),
    (MessageFilter(system_messages="include"), None),
    (
        MessageFilter(app_types=("bot",), system_messages="include"),
        "from/application/applicationIdentityType eq 'bot' or messageType eq 'systemEventMessage'",
    ),
    (
        MessageFilter(from_users=(ADA,), user_types=("federatedUser",), app_types=("bot", "tenantBot")),
        f"from/user/id eq '{ADA}' or from/user/userIdentityType eq 'federatedUser' or "
        "from/application/applicationIdentityType eq 'bot' or from/application/applicationIdentityType eq 'tenantBot'",
    ),
]


def expected(
    messages: list[dict], message_filter: MessageFilter, since: int | None = None, until: int | None = None
) -> set[str]:
    """What the filter means, computed here from an unfiltered export."""

    def sender_ok(m: dict) -> bool:
        user, app = (m["from"] or {}).get("user") or {}, (m["from"] or {}).get("application") or {}
        system = m["messageType"] == "systemEventMessage"
        senders = (
            user.get("id") in message_filter.from_users
            or user.get("userIdentityType") in message_filter.user_types
            or app.get("applicationIdentityType") in message_filter.app_types
        )
        if message_filter.senders:
            return senders or (message_filter.system_messages == "include" and system)
        return {"only": system, "exclude": not system}.get(message_filter.system_messages, True)

    def date_ok(m: dict) -> bool:
        modified = parse_ms(m["lastModifiedDateTime"])
        return (since is None or modified > since) and (until is None or modified < until)

    return {f"{m['chatId']}|{m['id']}" for m in messages if sender_ok(m) and date_ok(m)}


@pytest.mark.parametrize("message_filter, clause", SYSTEM_FORMS)
def test_every_sender_filter_form_selects_what_it_says(client, tmp_path, message_filter, clause):
    assert message_filter.clause() == clause
    everyone = Target("user", GRACE)
    export(client, [everyone], tmp_path / "all", ExportOptions())
    result = export(client, [everyone], tmp_path / "filtered", ExportOptions(message_filter=message_filter)).targets[0]
    assert result.status == "done" and result.filter == clause
    got = {f"{m['chatId']}|{m['id']}" for m in archived(tmp_path / "filtered", everyone)}
    assert got == expected(archived(tmp_path / "all", everyone), message_filter)


@pytest.mark.parametrize(
    "since, until",
    [
        ("2024-01-10T09:01:00Z", None),
        (None, "2024-02-01"),
        ("2024-01-10T09:02:00Z", "2024-02-01T10:06:00.000Z"),
        ("2024-01-10", "2024-01-11"),
    ],
)
def test_date_ranges_use_last_modified_gt_and_lt(client, tmp_path, since, until):
    since_ms = parse_moment(since, "--since") if since else None
    until_ms = parse_moment(until, "--until") if until else None
    target = Target("user", ADA)
    export(client, [target], tmp_path / "all", ExportOptions())
    combined = MessageFilter(from_users=(ADA, GRACE), system_messages="include")
    for message_filter in (MessageFilter(), combined):
        out = tmp_path / str(bool(message_filter.senders))
        result = export(client, [target], out, ExportOptions(message_filter, since_ms, until_ms)).targets[0]
        assert result.status == "done", result.error
        got = {f"{m['chatId']}|{m['id']}" for m in archived(out, target)}
        assert got == expected(archived(tmp_path / "all", target), message_filter, since_ms, until_ms)
        assert result.filter == build_filter(message_filter, since_ms, until_ms)


def test_the_filter_grammar_graph_accepts():
    since, until = parse_ms("2024-01-01T00:00:00Z"), parse_ms("2024-02-01T00:00:00Z")
    assert build_filter(MessageFilter(), since, until) == (
        "lastModifiedDateTime gt 2024-01-01T00:00:00.000Z and lastModifiedDateTime lt 2024-02-01T00:00:00.000Z"
    )
    assert build_filter(MessageFilter(from_users=(ADA,)), since, None) == (
        f"lastModifiedDateTime gt 2024-01-01T00:00:00.000Z and from/user/id eq '{ADA}'"
    )
    assert build_filter(MessageFilter(from_users=(ADA, GRACE)), None, until) == (
        f"lastModifiedDateTime lt 2024-02-01T00:00:00.000Z and (from/user/id eq '{ADA}' or from/user/id eq '{GRACE}')"
    )
    assert parse_moment("2024-05-01", "--since") == parse_ms("2024-05-01T00:00:00Z")


@pytest.mark.parametrize(
    "options, says",
    [
        (ExportOptions(MessageFilter(from_users=(ADA,), system_messages="exclude")), "every non-system message"),
        (ExportOptions(MessageFilter(app_types=("bot",), system_messages="only")), "system messages plus the senders"),
        (ExportOptions(MessageFilter(user_types=("robot",))), "--user-type 'robot' is not a type Graph knows"),
        (ExportOptions(MessageFilter(app_types=("aadUser",))), "--app-type 'aadUser'"),
        (ExportOptions(MessageFilter(from_users=("ada@contoso.example",))), "not an Entra object id"),
        (ExportOptions(MessageFilter(system_messages="some")), "--system-messages 'some'"),
        (
            ExportOptions(since_ms=parse_ms("2024-02-01T00:00:00Z"), until_ms=parse_ms("2024-01-01T00:00:00Z")),
            "is not before --until",
        ),
        (ExportOptions(model="C"), "--model 'C'"),
    ],
)
def test_combinations_graph_refuses_are_refused_before_any_request(client, tmp_path, options, says):
    with pytest.raises(FilterError, match=says):
        export(client, [Target("user", ADA)], tmp_path, options)
    assert client.stats.snapshot()["requests"] == 0
    assert not (tmp_path / "state.json").exists()


def test_a_changed_sender_filter_is_refused_for_an_existing_archive(client, tmp_path):
    from migrator.stages.export import StateError

    export(client, [Target("user", ADA)], tmp_path, ExportOptions(MessageFilter(from_users=(ADA,))))
    with pytest.raises(StateError, match="was exported with the sender filter"):
        export(client, [Target("user", ADA)], tmp_path, ExportOptions())
    assert export(client, [Target("user", GRACE)], tmp_path, ExportOptions()).ok  # another target is free


def test_messages_of_bots_and_system_events_keep_their_shape(client, tmp_path):
    target = Target("user", ALAN)
    export(client, [target], tmp_path, ExportOptions())
    bot = next(m for m in archived(tmp_path, target) if m["from"]["application"])
    assert bot["from"]["application"]["applicationIdentityType"] == "bot" and bot["from"]["user"] is None
