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
    if not hasattr(config, "workerinput"):  # xdist's workers inherit the environment of the process starting them
        _scratch_in_memory()


# The suite's scratch (tmp_path, the runs' data directories and Dagster instances, tests/cached_run.py's cache)
# goes to a RAM-backed tmpfs when there is one with room for it. Dagster's SQLite event log commits each of a
# run's ~2 700 events on its own, with an fsync; DuckDB and dbt sync their files too. `python -m
# bench.bench_check_events` puts the instance on disk and on /dev/shm side by side (143 check results: 6.0 s
# against 3.4 s here). A TMPDIR the developer set is kept.
MEMORY_SCRATCH = Path("/dev/shm")
MEMORY_SCRATCH_FREE = 12 * 2**30  # a whole suite's scratch is ~7 GB (pyproject: only failed tests' is kept)


def _scratch_in_memory() -> None:
    import getpass
    import shutil
    import tempfile

    if os.environ.get("TMPDIR") or not MEMORY_SCRATCH.is_dir() or not os.access(MEMORY_SCRATCH, os.W_OK):
        return
    if shutil.disk_usage(MEMORY_SCRATCH).free < MEMORY_SCRATCH_FREE:
        return
    scratch = MEMORY_SCRATCH / f"styringsdata-tests-{getpass.getuser()}"
    scratch.mkdir(mode=0o700, exist_ok=True)
    os.environ["TMPDIR"] = str(scratch)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again


# In these folders a run may start in a module's helper rather than in the test: the whole module counts.
RUN_FOLDERS = (ROOT / "tests" / "faults", ROOT / "tests" / "pipeline")


def _source(obj: object) -> str:
    try:
        return inspect.getsource(obj)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    costs: dict[Path, int] = {}
    for item in items:
        function = getattr(item, "function", None)
        module = getattr(item, "module", None)
        in_run_folder = item.path.parent in RUN_FOLDERS
        starts = STARTS_A_RUN.search(_source(function)) or \
            (in_run_folder and module is not None and STARTS_A_RUN.search(_source(module)))
        if set(getattr(item, "fixturenames", ())) & RUN_FIXTURES or starts:
            item.add_marker(pytest.mark.full_run)
        cost = 0 if starts else 1 if item.get_closest_marker("full_run") else 2
        costs[item.path] = min(cost, costs.get(item.path, cost))
    # Longest first: the files that start runs of their own, then those that read a shared run, then the rest,
    # each group in collection order. xdist hands out files in this order (Makefile: --no-loadscope-reorder),
    # so the quick files fill the workers' last minutes instead of one long file running alone at the end.
    items.sort(key=lambda item: costs[item.path])


def git_status() -> list[str]:
    import subprocess

    done = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    return sorted(done.stdout.splitlines())


def repository_dagster_home() -> set[str]:
    """The files in the repository's own Dagster instance (what `make dev` opens): the suite must add none."""
    home = ROOT / "dagster_home"
    return {str(p.relative_to(home)) for p in home.rglob("*") if p.is_file()} if home.exists() else set()


# Neither tests nor runs write into the repository (issue 24, item 6). Checked once around the whole suite, in the
# process that started it: under pytest-xdist (`make test`) no test runs "last", so no test can check this; the
# workers' tests are all done when the controller's session finishes. Compared with the status at the start, not
# with an empty one, so that a developer's uncommitted edits do not fail it; on CI (a clean checkout) that is empty.
STATUS_AT_START = pytest.StashKey[tuple[list[str], set[str]]]()


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _is_xdist_worker(session.config) and (ROOT / ".git").exists():
        session.config.stash[STATUS_AT_START] = (git_status(), repository_dagster_home())


def repository_changes(at_start: tuple[list[str], set[str]]) -> list[str]:
    """What the suite added: files git now reports, and runs recorded into the repository's dagster_home/ (ignored
    by git, but the instance `make dev` opens: a test that drops DAGSTER_HOME from a child's environment would
    put its runs there)."""
    status, dagster_files = at_start
    return ([f"git status: {line}" for line in sorted(set(git_status()) - set(status))]
            + [f"dagster_home/{name}" for name in sorted(repository_dagster_home() - dagster_files)])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    at_start = session.config.stash.get(STATUS_AT_START, None)
    if at_start is None or session.shouldstop or exitstatus == pytest.ExitCode.INTERRUPTED:
        return
    changes = repository_changes(at_start)
    if changes:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["the suite wrote into the repository (tests and runs must write to temporary directories):",
                 *changes]
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_sep("=", "repository not left as found", red=True)
            reporter.write_line("\n".join(lines))
        else:
            print("\n".join(lines))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
    """A throwaway PostgreSQL server from the binaries on this machine (tools/pgserver.py), for the whole session."""
    from tools import pgserver

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
    from tools import pgserver

    return pgserver.setup_warehouse(pg_server)
