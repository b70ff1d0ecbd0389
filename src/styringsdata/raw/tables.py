"""The raw schema's write primitives: what every loader (raw_store.py, and the file sources' own loaders in
sources/) uses to append rows, below both so that neither imports the other for them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pyarrow as pa

RAW = "raw"


@dataclass(frozen=True)
class LoadResult:
    table: str
    vintage: str
    rows: int
    already_loaded: bool


def _timestamp(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


# DuckDB types of the raw tables -> Arrow types for bulk inserts.
_ARROW_TYPES = {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
                "TIMESTAMP": pa.timestamp("us"), "DATE": pa.date32(), "BOOLEAN": pa.bool_()}


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """Insert many rows with one statement, column-wise through Arrow.

    DuckDB's `executemany` runs the INSERT once per row, about 0.7 ms a row here: the national
    emissions workbook (47 000 rows) took half a minute, each SSB table's category rows half a
    second (bench/bench_loaders.py). Values Arrow cannot type as the column fall back to it.
    """
    if not rows:
        return
    schema, name = table.split(".")
    types = [t for (t,) in con.execute(
        "select data_type from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, name]).fetchall()]
    try:
        arrays = [pa.array(column, type=_ARROW_TYPES.get(t)) for column, t in zip(zip(*rows), types, strict=True)]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError):
        con.executemany(f"insert into {table} values ({', '.join('?' * len(types))})", rows)
        return
    con.register("incoming_rows", pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(arrays))]))
    try:
        con.execute(f"insert into {table} select * from incoming_rows")
    finally:
        con.unregister("incoming_rows")
