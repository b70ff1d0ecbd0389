"""One published data directory for the recovery tests; each test works on its own copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.runs import cli, pipeline_env


@pytest.fixture(scope="session")
def published_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("published") / "data"
    result = cli(pipeline_env(data), "run")
    assert result.returncode == 0, f"offline run failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return data
