"""GX issue #11579 on this machine's versions: why GX's SQL engine gets no rows from duckdb-engine, and what fixes it.

    .venv/bin/pip install duckdb-engine          # not a project dependency: the gate uses GX's pandas path
    .venv/bin/python -m bench.gx_duckdb_sql_engine [--work data/bench/run/work.duckdb]

1. Plain SQLAlchemy, every DB-API call on the DuckDB connection printed: a result fetched after its Connection is
   closed is empty, because closing the Connection rolls back its (auto-begun) transaction, and duckdb-engine's
   cursor is the DuckDB connection itself, whose one pending result the ROLLBACK replaces.
   GX's `SqlAlchemyExecutionEngine.execute_query` does exactly that (`with self.get_connection() as connection:
   result = ...execute(query)` and returns `result`; `resolve_metric_bundle` calls `.fetchall()` on it after the
   connection is closed), so `res` is `[]` and `res[0]` raises IndexError. psycopg2's client-side cursor holds
   its rows, so they survive the rollback (and GX never closes sqlite's connection); duckdb-engine's
   `CursorWrapper` holds nothing.
2. GX on stock duckdb-engine: the IndexError of #11579.
3. GX on a dialect whose cursor fetches its rows at `execute` (psycopg2's client-side cursor behaviour): the
   expectations the gate uses succeed, except `expect_column_values_to_match_regex`, which GX does not implement
   for the duckdb dialect ("Regex is not supported for dialect duckdb").
4. With `--work`: the gate's heaviest check (`fct_unique_grain`, ExpectCompoundColumnsToBeUnique on
   marts.fct_indicator_values) through the SQL engine and through the pandas path, each in a child process:
   seconds and resident memory added after Great Expectations is imported.
Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import ROOT, MemorySampler, bench_parser, mb, table


def buffered_dialect() -> str:
    """Register `duckdb+buffered://`: duckdb-engine with a cursor that holds its rows (the fix of step 3)."""
    import duckdb_engine
    from sqlalchemy.dialects import registry

    class BufferedCursor:
        def __init__(self, inner: Any, connection: Any) -> None:
            self._inner, self._connection = inner, connection
            self._rows: list[Any] = []
            self._next = 0
            self.description = None

        def execute(self, statement: str, parameters: Any = None, context: Any = None) -> None:
            self._inner.execute(statement, parameters, context)
            self.description = self._inner.description
            self._rows, self._next = (self._inner.fetchall() if self.description is not None else []), 0

        def executemany(self, statement: str, parameters: Any = None, context: Any = None) -> None:
            self._inner.executemany(statement, parameters, context)
            self.description, self._rows, self._next = None, [], 0

        def fetchone(self) -> Any:
            row = self._rows[self._next] if self._next < len(self._rows) else None
            self._next += row is not None
            return row

        def fetchmany(self, size: int | None = None) -> list[Any]:
            rows = self._rows[self._next:self._next + (size or 1)]
            self._next += len(rows)
            return rows

        def fetchall(self) -> list[Any]:
            rows = self._rows[self._next:]
            self._next = len(self._rows)
            return rows

        def close(self) -> None:
            self._rows = []

        @property
        def connection(self) -> Any:
            return self._connection

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    class BufferedConnection(duckdb_engine.ConnectionWrapper):
        def cursor(self) -> Any:  # type: ignore[override]
            return BufferedCursor(super().cursor(), self)

    class BufferedDialect(duckdb_engine.Dialect):
        def connect(self, *cargs: Any, **cparams: Any) -> Any:
            wrapper = super().connect(*cargs, **cparams)
            return BufferedConnection(wrapper._ConnectionWrapper__c)

    module = sys.modules[__name__]
    module.BufferedDialect = BufferedDialect  # type: ignore[attr-defined]
    module.BufferedConnection = BufferedConnection  # type: ignore[attr-defined]
    registry.register("duckdb.buffered", __name__, "BufferedDialect")
    return "duckdb+buffered"


def sqlalchemy_trace(path: Path) -> None:
    import duckdb_engine
    import sqlalchemy as sa

    class Spy:
        def __init__(self, connection: Any) -> None:
            self._connection = connection

        def __getattr__(self, name: str) -> Any:
            attribute = getattr(self._connection, name)
            if not callable(attribute):
                return attribute

            def call(*args: Any, **kwargs: Any) -> Any:
                print(f"    duckdb.{name}{args if args else '()'}")
                return attribute(*args, **kwargs)
            return call

    original = duckdb_engine.ConnectionWrapper.__init__
    duckdb_engine.ConnectionWrapper.__init__ = lambda self, c: original(self, Spy(c))  # type: ignore[method-assign]
    try:
        engine = sa.create_engine(f"duckdb:///{path}")
        query = sa.select(sa.func.count()).select_from(sa.text("t"))
        with engine.connect() as connection:
            print("  execute, fetch inside the connection:")
            print(f"    -> {connection.execute(query).fetchall()}")
        with engine.connect() as connection:
            print("  execute, then close the connection (as GX's execute_query does):")
            result = connection.execute(query)
        print("  fetch afterwards (as GX's resolve_metric_bundle does):")
        print(f"    -> {result.fetchall()}")
        engine.dispose()
    finally:
        duckdb_engine.ConnectionWrapper.__init__ = original  # type: ignore[method-assign]


def gx_on(dialect: str, path: Path) -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = None
    source = context.data_sources.add_sql(dialect, connection_string=f"{dialect}:///{path}")
    batch = source.add_table_asset("t", table_name="t").add_batch_definition_whole_table("all").get_batch()
    for expectation in (gxe.ExpectTableRowCountToEqual(value=10),
                        gxe.ExpectColumnValuesToNotBeNull(column="a"),
                        gxe.ExpectColumnValuesToBeBetween(column="a", min_value=0, max_value=5),
                        gxe.ExpectColumnValuesToBeInSet(column="b", value_set=[0, 1, 2]),
                        gxe.ExpectCompoundColumnsToBeUnique(column_list=["b", "c"]),
                        gxe.ExpectColumnValuesToMatchRegex(column="s", regex="^[0-9]$")):
        result = batch.validate(expectation)
        raised = [v["exception_message"] for v in result.exception_info.values()
                  if isinstance(v, dict) and v.get("raised_exception")]
        outcome = f"raised: {raised[0]}" if raised else (
            f"success={result.success}, observed={result.result.get('observed_value')}, "
            f"unexpected={result.result.get('unexpected_count')}")
        print(f"    {expectation.expectation_type}: {outcome}")


def child(args: argparse.Namespace) -> int:
    import dagster  # noqa: F401  (what the pipeline process holds before its gate step)
    import dagster_dbt  # noqa: F401
    import duckdb
    import pandas  # noqa: F401

    import great_expectations as gx
    import great_expectations.expectations as gxe

    sampler = MemorySampler()
    sampler.start()
    time.sleep(0.25)
    started = time.time()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = None
    columns = ["indicator_id", "municipality_code", "year"]
    expectation = gxe.ExpectCompoundColumnsToBeUnique(column_list=columns, result_format="COMPLETE")
    con = duckdb.connect(str(args.work), read_only=True)
    if args.engine == "sql":
        dialect = buffered_dialect()
        # GX opens its own connections; a cursor of the gate's connection shares its database and buffer pool
        source = context.data_sources.add_sql("work", connection_string=f"{dialect}:///:memory:",
                                              kwargs={"creator": lambda: _wrapped(con.cursor())})
        asset = source.add_query_asset("fct", query=f"select {', '.join(columns)}, value, status "
                                                    "from marts.fct_indicator_values")
        batch = asset.add_batch_definition_whole_table("all").get_batch()
    else:
        frame = con.execute(f"select rowid as _row, {', '.join(columns)}, value, status "
                            "from marts.fct_indicator_values").df().set_index("_row")
        source = context.data_sources.add_pandas("work")
        batch = source.add_dataframe_asset("fct").add_batch_definition_whole_dataframe("all").get_batch(
            batch_parameters={"dataframe": frame})
    result = batch.validate(expectation)
    finished = time.time()
    sampler.stop()
    before = max(s[1] for s in sampler.samples if s[0] <= started)
    peak, _ = sampler.peak(started, finished)
    Path(args.out).write_text(json.dumps({
        "seconds": finished - started, "added": peak - before, "success": result.success,
        "unexpected": result.result.get("unexpected_count"),
        "raised": [v.get("exception_message") for v in result.exception_info.values()
                   if isinstance(v, dict) and v.get("raised_exception")]}), encoding="utf-8")
    return 0


def _wrapped(cursor: Any) -> Any:
    """The buffered dialect's connection around a DuckDB cursor (GX's engine then shares the caller's database)."""
    return sys.modules[__name__].BufferedConnection(cursor)  # type: ignore[attr-defined]


def main() -> int:
    parser = bench_parser(__doc__, work=True, work_help="a national work file (bench/bench_pipeline.py --keep)",
                          repeat=2, child="engine")
    args = parser.parse_args()
    if args.child:
        return child(args)

    import duckdb
    import duckdb_engine
    import great_expectations as gx
    import sqlalchemy

    print(f"GX {gx.__version__}, duckdb-engine {duckdb_engine.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
          f"DuckDB {duckdb.__version__}")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "t.duckdb"
        with duckdb.connect(str(path)) as con:
            con.execute("create table t as select range as a, range % 3 as b, range % 2 as c, "
                        "cast(range as varchar) as s from range(10)")
        print("1. plain SQLAlchemy on duckdb-engine, DB-API calls on the DuckDB connection:")
        sqlalchemy_trace(path)
        print("2. GX SQL engine on stock duckdb-engine (duckdb://):")
        gx_on("duckdb", path)
        print("3. GX SQL engine on duckdb-engine with a cursor that holds its rows (duckdb+buffered://):")
        gx_on(buffered_dialect(), path)

    if args.work:
        rows = []
        for engine in ("pandas", "sql") * args.repeat:
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
                out = Path(f.name)
            done = subprocess.run([sys.executable, "-m", "bench.gx_duckdb_sql_engine", "--child", "--engine", engine,
                                   "--work", str(args.work), "--out", str(out)], cwd=ROOT, capture_output=True,
                                  text=True)
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            report = json.loads(out.read_text(encoding="utf-8"))
            out.unlink()
            rows.append((engine, report["seconds"], mb(report["added"]), report["success"], report["unexpected"],
                         "; ".join(report["raised"]) or "-"))
        print(table(("engine", "seconds", "memory added after GX import", "success", "unexpected", "raised"), rows,
                    f"4. ExpectCompoundColumnsToBeUnique on marts.fct_indicator_values of {args.work}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
