"""The emulator against a client nobody here wrote: Microsoft's own `msgraph-sdk`.

Our client and our emulator were written side by side, so they can share a
misreading of Graph and still agree with each other. Microsoft's SDK is
generated from Graph's real API description (its URLs, its JSON shapes, its
error envelope); if it can run a whole Teams import and read the messages back
through the emulator, the emulator speaks Graph, not just our dialect of it.

Everything below goes through the SDK's generated request builders and models;
there is no raw HTTP. MSAL gets the token, as in production. This test found
that the emulator did not route the OData function spelling `getAllMessages()`
that every Microsoft SDK uses; it now does.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import httpx
import msal
import pytest
import requests
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import HeadersInspectionHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.channel import Channel
from msgraph.generated.models.channel_membership_type import ChannelMembershipType
from msgraph.generated.models.chat_message import ChatMessage
from msgraph.generated.models.chat_message_from_identity_set import ChatMessageFromIdentitySet
from msgraph.generated.models.identity import Identity
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.team import Team
from msgraph.generated.models.teams_async_operation_status import TeamsAsyncOperationStatus
from msgraph_core import GraphClientFactory

from graphkit import ADA, GRACE, TEMPLATE
from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT

if TYPE_CHECKING:  # importing it warns (an SDK deprecation) at collection, outside pytestmark's reach
    from msgraph.generated.teams.item.channels.get_all_messages.get_all_messages_request_builder import (
        GetAllMessagesRequestBuilder,
    )

SCOPE = "https://graph.microsoft.com/.default"
LOCATION = re.compile(r"/teams(?:/|\(')(?P<team>[^/'()]+)'?\)?/operations(?:/|\(')(?P<op>[^/'()]+)'?\)?")

# The SDK's generated classes announce their own deprecations when first imported; that is not ours to fix.
pytestmark = [
    pytest.mark.filterwarnings("ignore:This class is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:GetQueryParameters is deprecated:DeprecationWarning"),
]

# Backdated like a real import. The message times carry sub-millisecond digits on
# purpose: Graph keeps milliseconds (truncated), and the read-back must show exactly that.
TEAM_CREATED = datetime(2019, 5, 1, 9, 0, 0, tzinfo=UTC)
CHANNEL_CREATED = datetime(2019, 5, 1, 9, 30, 0, tzinfo=UTC)
ROOT_SENT = datetime(2019, 5, 2, 10, 11, 12, 345678, tzinfo=UTC)
REPLY_SENT = datetime(2019, 5, 2, 10, 15, 0, 999999, tzinfo=UTC)
ROOT_HTML = "<p>Hello from <b>Slack</b> &amp; 2019</p>"
REPLY_HTML = "<p>A reply, imported with its <i>original</i> time</p>"


def to_ms(moment: datetime) -> datetime:
    """What Graph stores for a createdDateTime: the same instant truncated to the millisecond."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# --------------------------------------------------------------------- identity
class _VerifyingSession(requests.Session):
    """MSAL's HTTP client, trusting the emulator's CA.

    This machine sets REQUESTS_CA_BUNDLE, and requests lets that environment
    variable win over `Session.verify`; only a per-request `verify` is honoured.
    """

    def __init__(self, ca: str):
        super().__init__()
        self._ca = ca

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["verify"] = self._ca
        kwargs.setdefault("timeout", 30)
        return super().request(*args, **kwargs)


def msal_app(url: str, ca: Path) -> msal.ConfidentialClientApplication:
    """The demo app as MSAL sees it: the emulator is the authority (no Microsoft discovery calls)."""
    return msal.ConfidentialClientApplication(
        DEMO_CLIENT_ID,
        client_credential=DEMO_SECRET,
        authority=f"{url}/{DEMO_TENANT}",
        validate_authority=False,
        instance_discovery=False,
        http_client=_VerifyingSession(str(ca)),
    )


class MsalTokenProvider(AccessTokenProvider):
    """Kiota's hook for bearer tokens, backed by MSAL's client-credentials flow.

    Like the SDK's own Azure Identity provider, it gives a token only to allowed
    hosts over https, so the token cannot leak to a URL a response points at.
    MSAL caches the token; it is synchronous, so it runs off the event loop.
    """

    def __init__(self, app: msal.ConfidentialClientApplication, host: str):
        self._app = app
        self._hosts = AllowedHostsValidator([host])

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: dict[str, Any] | None = None
    ) -> str:
        if urlparse(uri).scheme != "https" or not self._hosts.is_url_host_valid(uri):
            return ""
        result = await asyncio.to_thread(self._app.acquire_token_for_client, scopes=[SCOPE])
        if "access_token" not in result:
            raise AssertionError(
                f"MSAL could not get a token: {result.get('error')}: {result.get('error_description')}"
            )
        return result["access_token"]

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


def graph_client(url: str, http: httpx.AsyncClient, tokens: AccessTokenProvider) -> GraphServiceClient:
    """A GraphServiceClient aimed at the emulator.

    `GraphRequestAdapter(auth, client=...)` uses a given httpx client as it is,
    without kiota's middleware; the headers-inspection, retry and redirect
    handlers live in that middleware, so the client goes through
    GraphClientFactory first, exactly as the SDK does with its own default client.
    """
    adapter = GraphRequestAdapter(
        BaseBearerTokenAuthenticationProvider(tokens),
        client=GraphClientFactory.create_with_default_middleware(client=http),
    )
    adapter.base_url = f"{url}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def emulator_http(ca: Path) -> httpx.AsyncClient:
    """httpx trusting only the emulator's CA; trust_env=False so no proxy or CA variable interferes."""
    return httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(ca)), trust_env=False, timeout=30)


# ----------------------------------------------------------------- import steps
async def create_migration_team(graph: GraphServiceClient, name: str) -> str:
    """POST /teams in migration mode; Graph answers 202 with only a Location header to poll.

    The SDK returns None for the empty 202, so the operation URL is read from
    the response headers through kiota's headers-inspection option.
    """
    team = Team(
        display_name=name,
        description="imported by msgraph-sdk",
        created_date_time=TEAM_CREATED,
        additional_data={"@microsoft.graph.teamCreationMode": "migration", "template@odata.bind": TEMPLATE},
    )
    headers = HeadersInspectionHandlerOption(inspect_response_headers=True)
    created = await graph.teams.post(team, request_configuration=RequestConfiguration(options=[headers]))
    assert created is None, "POST /teams has no body: the team exists only once its operation succeeds"
    (location,) = headers.response_headers.get("Location")
    team_id, operation_id = operation_ids(location)
    await wait_for_operation(graph, team_id, operation_id)
    return team_id


def operation_ids(location: str) -> tuple[str, str]:
    """(team id, operation id) from the Location of a 202.

    Microsoft's page shows `/teams/{id}/operations/{op}`; clients in the wild also
    parse the OData key form `/teams('{id}')/operations('{op}')`. Either is accepted
    here: the test is about the SDK reaching the operation, not about that spelling.
    """
    found = LOCATION.fullmatch(location)
    assert found, f"unexpected Location header {location!r}"
    return found["team"], found["op"]


async def wait_for_operation(graph: GraphServiceClient, team_id: str, operation_id: str, timeout: float = 15.0) -> None:
    """Poll the teamsAsyncOperation until it succeeds; the team cannot be used before."""
    deadline = time.monotonic() + timeout
    while True:
        operation = await graph.teams.by_team_id(team_id).operations.by_teams_async_operation_id(operation_id).get()
        assert operation is not None and operation.id == operation_id
        assert operation.status != TeamsAsyncOperationStatus.Failed, operation.error
        if operation.status == TeamsAsyncOperationStatus.Succeeded:
            assert operation.target_resource_id == team_id
            return
        assert time.monotonic() < deadline, f"team creation still {operation.status} after {timeout}s"
        await asyncio.sleep(0.05)


async def create_migration_channel(graph: GraphServiceClient, team_id: str, name: str) -> str:
    """POST a standard channel in migration mode, backdated; Graph answers with the new channel's id."""
    channel = Channel(
        display_name=name,
        description="from Slack #general",
        created_date_time=CHANNEL_CREATED,
        membership_type=ChannelMembershipType.Standard,
        additional_data={"@microsoft.graph.channelCreationMode": "migration"},
    )
    created = await graph.teams.by_team_id(team_id).channels.post(channel)
    assert created is not None and created.id, created
    return created.id


def imported_message(sent: datetime, user_id: str, name: str, html: str) -> ChatMessage:
    """A message as the import API takes it: original time, original author (an Entra user), HTML body."""
    author = Identity(id=user_id, display_name=name, additional_data={"userIdentityType": "aadUser"})
    return ChatMessage(
        created_date_time=sent,
        from_=ChatMessageFromIdentitySet(user=author),
        body=ItemBody(content_type=BodyType.Html, content=html),
    )


async def general_channel_id(graph: GraphServiceClient, team_id: str) -> str:
    """The General channel a team is born with; created in migration mode with a migration-mode team."""
    channels = await graph.teams.by_team_id(team_id).channels.get()
    assert channels is not None and channels.value
    return next(c.id for c in channels.value if c.display_name == "General")


async def all_pages(builder: GetAllMessagesRequestBuilder) -> list[ChatMessage]:
    """Every message and reply of the team, following @odata.nextLink as Graph requires."""
    page = await builder.get()
    messages: list[ChatMessage] = []
    while page is not None:
        messages += page.value or []
        page = await builder.with_url(page.odata_next_link).get() if page.odata_next_link else None
    return messages


@asynccontextmanager
async def sdk_for(url: str, ca: Path) -> AsyncIterator[GraphServiceClient]:
    """A ready GraphServiceClient for one test, its connections closed afterwards."""
    async with emulator_http(ca) as http:
        yield graph_client(url, http, MsalTokenProvider(msal_app(url, ca), urlparse(url).hostname))


# ------------------------------------------------------------------------ tests
async def _import_and_export(url: str, ca: Path) -> None:
    async with sdk_for(url, ca) as graph:
        team_id = await create_migration_team(graph, "Imported with msgraph-sdk")
        channel_id = await create_migration_channel(graph, team_id, "Slack general")
        channel = graph.teams.by_team_id(team_id).channels.by_channel_id(channel_id)

        root = await channel.messages.post(imported_message(ROOT_SENT, ADA, "Ada Lovelace", ROOT_HTML))
        assert root is not None and root.id and root.created_date_time == to_ms(ROOT_SENT)
        reply = await channel.messages.by_chat_message_id(root.id).replies.post(
            imported_message(REPLY_SENT, GRACE, "Grace Hopper", REPLY_HTML)
        )
        assert reply is not None and reply.id and reply.reply_to_id == root.id

        # Graph's error envelope reaches the SDK as a typed ODataError: a second message in the
        # same millisecond as the root (only the sub-millisecond digits differ) is a duplicate.
        same_ms = ROOT_SENT.replace(microsecond=ROOT_SENT.microsecond - 600)
        with pytest.raises(ODataError) as duplicate:
            await channel.messages.post(imported_message(same_ms, ADA, "Ada Lovelace", "<p>again</p>"))
        assert duplicate.value.response_status_code == 409
        assert duplicate.value.error is not None and duplicate.value.error.code == "Conflict"

        await channel.complete_migration.post()
        general = await general_channel_id(graph, team_id)
        await graph.teams.by_team_id(team_id).channels.by_channel_id(general).complete_migration.post()
        await graph.teams.by_team_id(team_id).complete_migration.post()

        exported = {m.id: m for m in await all_pages(graph.teams.by_team_id(team_id).channels.get_all_messages)}
        assert set(exported) == {root.id, reply.id}
        back_root, back_reply = exported[root.id], exported[reply.id]
        assert back_root.created_date_time == to_ms(ROOT_SENT)
        assert back_reply.created_date_time == to_ms(REPLY_SENT)
        assert back_root.reply_to_id is None and back_reply.reply_to_id == root.id
        assert (back_root.body.content_type, back_root.body.content) == (BodyType.Html, ROOT_HTML)
        assert (back_reply.body.content_type, back_reply.body.content) == (BodyType.Html, REPLY_HTML)
        assert (back_root.from_.user.id, back_root.from_.user.display_name) == (ADA, "Ada Lovelace")
        assert (back_reply.from_.user.id, back_reply.from_.user.display_name) == (GRACE, "Grace Hopper")
        assert back_root.from_.user.additional_data.get("userIdentityType") == "aadUser"
        for message in (back_root, back_reply):
            assert (message.channel_identity.team_id, message.channel_identity.channel_id) == (team_id, channel_id)


def test_msgraph_sdk_imports_a_thread_and_reads_it_back(emulator):
    """Team, channel, backdated thread, completeMigration everywhere, then export: all through the SDK."""
    asyncio.run(_import_and_export(emulator.url, emulator.ca))


async def _export_empty_team(url: str, ca: Path) -> None:
    async with sdk_for(url, ca) as graph:
        team_id = await create_migration_team(graph, "Exported with msgraph-sdk")
        page = await graph.teams.by_team_id(team_id).channels.get_all_messages.get()
        assert page is not None and page.value == []


def test_msgraph_sdk_exports_an_empty_team(emulator):
    """Graph's own spelling of the export function, `getAllMessages()`, on a team with nothing in it."""
    asyncio.run(_export_empty_team(emulator.url, emulator.ca))
