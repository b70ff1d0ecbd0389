"""The municipal deflator (kommunal deflator): yearly growth in the municipal sector's wages and prices.

The Ministry of Finance estimates it in each state budget (Nasjonalbudsjettet, NBnn, October of the year
before) and revises it in the revised budget (RNBnn, May) and the budgets after, until the outcome is
known. The ASSS way of comparing KOSTRA spending over time puts earlier years in the latest year's prices
with it (the Handlingsprogram's `*)` "Inflasjonsjustert med deflator").

No API publishes the series. The data team keeps it in this contract (docs/sources.md, "Municipal deflator and
expense-need index"), CSV or XLSX, bundled in `snapshots/municipal_deflator/` and dropped in
`data/inbox/municipal_deflator/`:

    year;deflator_percent;estimate;published;origin;source;citation
    2022;5,3;NB23;2022-10;published;Nasjonalbudsjettet 2023 ...;https://www.ks.no/...

One row per year and estimate; every year from the first to the last must be there (a deflator chain with
a gap cannot move a figure across it). Each file is a complete series and the newest file wins whole, so a
file must hold every year of the series in use (a one-year file, or a copy cut short, never silently
replaces it), and no estimate may be published after the month the file is taken in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from styringsdata.queries import one_value
from styringsdata.sources.file_contract import (body_rows, check_provenance, parse_number, read_contract_table,
                                                 read_header)
from styringsdata.raw.tables import RAW, LoadResult, _insert_rows, _timestamp
from styringsdata.raw.landing import LandingZone
from styringsdata.sources.registry import Problem, ValidationReport

SOURCE = "municipal_deflator"
TABLE = f"{RAW}.municipal_deflator"
COLUMNS = ("year", "deflator_percent", "estimate", "published", "origin", "source", "citation")
# The municipal deflator has moved between -1 and 7 % since the 1980s; outside ±20 is a typo
# (a factor 1,043 for 4,3 %, or a percent written as 43).
MIN_PERCENT, MAX_PERCENT = -20.0, 20.0
FIRST_YEAR = 1980
# A file whose every value lies here was written as factors: no real series stays within 0.9-1.2 %.
FACTOR_LOW, FACTOR_HIGH = 0.9, 1.2


@dataclass(frozen=True)
class DeflatorRow:
    year: int
    deflator_percent: float
    estimate: str
    published: str  # YYYY-MM
    origin: str
    source: str
    citation: str
    row: int




def validate(data: bytes, name: str, *, last_year: int | None = None,
             today: dt.date | None = None) -> ValidationReport:
    """Every problem of the file, each naming file, row, column, value and what was expected."""
    last_year = last_year or dt.date.today().year + 2
    this_month = (today or dt.date.today()).strftime("%Y-%m")
    report = ValidationReport(name)
    table = read_contract_table(data, name, report)
    if table is None:
        return report
    header = read_header(table, name, COLUMNS, report)
    if header is None:
        return report
    body = body_rows(table, header, COLUMNS, name, report)
    if not body and report.ok:
        report.problems.append(Problem(name, None, None, None,
                                       "the file has a header but no data rows; expected one row per year and estimate"))
        return report
    seen: dict[tuple, int] = {}
    for number, record in body:
        row = _validate_row(name, number, record, last_year, this_month, report.problems)
        if row is None:
            continue
        for key, what in (((row.year, row.estimate), "one row per year and estimate"),
                          (("month", row.year, row.published), "one estimate per year and publication month")):
            if key in seen:
                report.problems.append(Problem(name, number, "year+estimate" if key[0] != "month" else "year+published",
                                               "/".join(str(k) for k in key if k != "month"),
                                               f"{what} (same as row {seen[key]})"))
                break
            seen[key] = number
        else:
            report.rows.append(row)
    if report.rows and all(FACTOR_LOW < r.deflator_percent < FACTOR_HIGH for r in report.rows):
        first = report.rows[0]
        report.problems.append(Problem(name, first.row, "deflator_percent", f"{first.deflator_percent:g}",
                                       "the growth in percent (4,3 for 4.3 %), not a factor (1,043); every value in "
                                       f"the file is between {FACTOR_LOW:g} and {FACTOR_HIGH:g}"))
    if report.ok:
        report.problems.extend(_gaps(name, report.rows))
        if not report.ok:
            report.rows.clear()
    else:
        report.rows.clear()
    return report


def _validate_row(name: str, number: int, record: dict[str, str], last_year: int, this_month: str,
                  problems: list[Problem]) -> DeflatorRow | None:
    before = len(problems)

    def problem(column: str, expected: str) -> None:
        problems.append(Problem(name, number, column, record[column], expected))

    year = int(record["year"]) if re.fullmatch(r"\d{4}", record["year"]) else None
    if year is None or not FIRST_YEAR <= year <= last_year:
        problem("year", f"a year between {FIRST_YEAR} and {last_year}")
    percent, unreadable = parse_number(record["deflator_percent"]) if record["deflator_percent"] else (None, None)
    if percent is None:
        problem("deflator_percent", unreadable or "the growth in percent, a number such as 4,3 (decimal comma or point)")
    elif not MIN_PERCENT <= percent <= MAX_PERCENT:
        problem("deflator_percent", f"the growth in percent between {MIN_PERCENT:g} and {MAX_PERCENT:g} "
                                    "(4,3 for 4.3 %; not a factor such as 1,043)")
    if not record["estimate"]:
        problem("estimate", "the estimate's document, e.g. NB23 (Nasjonalbudsjettet 2023) or RNB23 (revised)")
    published = record["published"]
    match = re.fullmatch(r"(\d{4})-(\d{2})", published)
    if not match or not 1 <= int(match.group(2)) <= 12:
        problem("published", "the month the estimate was published, YYYY-MM (e.g. 2022-10)")
    elif published > this_month:
        problem("published", f"a month that has come ({this_month} or earlier): an estimate is not published in "
                             "the future")
    origin = check_provenance(record, problem, "the document that states the figure")
    if len(problems) > before:
        return None
    assert year is not None and percent is not None, "a year or percent that did not read is a problem above"
    return DeflatorRow(year, percent, record["estimate"], published, origin, record["source"], record["citation"],
                       number)


def _gaps(name: str, rows: list[DeflatorRow]) -> list[Problem]:
    """A missing year is reported at the first row after the gap."""
    years = {r.year for r in rows}
    problems = []
    for missing in range(min(years), max(years) + 1):
        if missing in years:
            continue
        after = min((r for r in rows if r.year > missing), key=lambda r: (r.year, r.row))
        problems.append(Problem(name, after.row, "year", str(after.year),
                                f"a row for {missing} before it: every year from {min(years)} to {max(years)} "
                                "is needed (a deflator chain cannot cross a missing year)"))
    return problems


# -- raw ----------------------------------------------------------------------
def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute(f"""create table if not exists {TABLE} (
        year integer, deflator_percent double, estimate varchar, published varchar, origin varchar,
        source varchar, citation varchar, _file varchar, _row integer, _vintage varchar, _received_at timestamp,
        _landing_path varchar)""")


def load_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path, manifest: dict, rows: list[DeflatorRow]) -> LoadResult:
    """A vintage loads whole, in one transaction, once."""
    ensure_table(con)
    vintage = manifest["vintage"]
    if one_value(con, f"select count(*) from {TABLE} where _vintage = ?", [vintage]):
        return LoadResult(SOURCE, vintage, 0, True)
    received = _timestamp(manifest.get("fetched_at"))
    con.execute("begin transaction")
    try:
        _insert_rows(con, TABLE, [(r.year, r.deflator_percent, r.estimate, r.published, r.origin, r.source,
                                   r.citation or None, manifest.get("original_name"), r.row, vintage, received,
                                   str(vintage_dir)) for r in rows])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult(SOURCE, vintage, len(rows), False)


# -- plausibility (intake only: a landed vintage is re-read with `validate` alone) ------------------
def plausibility() -> Callable[[ValidationReport, LandingZone], list[Problem]]:
    """No silent shortening of the series in use (the publication month is checked by `validate`)."""

    def plausible(report: ValidationReport, landing: LandingZone) -> list[Problem]:
        problems = []
        current = _series_in_use(landing)
        if current is not None:
            name, years = current
            missing = sorted(years - {r.year for r in report.rows})
            if missing:
                have = sorted({r.year for r in report.rows})
                problems.append(Problem(report.file, None, "year", f"{have[0]}-{have[-1]}" if have else "",
                                        f"every year of the series in use ({min(years)}-{max(years)}, from {name}): "
                                        "a deflator file replaces the whole series, and this one lacks "
                                        f"{', '.join(map(str, missing))} (a one-year file or a copy cut short)"))
        return problems

    return plausible


def _series_in_use(landing: LandingZone) -> tuple[str, set[int]] | None:
    """(file, years) of the newest landed vintage: the series a new file replaces."""
    from styringsdata.sources.drop_zone import landed_vintages, parse_landed

    vintages = landed_vintages(landing, SOURCE)
    if not vintages:
        return None
    manifest, rows = parse_landed(vintages[-1], validate)
    return manifest.get("original_name", vintages[-1].name), {r.year for r in rows}
