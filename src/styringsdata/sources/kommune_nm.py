"""NHO Kommune-NM: the yearly municipality ranking, read from a file in a documented column contract.

NHO publishes Kommune-NM as web pages, an analysis tool and a PDF; no API is known. Each year the
data team exports the ranking into this contract (docs/sources.md, "NHO Kommune-NM") and drops it in
`data/inbox/kommune_nm/` (or bundles it in `snapshots/kommune_nm/`), CSV or XLSX:

    kommunenummer;kommune;year;total_rank;county;county_rank;naeringsliv_rank;arbeidsmarked_rank;
    demografi_rank;kompetanse_rank;kommuneokonomi_rank;fagprove_rank

`year` is the year the Handlingsprogram reports the ranking for. Ranks are whole numbers from 1
(best) to the number of municipalities; sub-index ranks may be empty. Kommune-NM recomputes earlier
years each time, so every file is a vintage and the newest file wins for a year. The inbox is the drop zone
every file source shares (src/styringsdata/sources/drop_zone.py): a dropped file lands and leaves the inbox, or
moves to quarantine next to its error report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from styringsdata.raw.landing import LandingZone
from styringsdata.sources.drop_zone import (Contract, ContractError, DropZoneResult,
                                            land_bundled, take)
from styringsdata.sources.problems import Problem, ValidationReport
from styringsdata.sources.registry import DEFAULT_MAX_BYTES, RegistryError, keyed_release_delta, read_table

REQUIRED = ("kommunenummer", "kommune", "year", "total_rank", "county", "county_rank")
SUB_INDICES = ("naeringsliv_rank", "arbeidsmarked_rank", "demografi_rank", "kompetanse_rank",
               "kommuneokonomi_rank", "fagprove_rank")
COLUMNS = REQUIRED + SUB_INDICES
MAX_RANK = 357
SOURCE = "kommune_nm"


class KommuneNmError(ValueError):
    pass


@dataclass(frozen=True)
class RankRow:
    municipality_code: str
    municipality_name: str
    year: int
    county: str
    ranks: dict[str, int | None]
    row: int


def parse(data: bytes, name: str) -> list[RankRow]:
    try:
        table = read_table(data, name)
    except RegistryError as exc:
        raise KommuneNmError(str(exc)) from exc
    header = [h.strip().lower() for h in table[0]] if table else []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise KommuneNmError(f"{name}, row 1: missing column(s) {', '.join(missing)}; expected {';'.join(COLUMNS)}")
    rows, problems, seen = [], [], {}
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        record = {c: (cells[header.index(c)].strip() if header.index(c) < len(cells) else "") for c in COLUMNS}
        code = record["kommunenummer"].zfill(4)
        if not re.fullmatch(r"\d{4}", code):
            problems.append(f"{name}, row {number}, column kommunenummer: got {record['kommunenummer']!r}; expected four digits")
        if not re.fullmatch(r"\d{4}", record["year"]):
            problems.append(f"{name}, row {number}, column year: got {record['year']!r}; expected a year")
        ranks: dict[str, int | None] = {}
        for column in ("total_rank", "county_rank") + SUB_INDICES:
            text = record[column]
            if not text and column in SUB_INDICES:
                ranks[column] = None
                continue
            if not text.isdigit() or not 1 <= int(text) <= MAX_RANK:
                problems.append(f"{name}, row {number}, column {column}: got {text!r}; expected a rank from 1 to {MAX_RANK}")
                continue
            ranks[column] = int(text)
        key = (code, record["year"])
        if key in seen:
            problems.append(f"{name}, row {number}: municipality {code} year {record['year']} repeats row {seen[key]}")
        seen[key] = number
        if not problems:
            rows.append(RankRow(code, record["kommune"], int(record["year"]), record["county"], ranks, number))
    if problems:
        raise KommuneNmError("\n".join(problems))
    if not rows:
        raise KommuneNmError(f"{name}: no data rows")
    return rows


def validate(data: bytes, name: str) -> ValidationReport:
    """`parse` as a file contract for the drop zone: every problem, or the file's rows."""
    try:
        return ValidationReport(name, rows=parse(data, name))
    except KommuneNmError as exc:
        return ValidationReport(name, problems=[Problem(name, None, None, None, line.removeprefix(f"{name}: "))
                                                for line in str(exc).splitlines()])


CONTRACT = Contract(SOURCE, validate, release_delta=keyed_release_delta(("kommunenummer", "year")),
                    default_name="kommune_nm.csv")


def land_files(directory: Path, landing: LandingZone, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Path]:
    """Land the bundled files (once; a new release only with the rows it changes); a bad one is a bug we ship."""
    try:
        return land_bundled(directory, landing, CONTRACT, max_bytes)
    except ContractError as exc:
        raise KommuneNmError(str(exc)) from exc


def take_inbox(inbox: Path, quarantine: Path, landing: LandingZone, *, settle_seconds: float,
               max_bytes: int = DEFAULT_MAX_BYTES, now: float | None = None) -> DropZoneResult:
    """Dropped files go through the shared drop zone: landed and removed, or quarantined with their report."""
    return take(inbox, quarantine, landing, CONTRACT, settle_seconds=settle_seconds, max_bytes=max_bytes, now=now)
