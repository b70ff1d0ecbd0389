from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # snapshots/build.py is imported by tests as a module
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server from the binaries on this machine (tests/pgserver.py), for the whole session."""
    from tests import pgserver

    problem = pgserver.missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {problem}")
        pytest.skip(f"PostgreSQL tests SKIPPED: {problem}")
    server = pgserver.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_warehouse(pg_server):
    """The server set up by deploy/postgres/setup.sql: publisher, reader role, a BI login, Dagster's database."""
    from tests import pgserver

    return pgserver.setup_warehouse(pg_server)
