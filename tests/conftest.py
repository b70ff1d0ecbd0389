from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

# The repository's root is on sys.path through pytest itself (rootdir, tests/ is a package), so `tests.…` and
# `snapshots.build` import without a sys.path insert of our own.
ROOT = Path(__file__).resolve().parents[1]

# The tiers (`make test-fast`: -m "not full_run"; `make test`: everything). A test is in the full-run tier when it
# takes a fixture that is a built pipeline run, or when its own code starts one (the CLI's `run`, a job executed
# in process, a run killed on purpose). Decided here, from the tests themselves, so that no test file has to
# carry a marker and a new test that starts a run is never put in the fast tier by mistake.
RUN_FIXTURES = {"offline_run", "published_data", "pg_warehouse"}
STARTS_A_RUN = re.compile(r"""start_cli\(|run_cli\(|start_killed_at\(|execute_in_process|materialize\(|"""
                          r"""cli\([^)]*["']run["']|["']run["']\s*[,)]|_run_child|publish_child|disk_full_driver""")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "full_run: starts or reads a whole pipeline run (not in `make test-fast`)")


# In these folders a run may start in a module's helper rather than in the test: the whole module counts.
RUN_FOLDERS = (ROOT / "tests" / "faults", ROOT / "tests" / "pipeline")


def _source(obj: object) -> str:
    try:
        return inspect.getsource(obj)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        function = getattr(item, "function", None)
        module = getattr(item, "module", None)
        in_run_folder = item.path.parent in RUN_FOLDERS
        starts = STARTS_A_RUN.search(_source(function)) or \
            (in_run_folder and module is not None and STARTS_A_RUN.search(_source(module)))
        if set(getattr(item, "fixturenames", ())) & RUN_FIXTURES or starts:
            item.add_marker(pytest.mark.full_run)


def git_status() -> list[str]:
    import subprocess

    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    return sorted(done.stdout.splitlines())


@pytest.fixture(scope="session", autouse=True)
def status_at_start() -> list[str]:
    """The repository's status before the first test (tests/test_zz_repository_clean.py compares the end with it)."""
    return git_status() if (ROOT / ".git").exists() else []


@pytest.fixture(scope="session", autouse=True)
def dagster_home(tmp_path_factory) -> Path:
    """Every run the suite starts (in process or through the CLI) records into a temporary Dagster instance, set
    up like the project's (its dagster.yaml), never into the repository's dagster_home."""
    import shutil

    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = previous


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
