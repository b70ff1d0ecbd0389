"""Publishing the national marts to PostgreSQL beside the DuckDB file, side by side. Prints tables, asserts nothing.

    .venv/bin/python -m bench.bench_postgres [--snapshot data/bench/national] [--work data/bench/run/work.duckdb]
                                             [--repeat 3]

The work file comes from a full national run (`python -m bench.bench_pipeline --keep` leaves one in data/bench/run/;
when it is missing this script makes one). A throwaway PostgreSQL server is started from the binaries on this
machine (tools/pgserver.py: fsync off, so this is the CPU cost, not a disk's) and set up with
deploy/postgres/setup.sql. In each round, interleaved:

  duckdb      the publish step as without STYRINGSDATA_POSTGRES_URL: new DuckDB file, Parquet, renames
  +postgres   the same publish with the PostgreSQL target: the above plus COPY into the staging schema and the
              switch (the first round's switch renames the schema: nothing was published there yet; later
              rounds replace the rows in one transaction, as every publication with unchanged marts does)

Then one more publish with a reader querying in a loop (one statement over `fct_indicator_values` and
`_publication`): reads, errors, reads that mixed two publications, and the slowest read.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

from bench._common import ROOT, bench_parser, ensure_national_work_file, table


def main() -> int:
    parser = bench_parser(__doc__, snapshot=True, work=True, repeat=3)
    parser.add_argument("--scale", type=int, default=1,
                        help="publish every mart's rows this many times over (a copy of the work file), to see the "
                             "publish at the size the marts would have for more municipalities and years")
    args = parser.parse_args()
    args.snapshot, args.work = args.snapshot.resolve(), args.work.resolve()
    ensure_national_work_file(args.snapshot, args.work)

    from styringsdata.publishing.publish import marts_from_manifest, publish
    from styringsdata.publishing.publish_postgres import GateRecord, PostgresTarget
    from tools import pgserver

    marts = marts_from_manifest(ROOT / "dbt_project" / "target" / "manifest.json")
    scratch = ROOT / "data" / "bench" / "postgres"
    scratch.mkdir(parents=True, exist_ok=True)
    if args.scale > 1:
        args.work = scaled_copy(args.work, scratch / f"work-x{args.scale}.duckdb", args.scale, marts)
    server = pgserver.start()
    try:
        warehouse_db = pgserver.setup_warehouse(server)
        os.environ["PGPASSWORD"] = pgserver.PUBLISHER_PASSWORD
        target = PostgresTarget(warehouse_db.publisher_url)
        gate = GateRecord("bench", "2026-01-01T00:00:00+00:00", True, [])
        rounds: dict[str, list[dict[str, float]]] = {"duckdb": [], "+postgres": []}

        def one(variant: str):
            started = time.perf_counter()
            publication = publish(args.work, scratch / f"{variant}.duckdb", scratch / f"parquet-{variant}", marts,
                                  postgres=target if variant == "+postgres" else None, gate=gate)
            return publication, dict(publication.seconds, total=time.perf_counter() - started)

        # The first publication to an empty database renames the schema; shown on its own below.
        publication, seconds = one("+postgres")
        first_switch = (publication.postgres, seconds)
        for n in range(args.repeat):
            for variant in ("duckdb", "+postgres"):
                publication, seconds = one(variant)
                rounds[variant].append(seconds)
            print(f"round {n + 1} of {args.repeat} done", flush=True)
        rows = sum(publication.tables.values())
        with warehouse_db.admin() as pg:
            (size,) = pg.execute("select sum(pg_total_relation_size(c.oid)) from pg_class c "
                                 "where c.relnamespace = 'styringsdata'::regnamespace and c.relkind = 'r'").fetchone()
        reads = read_during_publish(warehouse_db, args.work, scratch, marts, target, gate)
    finally:
        server.stop()

    parts = ("duckdb", "parquet", "postgres stage", "postgres switch", "total")
    median = {v: {p: statistics.median(r.get(p, 0.0) for r in rs) for p in parts} for v, rs in rounds.items()}
    print()
    print(table(["part (median of %d rounds, s)" % len(rounds["duckdb"]), "duckdb", "+postgres"],
                [[p, round(median["duckdb"][p], 3), round(median["+postgres"][p], 3)] for p in parts],
                title=f"Publishing {len(publication.tables)} national marts, {rows:,} rows "
                      f"({size / 2**20:,.1f} MB in PostgreSQL)"))
    ratio = median["+postgres"]["total"] / median["duckdb"]["total"]
    pg_only = median["+postgres"]["postgres stage"] + median["+postgres"]["postgres switch"]
    print(f"\npublish with PostgreSQL / without: {ratio:.2f}x; the PostgreSQL part alone "
          f"{pg_only:.2f} s = {pg_only / median['duckdb']['total']:.2f}x the whole DuckDB publish")
    where, first = first_switch
    print(f"first publication to an empty database ({where.split('(')[-1].rstrip(')')}): "
          f"stage {first['postgres stage']:.2f} s, switch {first['postgres switch']:.3f} s")
    print(f"reader during a publish: {reads}")
    return 0


def scaled_copy(work: Path, copy: Path, scale: int, marts) -> Path:
    import shutil

    import duckdb

    shutil.copyfile(work, copy)
    with duckdb.connect(str(copy)) as con:
        for mart in marts:
            con.execute(f"create or replace table {mart.relation} as select t.* from {mart.relation} t, "
                        f"range({scale})")
    return copy


def read_during_publish(warehouse_db, work: Path, scratch: Path, marts, target, gate) -> str:
    import shutil

    import duckdb

    from styringsdata.publishing.publish import publish

    # A publication that differs from the live one in its row count, so a read mixing the two is told apart.
    changed = scratch / "work-changed.duckdb"
    shutil.copyfile(work, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute("delete from marts.fct_indicator_values where indicator_id = (select min(indicator_id) "
                    "from marts.fct_indicator_values)")
    stop = threading.Event()
    seen = {"reads": 0, "errors": [], "mixed": 0, "slowest": 0.0, "publications": set()}

    def loop() -> None:
        with warehouse_db.bi() as con:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    n, recorded, published = con.execute(
                        "select (select count(*) from fct_indicator_values), (select row_count from _publication "
                        "where table_name = 'fct_indicator_values'), (select max(published_at) from _publication)"
                    ).fetchone()
                except Exception as exc:  # noqa: BLE001 (counted and shown, not hidden)
                    seen["errors"].append(f"{type(exc).__name__}: {exc}")
                    continue
                seen["slowest"] = max(seen["slowest"], time.monotonic() - started)
                seen["reads"] += 1
                seen["mixed"] += n != recorded
                seen["publications"].add(published)

    reader = threading.Thread(target=loop)
    reader.start()
    try:
        time.sleep(1.1)  # reads of the live publication first; the next one is stamped a second later
        publication = publish(changed, scratch / "reader.duckdb", scratch / "parquet-reader", marts,
                              postgres=target, gate=gate)
        time.sleep(0.5)
    finally:
        stop.set()
        reader.join(timeout=60)
    return (f"{seen['reads']} reads while publishing ({publication.postgres.split('(')[-1].rstrip(')')}), "
            f"{len(seen['errors'])} errors, {seen['mixed']} mixed, {len(seen['publications'])} publications seen, "
            f"slowest read {seen['slowest'] * 1000:.0f} ms" + (f"; first error: {seen['errors'][0]}" if seen["errors"] else ""))


if __name__ == "__main__":
    sys.exit(main())
