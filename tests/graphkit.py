"""A deliberately plain Graph caller for emulator rule tests: raw requests, no migrator client.

Rule tests must fail when the emulator is wrong, not when our client hides it,
so they speak HTTP directly.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from migrator.emulator.runner import DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT, EmulatorProcess

READER_APP = ("b1f1c0de-0000-4000-8000-000000000002", "reader-secret-not-for-production")
OTHER_APP = ("b1f1c0de-0000-4000-8000-000000000003", "other-secret-not-for-production")
ADA = "a0000000-0000-4000-8000-000000000002"
GRACE = "a0000000-0000-4000-8000-000000000003"
ALAN = "a0000000-0000-4000-8000-000000000004"
KATHERINE = "a0000000-0000-4000-8000-000000000005"  # not licensed
TEMPLATE = "https://graph.microsoft.com/v1.0/teamsTemplates('standard')"


def author(user_id: str = ADA, name: str = "Ada Lovelace") -> dict:
    return {"user": {"id": user_id, "displayName": name, "userIdentityType": "aadUser"}}


def message(created: str, content: str = "hello", user_id: str = ADA, **extra: Any) -> dict:
    return {
        "createdDateTime": created,
        "from": author(user_id),
        "body": {"contentType": "html", "content": content},
        **extra,
    }


def code(response) -> tuple[int, str]:
    """A Graph answer's status and error code, as the contract's error tables name them."""
    return response.status_code, response.json()["error"]["code"] if response.content else ""


class RawGraph:
    def __init__(self, emu: EmulatorProcess, client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_SECRET):
        self.emu = emu
        self.verify = str(emu.ca)
        self.token = self.fetch_token(client_id, secret).json()["access_token"]

    def fetch_token(
        self,
        client_id: str,
        secret: str,
        tenant: str = DEMO_TENANT,
        scope: str = "https://graph.microsoft.com/.default",
    ):
        return requests.post(
            f"{self.emu.url}/{tenant}/oauth2/v2.0/token",
            verify=self.verify,
            timeout=30,
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": scope},
        )

    def call(
        self, method: str, path: str, version: str = "v1.0", token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        url = path if path.startswith("https://") else f"{self.emu.url}/{version}{path}"
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {token or self.token}")
        return requests.request(method, url, headers=headers, verify=self.verify, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code < 300, f"{method} {path} → {response.status_code} {response.text}"
        return response.json() if response.content else None

    def create_team(self, name: str = "Team", created: str = "2020-01-01T00:00:00.000Z", **extra: Any) -> str:
        body = {
            "@microsoft.graph.teamCreationMode": "migration",
            "template@odata.bind": TEMPLATE,
            "displayName": name,
            "createdDateTime": created,
            **extra,
        }
        response = self.call("POST", "/teams", json=body)
        assert response.status_code == 202, response.text
        location = response.headers["Location"]
        for _ in range(200):
            operation = self.ok("GET", location)
            if operation["status"] == "succeeded":
                return str(operation["targetResourceId"])
            time.sleep(0.02)
        raise AssertionError("team creation did not succeed")

    def create_channel(self, team: str, name: str = "Imported", created: str = "2020-01-02T00:00:00.000Z") -> str:
        body = {
            "@microsoft.graph.channelCreationMode": "migration",
            "displayName": name,
            "membershipType": "standard",
            "createdDateTime": created,
        }
        response = self.call("POST", f"/teams/{team}/channels", json=body)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def general(self, team: str) -> str:
        return next(
            c["id"] for c in self.ok("GET", f"/teams/{team}/channels")["value"] if c["displayName"] == "General"
        )

    def team_with_channel(self) -> tuple[str, str]:
        team = self.create_team()
        return team, self.create_channel(team)
