"""The Entra directory the draft matches people against: the tenant through Microsoft Graph, or the
embedded Graph emulator when no MIGRATOR_* credentials are set (so `map` works on a laptop)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migrator.graph import GraphClient

# Finds an Entra user (its Graph JSON) by mail, or None.
DirectoryLookup = Callable[[str], "Mapping[str, Any] | None"]


def graph_lookup(client: GraphClient) -> DirectoryLookup:
    """Find an Entra user by mail through Graph (`GET /users?$filter=mail eq '…'`)."""

    def lookup(mail: str) -> Mapping[str, Any] | None:
        quoted = mail.replace("'", "''")  # OData string literal
        return next(iter(client.paginate("/users", params={"$filter": f"mail eq '{quoted}'"})), None)

    return lookup


@contextmanager
def open_directory(
    directory: Path | None, environ: Mapping[str, str] = os.environ
) -> Iterator[tuple[DirectoryLookup, str]]:
    """The tenant's directory when MIGRATOR_* credentials are set, else the embedded emulator.

    Yields the lookup and a one-line description of where it looks, for the
    consultant to see which directory the draft was matched against.
    """
    from migrator.graph import GraphClient, GraphConfig

    if GraphConfig.has_credentials(environ):
        config = GraphConfig.from_env(environ)
        with GraphClient(config) as client:
            yield graph_lookup(client), f"Microsoft Graph at {config.graph_url} (tenant {config.tenant_id})"
        return
    from migrator.emulator.directory import embedded_directory
    from migrator.emulator.runner import EmulatorProcess

    chosen = embedded_directory(directory)
    with EmulatorProcess(directory=chosen) as emulator, GraphClient(emulator.graph_config()) as client:
        yield (
            graph_lookup(client),
            f"the embedded Graph emulator with {chosen or 'its demo directory'} (no MIGRATOR_* credentials set)",
        )
