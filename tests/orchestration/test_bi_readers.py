"""A BI tool holding the published file open while a new publication lands (Linux/macOS rename semantics).

The reader is another process, as a BI tool is: within one process DuckDB shares one database instance per
path, so a second connection there would see what the first one opened.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb

from styringsdata.publishing.publish import publish
from tests.faults.publishing import MARTS, write_marts

BASE_ROWS = 50_000
READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    query = "select min(generation), max(generation), count(*), sum(payload) from big"
    print(*con.execute(query).fetchone(), flush=True)
    sys.stdin.readline()  # the publish happens now
    print(*con.execute(query).fetchone(), flush=True)
""")


def generation_summary(generation: int) -> str:
    rows = BASE_ROWS + generation
    return f"{generation} {generation} {rows} {sum(i * 7 + generation for i in range(rows))}"


def test_reader_keeps_its_snapshot_while_a_new_publication_lands(tmp_path):
    work, warehouse, parquet = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb", tmp_path / "parquet"
    write_marts(work, 1, BASE_ROWS)
    publish(work, warehouse, parquet, MARTS)

    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == generation_summary(1)

        write_marts(work, 2, BASE_ROWS)
        publication = publish(work, warehouse, parquet, MARTS)  # neither waits for nor breaks the reader
        assert publication.tables["big"] == BASE_ROWS + 2

        out, err = reader.communicate("go\n", timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    assert out.strip() == generation_summary(1), "the open connection keeps reading its own, whole publication"

    fresh = subprocess.run([sys.executable, "-c", READER, str(warehouse)], input="\n", capture_output=True,
                           text=True, timeout=60)
    assert fresh.stdout.splitlines()[0] == generation_summary(2), fresh.stderr
    assert duckdb.sql(f"select min(generation) from '{parquet / 'big.parquet'}'").fetchall() == [(2,)]
