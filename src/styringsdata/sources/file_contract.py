"""Readers shared by the file contracts (deflator, expense-need index, Udir) and their refresh step.

The drop zone itself (which files are taken, when a file has settled, the order vintages land in, quarantine,
bundled releases) is the one every file source shares: src/styringsdata/sources/drop_zone.py. A contract here
adds its validation (bytes -> ValidationReport naming file, row, column, value and what was expected) and its
intake-only plausibility rules; `refresh` runs the drop zone and loads every landed vintage raw lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from styringsdata.raw.landing import LandingZone
from styringsdata.sources.drop_zone import (SUFFIXES, Contract, ContractError, DropZoneResult, Plausible,  # noqa: F401
                                            ReleaseDelta, Validate, land_bundled, landed_vintages, parse_landed,
                                            take)
from styringsdata.sources.problems import Problem, ValidationReport
from styringsdata.sources.registry import (DEFAULT_MAX_BYTES, DEFAULT_SETTLE_SECONDS, DecimalSeparator, RegistryError,
                                           number_text, read_number, read_table)


def read_header(table: list[list[str]], name: str, columns: tuple[str, ...],
                report: ValidationReport) -> list[str] | None:
    """The header must hold exactly the contract's columns (any order); problems go to the report."""
    header = [h.strip().lower() for h in table[0]] if table else []
    missing = [c for c in columns if c not in header]
    unknown = [h for h in header if h and h not in columns]
    if missing or unknown:
        report.problems.append(Problem(name, 1, "header", ";".join(table[0]) if table else "",
                                       f"the columns {';'.join(columns)}"
                                       + (f" (missing: {', '.join(missing)})" if missing else "")
                                       + (f" (unknown: {', '.join(unknown)})" if unknown else "")))
        return None
    return header


def body_rows(table: list[list[str]], header: list[str], columns: tuple[str, ...], name: str,
              report: ValidationReport) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: stripped cell}) for every non-empty data row; the header is line 1. A row with
    more filled cells than the header is refused: an unquoted separator inside a value shifted it."""
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        extra = [c for c in cells[len(header):] if c.strip()]
        if extra:
            report.problems.append(Problem(name, number, str(len(header) + 1), extra[0].strip(),
                                           f"{len(header)} cells like the header (quote a value that holds the "
                                           "separator)"))
            continue
        rows.append((number, {c: (cells[header.index(c)].strip() if header.index(c) < len(cells) else "")
                              for c in columns}))
    return rows


def read_contract_table(data: bytes, name: str, report: ValidationReport) -> list[list[str]] | None:
    try:
        return read_table(data, name)
    except RegistryError as exc:
        report.problems.append(Problem(name, None, None, None, str(exc).split(": ", 1)[1]))
        return None


@dataclass(frozen=True)
class RefreshResult:
    inbox: DropZoneResult
    vintages: int  # landed vintages, all loaded into raw
    newly_loaded: int
    rows_loaded: int


def refresh(con: Any, landing: LandingZone, source: str, validate: Validate, *, bundled: Path, inbox: Path,
            quarantine: Path, load_vintage: Callable[[Any, Path, dict, list], Any],
            max_bytes: int = DEFAULT_MAX_BYTES, settle_seconds: float = DEFAULT_SETTLE_SECONDS,
            plausible: Plausible | None = None, release_delta: ReleaseDelta | None = None,
            now: float | None = None) -> RefreshResult:
    """Land the bundled files, then the inbox (valid files land, the rest go to quarantine), then load every
    landed vintage raw does not hold yet. A rejected file changes nothing: the last good vintage stays."""
    contract = Contract(source, validate, plausible, release_delta, default_name=f"{source}.csv")
    land_bundled(bundled, landing, contract, max_bytes)
    result = take(inbox, quarantine, landing, contract, settle_seconds=settle_seconds, max_bytes=max_bytes, now=now)
    vintages = landed_vintages(landing, source)
    newly, rows = 0, 0
    for vintage_dir in vintages:
        manifest, parsed = parse_landed(vintage_dir, validate)
        loaded = load_vintage(con, vintage_dir, manifest, parsed)
        newly += 0 if loaded.already_loaded else 1
        rows += loaded.rows
    return RefreshResult(result, len(vintages), newly, rows)


# Where a contract row's figure comes from: a published figure names its source and where it can be read.
ORIGINS = ("published", "illustrative")


def check_provenance(record: dict[str, str], problem: Callable[[str, str], None], source_is: str) -> str:
    """Check a row's origin, source and citation (`source_is`: what the source column names); the origin."""
    origin = record["origin"].lower()
    if origin not in ORIGINS:
        problem("origin", f"one of {', '.join(ORIGINS)}")
    if not record["source"]:
        problem("source", f"{source_is} (or, for an illustrative row, why there is none)")
    if origin == "published" and not record["citation"]:
        problem("citation", "where the published figure can be read (a URL or document and page)")
    return origin


def parse_number(text: str) -> tuple[float | None, str | None]:
    """(value, what was expected) by the registry's rules, taken per value: a reading that depends on which
    separator is the decimal one (`1,053`) is refused with both readings rather than mis-read."""
    value, expected, _ = read_number(text, DecimalSeparator(None))
    # Text that is no number at all gets the column's own expectation; the registry's says why a number is not.
    return value, (expected if number_text(text) is not None else None)


def refused_for_size(name: str, size: int, max_bytes: int) -> ValidationReport | None:
    """The drop zone's size rule, for commands that check a file without taking it (`udir check`)."""
    if size <= max_bytes:
        return None
    return ValidationReport(name, problems=[Problem(name, None, None, f"{size} bytes",
                                                    f"at most {max_bytes} bytes (STYRINGSDATA_REGISTRY_MAX_BYTES)")])
