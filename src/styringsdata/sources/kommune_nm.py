"""NHO Kommune-NM: the yearly municipality ranking, read from a file in a documented column contract.

NHO publishes Kommune-NM as web pages, an analysis tool and a PDF; no API is known. Each year the
data team exports the ranking into this contract (docs/sources.md, "NHO Kommune-NM") and drops it in
`data/inbox/kommune_nm/` (or bundles it in `snapshots/kommune_nm/`), CSV or XLSX:

    kommunenummer;kommune;year;total_rank;county;county_rank;naeringsliv_rank;arbeidsmarked_rank;
    demografi_rank;kompetanse_rank;kommuneokonomi_rank;fagprove_rank

`year` is the year the Handlingsprogram reports the ranking for. Ranks are whole numbers from 1
(best) to the number of municipalities; sub-index ranks may be empty. Kommune-NM recomputes earlier
years each time, so every file is a vintage and the newest file wins for a year.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from styringsdata.raw.landing import LandingZone, Payload, safe_name, utc_now
from styringsdata.sources.registry import DEFAULT_MAX_BYTES, RegistryError, read_table, safe_file_name

REQUIRED = ("kommunenummer", "kommune", "year", "total_rank", "county", "county_rank")
SUB_INDICES = ("naeringsliv_rank", "arbeidsmarked_rank", "demografi_rank", "kompetanse_rank",
               "kommuneokonomi_rank", "fagprove_rank")
COLUMNS = REQUIRED + SUB_INDICES
MAX_RANK = 357


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
    rows: list[RankRow] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}  # (municipality, year) -> its first row
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


def land_files(directory: Path, landing: LandingZone, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Path]:
    """Validate and land every file in a folder (bundled or inbox); a landed file is recognised by its hash."""
    landed = []
    for path in sorted(p for p in directory.iterdir() if p.suffix.lower() in (".csv", ".xlsx")) if directory.is_dir() else []:
        if path.is_symlink() or not path.is_file():
            raise KommuneNmError(f"{path}: not a regular file (links are not followed)")
        size = path.stat().st_size
        if size > max_bytes:
            raise KommuneNmError(f"{path.name}: {size} bytes; expected at most {max_bytes} bytes "
                                 "(STYRINGSDATA_REGISTRY_MAX_BYTES); the file was not read")
        data = path.read_bytes()
        parse(data, path.name)
        digest, table = _digest(data), _table(path)
        existing = [v for v in landing.vintages("kommune_nm", table) if v.endswith(digest)]
        if existing:
            landed.append(landing.vintage_dir("kommune_nm", table, existing[0]))
            continue
        fetched_at = utc_now()
        vintage = f"{fetched_at.replace(':', '').replace('-', '')}-{digest}"
        landed.append(landing.write_vintage(
            "kommune_nm", table, vintage,
            [Payload(safe_file_name(path.name, "kommune_nm.csv"), f"file://{path.name}", "FILE", (), None, data,
                     fetched_at)],
            source_updated=None, extra={"original_name": path.name}))
    return landed


def not_landed(directory: Path, landing: LandingZone) -> list[str]:
    """Files in a folder (bundled or inbox) that `land_files` would land: their bytes are no vintage yet."""
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".csv", ".xlsx")) if directory.is_dir() else []
    return [path.name for path in files
            if not path.is_file() or path.is_symlink()
            or not any(v.endswith(_digest(path.read_bytes())) for v in landing.vintages("kommune_nm", _table(path)))]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _table(path: Path) -> str:
    return safe_name(re.sub(r"[^A-Za-z0-9_]+", "_", path.stem).strip("_").lower()[:60] or "file", "file name")
