"""Row-wise versus column-wise inserts into the raw schema, side by side. Prints a table, asserts nothing.

    .venv/bin/python -m bench.bench_loaders [--snapshot data/bench/national]

The same rows go into the same raw tables of an in-memory DuckDB twice: once with
`con.executemany(insert ... values (?, ...))` (what src/styringsdata/raw/raw_store.py did) and once with
`styringsdata.raw.raw_store._insert_rows` (one INSERT ... SELECT over an Arrow table, what it does now).
Rows: the national emissions workbook (Miljødirektoratet), the category rows of every national SSB
table's metadata, the KLASS changes and the national Kommune-NM file. The workbook's parse time
(openpyxl, read-only) is shown for scale: the pipeline parses it twice per run (see the report).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

from bench._common import DEFAULT_SNAPSHOT, ensure_national_snapshot, table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    args = parser.parse_args()
    ensure_national_snapshot(args.snapshot)

    import duckdb

    from styringsdata.sources import kommune_nm, miljodirektoratet
    from styringsdata.sources.klass import build_lineage, parse_changes
    from styringsdata.raw.raw_store import _category_rows, _insert_rows, ensure_schema, load_emissions_vintage  # noqa: F401

    def recorded(host_glob: str) -> list[dict]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(args.snapshot.glob(host_glob))]

    workbook = base64.b64decode(recorded("www.miljodirektoratet.no/**/*.json")[0]["response"]["body_base64"])
    started = time.perf_counter()
    emissions = miljodirektoratet.parse_workbook(workbook, "national workbook")
    parse_seconds = time.perf_counter() - started

    categories = []
    for document in recorded("data.ssb.no/api/pxwebapi/v2/tables/*/metadata/*.json"):
        metadata = json.loads(document["response"]["body"])
        categories += _category_rows(metadata["extension"]["px"]["tableid"], "v", metadata)
    changes = parse_changes(recorded("data.ssb.no/api/klass/v1/classifications/131/changes/*.json")[0]
                            ["response"]["body"].encode())
    ranks = kommune_nm.parse(next(args.snapshot.glob("kommune_nm/*.csv")).read_bytes(), "kommune_nm_national.csv")

    order = ("total_rank", "county_rank", "naeringsliv_rank", "arbeidsmarked_rank", "demografi_rank",
             "kompetanse_rank", "kommuneokonomi_rank", "fagprove_rank")
    cases = {
        "raw.miljodirektoratet_emissions": [
            (r.county, r.municipality_code, r.municipality_name, r.year, r.sector, r.emission_source, r.gas,
             r.tonnes_co2e, r.row, "v", None, "p") for r in emissions],
        "raw.ssb_categories (19 tables)": categories,
        "raw.klass_municipality_changes": [
            (c.old_code or None, c.old_name or None, c.new_code or None, c.new_name or None, c.change_occurred,
             "v", None, "p") for c in changes],
        "raw.klass_municipality_lineage": [
            (r.from_code, r.from_name, r.to_code, r.to_name, r.changed_on, r.successor_count, "v", None)
            for r in build_lineage(changes)],
        "raw.kommune_nm_ranks": [
            (r.municipality_code, r.municipality_name, r.year, r.county, *[r.ranks[c] for c in order], "f", r.row,
             "v", None, "p") for r in ranks],
    }
    con = duckdb.connect()
    ensure_schema(con)
    rows_out = []
    for name, rows in cases.items():
        target = name.split(" ")[0]
        if target == "raw.miljodirektoratet_emissions":
            con.execute("""create table raw.miljodirektoratet_emissions (county varchar, municipality_code varchar,
                municipality_name varchar, year integer, sector varchar, emission_source varchar, gas varchar,
                tonnes_co2e double, _row integer, _vintage varchar, _fetched_at timestamp, _landing_path varchar)""")
        if target == "raw.kommune_nm_ranks":
            con.execute(f"""create table raw.kommune_nm_ranks (municipality_code varchar, municipality_name varchar,
                year integer, county varchar, {', '.join(c + ' integer' for c in order)}, _file varchar, _row integer,
                _vintage varchar, _received_at timestamp, _landing_path varchar)""")
        width = len(rows[0])
        con.execute(f"delete from {target}")
        started = time.perf_counter()
        con.executemany(f"insert into {target} values ({', '.join('?' * width)})", rows)
        rowwise = time.perf_counter() - started
        expected = con.execute(f"select * from {target} order by all").fetchall()
        con.execute(f"delete from {target}")
        started = time.perf_counter()
        _insert_rows(con, target, rows)
        columnwise = time.perf_counter() - started
        same = con.execute(f"select * from {target} order by all").fetchall() == expected
        rows_out.append((name, len(rows), rowwise, columnwise, f"{rowwise / columnwise:.0f}x",
                         "same rows" if same else "DIFFERENT"))
    rows_out.append(("(openpyxl parse of the workbook)", len(emissions), parse_seconds, "", "", ""))
    print(table(("raw table", "rows", "executemany s", "Arrow insert s", "ratio", "check"), rows_out,
                "Row-wise (executemany) against column-wise (Arrow) inserts, national snapshot"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
