"""`--attachments download`: files attached by link fetched through Graph's shares API; what cannot be is listed."""

from __future__ import annotations

import base64

from graphkit import ADA, GRACE
from migrator.stages.export import ExportOptions, Target, export
from migrator.stages.export.archive import safe_name
from migrator.stages.export.files import file_dir, linked_files, share_id
from test_export import SampleTeam, client_fixture, graph_fixture, team_fixture  # noqa: F401  (fixtures by name)

DOWNLOAD = ExportOptions(attachments="download")


def attach_then_delete(team: SampleTeam) -> dict:
    """A message whose file was deleted after it was posted: its link answers 404."""
    folder = team.graph.ok("GET", f"/teams/{team.id}/channels/{team.beta}/filesFolder")
    drive, parent = folder["parentReference"]["driveId"], folder["id"]
    gone = team.graph.ok("PUT", f"/drives/{drive}/items/{parent}:/gone.txt:/content", data=b"soon gone")
    posted = team.post(
        team.beta,
        '<p>see</p><attachment id="g1"></attachment>',
        GRACE,
        attachments=[{"id": "g1", "contentType": "reference", "contentUrl": gone["webUrl"], "name": "gone.txt"}],
    )
    assert team.graph.call("DELETE", f"/drives/{drive}/items/{gone['id']}").status_code == 204
    return posted


def test_files_are_downloaded_and_those_graph_refuses_are_listed_without_failing(client, team, tmp_path):
    deleted = attach_then_delete(team)
    targets = [Target("team", team.id), Target("user", ADA)]
    outcome = export(client, targets, tmp_path, DOWNLOAD)
    channel, chats = outcome.targets
    assert channel.status == chats.status == "done"
    with_file = next(m for m in team.posted.values() if "att-7" in m["body"]["content"])
    saved = file_dir(tmp_path / "teams" / safe_name(team.id), team.alpha, with_file["id"]) / "plan.txt"
    assert saved.read_bytes() == b"the plan" and channel.files == 1
    [gone] = channel.file_failures
    assert gone.startswith(f"message {deleted['id']}: file gone.txt: 404") and "deleted or moved" in gone
    assert len(chats.file_failures) == 1 and "Launch draft.docx" in chats.file_failures[0]
    assert "another tenant" in chats.file_failures[0] and "403" in chats.file_failures[0]
    assert outcome.ok  # a file Graph will not give is listed, not a failure of the export
    assert "1 file," in outcome.summary()

    again = export(client, targets, tmp_path, ExportOptions(attachments="download", full=True)).targets[0]
    assert again.files == 0 and again.files_present == 1 and len(again.file_failures) == 1


def test_without_the_option_no_file_is_requested(client, team, tmp_path):
    outcome = export(client, [Target("team", team.id)], tmp_path, ExportOptions())
    assert outcome.targets[0].files == 0 and not (tmp_path / "teams" / safe_name(team.id) / "files").exists()


def test_the_share_id_is_the_link_in_unpadded_base64url_and_names_are_made_safe():
    url = "https://contoso.sharepoint.com/sites/a/Shared%20Documents/x?y=1"
    assert share_id(url) == "u!" + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    message = {
        "attachments": [
            {"id": "1", "contentType": "reference", "contentUrl": "https://h/a", "name": "../../etc/passwd"},
            {"id": "2", "contentType": "reference", "contentUrl": "https://h/b", "name": "same.txt"},
            {"id": "3", "contentType": "reference", "contentUrl": "https://h/c", "name": "same.txt"},
            {"id": "4", "contentType": "reference", "contentUrl": "https://h/d", "name": ".."},
            {"id": "5", "contentType": "application/vnd.microsoft.card.adaptive", "content": "{}"},
            {"id": "6", "contentType": "reference", "contentUrl": "javascript:alert(1)", "name": "x"},
        ]
    }
    names = {key: name for key, (_, name) in linked_files(message).items()}
    assert names == {"1": ".._.._etc_passwd", "2": "2-same.txt", "3": "3-same.txt", "4": "4"}


def test_an_app_without_files_readwrite_gets_each_file_listed_as_refused(emulator, team, tmp_path):
    """Graph lists no read-only application permission for the shares API: the export-only app is refused."""
    from migrator.graph import GraphClient, RateLimiter

    reader = emulator.graph_config("b1f1c0de-0000-4000-8000-000000000002", "reader-secret-not-for-production")
    with GraphClient(reader, limiter=RateLimiter.unlimited()) as client:
        result = export(client, [Target("team", team.id)], tmp_path, DOWNLOAD).targets[0]
    assert result.status == "done" and result.files == 0
    [refused] = result.file_failures
    assert "file plan.txt: 403" in refused and "Files.ReadWrite.All" in refused
