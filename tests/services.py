"""PostgreSQL and Redis for the tests of large migrations: found on their standard local ports, or skipped with why.

`python -m tests.services` (what `make test` runs first when CI is set) exits 1 naming the one that does not
answer, so CI never passes by skipping those tests.
"""

from __future__ import annotations

import os
import sys
from contextlib import AbstractContextManager

import pytest

from bench.postgres import POSTGRES as POSTGRES_URL
from bench.postgres import scratch_schema

REDIS_URL = os.environ.get("MIGRATOR_TEST_REDIS", "redis://127.0.0.1:6379/0")


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot serve the tests, or None when it answers."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as error:  # any reason at all is a reason to skip, and it is shown
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {str(error).strip() or type(error).__name__}"
    return None


def redis_problem() -> str | None:
    """Why Redis cannot serve the tests, or None when it answers."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:  # as above
        return f"Redis at {REDIS_URL} does not answer: {str(error).strip() or type(error).__name__}"
    return None


def require_postgres() -> None:
    problem = postgres_problem()
    if problem:
        pytest.skip(problem)


def require_redis() -> None:
    problem = redis_problem()
    if problem:
        pytest.skip(problem)


def fresh_schema() -> AbstractContextManager[str]:
    """A journal URL naming a schema of its own, dropped afterwards: each test starts from an empty journal."""
    return scratch_schema("test")


if __name__ == "__main__":
    problems = [problem for problem in (postgres_problem(), redis_problem()) if problem]
    for problem in problems:
        print(f"make test: {problem}; CI runs the PostgreSQL and Redis tests, it never skips them", file=sys.stderr)
    sys.exit(1 if problems else 0)
