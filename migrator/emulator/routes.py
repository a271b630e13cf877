"""Graph's URL surface: each route parses its request and calls one rule in `models`.

Paths are written without the `/v1.0` or `/beta` prefix; both versions serve
them (beta-only routes say so). Each route is an entry of `migrator/endpoints.py`,
whose table holds the application permissions any one of which the token must
carry, as Microsoft's permission tables do.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from migrator.emulator.errors import BadRequest, Forbidden, NotFound
from migrator.emulator.http import Call, Handler, Reply, Router
from migrator.emulator.models import Graph, public
from migrator.emulator.store import Record
from migrator.endpoints import (
    CHANNEL,
    CHANNEL_MESSAGES,
    CHAT,
    CHAT_MESSAGES,
    DRIVE_PATH,
    EXPORT_FUNCTION,
    HOSTED_SUFFIX,
    ID,
    ITEM,
    ITEM_PATH,
    MESSAGE,
    MESSAGE_ID,
    MESSAGES,
    REPLY_ID,
    SHARED,
    TEAM,
    USER_DRIVE,
)

router = Router()
route = router.add


def ok(body: dict[str, Any], status: int = 200, **headers: str) -> Reply:
    return Reply(status=status, body=body, headers=headers)


def collection(call: Call, context: str, items: list[Record], page_size: int = 100) -> Reply:
    """A listed collection, paged by `$top` and an offset `$skiptoken`."""
    top = call.int_param("$top") or page_size
    if top < 1:
        raise BadRequest("$top must be positive.")
    start = int(call.query.get("$skiptoken") or 0) if (call.query.get("$skiptoken") or "0").isdigit() else 0
    page = items[start : start + top]
    body = {"@odata.context": f"{call.base}/{call.version}/$metadata#{context}", "value": page}
    if start + top < len(items):
        body["@odata.nextLink"] = call.link(**{"$skiptoken": str(start + top)})
    return ok(body)


# ----------------------------------------------------------------------- teams
@route("POST", "/teams", kind="create_team")
def create_team(graph: Graph, call: Call) -> Reply:
    """202 with the operation's and the team's paths, in the form the `location` reading switch names
    (docs/graph-contract.md#long-running-operations)."""
    team_id, op_id = graph.create_team(call.json(), call.caller.app_id)
    if graph.reading.location == "reference":
        team, operation = f"/teams('{team_id}')", f"/operations('{op_id}')"
    else:
        team, operation = f"/teams/{team_id}", f"/operations/{op_id}"
    return Reply(status=202, headers={"Location": team + operation, "Content-Location": team})


@route("GET", rf"{TEAM}/operations/(?P<op>{ID})", kind="team_read")
def get_operation(graph: Graph, call: Call) -> Reply:
    return ok(graph.operation(call.params["team"], call.params["op"]))


@route("GET", TEAM, kind="team_read")
def get_team(graph: Graph, call: Call) -> Reply:
    return ok(_mode_shown(graph, call, graph.render_team(call.params["team"])))


def _mode_shown(graph: Graph, call: Call, record: Record) -> Record:
    """`record` without `migrationMode` on v1.0 unless the reading serves it there; beta always has it
    (docs/graph-contract.md#observed-behaviour)."""
    if call.version == "v1.0" and not graph.reading.migration_mode_on_v1:
        return {key: value for key, value in record.items() if key != "migrationMode"}
    return record


@route("POST", rf"{TEAM}/completeMigration")
def complete_team(graph: Graph, call: Call) -> Reply:
    graph.complete_team(call.params["team"], call.caller.app_id)
    return Reply(status=204)


@route("GET", "/groups", kind="directory")
def list_groups(graph: Graph, call: Call) -> Reply:
    return collection(call, "groups", graph.groups(call.query.get("$filter")))


@route("DELETE", rf"/groups/(?P<group>{ID})")
def delete_group(graph: Graph, call: Call) -> Reply:
    graph.delete_group(call.params["group"])
    return Reply(status=204)


@route("POST", rf"{TEAM}/members")
def add_member(graph: Graph, call: Call) -> Reply:
    graph.add_member(call.params["team"], call.json())
    return Reply(status=204)


@route("POST", rf"{TEAM}/members/add")
def add_members(graph: Graph, call: Call) -> Reply:
    status, results = graph.add_members(call.params["team"], call.json())
    context = f"{call.base}/{call.version}/$metadata#Collection(microsoft.graph.aadUserConversationMemberResult)"
    return ok({"@odata.context": context, "value": results}, status=status)


@route("GET", rf"{TEAM}/members")
def list_members(graph: Graph, call: Call) -> Reply:
    return collection(call, "teams/members", graph.list_members(call.params["team"]))


# -------------------------------------------------------------------- export
def _export(graph: Graph, call: Call, conv_ids: list[str]) -> Reply:
    page, next_token = graph.export_page(
        conv_ids,
        call.query.get("$filter"),
        call.int_param("$top"),
        call.query.get("$skiptoken"),
        call.query.get("model"),
    )
    body = {
        "@odata.context": f"{call.base}/{call.version}/$metadata#Collection(chatMessage)",
        "@odata.count": len(page),
        "value": [public(m) for m in page],
    }
    body["@odata.nextLink"] = call.link(**{"$skiptoken": next_token}) if next_token else None
    return ok(body)


def _export_function(call: Call) -> None:
    """`getAllMessages` in v1.0 and beta; the older `allMessages` only in beta."""
    if call.params["function"] == "allMessages" and call.version != "beta":
        raise BadRequest(
            f"Resource not found for the segment 'allMessages' in {call.version}; use getAllMessages or /beta."
        )


@route("GET", rf"{TEAM}/channels/{EXPORT_FUNCTION}", kind="export")
def export_team(graph: Graph, call: Call) -> Reply:
    _export_function(call)
    return _export(graph, call, graph.export_scope_team(call.params["team"], call.query.get("model")))


@route("GET", rf"/users/(?P<user>{ID})/chats/{EXPORT_FUNCTION}", kind="export")
def export_user(graph: Graph, call: Call) -> Reply:
    _export_function(call)
    return _export(graph, call, graph.export_scope_user(call.params["user"], call.query.get("model")))


# ------------------------------------------------------------------ channels
@route("GET", rf"{TEAM}/channels", kind="team_read")
def list_channels(graph: Graph, call: Call) -> Reply:
    channels = [_mode_shown(graph, call, c) for c in graph.list_channels(call.params["team"])]
    return collection(call, f"teams('{call.params['team']}')/channels", channels)


@route("GET", rf"{TEAM}/primaryChannel", kind="team_read")
def primary_channel(graph: Graph, call: Call) -> Reply:
    return ok(_mode_shown(graph, call, graph.render_conversation(graph.primary_channel(call.params["team"]))))


@route("POST", rf"{TEAM}/channels", kind="channel_write")
def create_channel(graph: Graph, call: Call) -> Reply:
    status, channel = graph.create_channel(call.params["team"], call.json(), call.caller.app_id)
    return ok(channel, status=status)


@route("GET", CHANNEL, kind="team_read")
def get_channel(graph: Graph, call: Call) -> Reply:
    return ok(
        _mode_shown(graph, call, graph.render_conversation(graph.channel(call.params["team"], call.params["channel"])))
    )


@route("PATCH", CHANNEL, kind="channel_write")
def update_channel(graph: Graph, call: Call) -> Reply:
    graph.update_channel(call.params["team"], call.params["channel"], call.json())
    return Reply(status=204)


@route("DELETE", CHANNEL, kind="channel_write")
def delete_channel(graph: Graph, call: Call) -> Reply:
    graph.delete_channel(call.params["team"], call.params["channel"])
    return Reply(status=204)


@route("GET", rf"{CHANNEL}/members")
def channel_members(graph: Graph, call: Call) -> Reply:
    return collection(call, "channels/members", graph.channel_members(call.params["team"], call.params["channel"]))


@route("POST", rf"{CHANNEL}/members")
def add_channel_member(graph: Graph, call: Call) -> Reply:
    member = graph.add_channel_member(call.params["team"], call.params["channel"], call.json())
    return ok({"@odata.context": f"{call.base}/{call.version}/$metadata#conversationMember/$entity", **member}, 201)


@route("POST", rf"{CHANNEL}/startMigration")
def start_channel_migration(graph: Graph, call: Call) -> Reply:
    graph.start_migration(graph.channel(call.params["team"], call.params["channel"]), call.json(), call.caller.app_id)
    return Reply(status=204)


@route("POST", rf"{CHANNEL}/completeMigration")
def complete_channel(graph: Graph, call: Call) -> Reply:
    graph.complete_migration(graph.channel(call.params["team"], call.params["channel"]), call.caller.app_id)
    return Reply(status=204)


@route("GET", rf"{CHANNEL}/filesFolder")
def files_folder(graph: Graph, call: Call) -> Reply:
    return ok(graph.files_folder(call.params["team"], call.params["channel"]))


# ------------------------------------------------------------------ messages
def _conversation(graph: Graph, call: Call) -> Record:
    if "chat" in call.params:
        return graph.chat(call.params["chat"])
    return graph.channel(call.params["team"], call.params["channel"])


@route("POST", MESSAGES, kind="import")
def post_message(graph: Graph, call: Call) -> Reply:
    conv = _conversation(graph, call)
    message = graph.import_message(conv, call.json(), call.caller.app_id)
    return ok(public(message), status=201 if conv["_kind"] == "chat" else 200)


@route("POST", rf"{MESSAGE}/replies", kind="import")
def post_reply(graph: Graph, call: Call) -> Reply:
    conv = _conversation(graph, call)
    if conv["_kind"] == "chat":
        raise BadRequest("Chat messages have no replies; import every chat message with POST /chats/{id}/messages.")
    return ok(public(graph.import_message(conv, call.json(), call.caller.app_id, reply_to=call.params["message"])))


def require_roles(call: Call, wanted: frozenset[str] | set[str]) -> None:
    """403 as Graph words it when the token carries none of the permissions an API accepts."""
    if not call.caller.roles & wanted:
        raise Forbidden(
            f"Missing role permissions on the request. API requires one of '{', '.join(sorted(wanted))}'. "
            f"Roles on the request '{', '.join(sorted(call.caller.roles))}'."
        )


def reads(suffix: str, chats: bool = True) -> Callable[[Handler], Handler]:
    """Register a message read under the channel route and (unless `chats` is False: chats have no replies) the
    chat route; reading a channel's messages and a chat's takes different permissions (migrator/endpoints.py)."""

    def register(handler: Handler) -> Handler:
        for base in (CHANNEL_MESSAGES, CHAT_MESSAGES)[: None if chats else 1]:
            route("GET", base + suffix)(handler)
        return handler

    return register


@reads("")
def list_messages(graph: Graph, call: Call) -> Reply:
    items = [public(m) for m in graph.list_messages(_conversation(graph, call))]
    return collection(call, "chatMessages", items, page_size=20)


@reads(MESSAGE_ID)
def get_message(graph: Graph, call: Call) -> Reply:
    return ok(public(graph.get_message(_conversation(graph, call), call.params["message"])))


@reads(rf"{MESSAGE_ID}/replies", chats=False)
def list_replies(graph: Graph, call: Call) -> Reply:
    items = [public(m) for m in graph.list_messages(_conversation(graph, call), call.params["message"])]
    return collection(call, "chatMessages", items, page_size=20)


@reads(REPLY_ID, chats=False)
def get_reply(graph: Graph, call: Call) -> Reply:
    return ok(
        public(graph.get_message(_conversation(graph, call), call.params["reply"], reply_to=call.params["message"]))
    )


def _hosted_target(call: Call) -> str:
    return call.params.get("reply") or call.params["message"]


@reads(HOSTED_SUFFIX)
def list_hosted(graph: Graph, call: Call) -> Reply:
    return collection(
        call, "chatMessageHostedContents", graph.hosted_contents(_conversation(graph, call), _hosted_target(call))
    )


@reads(rf"{HOSTED_SUFFIX}/(?P<hc>{ID})/\$value")
def get_hosted_value(graph: Graph, call: Call) -> Reply:
    hosted = graph.hosted_content(_conversation(graph, call), _hosted_target(call), call.params["hc"])
    return Reply(body=base64.b64decode(hosted["contentBytes"]), content_type=hosted["contentType"])


# --------------------------------------------------------------------- chats
@route("POST", "/chats")
def create_chat(graph: Graph, call: Call) -> Reply:
    status, chat = graph.create_chat(call.json())
    return ok(chat, status=status)


@route("GET", CHAT)
def get_chat(graph: Graph, call: Call) -> Reply:
    return ok(_mode_shown(graph, call, graph.render_conversation(graph.chat(call.params["chat"]))))


@route("POST", rf"{CHAT}/startMigration")
def start_chat_migration(graph: Graph, call: Call) -> Reply:
    graph.start_migration(graph.chat(call.params["chat"]), call.json(), call.caller.app_id)
    return Reply(status=204)


@route("POST", rf"{CHAT}/completeMigration")
def complete_chat(graph: Graph, call: Call) -> Reply:
    graph.complete_migration(graph.chat(call.params["chat"]), call.caller.app_id)
    return Reply(status=204)


@route("GET", rf"/users/(?P<user>{ID})/chats")
def user_chats(graph: Graph, call: Call) -> Reply:
    return collection(call, "chats", [_mode_shown(graph, call, c) for c in graph.user_chats(call.params["user"])])


# --------------------------------------------------------------------- users
@route("GET", "/users", kind="directory")
def list_users(graph: Graph, call: Call) -> Reply:
    return collection(call, "users", graph.users(call.query.get("$filter")))


@route("GET", rf"/users/(?P<user>{ID})", kind="directory")
def get_user(graph: Graph, call: Call) -> Reply:
    return ok(graph.user(call.params["user"]))


# --------------------------------------------------------------------- files
@route("GET", rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})", kind="files")
def get_item(graph: Graph, call: Call) -> Reply:
    return ok(public(graph.drive_item(call.params["drive"], call.params["item"])))


@route("GET", rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})/children", kind="files")
def list_children(graph: Graph, call: Call) -> Reply:
    return collection(call, "driveItems", graph.children(call.params["drive"], call.params["item"]))


@route("GET", rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})/content", kind="files")
def get_content(graph: Graph, call: Call) -> Reply:
    return Reply(
        body=graph.file_content(call.params["drive"], call.params["item"]), content_type="application/octet-stream"
    )


@route("DELETE", rf"/drives/(?P<drive>{ID})/items/(?P<item>{ID})", kind="files")
def delete_item(graph: Graph, call: Call) -> Reply:
    graph.delete_item(call.params["drive"], call.params["item"])
    return Reply(status=204)


@route("GET", SHARED, kind="files")
def shared_item(graph: Graph, call: Call) -> Reply:
    return ok(public(graph.shared_item(call.params["share"])))


@route("GET", rf"{SHARED}/content", kind="files")
def shared_content(graph: Graph, call: Call) -> Reply:
    item = graph.shared_item(call.params["share"])
    drive = item["parentReference"]["driveId"]
    return Reply(body=graph.file_content(drive, item["id"]), content_type=item["file"]["mimeType"])


@route("PUT", rf"{ITEM_PATH}/content", kind="files")
def put_content(graph: Graph, call: Call) -> Reply:
    conflict = call.query.get("@microsoft.graph.conflictBehavior", "replace")
    status, item = graph.put_content(call.params["drive"], call.params["parent"], _name(call), call.body, conflict)
    return ok(item, status=status)


@route("POST", rf"{ITEM_PATH}/createUploadSession", kind="files")
def create_upload_session(graph: Graph, call: Call) -> Reply:
    return ok(graph.create_upload_session(call.params["drive"], call.params["parent"], _name(call), call.json()))


def _name(call: Call) -> str:
    return unquote(call.params["name"])


# ---------------------------------------------------------- users' OneDrive
@route("GET", USER_DRIVE, kind="files")
def user_drive(graph: Graph, call: Call) -> Reply:
    """404 when the user's OneDrive was never provisioned (docs/graph-contract.md#chat-files)."""
    return ok(graph.user_drive(call.params["user"]))


@route("GET", DRIVE_PATH, kind="files")
def drive_path_item(graph: Graph, call: Call) -> Reply:
    return ok(public(graph.drive_path(call.params["user"], unquote(call.params["path"]), create=False)))


@route("PUT", rf"{DRIVE_PATH}/content", kind="files")
def put_drive_content(graph: Graph, call: Call) -> Reply:
    drive, parent, name = graph.split_drive_path(call.params["user"], unquote(call.params["path"]))
    conflict = call.query.get("@microsoft.graph.conflictBehavior", "replace")
    status, item = graph.put_content(drive, parent, name, call.body, conflict)
    return ok(item, status=status)


@route("POST", rf"{DRIVE_PATH}/createUploadSession", kind="files")
def create_drive_upload_session(graph: Graph, call: Call) -> Reply:
    drive, parent, name = graph.split_drive_path(call.params["user"], unquote(call.params["path"]))
    return ok(graph.create_upload_session(drive, parent, name, call.json()))


@route("POST", rf"{ITEM}/invite", kind="files")
def invite(graph: Graph, call: Call) -> Reply:
    """Share a file with named people (docs/graph-contract.md#chat-files)."""
    return ok({"value": graph.invite(call.params["drive"], call.params["item"], call.json())})


@route("GET", rf"{ITEM}/permissions", kind="files")
def item_permissions(graph: Graph, call: Call) -> Reply:
    return collection(call, "permissions", graph.permissions(call.params["drive"], call.params["item"]))


def upload_fragment(graph: Graph, session_id: str, call: Call) -> Reply:
    """PUT to an uploadUrl: outside the versioned Graph namespace and without a bearer token, like SharePoint's."""
    if call.method != "PUT":
        raise NotFound("Upload sessions accept PUT only.")
    status, body = graph.upload_fragment(session_id, call.headers.get("content-range"), call.body)
    return ok(body, status=status)
