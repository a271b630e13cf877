"""Target resolution: migration.yaml with every route's target decided, the one form transform reads.

A route may leave out `target:`; it then lands the conventional way for its source's kind
(`DEFAULT_TARGET`: a public channel as a standard channel, a private one as a private channel,
a DM as a chat). Deciding that needs the export's conversations, so it is a step of its own:
`resolve_targets` returns a new, frozen `ResolvedMappings` and changes nothing it was given, so
checking the files never alters what a later stage will read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from migrator.mapping.model import DEFAULT_TARGET, Mappings, Route, Team
from migrator.model import Conversation


@dataclass(frozen=True)
class ResolvedMappings:
    """The mappings with a target kind on every route whose source is in the export (a route naming no
    conversation of the export keeps `kind=None`; the rules report it), and the routes by source id."""

    mappings: Mappings
    routes: tuple[Route, ...]  # in the file's order
    by_source: Mapping[str, Route]  # the first route of each source id (the rules refuse a second one)

    def route(self, conversation_id: str) -> Route | None:
        """The route of one source conversation, looked up in a dict: every stage asks once per conversation."""
        return self.by_source.get(conversation_id)

    @property
    def teams(self) -> Mapping[str, Team]:
        return self.mappings.teams

    @property
    def path(self) -> Path:
        return self.mappings.path


def resolve_targets(mappings: Mappings, conversations: Iterable[Conversation]) -> ResolvedMappings:
    """Give each route without `target:` the default of its source's kind (see DEFAULT_TARGET)."""
    kinds = {c.id: c.kind for c in conversations}
    routes = tuple(
        replace(r, kind=DEFAULT_TARGET[kinds[r.source]]) if r.kind is None and r.source in kinds else r
        for r in mappings.routes
    )
    by_source: dict[str, Route] = {}
    for route in routes:
        by_source.setdefault(route.source, route)
    return ResolvedMappings(mappings=mappings, routes=routes, by_source=MappingProxyType(by_source))
