"""Who the exported messages name, with their email, so the archive can be migrated into another tenant.

Object ids mean nothing in another tenant; emails do. `meta.json` therefore
keeps `people: {id: {"name", "email"}}` for every author and person
mentioned. Chat members come with their email (`$expand=members`); anyone
else is looked up once in the directory (`GET /users/{id}`, User.Read.All,
which chat export needs anyway). Someone who has left the tenant (404) keeps
the name the messages show; without the permission (403) the run notes it
once and the archive names people without email, which `map` then sends to
the fallback account until users.csv says otherwise.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from migrator.graph import ForbiddenError, GraphClient, GraphError, NotFoundError
from migrator.stages.export.archive import Message
from migrator.stages.export.filters import is_object_id
from migrator.stages.export.outcome import Target

People = dict[str, dict[str, str]]  # object id -> {"name": …, "email": …}


def named_in(message: Message) -> dict[str, str]:
    """Object id -> display name of the author, everyone mentioned and everyone who reacted (Graph gives no
    name there: the directory look-up fills it in)."""
    found: dict[str, str] = {}
    identities = [(message.get("from") or {}).get("user")]
    identities += [(m.get("mentioned") or {}).get("user") for m in message.get("mentions") or [] if isinstance(m, dict)]
    identities += [(r.get("user") or {}).get("user") for r in message.get("reactions") or [] if isinstance(r, dict)]
    for identity in identities:
        if isinstance(identity, dict) and identity.get("id"):
            found[str(identity["id"])] = str(identity.get("displayName") or found.get(str(identity["id"])) or "")
    return found


def add_member(people: People, member: dict[str, Any]) -> None:
    """A chat or team member as listed by Graph (aadUserConversationMember: userId, displayName, email)."""
    user_id = member.get("userId")
    if user_id:
        people[str(user_id)] = {"name": str(member.get("displayName") or ""), "email": str(member.get("email") or "")}


def by_object_id(client: GraphClient, targets: list[Target]) -> list[Target]:
    """User targets named by principal name, keyed by their object id instead; duplicates dropped.

    A person's archive and state are keyed by the id, so `ada@contoso.example` and Ada's id are one
    folder fetched once. A name the directory does not know is kept as given: its run fails with Graph's
    404, which names it.
    """
    resolved = []
    for target in targets:
        if target.kind == "user" and not is_object_id(target.id):
            try:
                user = client.get_json(f"/users/{quote(target.id, safe='@')}", params={"$select": "id"})
            except GraphError:
                resolved.append(target)
                continue
            target = Target("user", str(user.get("id") or target.id))
        resolved.append(target)
    return list(dict.fromkeys(resolved))


def look_up(client: GraphClient, people: People, named: dict[str, str]) -> str | None:
    """Fill in everyone named but not yet known with an email; returns a note when the directory refused."""
    for user_id, name in sorted(named.items()):
        if (people.get(user_id) or {}).get("email"):
            continue
        try:
            user = client.get_json(
                f"/users/{quote(user_id, safe='')}", params={"$select": "id,displayName,mail,userPrincipalName"}
            )
        except NotFoundError:
            people[user_id] = {"name": name, "email": ""}
            continue
        except ForbiddenError as error:
            _names_only(people, named)
            return f"people's emails not looked up ({error.status} {error.code}): map them by hand in users.csv"
        except GraphError as error:
            _names_only(people, named)
            return f"people's emails not looked up ({error}); run the export again to retry"
        people[user_id] = {
            "name": str(user.get("displayName") or name),
            "email": str(user.get("mail") or user.get("userPrincipalName") or ""),
        }
    return None


def _names_only(people: People, named: dict[str, str]) -> None:
    for user_id, name in named.items():
        people.setdefault(user_id, {"name": name, "email": ""})
