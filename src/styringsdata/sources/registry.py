"""The municipal registry drop zone: validated CSV/XLSX extracts of the municipality's own figures.

Files dropped in `data/inbox/registry/` are read whole and checked row by row. A file is accepted
or rejected as a whole: accepted files become a new landing vintage (`data/landing/registry/...`)
and leave the inbox; rejected files move to `data/quarantine/` next to `<file>.errors.txt`, a report
naming file, row, column, the bad value and what was expected. Nothing of a rejected file is loaded.

The format is long, one figure per row (docs/sources.md, "Registry files"):

    indicator_id;municipality_code;period;value;unit;status;source;comment

Reading rules (each decided so that a figure is loaded exactly as meant, or the file is rejected):

- CSV: UTF-8 (with or without BOM), else Windows-1252 (Excel's "CSV (semikolondelt)" on Norwegian
  Windows; it contains ISO-8859-1). Separated by ';' or ',' (the one the header uses). Lines end in
  CRLF, LF or CR alone. One line is one record: a cell may be quoted ("a;b", "" for a quote), but
  a quote must close on the same line. A line break inside a cell is refused, so an unbalanced quote
  can never swallow the lines after it; every data line is one row of the report.
- Cells beyond the header's columns must be empty (Excel writes empty ones once a column was used);
  a filled one rejects the file.
- Numbers in text (every CSV value, text cells in XLSX): the decimal separator is decided once per
  file from the values that can be read only one way ('12,5', '0,148', '1.234,5' say ','; '1,234.5',
  '1,234,567' say '.'); the acceptance message states it. The other of ',' and '.' may then group
  thousands, as may any Unicode space (no-break, narrow no-break, thin, ...); groups are three digits.
  A value that reads two ways ('1,234') when nothing in the file decides, or that reads only with the
  other separator, rejects the file naming both readings. The minus may be '-', U+2212 or an en dash.
  A trailing '%' is allowed only for a percent unit (the figure as shown: '14,8 %' is 14.8). Scientific
  notation is refused: Excel shows '1,23457E+11' when a number no longer fits, its digits are gone.
- XLSX: the first sheet, read in full whatever its recorded dimension. Numeric cells are taken exactly
  as stored. A cell formatted as percent stores the fraction (shows 14,8 %, stores 0.148): for an
  indicator whose catalogue unit is a percent (percent, percent of ..., percentage points, percent
  change, ratio percent) it is converted to what it shows (x 100, in decimal: exactly 14.8) and the
  acceptance message counts them; for any other unit the file is rejected.
- Whatever goes wrong reading a file (any exception) rejects that file with the exception named;
  the other files go on.

The inbox (`process_inbox`, used by every run whoever starts it, and `inbox_candidates`, used by the
inbox sensor too): temporary names are ignored (`~$*`, dot-files, `*.tmp`, `*.temp`, `*.part`,
`*.partial`, `*.crdownload`, `*~`); a file modified less than the settle time ago
(STYRINGSDATA_REGISTRY_SETTLE_SECONDS) waits, and so does one whose size or modification time changed
while it was read. A file leaves the inbox only after its vintage is fsync'd in the landing zone.

Newest wins: a registry vintage is named by the moment it was landed, in microseconds and strictly
increasing across all registry files, so the vintage name orders them (dbt's
int_registry__values_latest and the revisions mart order by it). Files taken from the inbox in the
same run land in the order of their modification time, then name; a file taken in a later run is
newer than every file of an earlier one. Every inbox drop is a new vintage, so dropping an earlier
file again makes its figures current again; only a drop identical to the newest registry vintage is
recognised as already landed (it could change nothing). The bundled files land once: a bundled file
whose bytes are already a vintage of its table is not landed again.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from styringsdata.raw.landing import LandingZone, utc_now
from styringsdata.sources import drop_zone
from styringsdata.sources.drop_zone import (ContractError, Contract, DropZoneResult, ReleaseDelta, candidates,
                                            land_bundled, read_settled, table_name, take)
from styringsdata.sources.problems import Problem, ValidationReport

COLUMNS = ("indicator_id", "municipality_code", "period", "value", "unit", "status", "source", "comment")
REQUIRED = ("indicator_id", "municipality_code", "period", "status")
STATUSES = {
    "measured": "measured", "målt": "measured",
    "not_measured": "not_measured", "ikke målt": "not_measured",
    "pending": "pending", "tall kommer": "pending",
    "under_development": "under_development", "indikator under utvikling": "under_development",
    "under utvikling": "under_development",
    "suppressed": "suppressed", "prikket": "suppressed", "skjermet": "suppressed",
}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_SETTLE_SECONDS = 30.0
MINUS_SIGNS = "-\u2212\u2013"  # hyphen-minus, minus sign, en dash (typeset minus in Norwegian texts)
LINE_BREAK = re.compile(r"\r\n|\r|\n")
FOUR_DIGITS = re.compile(r"[0-9]{4}")
REFERENCE_SNAPSHOT = "registry_reference.json"
SOURCE = "registry"


class RegistryError(ValueError):
    """A file that cannot be read at all (encoding, format, size, header)."""


@dataclass(frozen=True)
class RegistryRow:
    indicator_id: str
    municipality_code: str
    period: int
    value: float | None
    unit: str
    status: str
    source: str
    comment: str
    row: int


@dataclass(frozen=True)
class IndicatorRule:
    indicator_id: str
    route: str
    unit: str


@dataclass(frozen=True)
class Reference:
    """What a registry file is checked against."""

    indicators: Mapping[str, IndicatorRule]
    municipalities: frozenset[str]  # today's codes
    retired: Mapping[str, tuple[str, ...]]  # former code -> today's code(s)
    max_rank: int = 357
    max_bytes: int = DEFAULT_MAX_BYTES
    first_year: int = 1990
    last_year: int = field(default_factory=lambda: dt.date.today().year + 1)
    # The names KLASS and SSB's recorded metadata give each code, and the day a retired code ceased: a file's
    # municipality name must be one of its code's, and a retired code is valid only for years before it ceased.
    names: Mapping[str, frozenset[str]] = field(default_factory=dict)
    retired_on: Mapping[str, dt.date] = field(default_factory=dict)
    # The day a code KLASS created began, and the codes it replaced: a code is valid only from that year on
    # (sources/klass.py code_validity, the one reading of KLASS's changes for both).
    started_on: Mapping[str, dt.date] = field(default_factory=dict)
    predecessors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# -- reading ------------------------------------------------------------------
@dataclass(frozen=True)
class XlsxNumber:
    """A numeric XLSX cell exactly as stored, and whether its number format shows it as a percentage."""

    value: int | float
    percent: bool


Cell = str | XlsxNumber


@dataclass(frozen=True)
class Record:
    row: int  # line in a CSV file, row in the sheet; the header is 1
    cells: Sequence[Cell]
    problem: Problem | None = None  # the line could not be split into cells


@dataclass(frozen=True)
class NamedCells:
    """A record's cells under the names of the columns a contract reads ("" where the record is short)."""

    row: int
    cells: dict[str, Cell]


@dataclass(frozen=True)
class Table:
    header: list[str]
    records: list[Record]  # every non-blank line after the header
    notes: list[str] = field(default_factory=list)
    kind: str = "csv"  # or "xlsx": numbers stored as numbers, columns named by letter


def decode_text(data: bytes, name: str) -> tuple[str, str | None]:
    """The text and, when it was not UTF-8, a note saying how it was read."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise RegistryError(f"{name}: the file looks like UTF-16 or binary (NUL bytes); expected UTF-8 or "
                            "Windows-1252 text")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "read as Windows-1252 (not UTF-8)"
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        line = data[: exc.start].count(b"\n") + 1
        raise RegistryError(
            f"{name}: not valid UTF-8, and byte 0x{byte:02x} on line {line} is not a character in Windows-1252; "
            "expected UTF-8 or Windows-1252 text (save the file as CSV UTF-8)") from None


def read_table(data: bytes, name: str) -> list[list[str]]:
    """Rows of cells as text, header first, one list per line (blank lines empty): for readers of simpler
    file contracts (Kommune-NM) that want the same CSV and XLSX rules as the registry."""
    table = read_cells(data, name)
    rows = [table.header]
    for record in table.records:
        if record.problem is not None:
            raise RegistryError(str(record.problem))
        rows += [[] for _ in range(record.row - 1 - len(rows))]
        rows.append([cell_text(c) for c in record.cells])
    return rows


def read_cells(data: bytes, name: str) -> Table:
    """Header and records from CSV or XLSX bytes."""
    if name.lower().endswith(".xlsx"):
        return _read_xlsx(data, name)
    if not name.lower().endswith(".csv"):
        raise RegistryError(f"{name}: unsupported file type; expected .csv or .xlsx")
    text, note = decode_text(data, name)
    if not text.strip():
        raise RegistryError(f"{name}: the file is empty; expected a header row and at least one data row")
    lines = LINE_BREAK.split(text)
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    header, problem = split_line(lines[0], delimiter, name, 1)
    if problem is not None:
        raise RegistryError(f"{name}: {problem.expected} (the header, row 1)")
    names = [h.strip().lower() for h in header]
    records = []
    # One record per physical line, whatever the quotes: the rows reported are the file's data lines.
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip(" \t" + delimiter):
            continue  # a blank line (or Excel's ';;;;;;;' for an empty row) holds no data
        cells, problem = split_line(line, delimiter, name, number, names)
        records.append(Record(number, cells, problem))
    return Table(header, records, [note] if note else [])


def split_line(line: str, delimiter: str, name: str, number: int,
               header: Sequence[str] = ()) -> tuple[list[str], Problem | None]:
    """Cells of one line. A quote opens a quoted cell only at the start of a cell, and must close on the line."""
    if '"' not in line:
        return line.split(delimiter), None  # most lines: no quoting at all
    cells: list[str] = []
    i, end = 0, len(line)
    while True:
        if i < end and line[i] == '"':
            text, after = _quoted(line, i)
            column = header[len(cells)] if len(cells) < len(header) else str(len(cells) + 1)
            if after is None:
                return cells, Problem(name, number, column, line[i:],
                                      'a closing quote before the end of the line (a cell that starts with " must '
                                      'end with "; line breaks inside a cell are not allowed)')
            if after < end and line[after] != delimiter:
                return cells, Problem(name, number, column, line[i:],
                                      f"the separator {delimiter!r} right after the closing quote")
            cells.append(text)
            i = after
        else:
            stop = line.find(delimiter, i)
            stop = end if stop < 0 else stop
            cells.append(line[i:stop])
            i = stop
        if i >= end:
            return cells, None
        i += 1  # past the separator
        if i == end:
            cells.append("")
            return cells, None


def _quoted(line: str, start: int) -> tuple[str, int | None]:
    """The text of the quoted cell at `start` and the index after its closing quote (None: never closed)."""
    parts, i = [], start + 1
    while True:
        quote = line.find('"', i)
        if quote < 0:
            return "", None
        if line.startswith('""', quote):
            parts.append(line[i:quote + 1])
            i = quote + 2
            continue
        parts.append(line[i:quote])
        return "".join(parts), quote + 1


def _read_xlsx(data: bytes, name: str) -> Table:
    if not data.startswith(b"PK\x03\x04"):
        raise RegistryError(f"{name}: not an XLSX file (no zip signature; first bytes {data[:16]!r}); "
                            "expected an .xlsx workbook, or a .csv file")
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise RegistryError(f"{name}: cannot open as XLSX ({exc.__class__.__name__}: {exc}); "
                            "expected an .xlsx workbook saved by Excel or LibreOffice") from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the recorded <dimension> can be wrong; read-only mode would cut rows off at it
        rows = [[_xlsx_cell(c) for c in row] for row in sheet.iter_rows()]
    finally:
        workbook.close()
    if not rows:
        raise RegistryError(f"{name}: the first sheet is empty; expected a header row and at least one data row")
    records = [Record(n, cells) for n, cells in enumerate(rows[1:], start=2)
               if any(not isinstance(c, str) or c.strip() for c in cells)]
    return Table([cell_text(c) for c in rows[0]], records, ["numbers as stored in the workbook"], "xlsx")


def _xlsx_cell(cell) -> Cell:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return XlsxNumber(value, is_percent_format(getattr(cell, "number_format", None) or "General"))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def is_percent_format(number_format: str) -> bool:
    """True when Excel multiplies by 100 to show the cell: a '%' outside quotes, escapes and [...] parts."""
    bare = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format)
    return "%" in bare


def cell_text(cell: Cell) -> str:
    if isinstance(cell, XlsxNumber):
        value = cell.value
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))  # a year or a code typed as a number: 2022.0 is '2022'
        return show(value)
    return cell


# -- numbers ------------------------------------------------------------------
def show(value: float | int | Decimal) -> str:
    """A number as a person writes it: '1234.5', '1234', '0.148' (no exponent, no trailing zeros)."""
    text = format(Decimal(repr(value)) if isinstance(value, float) else Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class NumberText:
    """A value cell's text, cleaned: sign, digits and separators, and its two possible readings."""

    text: str
    body: str  # digits and separators only
    negative: bool
    percent_sign: bool
    comma: Decimal | None  # the value when ',' is the decimal separator ('.' and spaces group thousands)
    point: Decimal | None  # the value when '.' is

    def evidence(self) -> str | None:
        """The decimal separator this text alone shows, if it can be read with exactly one of them."""
        if self.comma is not None and self.point is None:
            return ","
        if self.point is not None and self.comma is None:
            return "."
        return None


# Every Unicode space separator (category Zs) and the tab: all may group thousands.
SPACES = {ord(c): " " for c in "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
          "\u200a\u202f\u205f\u3000"}
NUMBER_SHAPE = re.compile(r"[0-9][0-9., ]*|[.,][0-9]+")
SCIENTIFIC = re.compile(r"\s*[-+\u2212\u2013]?[0-9.,]+[eE][-+]?[0-9]+\s*")
GROUPED = {mark: re.compile(rf"[1-9][0-9]{{0,2}}(?:{re.escape(mark)}[0-9]{{3}})+") for mark in ", ."}


def _reading(body: str, decimal: str, negative: bool) -> Decimal | None:
    """The value of `body` when `decimal` is the decimal separator, or None when it cannot be read so."""
    grouping = "." if decimal == "," else ","
    whole, separator, fraction = body.partition(decimal)
    if separator and not fraction.isdigit():  # also refuses a second decimal separator
        return None
    if whole and not whole.isdigit() and not (GROUPED[grouping].fullmatch(whole) or GROUPED[" "].fullmatch(whole)):
        return None
    if not whole and not fraction:
        return None
    digits = (whole.replace(grouping, "").replace(" ", "") or "0") + ("." + fraction if fraction else "")
    number = Decimal(digits)
    return -number if negative else number


def number_text(text: str) -> NumberText | None:
    """Sign, percent sign and Unicode spaces taken apart; None when it is not written like a number at all."""
    cleaned = text.translate(SPACES).strip()
    percent = cleaned.endswith("%")
    if percent:
        cleaned = cleaned[:-1].rstrip()
    negative = cleaned[:1] in tuple(MINUS_SIGNS)
    if negative or cleaned[:1] == "+":
        cleaned = cleaned[1:].lstrip()
    if not cleaned or not NUMBER_SHAPE.fullmatch(cleaned):
        return None
    return NumberText(text, cleaned, negative, percent, _reading(cleaned, ",", negative),
                      _reading(cleaned, ".", negative))


@dataclass(frozen=True)
class DecimalSeparator:
    """The file's decimal separator and the first value that showed it (None: nothing in the file decides)."""

    separator: str | None
    row: int | None = None
    text: str | None = None

    def note(self) -> str:
        if self.separator is None:
            return "whole numbers only (no decimal separator needed)"
        return f"decimal separator {self.separator!r} (row {self.row}: {self.text!r})"


def decide_separator(values: Iterable[tuple[int, str, NumberText | None]],
                     name: str) -> tuple[DecimalSeparator, Problem | None]:
    """One decimal separator for the whole file, from the values that can be read only one way.

    Values showing ',' and '.' both: the one shown more often wins and the others are rejected row by
    row (by `read_value`); as often as each other, the file is rejected here.
    """
    first: dict[str, tuple[int, str]] = {}
    counts = {",": 0, ".": 0}
    for row, text, parsed in values:
        separator = parsed.evidence() if parsed else None
        if separator:
            counts[separator] += 1
            first.setdefault(separator, (row, text))
    if counts[","] == counts["."]:
        if not counts[","]:
            return DecimalSeparator(None), None
        (crow, ctext), (prow, ptext) = first[","], first["."]
        return DecimalSeparator(None), Problem(
            name, None, None, None,
            f"the file writes numbers with ',' (row {crow}: {ctext!r}) and with '.' (row {prow}: {ptext!r}) as the "
            f"decimal separator, {counts[',']} value(s) each; expected one decimal separator throughout the file")
    separator = "," if counts[","] > counts["."] else "."
    return DecimalSeparator(separator, *first[separator]), None


def read_number(text: str, file: DecimalSeparator,
                parsed: NumberText | None = None) -> tuple[float | None, str | None, bool]:
    """(value, what was expected if it cannot be read, percent sign) for a value written as text."""
    parsed = parsed or number_text(text)
    if parsed is None:
        if SCIENTIFIC.fullmatch(text):
            return None, ("a number written out in full, not in scientific notation (Excel shows a number that "
                          "no longer fits its cell this way, and the digits it hides are lost: format the column "
                          "as a number)"), False
        return None, "a number (decimal comma or point), or empty", False
    comma, point = parsed.comma, parsed.point
    number = comma if comma is not None else point  # the reading when only one separator gives one
    if number is None:
        return None, ("a number (decimal comma or point; thousands grouped by three with a space or the other "
                      "separator), or empty"), parsed.percent_sign
    if file.separator is not None:
        mine = comma if file.separator == "," else point
        if mine is not None:
            return _float(mine), None, parsed.percent_sign
        theirs = "." if file.separator == "," else ","
        # not with the file's separator, so `number` is the reading with the other one
        return None, (f"a number written with the file's decimal separator {file.separator!r} (row {file.row}: "
                      f"{file.text!r}): it reads as {show(number)} with {theirs!r} as the decimal separator, and is "
                      f"not a number with {file.separator!r}"), parsed.percent_sign
    if comma is not None and point is not None and comma != point:
        mark = "," if "," in parsed.body else "."
        as_thousands, as_decimal = (point, comma) if mark == "," else (comma, point)
        return None, (f"a number whose reading is unambiguous: it reads as {show(as_thousands)} with {mark!r} "
                      f"between thousands or as {show(as_decimal)} with {mark!r} as the decimal separator, and no "
                      "other value in the file shows which separator is the decimal one (write it with a "
                      "different number of decimals, or save the file as XLSX)"), parsed.percent_sign
    return _float(number), None, parsed.percent_sign


def _float(number: Decimal) -> float:
    return float(number)  # the double nearest the decimal written, as Excel would store it


def is_percent_unit(unit: str) -> bool:
    return unit in ("percent", "percentage points", "percent change", "ratio percent") or unit.startswith("percent of ")


# -- validation ---------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def unit_range(unit: str, max_rank: int) -> tuple[float | None, float | None, str]:
    scale = re.fullmatch(r"scale (\d+)-(\d+)", unit)
    if scale:
        low, high = float(scale.group(1)), float(scale.group(2))
        return low, high, f"a score between {scale.group(1)} and {scale.group(2)}"
    if unit == "percent":
        return 0.0, 100.0, "a share between 0 and 100"
    if unit == "percentage points":
        return -100.0, 100.0, "a change between -100 and 100 percentage points"
    if unit == "rank":
        return 1.0, float(max_rank), f"a rank between 1 and {max_rank}"
    if unit in ("index", "percent change", "ratio percent") or unit.startswith("percent of "):
        return None, None, "a number"  # ratios and changes can be negative or pass 100
    return 0.0, None, "a number of 0 or more"


def _too_big(name: str, size: int, reference: Reference) -> ValidationReport | None:
    if size <= reference.max_bytes:
        return None
    report = ValidationReport(name)
    report.problems.append(Problem(name, None, None, f"{size} bytes",
                                   f"at most {reference.max_bytes} bytes (STYRINGSDATA_REGISTRY_MAX_BYTES)"))
    return report


def validate_file(path: Path, reference: Reference) -> tuple[ValidationReport, bytes | None]:
    """Validate a file on disk; one over the size limit is refused from its size, without reading it.

    Raises FileChanged when the file changes while it is read; any other exception while reading
    becomes a problem of the report.
    """
    path = Path(path)
    refused = _too_big(path.name, path.stat().st_size, reference)
    if refused is not None:
        return refused, None
    data, _ = read_settled(path)
    return validate(data, path.name, reference), data


def validate(data: bytes, name: str, reference: Reference) -> ValidationReport:
    """Every problem of the file, or its rows; whatever the exception while reading, it is a problem."""
    try:
        return _validate(data, name, reference)
    except Exception as exc:  # noqa: BLE001 - one unreadable file must never stop the others
        report = ValidationReport(name)
        report.problems.append(Problem(name, None, None, None,
                                       f"cannot be read ({exc.__class__.__name__}: {exc}); expected a CSV or "
                                       "XLSX file in the registry format"))
        return report


def _validate(data: bytes, name: str, reference: Reference) -> ValidationReport:
    refused = _too_big(name, len(data), reference)
    if refused is not None:
        return refused
    report = ValidationReport(name)
    try:
        table = read_cells(data, name)
    except RegistryError as exc:
        report.problems.append(Problem(name, None, None, None, str(exc).split(": ", 1)[1]))
        return report
    header = [h.strip().lower() for h in table.header]
    if not _header_ok(name, table, header, report.problems):
        return report
    if not table.records:
        report.problems.append(Problem(name, None, None, None,
                                       "the file has a header but no data rows; expected at least one data row"))
        return report
    width = max((i + 1 for i, h in enumerate(header) if h), default=0)
    positions = [(c, header.index(c)) for c in COLUMNS]
    records: list[NamedCells] = []
    for record in table.records:
        if record.problem is not None:
            report.problems.append(record.problem)
        elif _beyond_header(name, record, width, table.kind, report.problems):
            cells = record.cells
            records.append(NamedCells(record.row, {c: cells[i] if i < len(cells) else "" for c, i in positions}))
    texts = {r.row: value.strip() for r in records if isinstance(value := r.cells["value"], str) and value.strip()}
    parsed = {row: number_text(text) for row, text in texts.items()}  # once: to decide, then to read
    separator, mixed = decide_separator(((row, text, parsed[row]) for row, text in texts.items()), name)
    if mixed is not None:
        report.problems.append(mixed)
    seen: dict[tuple[str, str, int], int] = {}
    converted: list[int] = []
    for named in records:
        row = _validate_row(name, named, separator, parsed.get(named.row), reference, report.problems, converted)
        if row is None:
            continue
        key = (row.indicator_id, row.municipality_code, row.period)
        if key in seen:
            report.problems.append(Problem(name, row.row, "indicator_id+municipality_code+period",
                                           "/".join(map(str, key)), f"one row per figure (same as row {seen[key]})"))
            continue
        seen[key] = row.row
        report.rows.append(row)
    report.notes += table.notes
    if table.kind == "csv" or texts:
        report.notes.append(separator.note() if table.kind == "csv" else f"text cells: {separator.note()}")
    if converted:
        report.notes.append(f"{len(converted)} percent-formatted cell(s) multiplied by 100 to the catalogue's "
                            f"percent unit (rows {', '.join(map(str, converted))})")
    return report


def _header_ok(name: str, table: Table, header: list[str], problems: list[Problem]) -> bool:
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if not (missing or unknown or twice):
        return True
    problems.append(Problem(name, 1, "header", ";".join(table.header),
                            f"the columns {';'.join(COLUMNS)}"
                            + (f" (missing: {', '.join(missing)})" if missing else "")
                            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
                            + (f" (more than once: {', '.join(twice)})" if twice else "")))
    return False


def _beyond_header(name: str, record: Record, width: int, kind: str, problems: list[Problem]) -> bool:
    """False (and a problem) when a cell right of the header's last column holds something."""
    for index, cell in enumerate(record.cells[width:], start=width):
        if cell_text(cell).strip():
            column = _column_letter(index + 1) if kind == "xlsx" else str(index + 1)
            problems.append(Problem(name, record.row, f"{column} (beyond the header's {width} columns)",
                                    cell_text(cell), "nothing beyond the header's columns"))
            return False
    return True


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _validate_row(name: str, record: NamedCells, separator: DecimalSeparator, parsed: NumberText | None,
                  reference: Reference, problems: list[Problem], converted: list[int]) -> RegistryRow | None:
    before = len(problems)
    number = record.row
    cells = {c: cell_text(record.cells[c]).strip() for c in COLUMNS}

    def problem(column: str, value: str, expected: str) -> None:
        problems.append(Problem(name, number, column, value, expected))

    for column in REQUIRED:
        if not cells[column]:
            problem(column, "", "a value (the column is required)")
    indicator = reference.indicators.get(cells["indicator_id"])
    if cells["indicator_id"] and indicator is None:
        problem("indicator_id", cells["indicator_id"], "an indicator_id from the catalogue (e.g. OKO01)")
    elif indicator is not None and indicator.route != "registry":
        problem("indicator_id", cells["indicator_id"],
                f"an indicator delivered through the registry; {indicator.indicator_id} comes from {indicator.route}")
    code = cells["municipality_code"]
    if code:
        if not FOUR_DIGITS.fullmatch(code):
            problem("municipality_code", code, "a four-digit municipality code (e.g. 3203)")
        elif code in reference.retired and code not in reference.municipalities:
            problem("municipality_code", code,
                    f"a current municipality code; {code} is retired, use {' or '.join(reference.retired[code])}")
        elif code not in reference.municipalities:
            problem("municipality_code", code, "a municipality code known to KLASS/SSB")
    period = cells["period"]
    year = int(period) if FOUR_DIGITS.fullmatch(period) else None
    if period and (year is None or not reference.first_year <= year <= reference.last_year):
        problem("period", period, f"a year between {reference.first_year} and {reference.last_year}")
    status = STATUSES.get(cells["status"].lower()) if cells["status"] else None
    if cells["status"] and status is None:
        problem("status", cells["status"], f"one of {', '.join(sorted(set(STATUSES.values())))}")
    value = _row_value(record.cells["value"], cells["value"], separator, parsed, indicator, problem, converted, number)
    if status == "measured" and not cells["value"]:
        problem("value", "", "a number, since status is measured")
    if status not in (None, "measured") and cells["value"]:
        problem("status", cells["status"], f"measured, since a value ({cells['value']}) is given; "
                                           "a figure that is not measured must leave value empty")
    unit = cells["unit"] or (indicator.unit if indicator else "")
    if indicator is not None and cells["unit"] and cells["unit"] != indicator.unit:
        problem("unit", cells["unit"], f"{indicator.unit!r}, the catalogue unit of {indicator.indicator_id}")
    if indicator is not None and value is not None:
        low, high, meaning = unit_range(indicator.unit, reference.max_rank)
        if (low is not None and value < low) or (high is not None and value > high):
            problem("value", cells["value"] if isinstance(record.cells["value"], str) else show(value),
                    f"{meaning} (unit {indicator.unit})")
    if len(problems) > before:
        return None
    assert year is not None and status is not None, "a period or status that did not read is a problem above"
    return RegistryRow(cells["indicator_id"], code, year, value, unit, status, cells["source"], cells["comment"],
                       number)


def _row_value(cell: Cell, text: str, separator: DecimalSeparator, parsed: NumberText | None,
               indicator: IndicatorRule | None, problem, converted: list[int], number: int) -> float | None:
    """The figure of a value cell in the catalogue unit, or None (with a problem when it cannot be read)."""
    if isinstance(cell, XlsxNumber):
        if isinstance(cell.value, float) and not math.isfinite(cell.value):
            problem("value", text, "a finite number")
            return None
        if not cell.percent:
            return float(cell.value)
        shown = Decimal(repr(cell.value) if isinstance(cell.value, float) else cell.value) * 100
        if indicator is not None and not is_percent_unit(indicator.unit):
            problem("value", f"{text} formatted as percent (shows {show(shown)} %)",
                    f"a number in the catalogue unit {indicator.unit!r} of {indicator.indicator_id} (format the "
                    "cell as a number, not as percent)")
            return None
        converted.append(number)
        return float(shown)
    if not text:
        return None
    value, expected, percent_sign = read_number(text, separator, parsed)
    if expected is not None:
        problem("value", text, expected)
        return None
    if percent_sign and indicator is not None and not is_percent_unit(indicator.unit):
        problem("value", text, f"a number in the catalogue unit {indicator.unit!r} of {indicator.indicator_id}, "
                               "without a percent sign")
        return None
    return value


# -- the drop zone ------------------------------------------------------------
# The inbox itself is the one every file source shares (src/styringsdata/sources/drop_zone.py); the registry adds
# its contract: `validate` against the catalogue and today's codes, and release deltas keyed by figure.
InboxResult = DropZoneResult
registry_table_name = table_name
RELEASE_KEY = ("indicator_id", "municipality_code", "period")


def keyed_release_delta(key: tuple[str, ...]) -> ReleaseDelta:
    """A release delta for a CSV contract with one figure per `key`: the new release's header and every line whose
    figure is new or whose cells differ from the previous release's line for the same key (header names
    compared case-insensitively). A line the new release drops changes nothing: a release cannot retract."""

    def delta(previous: bytes, new: bytes, name: str) -> bytes:
        if not name.lower().endswith(".csv"):
            raise ContractError(f"{name}: a bundled release is compared with the previous one line by line; "
                                "expected a .csv file")

        def figures(data: bytes) -> dict[tuple[str, ...], tuple[int, tuple[tuple[str, str], ...]]]:
            table = read_cells(data, name)
            header = [h.strip().lower() for h in table.header]
            found = {}
            for record in table.records:
                cells = {h: cell_text(c).strip() for h, c in zip(header, record.cells) if h}
                found[tuple(cells.get(k, "") for k in key)] = (record.row, tuple(sorted(cells.items())))
            return found

        before, after = figures(previous), figures(new)
        lines = LINE_BREAK.split(decode_text(new, name)[0])
        changed = [row for k, (row, cells) in after.items() if before.get(k, (None, None))[1] != cells]
        return ("\r\n".join([lines[0], *(lines[row - 1] for row in sorted(changed))]) + "\r\n").encode("utf-8")

    return delta


def inbox_candidates(inbox: Path, settle_seconds: float,
                     now: float | None = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """The drop zone's settle rule (shared by the sensor and runs): files to take now, and those that wait."""
    return candidates(inbox, settle_seconds, now)


def contract(reference: Reference) -> Contract:
    return Contract(SOURCE, functools.partial(validate, reference=reference),
                    release_delta=keyed_release_delta(RELEASE_KEY), default_name="registry_file.csv")


def process_inbox(inbox: Path, quarantine: Path, landing: LandingZone, reference: Reference, *,
                  settle_seconds: float = DEFAULT_SETTLE_SECONDS, now: float | None = None) -> InboxResult:
    """Take every settled file from the registry inbox (the shared drop zone with the registry's contract)."""
    return take(inbox, quarantine, landing, contract(reference), settle_seconds=settle_seconds,
                max_bytes=reference.max_bytes, now=now)


def land_seed_files(seed_dir: Path, landing: LandingZone, reference: Reference) -> list[Path]:
    """Bundled files (the Handlingsprogram's published values) land once; a new release lands only the figures it
    changes, so a figure the municipality corrected after the previous release stays corrected."""
    try:
        return land_bundled(seed_dir, landing, contract(reference), reference.max_bytes, suffixes=(".csv",))
    except ContractError as exc:
        raise RegistryError(str(exc)) from exc


def parse_landed(vintage_dir: Path, reference: Reference) -> tuple[dict, list[RegistryRow]]:
    try:
        return drop_zone.parse_landed(vintage_dir, functools.partial(validate, reference=reference))
    except ContractError as exc:
        raise RegistryError(str(exc)) from exc


def landed_reference(reference: Reference) -> Reference:
    """What an already landed vintage is checked against: as `reference`, but an indicator the catalogue has since
    moved to another route (UTD02 ... to udir) is still accepted, so the vintage stays loadable and raw keeps its
    rows; the marts take registry figures only for indicators routed `registry`. Inbox files never get this."""
    import dataclasses

    return dataclasses.replace(reference, indicators={
        k: IndicatorRule(k, "registry", rule.unit) for k, rule in reference.indicators.items()})


def load_reference(indicators: Iterable[IndicatorRule], municipalities: Iterable[str],
                   retired: Mapping[str, Sequence[str]], **limits: Any) -> Reference:
    return Reference(
        indicators={i.indicator_id: i for i in indicators},
        municipalities=frozenset(municipalities),
        retired={k: tuple(v) for k, v in retired.items()},
        **limits,
    )


def name_key(name: str) -> str:
    """A municipality name as compared: case and accents kept apart from SSB's decorations ('Asker (2024-)')."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", name).strip().casefold()


def name_matches(name: str, known: Iterable[str]) -> bool:
    """Whether a file's municipality name is one of the code's names; a Sami/Kven double name ('Kárášjohka -
    Karasjok') matches either half."""
    wanted = name_key(name)
    for label in known:
        key = name_key(label)
        if wanted == key or wanted in {part.strip() for part in key.split(" - ")}:
            return True
    return False


# -- the reference `registry check` reads (never the work file) ----------------
def write_reference_snapshot(path: Path, reference: Reference) -> None:
    """The municipality codes a run checked registry files against, for `styringsdata registry check`.

    Written whole under a temporary name and renamed, so a reader sees the old or the new one.
    """
    document = {"municipalities": sorted(reference.municipalities),
                "retired": {k: list(v) for k, v in sorted(reference.retired.items())},
                "max_rank": reference.max_rank, "written_at": utc_now()}
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(staging, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(staging, path)


def read_reference_snapshot(path: Path, indicators: Iterable[IndicatorRule], **limits: int) -> Reference:
    """Raises FileNotFoundError when no run wrote one yet, OSError or ValueError when it cannot be read."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return load_reference(indicators, document["municipalities"], document["retired"],
                          max_rank=int(document.get("max_rank", 357)), **limits)
