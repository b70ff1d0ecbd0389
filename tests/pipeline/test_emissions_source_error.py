"""emissions_by_sector when the Miljødirektoratet workbook fails on a first run (issue 21): every row it would
have had, without a figure, status source_error and the failure in note.

The dbt unit tests of emissions_by_sector (dbt_project/models/marts/_marts__indicators.yml) hold the cases; this
runs them on a copy of the shared offline run's work file (dbt reads the inputs' column types from it). The
four-fault world (tests/faults/test_source_isolation.py) checks the same on a whole first run."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

from styringsdata.home import dbt_vars

ROOT = Path(__file__).resolve().parents[2]


def test_dbt_unit_tests_of_emissions_by_sector_pass(offline_run, tmp_path):
    work = tmp_path / "work.duckdb"
    shutil.copy(offline_run.data_dir / "work.duckdb", work)
    env = {**offline_run.env, "STYRINGSDATA_DBT_WORK_DB": str(work)}
    dbt = str(Path(sys.executable).with_name("dbt"))
    result = subprocess.run(
        [dbt, "test", "--select", "test_type:unit,emissions_by_sector",
         "--vars", json.dumps(dbt_vars("3203", dt.date(2026, 12, 7))), "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs")],
        cwd=ROOT / "dbt_project", env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "PASS=3 " in result.stdout, result.stdout[-3000:]
