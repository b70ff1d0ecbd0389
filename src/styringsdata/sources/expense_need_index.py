"""The expense-need index (indeks for beregnet utgiftsbehov) per municipality, year and cost-key sector.

The income system's cost key (kostnadsnøkkelen) gives each municipality an index of its computed expense
need per inhabitant, in total and per sector (delkostnadsnøkler: grunnskole, barnehage, barnevern, pleie og
omsorg, kommunehelse, sosialhjelp, administrasjon og miljø, landbruk), published each year in the state
budget's "Grønt hefte" (Beregningsteknisk dokumentasjon, table C-k). The ASSS way of comparing divides
spending by it (the Handlingsprogram's `**)` "Justert for utgiftsbehov"). No API publishes it: the data team
transcribes the table into this contract (docs/sources.md, "Municipal deflator and expense-need index"), bundled in
`snapshots/expense_need_index/` and dropped in `data/inbox/expense_need_index/`:

    year;municipality_code;municipality_name;need_area;need_index;origin;source;citation
    2022;3203;Asker;grunnskole;104,21;published;Grønt hefte 2022, tabell C-k;https://www.regjeringen.no/...

`need_index` has the national average = 100 (Grønt hefte prints 1,0421: write 104,21). `need_area` is one of
the sectors in `dbt_project/seeds/expense_need_areas.csv` (`samlet` = the whole cost key). Municipality
codes are today's. A file may cover any years and municipalities; the newest file wins for a figure.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import duckdb

from styringsdata.queries import one_value
from styringsdata.sources.file_contract import (body_rows, check_provenance, parse_number, read_contract_table,
                                                 read_header)
from styringsdata.raw.tables import RAW, LoadResult, _insert_rows, _timestamp
from styringsdata.sources.registry import Problem, ValidationReport, name_matches

SOURCE = "expense_need_index"
AREAS_SEED = "expense_need_areas.csv"  # in the dbt project's seeds (Settings.seeds_dir)
TABLE = f"{RAW}.expense_need_index"
COLUMNS = ("year", "municipality_code", "municipality_name", "need_area", "need_index", "origin", "source",
           "citation")
FIRST_YEAR = 1990
# Grønt hefte prints ratios (1,0421); a file whose every index is below this was written on that scale.
RATIO_SCALE_BELOW = 10.0
# Plausible indices (national average = 100). An ASSS member is a large town: its total and sector indices lie
# well within 50-200 (Grønt hefte 2018-2024: 68-135). A small municipality's sector index can be far from 100
# (barnevern, sosialhjelp), but not a factor of ten.
MEMBER_RANGE = (50.0, 200.0)
OTHER_RANGE = (10.0, 1000.0)
# Except agriculture (landbruk): a city's need is a small fraction of the national average (the bundled file
# has 4.5-40 for members); only its sign is checked (by `validate`).
UNRANGED_AREAS = frozenset({"landbruk"})


@dataclass(frozen=True)
class NeedIndexReference:
    """What an index file is checked against."""

    areas: frozenset[str]
    municipalities: frozenset[str]  # today's codes
    retired: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # former code -> today's code(s)
    last_year: int = field(default_factory=lambda: dt.date.today().year + 2)
    members: frozenset[str] = frozenset()  # the ASSS members (dbt_project.yml asss_municipalities)
    names: Mapping[str, frozenset[str]] = field(default_factory=dict)  # code -> names in KLASS and SSB metadata


@dataclass(frozen=True)
class NeedIndexRow:
    year: int
    municipality_code: str
    municipality_name: str
    need_area: str
    need_index: float
    origin: str
    source: str
    citation: str
    row: int




def load_areas(path: Path) -> frozenset[str]:
    """`path`: seed expense_need_areas.csv (Settings.seeds_dir)."""
    with Path(path).open(encoding="utf-8") as f:
        return frozenset(r["need_area"] for r in csv.DictReader(f))


def validate(data: bytes, name: str, reference: NeedIndexReference) -> ValidationReport:
    report = ValidationReport(name)
    table = read_contract_table(data, name, report)
    if table is None:
        return report
    header = read_header(table, name, COLUMNS, report)
    if header is None:
        return report
    body = body_rows(table, header, COLUMNS, name, report)
    if not body and report.ok:
        report.problems.append(Problem(name, None, None, None, "the file has a header but no data rows; expected "
                                                               "one row per year, municipality and need area"))
        return report
    seen: dict[tuple[int, str, str], int] = {}
    for number, record in body:
        row = _validate_row(name, number, record, reference, report.problems)
        if row is None:
            continue
        key = (row.year, row.municipality_code, row.need_area)
        if key in seen:
            report.problems.append(Problem(name, number, "year+municipality_code+need_area",
                                           "/".join(map(str, key)), f"one row per figure (same as row {seen[key]})"))
            continue
        seen[key] = number
        report.rows.append(row)
    if report.rows and all(r.need_index < RATIO_SCALE_BELOW for r in report.rows):
        first = report.rows[0]
        report.problems.append(Problem(name, first.row, "need_index", f"{first.need_index:g}",
                                       "the index with the national average = 100 (Grønt hefte prints 1,0421: "
                                       "write 104,21); every index in the file is below 10"))
    if not report.ok:
        report.rows.clear()
    return report


def _validate_row(name: str, number: int, record: dict[str, str], reference: NeedIndexReference,
                  problems: list[Problem]) -> NeedIndexRow | None:
    before = len(problems)

    def problem(column: str, expected: str) -> None:
        problems.append(Problem(name, number, column, record[column], expected))

    year = int(record["year"]) if re.fullmatch(r"\d{4}", record["year"]) else None
    if year is None or not FIRST_YEAR <= year <= reference.last_year:
        problem("year", f"a year between {FIRST_YEAR} and {reference.last_year}")
    code = record["municipality_code"]
    if not re.fullmatch(r"\d{4}", code):
        problem("municipality_code", "a four-digit municipality code (e.g. 3203)")
    elif code in reference.retired and code not in reference.municipalities:
        problem("municipality_code",
                f"today's municipality code; {code} is retired, use {' or '.join(reference.retired[code])}")
    elif code not in reference.municipalities:
        problem("municipality_code", "a municipality code known to KLASS/SSB")
    if record["need_area"] not in reference.areas:
        problem("need_area", f"a need area of the catalogue (dbt_project/seeds/expense_need_areas.csv): "
                             f"{', '.join(sorted(reference.areas))}")
    index, unreadable = parse_number(record["need_index"]) if record["need_index"] else (None, None)
    if index is None:
        problem("need_index", unreadable or "a number (decimal comma or point), the national average = 100")
    elif index <= 0:
        problem("need_index", "a positive index (the national average = 100); an expense need is never "
                              "zero or negative")
    origin = check_provenance(record, problem, "the table the figure is from")
    if len(problems) > before:
        return None
    assert year is not None and index is not None, "a year or index that did not read is a problem above"
    return NeedIndexRow(year, code, record["municipality_name"], record["need_area"], index, origin,
                        record["source"], record["citation"], number)


# -- raw ----------------------------------------------------------------------
def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute(f"""create table if not exists {TABLE} (
        year integer, municipality_code varchar, municipality_name varchar, need_area varchar,
        need_index double, origin varchar, source varchar, citation varchar, _file varchar, _row integer,
        _vintage varchar, _received_at timestamp, _landing_path varchar)""")


def load_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path, manifest: dict,
                 rows: list[NeedIndexRow]) -> LoadResult:
    ensure_table(con)
    vintage = manifest["vintage"]
    if one_value(con, f"select count(*) from {TABLE} where _vintage = ?", [vintage]):
        return LoadResult(SOURCE, vintage, 0, True)
    received = _timestamp(manifest.get("fetched_at"))
    con.execute("begin transaction")
    try:
        _insert_rows(con, TABLE, [(r.year, r.municipality_code, r.municipality_name or None, r.need_area,
                                   r.need_index, r.origin, r.source, r.citation or None,
                                   manifest.get("original_name"), r.row, vintage, received, str(vintage_dir))
                                  for r in rows])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult(SOURCE, vintage, len(rows), False)


# -- plausibility (intake only: a landed vintage is re-read with `validate` alone) ------------------
def plausibility(reference: NeedIndexReference) -> Callable[[ValidationReport, object], list[Problem]]:
    """Ranges and consistency of an otherwise valid file, every violation named (file, row, column, expected)."""

    def plausible(report: ValidationReport, _landing: object) -> list[Problem]:
        problems = []
        for row in report.rows:
            if row.need_area in UNRANGED_AREAS:
                continue
            low, high = MEMBER_RANGE if row.municipality_code in reference.members else OTHER_RANGE
            who = "an ASSS member" if row.municipality_code in reference.members else "a municipality"
            if not low <= row.need_index <= high:
                ratio = " (1,0421 is Grønt hefte's ratio: write 104,21)" if row.need_index < RATIO_SCALE_BELOW else ""
                problems.append(Problem(report.file, row.row, "need_index", f"{row.need_index:g}",
                                        f"an index around 100 (national average = 100), between {low:g} and "
                                        f"{high:g} for {who}{ratio}"))
            known = reference.names.get(row.municipality_code)
            if row.municipality_name and known and not name_matches(row.municipality_name, known):
                problems.append(Problem(report.file, row.row, "municipality_name", row.municipality_name,
                                        f"the name of {row.municipality_code} ({' / '.join(sorted(known))}): a "
                                        "name that does not match its code means the row is about another "
                                        "municipality"))
        return problems

    return plausible
