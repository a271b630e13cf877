"""A PostgreSQL journal of its own for each run of a check, bench or test: the server the tests and `make
reliability` use (MIGRATOR_TEST_POSTGRES, else the standard local port), and a schema the journal creates on first
use and that is dropped afterwards, so every run starts from an empty journal."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

POSTGRES = os.environ.get("MIGRATOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_schema(prefix: str) -> Iterator[str]:
    """A journal URL naming a new schema `PREFIX_…`, dropped when the block ends."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{POSTGRES}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE".encode())
