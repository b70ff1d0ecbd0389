"""Every dbt unit test, on a copy of the shared offline run's work file.

The pipeline's `dbt build` leaves unit tests out (their inputs are static: a scheduled run would repeat the same
answer every day), so this is where each one runs. Cases on a date of their own stay with their subject
(tests/pipeline/test_asss_comparison.py runs the ASSS models' on the Handlingsprogram's date).
"""

from __future__ import annotations

import datetime as dt
import re

from tests.pipeline.dbt_unit import run_dbt_unit_tests, unit_test_names


def test_every_dbt_unit_test_in_the_models_yaml_runs_and_passes(offline_run, tmp_path):
    names = unit_test_names()
    output = run_dbt_unit_tests(offline_run, tmp_path, None, dt.date(2026, 12, 7))
    passed = re.search(r"PASS=(\d+) ", output)
    assert passed and int(passed.group(1)) == len(names) > 0, output[-3000:]
