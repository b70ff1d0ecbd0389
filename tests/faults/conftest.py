"""One published data directory for the recovery tests; each test works on its own copy."""

from __future__ import annotations

import inspect
import subprocess
from pathlib import Path

import pytest

from tests.faults import runs
from tests.faults.runs import cli, pipeline_env


def _published_recipe(data: Path, dagster_home: Path) -> subprocess.CompletedProcess:
    return cli(pipeline_env(data, DAGSTER_HOME=str(dagster_home)), "run")


def published_entry(private_root: Path) -> Path:
    """The cache entry of the plain offline run (tests/cached_run.py), built now if there is none."""
    from tests import cached_run

    recipe = "\n".join(inspect.getsource(f) for f in (_published_recipe, runs.cli, runs.pipeline_env,
                                                      runs.mini_ssb_tables)) + repr(runs.MINI_TABLES)
    return cached_run.entry("published_data", _published_recipe, recipe, private_root)


@pytest.fixture(scope="session")
def published_data(tmp_path_factory) -> Path:
    """A plain offline run (empty inboxes) of the mini SSB configuration (runs.MINI_TABLES), built once per code
    fingerprint (tests/cached_run.py) and copied here."""
    from tests import cached_run

    session = tmp_path_factory.mktemp("published")
    found = published_entry(session / "private")
    data = session / "data"
    result = cached_run.load(found, data, session / "dagster_home")
    assert result.returncode == 0, f"offline run failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return data
