"""Load landed vintages into the `raw` schema of the DuckDB work file.

Every row carries its provenance (vintage, the source's `updated`, fetch time,
landing path). Loading a vintage that is already there adds nothing; a vintage
is loaded in one transaction, so a crash leaves it either absent or whole.

Raw is a cache of the landing zone: `load_landed_*` load every landed vintage raw
does not hold yet, oldest first, so a lost or damaged work file comes back whole,
with the history `revisions` compares (not only each source's latest vintage).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Callable, Iterable

import duckdb
import pyarrow as pa

from styringsdata.queries import one_value
from styringsdata.sources import jsonstat
from styringsdata.sources.klass import CodeChange, LineageRow, build_lineage, parse_changes
from styringsdata.sources.drop_zone import parse_landed
from styringsdata.raw.landing import LandingZone, read_manifest, safe_name
from styringsdata.raw.tables import RAW, LoadResult, _insert_rows, _timestamp  # noqa: F401 (the loaders' names)
from styringsdata.sources.periods import PeriodError, parse_period

IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
PROVENANCE_COLUMNS = ("_vintage", "_source_updated", "_fetched_at", "_landing_path")
# Added after the provenance columns (so older raw tables gain them by ALTER TABLE): the period's first and last
# day (src/styringsdata/sources/periods.py) and where the answer came from ('snapshot' or 'live'; NULL for vintages loaded
# before this was recorded, which the marts never call live).
PERIOD_COLUMNS = ("period_start", "period_end", "_origin")


class RawLoadError(ValueError):
    pass


def identifier(name: str, what: str) -> str:
    """Names from a source (dimension codes, table ids) become SQL names: only plain identifiers pass."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise RawLoadError(f"{what} {name!r} cannot be used as a name in SQL "
                           "(a letter, then letters, digits and _ only, at most 63 characters)")
    added = ("value", "status", *PROVENANCE_COLUMNS, *PERIOD_COLUMNS)
    if name.lower() in {c.lower() for c in added}:
        raise RawLoadError(f"{what} {name!r} collides with a column the loader adds ({', '.join(added)})")
    return name


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute(
        f"""create table if not exists {RAW}.ssb_tables (
            table_id varchar, _vintage varchar, label varchar, source_updated timestamp,
            first_period varchar, last_period varchar, _fetched_at timestamp, _landing_path varchar,
            rows bigint, data_requests integer)"""
    )
    con.execute(
        f"""create table if not exists {RAW}.ssb_categories (
            table_id varchar, _vintage varchar, dimension varchar, code varchar, label varchar,
            position integer, unit_base varchar, unit_decimals integer)"""
    )
    con.execute(
        f"""create table if not exists {RAW}.klass_municipality_changes (
            old_code varchar, old_name varchar, new_code varchar, new_name varchar, change_occurred date,
            _vintage varchar, _fetched_at timestamp, _landing_path varchar)"""
    )
    # One row per source table and run: did the source answer, and if not, why and what to do
    # (src/styringsdata/runs/source_outcomes.py). dbt flags the figures of a failing source from it.
    con.execute(
        f"""create table if not exists {RAW}.source_attempts (
            source varchar, source_table varchar, run_id varchar, attempted_at timestamp, answered boolean,
            error_class varchar, message varchar, advice varchar)"""
    )
    con.execute(
        f"""create table if not exists {RAW}.klass_municipality_lineage (
            from_code varchar, from_name varchar, to_code varchar, to_name varchar, changed_on date,
            successor_count integer, _vintage varchar, _fetched_at timestamp)"""
    )


# The raw tables of the sources with a fixed shape. A source that fails on a first run still gets its (empty)
# table, so dbt builds everything else (src/styringsdata/runs/source_outcomes.py).

def create_fhi_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute(f"""create table if not exists {RAW}.fhi_values (table_id varchar, indicator_id varchar,
                    "GEO" varchar, "AAR" varchar, "MEASURE_TYPE" varchar, dimensions varchar, value double,
                    status varchar, period_start date, period_end date, _origin varchar, _vintage varchar,
                    _source_updated timestamp, _fetched_at timestamp, _landing_path varchar)""")


def create_emissions_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute(f"""create table if not exists {RAW}.miljodirektoratet_emissions (
        county varchar, municipality_code varchar, municipality_name varchar, year integer, sector varchar,
        emission_source varchar, gas varchar, tonnes_co2e double, _row integer, _vintage varchar,
        _fetched_at timestamp, _landing_path varchar, _origin varchar)""")
    # Tables loaded before the answer's origin was recorded gain the column (NULL: never called live).
    con.execute(f"alter table {RAW}.miljodirektoratet_emissions add column if not exists _origin varchar")


def create_kommune_nm_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute(f"""create table if not exists {RAW}.kommune_nm_ranks (
        municipality_code varchar, municipality_name varchar, year integer, county varchar, total_rank integer,
        county_rank integer, naeringsliv_rank integer, arbeidsmarked_rank integer, demografi_rank integer,
        kompetanse_rank integer, kommuneokonomi_rank integer, fagprove_rank integer, _file varchar, _row integer,
        _vintage varchar, _received_at timestamp, _landing_path varchar)""")


def loaded_ssb_vintages(con: duckdb.DuckDBPyConnection, table_id: str) -> set[str]:
    ensure_schema(con)
    rows = con.execute(f"select _vintage from {RAW}.ssb_tables where table_id = ?", [table_id]).fetchall()
    return {r[0] for r in rows}


def _category_rows(table_id: str, vintage: str, metadata: dict[str, Any]) -> list[tuple]:
    rows = []
    for dim_code in metadata["id"]:
        category = metadata["dimension"][dim_code]["category"]
        index = category.get("index")
        codes = index if isinstance(index, list) else sorted(index, key=index.__getitem__)
        labels = category.get("label") or {}
        units = category.get("unit") or {}
        for position, code in enumerate(codes):
            unit = units.get(code) or {}
            rows.append((table_id, vintage, dim_code, code, labels.get(code, code), position,
                         unit.get("base") or unit.get("label"), unit.get("decimals")))
    return rows


def _decode_data(vintage_dir: Path, files: Iterable[str], what: str = "dimension",
                 roles: dict[str, str | None] | None = None) -> tuple[list[str], pa.Table]:
    tables: list[pa.Table] = []
    dims: list[str] | None = None
    for name in files:
        path = vintage_dir / name
        dataset = jsonstat.decode(path.read_bytes(), source=str(path))
        these = [identifier(d.code, what) for d in dataset.dimensions]  # before they become columns
        if roles is not None:
            roles.update({d.code: d.role for d in dataset.dimensions})
        if dims is None:
            dims = these
        elif these != dims:
            raise RawLoadError(f"{path}: dimensions {these} differ from {dims} in the same vintage")
        table = dataset.to_arrow()
        # Dictionary-encoded code columns are cheap to build; DuckDB wants plain strings to append.
        table = pa.table({c: (table[c].cast(pa.string()) if c in these else table[c]) for c in table.column_names})
        tables.append(table)
    if dims is None:
        raise RawLoadError(f"{vintage_dir}: the manifest lists no data payloads")
    return dims, pa.concat_tables(tables)


def _existing_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [RAW, table]).fetchall()]


def _check_columns(con: duckdb.DuckDBPyConnection, table: str, dims: list[str], source: Path) -> None:
    existing = _existing_columns(con, table)
    if not existing:
        return
    expected = [*dims, "value", "status", *PROVENANCE_COLUMNS, *PERIOD_COLUMNS]
    if [c.lower() for c in existing] == [c.lower() for c in expected[:-len(PERIOD_COLUMNS)]]:
        return  # a table loaded before periods were recorded: _add_period_columns upgrades it
    if [c.lower() for c in existing] != [c.lower() for c in expected]:
        new = [d for d in dims if d.lower() not in {c.lower() for c in existing}]
        gone = [c for c in existing if c.lower() not in {e.lower() for e in expected}]
        raise RawLoadError(
            f"{source}: {RAW}.{table} has columns {existing} but this vintage has dimensions {dims}"
            + (f"; new dimension(s) {new}" if new else "") + (f"; missing {gone}" if gone else "")
            + ". The source changed shape: review src/styringsdata/sources/ssb_tables.yaml and the staging model before loading."
        )


def _time_column(dims: list[str], dataset_roles: dict[str, str | None], source: Path) -> str:
    for dim in dims:
        if dataset_roles.get(dim) == "time":
            return dim
    if "Tid" in dims:
        return "Tid"
    raise RawLoadError(f"{source}: no time dimension (role time or 'Tid') among {dims}")


def _period_bounds(codes: Iterable[str], source: Path, column: str) -> dict[str, tuple[dt.date, dt.date]]:
    out = {}
    for code in codes:
        try:
            period = parse_period(code)
        except PeriodError as exc:
            raise RawLoadError(f"{source}: column {column}: {exc}") from exc
        out[code] = (period.start, period.end)
    return out


def _add_period_columns(con: duckdb.DuckDBPyConnection, table: str, time_column: str, source: Path) -> None:
    """Upgrade a raw table loaded before periods were recorded: add the columns, fill the bounds."""
    existing = {c.lower() for c in _existing_columns(con, table)}
    if "period_start" in existing:
        return
    con.execute(f"alter table {RAW}.{table} add column period_start date")
    con.execute(f"alter table {RAW}.{table} add column period_end date")
    con.execute(f"alter table {RAW}.{table} add column _origin varchar")
    codes = [r[0] for r in con.execute(f'select distinct "{time_column}" from {RAW}.{table}').fetchall()]
    for code, (start, end) in _period_bounds(codes, source, time_column).items():
        con.execute(f'update {RAW}.{table} set period_start = ?, period_end = ? where "{time_column}" = ?',
                    [start, end, code])


def _with_periods(cells: pa.Table, time_column: str, origin: str | None, source: Path) -> pa.Table:
    codes = cells[time_column].to_pylist()
    bounds = _period_bounds(set(codes), source, time_column)
    return (cells.append_column("period_start", pa.array([bounds[c][0] for c in codes], type=pa.date32()))
                 .append_column("period_end", pa.array([bounds[c][1] for c in codes], type=pa.date32()))
                 .append_column("_origin", pa.array([origin] * len(codes), type=pa.string())))


def load_ssb_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path) -> LoadResult:
    vintage_dir = Path(vintage_dir)
    manifest = read_manifest(vintage_dir)
    table_id = safe_name(manifest["table"], "SSB table id")
    vintage = manifest["vintage"]
    raw_table = identifier(f"ssb_{table_id}", f"raw table for SSB table id {table_id!r}")
    if vintage in loaded_ssb_vintages(con, table_id):
        return LoadResult(raw_table, vintage, 0, True)
    data_files = [p["file"] for p in manifest["payloads"] if p["file"].startswith("data-")]
    roles: dict[str, str | None] = {}
    dims, cells = _decode_data(vintage_dir, data_files, f"table {table_id} dimension", roles)
    time_column = _time_column(dims, roles, vintage_dir)
    cells = _with_periods(cells, time_column, manifest.get("origin"), vintage_dir)
    metadata = json.loads((vintage_dir / "metadata.json").read_bytes())
    _check_columns(con, raw_table, dims, vintage_dir)
    source_updated = _timestamp(manifest.get("source_updated"))
    fetched_at = _timestamp(manifest.get("fetched_at"))
    columns = ", ".join(f'"{d}" varchar' for d in dims)
    con.execute("begin transaction")
    try:
        con.execute(
            f"""create table if not exists {RAW}.{raw_table} ({columns}, value double, status varchar,
                _vintage varchar, _source_updated timestamp, _fetched_at timestamp, _landing_path varchar,
                period_start date, period_end date, _origin varchar)"""
        )
        _add_period_columns(con, raw_table, time_column, vintage_dir)
        con.execute(f"delete from {RAW}.{raw_table} where _vintage = ?", [vintage])
        con.register("incoming_cells", cells)
        selected = ", ".join(f'"{d}"' for d in dims)
        con.execute(
            f"""insert into {RAW}.{raw_table} ({selected}, value, status, _vintage, _source_updated, _fetched_at,
                    _landing_path, period_start, period_end, _origin)
                select {selected}, value, status, ?, ?, ?, ?, period_start, period_end, _origin
                from incoming_cells""",
            [vintage, source_updated, fetched_at, str(vintage_dir)],
        )
        con.unregister("incoming_cells")
        con.execute(f"delete from {RAW}.ssb_categories where table_id = ? and _vintage = ?", [table_id, vintage])
        _insert_rows(con, f"{RAW}.ssb_categories", _category_rows(table_id, vintage, metadata))
        con.execute(
            f"insert into {RAW}.ssb_tables values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [table_id, vintage, manifest.get("label"), source_updated, manifest.get("first_period"),
             manifest.get("last_period"), fetched_at, str(vintage_dir), cells.num_rows, len(data_files)],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult(raw_table, vintage, cells.num_rows, False)


def load_klass_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path) -> LoadResult:
    vintage_dir = Path(vintage_dir)
    manifest = read_manifest(vintage_dir)
    vintage = manifest["vintage"]
    ensure_schema(con)
    present = one_value(con, f"select count(*) from {RAW}.klass_municipality_changes where _vintage = ?", [vintage])
    if present:
        return LoadResult("klass_municipality_changes", vintage, 0, True)
    path = vintage_dir / manifest["payloads"][0]["file"]
    changes: list[CodeChange] = parse_changes(path.read_bytes(), source=str(path))
    lineage: list[LineageRow] = build_lineage(changes)
    fetched_at = _timestamp(manifest.get("fetched_at"))
    con.execute("begin transaction")
    try:
        _insert_rows(
            con, f"{RAW}.klass_municipality_changes",
            [(c.old_code or None, c.old_name or None, c.new_code or None, c.new_name or None, c.change_occurred,
              vintage, fetched_at, str(vintage_dir)) for c in changes],
        )
        con.execute(f"delete from {RAW}.klass_municipality_lineage where _vintage = ?", [vintage])
        if lineage:
            _insert_rows(
                con, f"{RAW}.klass_municipality_lineage",
                [(r.from_code, r.from_name, r.to_code, r.to_name, r.changed_on, r.successor_count, vintage, fetched_at)
                 for r in lineage],
            )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult("klass_municipality_changes", vintage, len(changes), False)


def ensure_registry_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute(
        f"""create table if not exists {RAW}.registry_values (
            indicator_id varchar, municipality_code varchar, period integer, value double, unit varchar,
            status varchar, source varchar, comment varchar, _file varchar, _row integer,
            _vintage varchar, _received_at timestamp, _landing_path varchar)"""
    )


def load_registry_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path, rows: list, manifest: dict) -> LoadResult:
    """Rows were validated by styringsdata.sources.registry before they reach here; a vintage loads whole or not at all."""
    ensure_registry_schema(con)
    vintage = manifest["vintage"]
    table = manifest["table"]
    present = one_value(con, f"select count(*) from {RAW}.registry_values where _vintage = ? and _file = ?",
                             [vintage, manifest.get("original_name")])
    if present or not rows:  # no rows: a bundled release that changed no figure (drop_zone.parse_landed)
        return LoadResult(f"registry/{table}", vintage, 0, True)
    received = _timestamp(manifest.get("fetched_at"))
    con.execute("begin transaction")
    try:
        _insert_rows(
            con, f"{RAW}.registry_values",
            [(r.indicator_id, r.municipality_code, r.period, r.value, r.unit, r.status, r.source or None,
              r.comment or None, manifest.get("original_name"), r.row, vintage, received, str(vintage_dir))
             for r in rows],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult(f"registry/{table}", vintage, len(rows), False)


FHI_FIXED = ("GEO", "AAR", "MEASURE_TYPE")


def _fhi_rows(cells: pa.Table, dims: list[str], pins: dict[str, dict[str, str]], table_id: str,
              source: Path) -> pa.Table:
    """Long rows: GEO, AAR, MEASURE_TYPE, the other dimensions as `K=v;K=v`, and the indicator whose pins match."""
    others = [d for d in dims if d not in FHI_FIXED]
    columns = {d: cells[d].to_pylist() for d in dims}
    n = cells.num_rows
    keys = [";".join(f"{d}={columns[d][i]}" for d in sorted(others)) for i in range(n)]
    wanted = {}
    for indicator, pin in pins.items():
        key = ";".join(f"{d}={pin[d]}" for d in sorted(others))
        wanted[(key, pin["MEASURE_TYPE"])] = indicator
    indicators = [wanted.get((keys[i], columns["MEASURE_TYPE"][i])) for i in range(n)]
    if any(i is None for i in indicators):
        bad = next(k for k, i in zip(keys, indicators) if i is None)
        raise RawLoadError(f"{source}: FHI table {table_id} answered cells ({bad or 'no other dimension'}) that no "
                           "configured indicator asked for")
    codes = columns["AAR"]
    bounds = _period_bounds(set(codes), source, "AAR")
    return pa.table({
        "indicator_id": pa.array(indicators, type=pa.string()),
        "GEO": pa.array(columns["GEO"], type=pa.string()),
        "AAR": pa.array(codes, type=pa.string()),
        "MEASURE_TYPE": pa.array(columns["MEASURE_TYPE"], type=pa.string()),
        "dimensions": pa.array(keys, type=pa.string()),
        "value": cells["value"],
        "status": cells["status"],
        "period_start": pa.array([bounds[c][0] for c in codes], type=pa.date32()),
        "period_end": pa.array([bounds[c][1] for c in codes], type=pa.date32()),
    })


def load_fhi_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path) -> LoadResult:
    """Every FHI table loads into one long raw table; dimensions besides GEO, AAR and MEASURE_TYPE differ from
    table to table and are kept as `dimensions` ('KJONN=0;UTDANN=0'), each pinned to one code per indicator."""
    vintage_dir = Path(vintage_dir)
    manifest = read_manifest(vintage_dir)
    table_id = safe_name(manifest["table"], "FHI table id")
    vintage = manifest["vintage"]
    create_fhi_table(con)
    present = one_value(con, f"select count(*) from {RAW}.fhi_values where table_id = ? and _vintage = ?",
                             [table_id, vintage])
    if present:
        return LoadResult("fhi_values", vintage, 0, True)
    files = [p["file"] for p in manifest["payloads"] if p["file"].startswith("data-")]
    dims, cells = _decode_data(vintage_dir, files, f"FHI table {table_id} dimension")
    missing = [d for d in FHI_FIXED if d not in dims]
    if missing:
        raise RawLoadError(f"{vintage_dir}: FHI table {table_id} has dimensions {dims}, without {missing}")
    pins = manifest.get("pins") or {}
    if not pins:
        raise RawLoadError(f"{vintage_dir}: the manifest records no pins for FHI table {table_id}")
    for indicator, pin in pins.items():
        unpinned = [d for d in dims if d not in ("GEO", "AAR") and d not in pin]
        if unpinned:
            raise RawLoadError(f"{vintage_dir}: FHI table {table_id} has dimension(s) {unpinned} that {indicator}'s "
                               "pins do not cover; a new dimension needs a decision on how to filter it "
                               "(src/styringsdata/sources/fhi_tables.yaml)")
    rows = _fhi_rows(cells, dims, pins, table_id, vintage_dir)
    con.execute("begin transaction")
    try:
        con.register("incoming_cells", rows)
        con.execute(
            f"""insert into {RAW}.fhi_values select ?, indicator_id, "GEO", "AAR", "MEASURE_TYPE", dimensions, value,
                status, period_start, period_end, ?, ?, ?, ?, ? from incoming_cells""",
            [table_id, manifest.get("origin"), vintage, _timestamp(manifest.get("source_updated")),
             _timestamp(manifest.get("fetched_at")), str(vintage_dir)])
        con.unregister("incoming_cells")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult("fhi_values", vintage, rows.num_rows, False)


def load_kostra_groups_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path) -> LoadResult:
    """KLASS 112: which KOSTRA group each municipality belonged to, per year."""
    from styringsdata.sources.klass import parse_kostra_groups

    vintage_dir = Path(vintage_dir)
    manifest = read_manifest(vintage_dir)
    vintage = manifest["vintage"]
    con.execute(f"create schema if not exists {RAW}")
    con.execute(f"""create table if not exists {RAW}.klass_kostra_groups (year integer, group_code varchar,
                    group_name varchar, municipality_code varchar, municipality_name varchar, _vintage varchar,
                    _fetched_at timestamp, _landing_path varchar)""")
    if one_value(con, f"select count(*) from {RAW}.klass_kostra_groups where _vintage = ?", [vintage]):
        return LoadResult("klass_kostra_groups", vintage, 0, True)
    rows = []
    for payload in manifest["payloads"]:
        named = re.fullmatch(r"groups-(\d{4})\.json", payload["file"])
        if named is None:
            raise RawLoadError(f"{vintage_dir}: payload {payload['file']!r} is not named groups-<year>.json")
        year = int(named.group(1))
        path = vintage_dir / payload["file"]
        rows += [(m.year, m.group_code, m.group_name, m.municipality_code, m.municipality_name)
                 for m in parse_kostra_groups(path.read_bytes(), year, source=str(path))]
    fetched = _timestamp(manifest.get("fetched_at"))
    con.execute("begin transaction")
    try:
        _insert_rows(con, f"{RAW}.klass_kostra_groups",
                     [(*r, vintage, fetched, str(vintage_dir)) for r in rows])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult("klass_kostra_groups", vintage, len(rows), False)


def raw_table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether raw has this table yet (a source that never answered, or a new work file, has none)."""
    return bool(one_value(con, "select count(*) from information_schema.tables where table_schema = ? "
                               "and table_name = ?", [RAW, table]))


def emissions_vintage_loaded(con: duckdb.DuckDBPyConnection, vintage: str) -> bool:
    """Whether raw holds this workbook vintage (the asset asks first, to skip parsing a known workbook)."""
    return raw_table_exists(con, "miljodirektoratet_emissions") and bool(one_value(
        con, f"select count(*) from {RAW}.miljodirektoratet_emissions where _vintage = ?", [vintage]))


def load_emissions_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path, rows: list) -> LoadResult:
    manifest = read_manifest(vintage_dir)
    vintage = manifest["vintage"]
    create_emissions_table(con)
    if emissions_vintage_loaded(con, vintage):
        return LoadResult("miljodirektoratet_emissions", vintage, 0, True)
    fetched = _timestamp(manifest.get("fetched_at"))
    con.execute("begin transaction")
    try:
        _insert_rows(
            con, f"{RAW}.miljodirektoratet_emissions",
            [(r.county, r.municipality_code, r.municipality_name, r.year, r.sector, r.emission_source, r.gas,
              r.tonnes_co2e, r.row, vintage, fetched, str(vintage_dir), manifest.get("origin")) for r in rows])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult("miljodirektoratet_emissions", vintage, len(rows), False)


def load_kommune_nm_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path, rows: list) -> LoadResult:
    manifest = read_manifest(vintage_dir)
    vintage = manifest["vintage"]
    create_kommune_nm_table(con)
    if not rows or one_value(con, f"select count(*) from {RAW}.kommune_nm_ranks where _vintage = ?",
                                  [vintage]):
        # no rows: a release that changed no figure of the previous one (drop_zone.parse_landed), nothing new
        return LoadResult("kommune_nm_ranks", vintage, 0, True)
    received = _timestamp(manifest.get("fetched_at"))
    order = ("total_rank", "county_rank", "naeringsliv_rank", "arbeidsmarked_rank", "demografi_rank",
             "kompetanse_rank", "kommuneokonomi_rank", "fagprove_rank")
    con.execute("begin transaction")
    try:
        _insert_rows(
            con, f"{RAW}.kommune_nm_ranks",
            [(r.municipality_code, r.municipality_name, r.year, r.county, *[r.ranks[c] for c in order],
              manifest.get("original_name"), r.row, vintage, received, str(vintage_dir)) for r in rows])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult("kommune_nm_ranks", vintage, len(rows), False)


# ---------------------------------------------------------------------------------------------------------
# Everything landed, into raw


def _loaded(con: duckdb.DuckDBPyConnection, table: str, where: str = "", params: Iterable[Any] = ()) -> set[str]:
    if not raw_table_exists(con, table):
        return set()
    return {r[0] for r in con.execute(f"select distinct _vintage from {RAW}.{table} {where}", list(params)).fetchall()}


def _unloaded(landing: LandingZone, source: str, table: str, loaded: set[str]) -> list[Path]:
    return [landing.vintage_dir(source, table, v) for v in landing.vintages(source, table) if v not in loaded]


def load_landed_ssb(con: duckdb.DuckDBPyConnection, landing: LandingZone, table_id: str) -> list[LoadResult]:
    loaded = loaded_ssb_vintages(con, table_id)
    return [load_ssb_vintage(con, d) for d in _unloaded(landing, "ssb", table_id, loaded)]


def load_landed_fhi(con: duckdb.DuckDBPyConnection, landing: LandingZone, table_id: str) -> list[LoadResult]:
    loaded = _loaded(con, "fhi_values", "where table_id = ?", [table_id])
    return [load_fhi_vintage(con, d) for d in _unloaded(landing, "fhi", table_id, loaded)]


def load_landed_klass(con: duckdb.DuckDBPyConnection, landing: LandingZone, table: str) -> list[LoadResult]:
    loaded = _loaded(con, "klass_municipality_changes")
    return [load_klass_vintage(con, d) for d in _unloaded(landing, "klass", table, loaded)]


def load_landed_kostra_groups(con: duckdb.DuckDBPyConnection, landing: LandingZone, table: str) -> list[LoadResult]:
    loaded = _loaded(con, "klass_kostra_groups")
    return [load_kostra_groups_vintage(con, d) for d in _unloaded(landing, "klass", table, loaded)]


def load_landed_emissions(con: duckdb.DuckDBPyConnection, landing: LandingZone, table: str,
                          parse: Callable[[bytes, str], list], parsed: dict[str, list] | None = None) -> list[LoadResult]:
    """`parsed`: rows already parsed by this run's download, by vintage (a workbook is not parsed twice)."""
    loaded = _loaded(con, "miljodirektoratet_emissions")
    results = []
    for vintage_dir in _unloaded(landing, "miljodirektoratet", table, loaded):
        rows = (parsed or {}).get(vintage_dir.name)
        if rows is None:
            manifest = read_manifest(vintage_dir)
            rows = parse((vintage_dir / manifest["payloads"][0]["file"]).read_bytes(), str(vintage_dir))
        results.append(load_emissions_vintage(con, vintage_dir, rows))
    return results


def load_landed_kommune_nm(con: duckdb.DuckDBPyConnection, landing: LandingZone,
                           validate: Callable[[bytes, str], Any]) -> list[LoadResult]:
    """`validate`: the source's file contract; a landed vintage is read as every drop zone's is (a bundled release
    that changed no figure has no rows, and loading it changes nothing)."""
    loaded = _loaded(con, "kommune_nm_ranks")
    results = []
    for table in landing.tables("kommune_nm"):
        for vintage_dir in _unloaded(landing, "kommune_nm", table, loaded):
            _, rows = parse_landed(vintage_dir, validate)
            results.append(load_kommune_nm_vintage(con, vintage_dir, rows))
    return results
