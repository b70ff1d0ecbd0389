"""emissions_by_sector when the Miljødirektoratet workbook fails on a first run (issue 21): every row it would
have had, without a figure, status source_error and the failure in note.

The dbt unit tests of emissions_by_sector (dbt_project/models/marts/_marts__indicators.yml) hold the cases; this
runs them on a copy of the shared offline run's work file (dbt reads the inputs' column types from it). The
four-fault world (tests/faults/test_source_isolation.py) checks the same on a whole first run."""

from __future__ import annotations

import datetime as dt

from tests.pipeline.dbt_unit import run_dbt_unit_tests


def test_dbt_unit_tests_of_emissions_by_sector_pass(offline_run, tmp_path):
    output = run_dbt_unit_tests(offline_run, tmp_path, ["emissions_by_sector"], dt.date(2026, 12, 7))
    assert "PASS=3 " in output, output[-3000:]
