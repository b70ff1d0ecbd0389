"""The drop-zone life cycle shared by file sources with a documented column contract.

A file is validated whole by the source's own `validate` (bytes -> ValidationReport with row-level
problems). Accepted: it becomes a vintage in `data/landing/<source>/<file stem>/<time>-<sha256>/` and
leaves the inbox. Rejected: it moves to the quarantine folder next to `<file>.errors.txt` naming file,
row, column, value and what was expected; nothing of it is landed or loaded, so the last good vintage
stays in use. Bundled files (in `snapshots/`) land the same way, once, recognised by their hash.

The registry drop zone (`src/styringsdata/sources/registry.py`) follows the same rules; this module reuses its
reader, problem type and file-name cleaning rather than its indicator-specific checks.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from styringsdata.raw.landing import LandingZone, Payload, read_manifest, safe_name, utc_now
from styringsdata.sources.registry import (DEFAULT_MAX_BYTES, DecimalSeparator, Problem, RegistryError, ValidationReport,
                                inbox_candidates, number_text, read_number, read_table, registry_table_name,
                                safe_file_name)

Validate = Callable[[bytes, str], ValidationReport]
SUFFIXES = (".csv", ".xlsx")


class ContractError(ValueError):
    """A bundled file that does not validate, or a landed vintage that no longer does: a bug, not input."""


@dataclass(frozen=True)
class DropZoneResult:
    accepted: list[tuple[str, Path]]  # (file, landing vintage dir)
    rejected: list[tuple[str, Path]]  # (file, quarantine report)
    already_landed: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why it waits for a later run)


def content_vintage(data: bytes) -> tuple[str, str]:
    """A contract file's vintage (when it landed, then its hash) and the hash that lands a bundled file once."""
    digest = hashlib.sha256(data).hexdigest()
    return f"{utc_now().replace(':', '').replace('-', '')}-{digest[:12]}", digest[:12]


def refused_for_size(name: str, size: int, max_bytes: int) -> ValidationReport | None:
    if size <= max_bytes:
        return None
    return ValidationReport(name, problems=[Problem(name, None, None, f"{size} bytes",
                                                    f"at most {max_bytes} bytes (STYRINGSDATA_REGISTRY_MAX_BYTES)")])


def validate_path(path: Path, validate: Validate, max_bytes: int) -> tuple[ValidationReport, bytes | None]:
    """A file over the size limit is refused from its size, without reading it."""
    if path.is_symlink() or not path.is_file():
        return ValidationReport(path.name, problems=[Problem(
            path.name, None, None, "a symbolic link or not a file", "a regular file (links are not followed)")]), None
    refused = refused_for_size(path.name, path.stat().st_size, max_bytes)
    if refused is not None:
        return refused, None
    data = path.read_bytes()
    return validate(data, path.name), data


def land_file(path: Path, landing: LandingZone, source: str, validate: Validate,
              max_bytes: int = DEFAULT_MAX_BYTES, origin: str = "inbox") -> tuple[ValidationReport, Path | None, bool]:
    """Validate one file and land it when valid. Returns (report, vintage dir, already landed)."""
    report, data = validate_path(path, validate, max_bytes)
    if not report.ok or data is None:
        return report, None, False
    table = registry_table_name(path.name)
    vintage, digest = content_vintage(data)
    existing = [v for v in landing.vintages(source, table) if v.endswith(digest)]
    if existing:
        return report, landing.vintage_dir(source, table, existing[0]), True
    payload = Payload(safe_name(safe_file_name(path.name, f"{source}.csv"), "file name"), f"file://{path.name}",
                      "FILE", (), None, data, utc_now())
    target = landing.write_vintage(source, table, vintage, [payload], source_updated=None,
                                   extra={"original_name": path.name, "rows": len(report.rows), "origin": origin})
    return report, target, False


def quarantine_file(path: Path, quarantine: Path, report: ValidationReport) -> Path:
    """Move a rejected file aside, never overwriting another, and write its error report next to it."""
    quarantine.mkdir(parents=True, exist_ok=True)
    stamp = utc_now().replace(":", "").replace("-", "")
    target = quarantine / f"{stamp}-{safe_file_name(path.name)}"
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = quarantine / f"{stamp}-{n}-{safe_file_name(path.name)}"
    shutil.move(str(path), target)
    report_path = target.with_name(target.name + ".errors.txt")
    report_path.write_text(report.text(), encoding="utf-8")
    return report_path


def _contract_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if not p.name.startswith(".") and (p.is_symlink() or p.is_file()))


def process_inbox(inbox: Path, quarantine: Path, landing: LandingZone, source: str, validate: Validate,
                  max_bytes: int = DEFAULT_MAX_BYTES, settle_seconds: float | None = None) -> DropZoneResult:
    """`settle_seconds`: the registry's settle rule (a file modified less than this ago, or with a temporary
    name, waits for a later run); None takes every file, as the deflator and need-index inboxes always did."""
    accepted, rejected, already = [], [], []
    skipped: list[tuple[str, str]] = []
    if settle_seconds is None:
        candidates = _contract_files(inbox)
    else:
        candidates, skipped = inbox_candidates(inbox, settle_seconds)
    for path in candidates:
        if path.suffix.lower() not in SUFFIXES and not path.is_symlink():
            report = ValidationReport(path.name, problems=[Problem(
                path.name, None, None, path.suffix or "(no extension)", "a .csv or .xlsx file")])
        else:
            report, vintage_dir, was_landed = land_file(path, landing, source, validate, max_bytes)
            if report.ok:
                (already.append(path.name) if was_landed else accepted.append((path.name, vintage_dir)))
                path.unlink()  # the landing zone holds the file now
                continue
        rejected.append((path.name, quarantine_file(path, quarantine, report)))
    return DropZoneResult(accepted, rejected, already, skipped)


def land_bundled(directory: Path, landing: LandingZone, source: str, validate: Validate,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> list[Path]:
    """Bundled files land like inbox files, once; one that does not validate stops the run (a bug)."""
    landed = []
    for path in _contract_files(directory):
        if path.suffix.lower() not in SUFFIXES:
            continue
        report, vintage_dir, _ = land_file(path, landing, source, validate, max_bytes, origin="bundled")
        if not report.ok or vintage_dir is None:
            raise ContractError(report.text())
        landed.append(vintage_dir)
    return landed


def landed_vintages(landing: LandingZone, source: str) -> list[Path]:
    """Every landed vintage of a source, oldest first (vintage names start with the landing time)."""
    root = landing.root / safe_name(source, "source")
    if not root.is_dir():
        return []
    dirs = [landing.vintage_dir(source, table.name, v) for table in root.iterdir() if table.is_dir()
            for v in landing.vintages(source, table.name)]
    return sorted(dirs, key=lambda d: d.name)


def parse_landed(vintage_dir: Path, validate: Validate) -> tuple[dict[str, Any], list]:
    manifest = read_manifest(vintage_dir)
    entry = manifest["payloads"][0]
    data = (vintage_dir / entry["file"]).read_bytes()
    report = validate(data, manifest.get("original_name", entry["file"]))
    if not report.ok:
        raise ContractError(f"{vintage_dir}: a landed file no longer validates:\n{report.text()}")
    return manifest, report.rows


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
            max_bytes: int = DEFAULT_MAX_BYTES, settle_seconds: float | None = None) -> RefreshResult:
    """Land the bundled files, then the inbox (valid files land, the rest go to quarantine), then load every
    landed vintage raw does not hold yet. A rejected file changes nothing: the last good vintage stays."""
    land_bundled(bundled, landing, source, validate, max_bytes)
    result = process_inbox(inbox, quarantine, landing, source, validate, max_bytes, settle_seconds)
    vintages = landed_vintages(landing, source)
    newly, rows = 0, 0
    for vintage_dir in vintages:
        manifest, parsed = parse_landed(vintage_dir, validate)
        loaded = load_vintage(con, vintage_dir, manifest, parsed)
        newly += 0 if loaded.already_loaded else 1
        rows += loaded.rows
    return RefreshResult(result, len(vintages), newly, rows)


def parse_number(text: str) -> tuple[float | None, str | None]:
    """(value, what was expected) by the registry's rules, taken per value: a reading that depends on which
    separator is the decimal one (`1,053`) is refused with both readings rather than mis-read."""
    value, expected, _ = read_number(text, DecimalSeparator(None))
    # Text that is no number at all gets the column's own expectation; the registry's says why a number is not.
    return value, (expected if number_text(text) is not None else None)
