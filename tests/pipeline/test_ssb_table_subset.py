"""STYRINGSDATA_SSB_TABLES on a work file whose raw schema holds every bundled table (an earlier run's): staging
reads only the tables the setting keeps, so figures of a table no longer fetched are not published as current."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from styringsdata.home import dbt_vars
from styringsdata.sources.ssb import load_table_specs
from tests.faults.runs import MINI_TABLES
from tests.pipeline.dbt_unit import run_dbt


def _tables_in_staging(work: Path) -> set[str]:
    con = duckdb.connect(str(work), read_only=True)
    try:
        return {r[0] for r in con.execute("select distinct table_id from staging.stg_ssb__series_values").fetchall()}
    finally:
        con.close()


def test_staging_reads_only_the_chosen_tables_raw_tables(offline_run, tmp_path):
    assert _tables_in_staging(offline_run.data_dir / "work.duckdb") == {t.table_id for t in load_table_specs().tables}

    variables = {**dbt_vars("3203", dt.date(2026, 12, 7)), "ssb_tables": list(MINI_TABLES)}
    work, _ = run_dbt(offline_run, tmp_path, ["run", "--select", "stg_ssb__series_values"], variables)

    assert _tables_in_staging(work) == set(MINI_TABLES)
