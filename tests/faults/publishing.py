"""A small work file with a `marts` schema, and checks that a publication is whole.

Each generation g of the marts has its own row count (BASE_ROWS + g) and carries g in every row,
so a warehouse that mixes two publications, or lost rows, is told apart from a whole one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from styringsdata.publishing.publish import MartSpec

CHILD = "tests.faults.publish_child"  # run as a module from the root: no sys.path insert
ROOT = Path(__file__).resolve().parents[2]

MARTS = [
    MartSpec("big", '"marts"."big"', "A large mart, so a publish takes long enough to be killed midway.",
             {"id": "Row id.", "generation": "Which publication wrote the row.", "payload": "Filler."}),
    MartSpec("small", '"marts"."small"', "One row naming the generation.", {"generation": "Generation."}),
]


def write_marts(work_db: Path, generation: int, base_rows: int) -> None:
    con = duckdb.connect(str(work_db))
    try:
        con.execute("create schema if not exists marts")
        con.execute(f"""create or replace table marts.big as
                        select range as id, {generation} as generation, range * 7 + {generation} as payload
                        from range({base_rows + generation})""")
        con.execute(f"create or replace table marts.small as select {generation} as generation, 'g{generation}' as label")
    finally:
        con.close()


def read_whole(path: Path, base_rows: int) -> int:
    """Open a publication read-only and return its generation; fail unless it is one whole publication."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'").fetchall()}
        assert tables == {"big", "small", "_publication"}, f"{path}: tables {tables}"
        counted = dict(con.execute("select table_name, row_count from _publication").fetchall())
        rows, gens, first_gen = con.execute("select count(*), count(distinct generation), min(generation) from big").fetchone()
        small = con.execute("select generation from small").fetchall()
        comment = con.execute("select comment from duckdb_tables() where table_name = 'big'").fetchone()[0]
    finally:
        con.close()
    assert gens == 1 and small == [(first_gen,)], f"{path}: mixed generations"
    assert rows == base_rows + first_gen == counted["big"], f"{path}: {rows} rows, _publication says {counted}"
    assert comment == MARTS[0].description
    return first_gen


def read_parquet_generation(parquet_dir: Path, base_rows: int) -> int:
    con = duckdb.connect()
    try:
        rows, gens, gen = con.execute(
            f"select count(*), count(distinct generation), min(generation) from '{parquet_dir / 'big.parquet'}'").fetchone()
    finally:
        con.close()
    assert gens == 1 and rows == base_rows + gen
    return gen


def leftovers(directory: Path) -> list[str]:
    """Files a killed publish may leave behind, which the next publish must clean up."""
    names = sorted(p.name for p in directory.iterdir())
    return [n for n in names if ".incoming" in n or n.endswith((".wal", ".tmp"))]


def child(work: Path, warehouse: Path, parquet: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", CHILD, str(work), str(warehouse), str(parquet), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
