"""Running dbt's unit tests on a copy of the shared offline run's work file (dbt reads the inputs' column types
from it), for the pipeline tests whose cases are dbt unit tests in the models' YAML."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from styringsdata.home import dbt_vars

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


def unit_test_names() -> list[str]:
    """Every dbt unit test in the models' YAML."""
    return [test["name"] for path in sorted((DBT_DIR / "models").rglob("*.yml"))
            for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])]


def run_dbt(offline_run, tmp_path: Path, args: list[str], variables: dict[str, object]) -> tuple[Path, str]:
    """`dbt ARGS --vars VARIABLES` on a copy of the offline run's work file in `tmp_path`: the copy and dbt's output,
    after asserting that it passed."""
    work = tmp_path / "work.duckdb"
    shutil.copy(offline_run.data_dir / "work.duckdb", work)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args, "--vars", json.dumps(variables),
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=DBT_DIR, env={**offline_run.env, "STYRINGSDATA_DBT_WORK_DB": str(work)}, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stdout[-5000:]
    return work, result.stdout


def run_dbt_unit_tests(offline_run, tmp_path: Path, models: list[str] | None, as_of: dt.date,
                       home: str = "3203") -> str:
    """`dbt test` of the unit tests of `models` (None: every model's), with the variables the pipeline passes for
    `home` on `as_of` (today's ASSS members: seed peer_groups); dbt's output, after asserting that it passed."""
    selection = [f"test_type:unit,{model}" for model in models] if models else ["test_type:unit"]
    return run_dbt(offline_run, tmp_path, ["test", "--select", *selection], dbt_vars(home, as_of))[1]
