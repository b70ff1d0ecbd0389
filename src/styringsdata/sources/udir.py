"""Udir (Utdanningsdirektoratet): figures from Udir's statistikkbanken, delivered as exported files.

Udir publishes Elevundersøkelsen, nasjonale prøver, GSI and more in its statistikkbanken. Its API
(`api.statistikkbanken.udir.no/api/rest/v2/Eksport`) says of itself that it "ikke er ment for ekstern
bruk i dag, og vil endres uten varsel" (../shared/reference/sources.md §6.3), so the pipeline does not
call it: the data team exports the municipality-level table from statistikkbanken, adds one column
(`indicator_id`), and drops the file in `data/inbox/udir/` (docs/sources.md, "Udir"). CSV or XLSX:

    indicator_id;Skoleaarnavn;Kommunekode;Kommune;Trinnnavn;Score;AndelMobbet;AntallBesvart
    UTD04;2022-23;3025;Asker;7. og 10. trinn;4,2;;1830
    UTD02;2024-25;3203;Asker;7. trinn;;7,6;910

The column names other than `indicator_id` are those of Udir's export tables for Elevundersøkelsen in
grunnskolen (148 indikatorer: `Score`; 150 mobbing: `AndelMobbet`), as public code lists them: U#46231521955
pairs the tables 151/148/150/149 with the grunnskole exports deltakelse/indikator/mobbing/tema and 155/152/154/153
with videregående's, and lists their columns; U#7847962828 queries 150 for mobbing on grunnskole trinn (secondary
sources, not checked against Udir's documentation).
THE LAYOUT IS NOT VERIFIED AGAINST A REAL EXPORTED FILE: no real export was at hand. Other columns of the
export (Spoersmaalnavn, EierformNavn, Sidenummer, ...) may stay in the file and are ignored.

Reading rules are the registry's (`src/styringsdata/sources/registry.py`: UTF-8 or Windows-1252, `;` or `,`, one decimal
separator per file, XLSX numbers exactly as stored, percent-formatted cells for percent units). Per row:

- `indicator_id`: an indicator the catalogue routes `udir`; its unit says which value column holds the
  figure (`Score` for a 1-5 scale, `AndelMobbet` for a percent); the other must be empty.
- `Skoleaarnavn`: a school year `2022-23` (or `2022-2023`). The figure is shown on the year the school year
  starts (Elevundersøkelsen is answered in the autumn term); the school year stays in `period`.
- `Kommunekode`: a municipality code, as it was in the school year's autumn (2022-23: Asker 3025). A code KLASS
  retired for exactly one successor (3025 -> 3203) is carried as today's code and the reported one is kept; one
  retired for several, or unknown, is refused; one used in a year it did not exist is refused (plausibility).
- Municipality-level rows only: `Organisasjonsnummer` (a school) must be empty, `EnhetNivaa` 3 when given.
- The value: a number, or `*` where Udir suppressed it (status suppressed, never 0).
- One row per indicator, municipality and school year.

A file is accepted or rejected whole; the drop zone is the one every file contract shares
(`src/styringsdata/sources/file_contract.py`): accepted files land as vintages, rejected ones move to quarantine next to
`<file>.errors.txt` naming file, row, column, value and what was expected; files modified less than the
settle time ago wait for a later run. The newest vintage wins for a figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from styringsdata.queries import one_value
from styringsdata.raw.tables import RAW, LoadResult, _insert_rows, _timestamp
from styringsdata.sources.registry import (DecimalSeparator, IndicatorRule, NamedCells, NumberText, Problem, Record,
                                Reference, RegistryError, ValidationReport, _row_value, cell_text, decide_separator,
                                is_percent_unit, number_text, read_cells, unit_range)
from styringsdata.vocabulary import unknown_code

SOURCE = "udir"
ROUTE = "udir"
TABLE = f"{RAW}.udir_values"
REQUIRED = ("indicator_id", "skoleaarnavn", "kommunekode")
VALUE_COLUMNS = {"score": "a score on the indicator's scale", "andelmobbet": "a share in percent"}
OPTIONAL = ("kommune", "trinnnavn", "antallbesvart", "organisasjonsnummer", "enhetnivaa")
SUPPRESSED = "*"
SCHOOL_YEAR = re.compile(r"(\d{4})\s*[-/–]\s*(\d{2}|\d{4})")
MUNICIPALITY_LEVEL = "3"


@dataclass(frozen=True)
class UdirSeries:
    """A Handlingsprogram indicator and where Udir publishes it; `route` says how it reaches the warehouse today."""

    indicator_id: str
    udir_table: str
    value_column: str
    grade: str
    cite: str
    route: str = ROUTE  # or "registry" while Udir's export for it is not known
    trinn: str | None = None  # the grade(s) the catalogue's indicator name gives; None: not named there

    def __post_init__(self) -> None:
        for kind, code in (("evidence_grade", self.grade), ("indicator_route", self.route)):
            problem = unknown_code(kind, code)
            if problem:
                raise ValueError(f"src/styringsdata/sources/udir.py SERIES {self.indicator_id}: {problem}")


_EU = "U#46231521955 (grunnskole exports 148 indikator and 150 mobbing, their columns Kommunekode, Skoleaarnavn, " \
      "Trinnnavn, Score / AndelMobbet, AntallBesvart); U#7847962828 (150 mobbing by trinn); the question behind " \
      "each Handlingsprogram indicator is inferred from its name"
SERIES: tuple[UdirSeries, ...] = (
    UdirSeries("UTD02", "150 Elevundersøkelsen grunnskole, mobbing, 7. trinn", "AndelMobbet", "B", _EU,
               trinn="7. trinn"),
    UdirSeries("UTD03", "150 Elevundersøkelsen grunnskole, mobbing, 10. trinn", "AndelMobbet", "B", _EU,
               trinn="10. trinn"),
    UdirSeries("UTD04", "148 Elevundersøkelsen grunnskole, Trivsel", "Score", "B", _EU, trinn="7. og 10. trinn"),
    UdirSeries("UTD08", "148 Elevundersøkelsen grunnskole, Vurdering for læring", "Score", "B", _EU,
               trinn="7. og 10. trinn"),
    UdirSeries("UTD09", "148 Elevundersøkelsen grunnskole, Motivasjon", "Score", "B", _EU),
    UdirSeries("UTD14", "153 Elevundersøkelsen videregående (tema), Vg1", "Score", "C",
               "U#46231521955: the videregående exports (152-155) carry Fylkekode, no Kommunekode; a municipality's "
               "Vg1 figure is not in them", route="registry"),
    UdirSeries("UTD06", "barnehage: andel barnehagelærere", "-", "-",
               "no Udir export of this table was seen", route="registry"),
    UdirSeries("UTD11", "SkolebidragG (5.-7. trinn)", "-", "C",
               "U#70450596789 lists the report SkolebidragG; its export columns were not seen", route="registry"),
    UdirSeries("UTD12", "SkolebidragG (8.-10. trinn)", "-", "C",
               "U#70450596789 lists the report SkolebidragG; its export columns were not seen", route="registry"),
    UdirSeries("UTD15", "lærerkompetanse (VidUtdLaerer?)", "-", "-",
               "no Udir export of this table was seen", route="registry"),
)


@dataclass(frozen=True)
class UdirRow:
    indicator_id: str
    municipality_code: str  # today's code
    reported_code: str  # as the file gave it
    school_year: str
    year: int
    value: float | None
    status: str  # measured or suppressed
    respondents: int | None
    trinn: str
    row: int


def udir_indicators(reference: Reference) -> list[str]:
    return sorted(i for i, rule in reference.indicators.items() if rule.route == ROUTE)


def validate(data: bytes, name: str, reference: Reference) -> ValidationReport:
    """Every problem of the file, or its rows; whatever goes wrong reading it is a problem, never an exception."""
    try:
        return _validate(data, name, reference)
    except Exception as exc:  # noqa: BLE001 - one unreadable file must never stop the others
        return ValidationReport(name, problems=[Problem(name, None, None, None, (
            f"cannot be read ({exc.__class__.__name__}: {exc}); expected a CSV or XLSX export from Udir's "
            "statistikkbanken with an indicator_id column (docs/sources.md, 'Udir')"))])


def _validate(data: bytes, name: str, reference: Reference) -> ValidationReport:
    report = ValidationReport(name)
    try:
        table = read_cells(data, name)
    except RegistryError as exc:
        report.problems.append(Problem(name, None, None, None, str(exc).split(": ", 1)[1]))
        return report
    header = [h.strip().lower() for h in table.header]
    if not _header_ok(name, table.header, header, report.problems):
        return report
    if not table.records:
        report.problems.append(Problem(name, None, None, None, "the file has a header but no data rows; expected "
                                                               "one row per indicator, municipality and school year"))
        return report
    columns = [c for c in REQUIRED + tuple(VALUE_COLUMNS) + OPTIONAL if c in header]
    records: list[NamedCells] = []
    for record in table.records:
        if record.problem is not None:
            report.problems.append(record.problem)
            continue
        records.append(_cells(record, header, columns))
    texts = {(r.row, c): cell.strip() for r in records for c in VALUE_COLUMNS
             if isinstance(cell := r.cells.get(c), str) and cell.strip() not in ("", SUPPRESSED)}
    parsed = {key: number_text(text) for key, text in texts.items()}
    separator, mixed = decide_separator(((row, texts[(row, c)], parsed[(row, c)]) for row, c in texts), name)
    if mixed is not None:
        report.problems.append(mixed)
    seen: dict[tuple[str, str, int], int] = {}
    converted: list[int] = []
    for named in records:
        row = _validate_row(name, named, separator, parsed, reference, report.problems, converted)
        if row is None:
            continue
        key = (row.indicator_id, row.municipality_code, row.year)
        if key in seen:
            today = "" if row.reported_code == row.municipality_code else f", both {row.municipality_code} today"
            report.problems.append(Problem(name, row.row, "indicator_id+kommunekode+skoleaarnavn",
                                           f"{row.indicator_id}/{row.reported_code}/{row.school_year}",
                                           "one row per indicator, municipality and school year (same as row "
                                           f"{seen[key]}{today}; a share cannot be summed over merged municipalities)"))
            continue
        seen[key] = row.row
        report.rows.append(row)
    report.notes += table.notes
    if texts:
        report.notes.append(separator.note())
    if converted:
        report.notes.append(f"{len(converted)} percent-formatted cell(s) multiplied by 100 (rows "
                            f"{', '.join(map(str, converted))})")
    if not report.ok:
        report.rows.clear()
    return report


def _header_ok(name: str, raw: list[str], header: list[str], problems: list[Problem]) -> bool:
    missing = [c for c in REQUIRED if c not in header]
    values = [c for c in VALUE_COLUMNS if c in header]
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if not missing and values and not twice:
        return True
    expected = (f"the columns {', '.join(REQUIRED)} and at least one value column of Udir's export "
                f"({' or '.join(('Score', 'AndelMobbet'))})")
    details = ([f"missing: {', '.join(missing)}"] if missing else []) + \
              ([] if values else ["no value column"]) + ([f"more than once: {', '.join(twice)}"] if twice else [])
    problems.append(Problem(name, 1, "header", ";".join(raw), f"{expected} ({'; '.join(details)})"))
    return False


def _cells(record: Record, header: list[str], columns: list[str]) -> NamedCells:
    cells = record.cells
    positions = {c: header.index(c) for c in columns}
    return NamedCells(record.row, {c: cells[i] if i < len(cells) else "" for c, i in positions.items()})


def _validate_row(name: str, record: NamedCells, separator: DecimalSeparator,
                  parsed: dict[tuple[int, str], NumberText | None], reference: Reference,
                  problems: list[Problem], converted: list[int]) -> UdirRow | None:
    before = len(problems)
    number = record.row
    text = {c: cell_text(v).strip() for c, v in record.cells.items()}

    def problem(column: str, value: str, expected: str) -> None:
        problems.append(Problem(name, number, column, value, expected))

    for column in REQUIRED:
        if not text[column]:
            problem(column, "", "a value (the column is required)")
    indicator = reference.indicators.get(text["indicator_id"])
    routed = ", ".join(udir_indicators(reference))
    if text["indicator_id"] and (indicator is None or indicator.route != ROUTE):
        where = "" if indicator is None else f"; {indicator.indicator_id} comes from {indicator.route}"
        problem("indicator_id", text["indicator_id"], f"an indicator delivered through the Udir route ({routed}){where}")
        indicator = None
    school_year, year = text["skoleaarnavn"], None
    match = SCHOOL_YEAR.fullmatch(school_year)
    if match:
        start, end = int(match.group(1)), match.group(2)
        if int(end) % (100 if len(end) == 2 else 10_000) == (start + 1) % (100 if len(end) == 2 else 10_000) \
                and reference.first_year <= start <= reference.last_year:
            year = start
    if school_year and year is None:
        problem("skoleaarnavn", school_year, f"a school year such as 2022-23 (starting between {reference.first_year} "
                                             f"and {reference.last_year})")
    code, today = text["kommunekode"], None
    if code:
        if not re.fullmatch(r"\d{4}", code):
            problem("kommunekode", code, "a four-digit municipality code (e.g. 3203)")
        elif code in reference.municipalities:
            today = code
        elif code in reference.retired and len(reference.retired[code]) == 1:
            today = reference.retired[code][0]
        elif code in reference.retired:
            problem("kommunekode", code, f"a code with one successor today; {code} was split between "
                                         f"{' and '.join(reference.retired[code])}, and a share cannot be divided")
        else:
            problem("kommunekode", code, "a municipality code known to KLASS/SSB")
    if text.get("organisasjonsnummer"):
        problem("organisasjonsnummer", text["organisasjonsnummer"],
                "empty: municipality-level rows only (a school's row has its organisation number; export at "
                "EnhetNivaa 3, kommune)")
    if text.get("enhetnivaa") and text["enhetnivaa"] != MUNICIPALITY_LEVEL:
        problem("enhetnivaa", text["enhetnivaa"], "3 (kommune): municipality-level rows only")
    value, status = _value(record, text, indicator, separator, parsed, problem, converted, number)
    respondents = None
    if text.get("antallbesvart") and text["antallbesvart"] != SUPPRESSED:
        if text["antallbesvart"].isdigit():
            respondents = int(text["antallbesvart"])
        else:
            problem("antallbesvart", text["antallbesvart"], "a whole number of respondents, * or empty")
    if len(problems) > before:
        return None
    assert indicator is not None and today is not None and year is not None, \
        "an indicator, municipality or school year that did not read is a problem above"
    return UdirRow(indicator.indicator_id, today, code, school_year, year, value, status, respondents,
                   text.get("trinnnavn", ""), number)


def _value_column(unit: str) -> str:
    return "andelmobbet" if unit == "percent" else "score"


def _value(record: NamedCells, text: dict[str, str], indicator: IndicatorRule | None, separator: DecimalSeparator,
           parsed: dict[tuple[int, str], NumberText | None], problem: Callable[[str, str, str], None],
           converted: list[int], number: int) -> tuple[float | None, str]:
    if indicator is None:
        return None, ""
    column = _value_column(indicator.unit)
    shown = {"score": "Score", "andelmobbet": "AndelMobbet"}
    other = next((c for c in VALUE_COLUMNS if c != column and text.get(c)), None)
    if other is not None:
        problem(shown[other], text[other], f"empty: {indicator.indicator_id} is {indicator.unit}, its figure belongs "
                                           f"in {shown[column]}")
    if column not in record.cells:
        problem(shown[column], "", f"a column {shown[column]} for {indicator.indicator_id} ({indicator.unit})")
        return None, ""
    if text[column] == SUPPRESSED:
        return None, "suppressed"
    if not text[column]:
        problem(shown[column], "", f"{VALUE_COLUMNS[column]}, or * where Udir suppressed it")
        return None, ""
    cell = record.cells[column]
    value = _row_value(cell, text[column], separator, parsed.get((number, column)), indicator,
                       lambda _c, v, e: problem(shown[column], v, e), converted, number)
    if value is None:
        return None, ""
    low, high, meaning = unit_range(indicator.unit, 357)
    if (low is not None and value < low) or (high is not None and value > high):
        problem(shown[column], text[column] if isinstance(cell, str) else f"{value:g}",
                f"{meaning} (unit {indicator.unit} of {indicator.indicator_id})")
    return value, "measured"


# -- plausibility (intake only: a landed vintage is re-read with `validate` alone) ------------------
TRINN = {series.indicator_id: series.trinn for series in SERIES if series.trinn}


def _trinn_key(text: str) -> str:
    return " ".join(text.casefold().split())


def plausibility(reference: Reference) -> Callable[[ValidationReport, object], list[Problem]]:
    """A code that existed in the file's school year, the indicator's trinn, and shares in the catalogue's unit.

    A school year belongs to the calendar year it starts in (Elevundersøkelsen is answered in the autumn term,
    and the figure is shown on that year): 2023-24 is 2023, when Asker was 3025, so 3203 (from 1 January 2024)
    is valid from 2024-25 on, and 0628 (Hurum, until 31 December 2019) up to 2019-20."""

    def plausible(report: ValidationReport, _landing: object) -> list[Problem]:
        problems = []
        for row in report.rows:
            ceased = reference.retired_on.get(row.reported_code)
            if ceased is not None and row.year >= ceased.year:
                successor = " or ".join(reference.retired.get(row.reported_code, ())) or "today's code"
                problems.append(Problem(report.file, row.row, "Kommunekode", row.reported_code,
                                        f"a municipality code valid in {row.school_year}: {row.reported_code} ceased "
                                        f"on {ceased.isoformat()} (use {successor})"))
            began = reference.started_on.get(row.reported_code)
            if began is not None and row.year < began.year:
                before = " or ".join(reference.predecessors.get(row.reported_code, ())) or "the code of that year"
                problems.append(Problem(report.file, row.row, "Kommunekode", row.reported_code,
                                        f"a municipality code valid in {row.school_year}: {row.reported_code} began "
                                        f"on {began.isoformat()} (before it: {before})"))
            wanted = TRINN.get(row.indicator_id)
            if wanted and row.trinn and _trinn_key(row.trinn) != _trinn_key(wanted):
                problems.append(Problem(report.file, row.row, "Trinnnavn", row.trinn,
                                        f"{wanted}: {row.indicator_id} is measured on {wanted}"))
            rule = reference.indicators.get(row.indicator_id)
            if rule is not None and is_percent_unit(rule.unit) and row.value is not None and 0 < row.value < 1:
                problems.append(Problem(report.file, row.row, "AndelMobbet", f"{row.value:g}".replace(".", ","),
                                        f"a share in percent, the catalogue's unit {rule.unit!r} of "
                                        f"{row.indicator_id} ({row.value * 100:g} for {row.value:g} as a fraction)"
                                        .replace(".", ",")))
        return problems

    return plausible


# -- raw ----------------------------------------------------------------------
def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW}")
    con.execute(f"""create table if not exists {TABLE} (
        indicator_id varchar, municipality_code varchar, reported_municipality_code varchar, school_year varchar,
        year integer, value double, status varchar, respondents integer, trinn varchar, _file varchar,
        _row integer, _origin varchar, _vintage varchar, _received_at timestamp, _landing_path varchar)""")


def load_vintage(con: duckdb.DuckDBPyConnection, vintage_dir: Path, manifest: dict, rows: list[UdirRow]) -> LoadResult:
    ensure_table(con)
    vintage = manifest["vintage"]
    if one_value(con, f"select count(*) from {TABLE} where _vintage = ?", [vintage]):
        return LoadResult(SOURCE, vintage, 0, True)
    received = _timestamp(manifest.get("fetched_at"))
    origin = manifest.get("origin", "inbox")
    con.execute("begin transaction")
    try:
        _insert_rows(con, TABLE, [(r.indicator_id, r.municipality_code, r.reported_code, r.school_year, r.year,
                                   r.value, r.status, r.respondents, r.trinn or None, manifest.get("original_name"),
                                   r.row, origin, vintage, received, str(vintage_dir)) for r in rows])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return LoadResult(SOURCE, vintage, len(rows), False)
