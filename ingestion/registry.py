"""The municipal registry drop zone: validated CSV/XLSX extracts of the municipality's own figures.

Files dropped in `data/inbox/registry/` are read whole and checked row by row. A file is accepted
or rejected as a whole: accepted files become a new landing vintage (`data/landing/registry/...`)
and leave the inbox; rejected files move to `data/quarantine/` next to `<file>.errors.txt`, a report
naming file, row, column, the bad value and what was expected. Nothing of a rejected file is loaded.

The format is long, one figure per row (README "Registry files"):

    indicator_id;municipality_code;period;value;unit;status;source;comment

CSV in UTF-8 (with or without BOM) or ISO-8859-1, separated by ';' or ',', decimal comma or point;
or XLSX (first sheet, same header).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ingestion.landing import LandingZone, Payload, safe_name, utc_now

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
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class RegistryError(ValueError):
    """A file that cannot be read at all (encoding, format, size, header)."""


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # line in the file, header = 1; None for file-level problems
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        if self.row is None and self.column is None and self.value is None:
            return f"{self.file}: {self.expected}"  # a whole-file problem, already phrased in full
        where = self.file if self.row is None else f"{self.file}, row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        got = "" if self.value is None else f": got {self.value!r}"
        return f"{where}{got}; expected {self.expected}"


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


@dataclass
class ValidationReport:
    file: str
    rows: list[RegistryRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        if self.ok:
            return f"{self.file}: OK, {len(self.rows)} rows\n"
        lines = [f"{self.file}: REJECTED, {len(self.problems)} problem(s); nothing from this file was loaded"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines) + "\n"


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


# -- reading ------------------------------------------------------------------
def decode_text(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise RegistryError(f"{name}: the file looks like UTF-16 or binary (NUL bytes); expected UTF-8 or ISO-8859-1 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("iso-8859-1")
    # C1 control characters mean the bytes were neither UTF-8 nor Latin-1 text (e.g. Windows-1252 quotes).
    bad = next((c for c in text if "\x80" <= c <= "\x9f"), None)
    if bad is not None:
        raise RegistryError(
            f"{name}: not valid UTF-8, and byte 0x{ord(bad):02x} is a control character in ISO-8859-1; "
            "expected UTF-8 or ISO-8859-1 (save the file as UTF-8)")
    return text


def read_table(data: bytes, name: str) -> list[list[str]]:
    """Rows of cells, header first, from CSV or XLSX bytes."""
    if name.lower().endswith(".xlsx"):
        return _read_xlsx(data, name)
    if not name.lower().endswith(".csv"):
        raise RegistryError(f"{name}: unsupported file type; expected .csv or .xlsx")
    text = decode_text(data, name)
    if not text.strip():
        raise RegistryError(f"{name}: the file is empty; expected a header row and at least one data row")
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _read_xlsx(data: bytes, name: str) -> list[list[str]]:
    if not data.startswith(b"PK\x03\x04"):
        raise RegistryError(f"{name}: not an XLSX file (no zip signature; first bytes {data[:16]!r}); "
                            "expected an .xlsx workbook, or a .csv file")
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise RegistryError(f"{name}: cannot open as XLSX ({exc.__class__.__name__}: {exc}); "
                            "expected an .xlsx workbook saved by Excel or LibreOffice") from exc
    sheet = workbook.worksheets[0]
    rows = [["" if v is None else (format(v, "g") if isinstance(v, float) else str(v)) for v in row]
            for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


# -- validation ---------------------------------------------------------------
def parse_number(text: str) -> float | None:
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").rstrip("%")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "")  # 1.234,5: thousands point, decimal comma
    cleaned = cleaned.replace(",", ".")
    return float(cleaned) if NUMBER.match(cleaned) else None


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
    """Validate a file on disk; one over the size limit is refused from its size, without reading it."""
    path = Path(path)
    refused = _too_big(path.name, path.stat().st_size, reference)
    if refused is not None:
        return refused, None
    data = path.read_bytes()
    return validate(data, path.name, reference), data


def validate(data: bytes, name: str, reference: Reference) -> ValidationReport:
    refused = _too_big(name, len(data), reference)
    if refused is not None:
        return refused
    report = ValidationReport(name)
    try:
        table = read_table(data, name)
    except RegistryError as exc:
        report.problems.append(Problem(name, None, None, None, str(exc).split(": ", 1)[1]))
        return report
    header = [h.strip().lower() for h in table[0]] if table else []
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    if missing or unknown:
        report.problems.append(Problem(name, 1, "header", ";".join(table[0]) if table else "",
                                       f"the columns {';'.join(COLUMNS)}"
                                       + (f" (missing: {', '.join(missing)})" if missing else "")
                                       + (f" (unknown: {', '.join(unknown)})" if unknown else "")))
        return report
    body = [(n, r) for n, r in enumerate(table[1:], start=2) if any(c.strip() for c in r)]
    if not body:
        report.problems.append(Problem(name, None, None, None,
                                       "the file has a header but no data rows; expected at least one data row"))
        return report
    seen: dict[tuple[str, str, int], int] = {}
    for number, cells in body:
        record = {c: (cells[header.index(c)].strip() if header.index(c) < len(cells) else "") for c in COLUMNS}
        row = _validate_row(name, number, record, reference, report.problems)
        if row is None:
            continue
        key = (row.indicator_id, row.municipality_code, row.period)
        if key in seen:
            report.problems.append(Problem(name, number, "indicator_id+municipality_code+period",
                                           "/".join(map(str, key)), f"one row per figure (same as row {seen[key]})"))
            continue
        seen[key] = number
        report.rows.append(row)
    return report


def _validate_row(name: str, number: int, record: dict[str, str], reference: Reference,
                  problems: list[Problem]) -> RegistryRow | None:
    before = len(problems)

    def problem(column: str, value: str, expected: str) -> None:
        problems.append(Problem(name, number, column, value, expected))

    for column in REQUIRED:
        if not record[column]:
            problem(column, "", "a value (the column is required)")
    indicator = reference.indicators.get(record["indicator_id"])
    if record["indicator_id"] and indicator is None:
        problem("indicator_id", record["indicator_id"], "an indicator_id from the catalogue (e.g. OKO01)")
    elif indicator is not None and indicator.route != "registry":
        problem("indicator_id", record["indicator_id"],
                f"an indicator delivered through the registry; {indicator.indicator_id} comes from {indicator.route}")
    code = record["municipality_code"]
    if code:
        if not re.fullmatch(r"\d{4}", code):
            problem("municipality_code", code, "a four-digit municipality code (e.g. 3203)")
        elif code in reference.retired and code not in reference.municipalities:
            problem("municipality_code", code,
                    f"a current municipality code; {code} is retired, use {' or '.join(reference.retired[code])}")
        elif code not in reference.municipalities:
            problem("municipality_code", code, "a municipality code known to KLASS/SSB")
    period = record["period"]
    year = int(period) if re.fullmatch(r"\d{4}", period) else None
    if period and (year is None or not reference.first_year <= year <= reference.last_year):
        problem("period", period, f"a year between {reference.first_year} and {reference.last_year}")
    status = STATUSES.get(record["status"].lower()) if record["status"] else None
    if record["status"] and status is None:
        problem("status", record["status"], f"one of {', '.join(sorted(set(STATUSES.values())))}")
    value = None
    if record["value"]:
        value = parse_number(record["value"])
        if value is None:
            problem("value", record["value"], "a number (decimal comma or point), or empty")
    if status == "measured" and not record["value"]:
        problem("value", "", "a number, since status is measured")
    if status not in (None, "measured") and record["value"]:
        problem("status", record["status"], f"measured, since a value ({record['value']}) is given; "
                                            "a figure that is not measured must leave value empty")
    unit = record["unit"] or (indicator.unit if indicator else "")
    if indicator is not None and record["unit"] and record["unit"] != indicator.unit:
        problem("unit", record["unit"], f"{indicator.unit!r}, the catalogue unit of {indicator.indicator_id}")
    if indicator is not None and value is not None:
        low, high, meaning = unit_range(indicator.unit, reference.max_rank)
        if (low is not None and value < low) or (high is not None and value > high):
            problem("value", record["value"], f"{meaning} (unit {indicator.unit})")
    if len(problems) > before:
        return None
    return RegistryRow(record["indicator_id"], code, year, value, unit, status, record["source"], record["comment"],
                       number)


# -- the drop zone ------------------------------------------------------------
@dataclass(frozen=True)
class InboxResult:
    accepted: list[tuple[str, Path]]  # (file, landing vintage dir)
    rejected: list[tuple[str, Path]]  # (file, quarantine report)
    already_landed: list[str]


def content_vintage(data: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return f"{utc_now().replace(':', '').replace('-', '')}-{digest[:12]}", digest[:12]


def _landed_digests(landing: LandingZone, table: str) -> set[str]:
    return {v.rsplit("-", 1)[-1] for v in landing.vintages("registry", table)}


def registry_table_name(file_name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", Path(file_name).stem).strip("_").lower() or "file"
    return safe_name(stem[:60], "registry file name")


def land_file(path: Path, landing: LandingZone, reference: Reference) -> tuple[ValidationReport, Path | None, bool]:
    """Validate one file and land it as a vintage when valid. Returns (report, vintage dir, already landed)."""
    report, data = validate_file(path, reference)
    if not report.ok or data is None:
        return report, None, False
    table = registry_table_name(path.name)
    vintage, digest = content_vintage(data)
    if digest in _landed_digests(landing, table):
        existing = next(v for v in landing.vintages("registry", table) if v.endswith(digest))
        return report, landing.vintage_dir("registry", table, existing), True
    payload = Payload(safe_name(safe_file_name(path.name), "registry file"), f"file://{path.name}", "FILE", (),
                      None, data, utc_now())
    target = landing.write_vintage("registry", table, vintage, [payload], source_updated=None,
                                   extra={"original_name": path.name, "rows": len(report.rows)})
    return report, target, False


def safe_file_name(name: str, default: str = "registry_file.csv") -> str:
    """A dropped file's name as a landing or quarantine file name: letters, digits and _ . + - only,
    starting with a letter or digit, no '..', at most 100 characters with the extension kept.
    ("Økonomi 2023 (endelig).csv" -> "konomi_2023_endelig_.csv"; the original name stays in the manifest.)"""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9_.+-]+", "_", base)
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)
    if len(cleaned) > 100:
        suffix = Path(cleaned).suffix[:10]
        cleaned = cleaned[: 100 - len(suffix)] + suffix
    try:
        return safe_name(cleaned, "file name")
    except ValueError:
        return default


def process_inbox(inbox: Path, quarantine: Path, landing: LandingZone, reference: Reference) -> InboxResult:
    accepted, rejected, already = [], [], []
    if not inbox.is_dir():
        return InboxResult(accepted, rejected, already)
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")):
        if path.is_symlink():
            # Never followed: a link could point anywhere on the machine. The link itself is quarantined.
            report = ValidationReport(path.name, problems=[Problem(
                path.name, None, None, "a symbolic link", "a regular file (links are not followed)")])
            vintage_dir, was_landed = None, False
        else:
            report, vintage_dir, was_landed = land_file(path, landing, reference)
        if report.ok:
            (already.append(path.name) if was_landed else accepted.append((path.name, vintage_dir)))
            path.unlink()  # the landing zone holds the file now
            continue
        quarantine.mkdir(parents=True, exist_ok=True)
        stamp = utc_now().replace(":", "").replace("-", "")
        target = quarantine / f"{stamp}-{safe_file_name(path.name)}"
        n = 1
        while target.exists() or target.is_symlink():  # two names that clean up alike: never overwrite
            n += 1
            target = quarantine / f"{stamp}-{n}-{safe_file_name(path.name)}"
        shutil.move(str(path), target)
        report_path = target.with_name(target.name + ".errors.txt")
        report_path.write_text(report.text(), encoding="utf-8")
        rejected.append((path.name, report_path))
    return InboxResult(accepted, rejected, already)


def land_seed_files(seed_dir: Path, landing: LandingZone, reference: Reference) -> list[Path]:
    """Bundled files (the Handlingsprogram's published values) land like inbox files, once."""
    landed = []
    for path in sorted(seed_dir.glob("*.csv")) if seed_dir.is_dir() else []:
        report, vintage_dir, _ = land_file(path, landing, reference)
        if not report.ok:
            raise RegistryError(report.text())
        landed.append(vintage_dir)
    return landed


def parse_landed(vintage_dir: Path, reference: Reference) -> tuple[dict, list[RegistryRow]]:
    from ingestion.landing import read_manifest

    manifest = read_manifest(vintage_dir)
    entry = manifest["payloads"][0]
    data = (vintage_dir / entry["file"]).read_bytes()
    report = validate(data, manifest.get("original_name", entry["file"]), reference)
    if not report.ok:
        raise RegistryError(f"{vintage_dir}: a landed file no longer validates:\n{report.text()}")
    return manifest, report.rows


def load_reference(indicators: Iterable[IndicatorRule], municipalities: Iterable[str],
                   retired: Mapping[str, Sequence[str]], **limits: int) -> Reference:
    return Reference(
        indicators={i.indicator_id: i for i in indicators},
        municipalities=frozenset(municipalities),
        retired={k: tuple(v) for k, v in retired.items()},
        **limits,
    )
