"""The published warehouse opens in DuckDB 1.x, as BI drivers and CLIs that bundle a 1.x engine read it.

DuckDB 1.x runs from its own virtualenv, .venv-duckdb1 (`make duckdb1`, a prerequisite of `make test`), never
imported into this process: one process can load one DuckDB. Before the publish step chose a storage version,
1.x refused the file: "Trying to read a database file with version number 69, but we can only read versions
between 64 and 68".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

from styringsdata.settings import PROJECT_ROOT

VENV = PROJECT_ROOT / ".venv-duckdb1"
PYTHON, CLI = VENV / "bin" / "python", VENV / "bin" / "duckdb"

SUMMARY = textwrap.dedent("""
    import json, sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    MAIN = "database_name = current_database() and schema_name = 'main' and not internal"
    names = [t for (t,) in con.execute(f"select table_name from duckdb_tables() where {MAIN} order by 1").fetchall()]
    tables = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in names}
    comments = dict(con.execute(f"select table_name, comment from duckdb_tables() where {MAIN}").fetchall())
    columns = con.execute(f"select count(*), count(comment) from duckdb_columns() where {MAIN}").fetchone()
    home = con.execute("select count(*), sum(value) from fct_indicator_values where municipality_code = '3203'").fetchone()
    print(json.dumps({"version": duckdb.__version__, "tables": tables, "comments": comments, "columns": columns,
                      "home": home}))
""")


@pytest.fixture(scope="module")
def duckdb1() -> None:
    if not (PYTHON.exists() and CLI.exists()):
        message = f"DuckDB 1.x readers SKIPPED: {VENV} is missing; `make duckdb1` creates it (make test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def summary(python, path) -> dict:
    result = subprocess.run([str(python), "-c", SUMMARY, str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{python}: {result.stderr[-2000:]}"
    return json.loads(result.stdout)


def test_duckdb_1_1_python_reads_the_published_warehouse_whole(offline_run, duckdb1):
    warehouse = offline_run.data_dir / "warehouse.duckdb"
    seen, pipelines = summary(PYTHON, warehouse), summary(sys.executable, warehouse)
    assert (seen.pop("version"), pipelines.pop("version")) == ("1.1.3", duckdb.__version__)
    assert seen == pipelines
    assert len(seen["tables"]) >= 8 and seen["tables"]["fct_indicator_values"] > 1000
    assert seen["columns"][1] > 50, "column comments readable in 1.x"


def test_duckdb_cli_1_5_reads_the_published_warehouse(offline_run, duckdb1):
    warehouse = offline_run.data_dir / "warehouse.duckdb"
    result = subprocess.run([str(CLI), "-readonly", "-json", str(warehouse), "-c",
                             "select version() as v, (select count(*) from fct_indicator_values) as n, "
                             "(select comment from duckdb_tables() where table_name = 'indicator_catalogue') as c"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = json.loads(result.stdout)
    assert row["v"].startswith("v1.5.")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert row["n"] == con.execute("select count(*) from fct_indicator_values").fetchone()[0]
        assert row["c"] == con.execute("select comment from duckdb_tables() where table_name = "
                                       "'indicator_catalogue'").fetchone()[0]
