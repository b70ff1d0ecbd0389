"""Miljødirektoratet, "Klimagassutslipp fra kommuner": one xlsx for all municipalities and years.

There is no API. Before downloading, the server is asked whether the file changed: a conditional GET with
the ETag (If-None-Match) and Last-Modified (If-Modified-Since) it sent with the latest vintage, which a
server that keeps them answers with 304 and no body. A server that sends neither (or ignores them) is
answered by downloading and comparing sha256 with the latest vintage, as before. The old download URL now
answers an HTML error page with status 200, so the bytes are checked to be a zip (xlsx) before parsing. Sheet
"Oversikt - detaljert": Fylke, Kommunenummer, Kommune, År, Sektor, Utslippskilde, Klimagass,
"Utslipp (tonn CO2-ekvivalenter)". Labels may carry trailing spaces; rows repeat per Klimagass,
which therefore stays in the key. Miljødirektoratet recomputes the whole series each year: every
download is a vintage of its own.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from styringsdata.raw.landing import LandingZone, Payload, utc_now
from styringsdata.sources.transport import Response, Transport

DOWNLOAD_URL = "https://www.miljodirektoratet.no/sharepoint/downloaditem/?id=01FM3LD2WOT7QL4D6Y5FC3JYADXGI6A3FA"
SHEET = "Oversikt - detaljert"
COLUMNS = ("Fylke", "Kommunenummer", "Kommune", "År", "Sektor", "Utslippskilde", "Klimagass",
           "Utslipp (tonn CO2-ekvivalenter)")
ZIP_SIGNATURE = b"PK\x03\x04"
TABLE = "klimagassutslipp-kommuner"
# The server's validators for a vintage's bytes, learned after it landed (the manifest is written once).
VALIDATORS_FILE = "validators.json"


class MiljodirektoratetError(ValueError):
    pass


@dataclass(frozen=True)
class EmissionRow:
    county: str
    municipality_code: str
    municipality_name: str
    year: int
    sector: str
    emission_source: str
    gas: str
    tonnes_co2e: float | None
    row: int


def check_is_xlsx(data: bytes, source: str) -> None:
    if not data.startswith(ZIP_SIGNATURE):
        looks_like = "an HTML page" if data.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")) else "not a zip file"
        raise MiljodirektoratetError(
            f"{source}: expected the xlsx workbook (a zip file) but got {looks_like}; first bytes {data[:60]!r}. "
            "The download URL may have moved: find the current link on "
            "https://www.miljodirektoratet.no/tjenester/klimagassutslipp-kommuner/")


def parse_workbook(data: bytes, source: str) -> list[EmissionRow]:
    """Every data row of the sheet, checked. Read by calamine (Rust): the national workbook (47 000 rows) takes
    0.4 s instead of openpyxl's 8 s of CPU (bench/bench_pipeline.py); cells are normalised to what openpyxl
    gave (None for an empty cell, an int for a whole number), so the checks and messages are the same."""
    import python_calamine

    check_is_xlsx(data, source)
    try:
        zipfile.ZipFile(io.BytesIO(data)).close()  # a cut-off download is named as the zip error it is
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, python_calamine.CalamineError) as exc:
        raise MiljodirektoratetError(
            f"{source}: starts like an xlsx but cannot be opened ({exc.__class__.__name__}: {exc}); "
            f"{len(data)} bytes received, perhaps cut off: try again, or download it by hand") from exc
    try:
        if SHEET not in workbook.sheet_names:
            raise MiljodirektoratetError(f"{source}: no sheet {SHEET!r} (sheets: {workbook.sheet_names})")
        # skip_empty_area=False: rows and columns keep their places, so row numbers are the sheet's own
        rows = iter(workbook.get_sheet_by_name(SHEET).to_python(skip_empty_area=False))
        header = tuple((str(c).strip() if c not in (None, "") else "") for c in _cells(next(rows, [])))
        if header[:len(COLUMNS)] != COLUMNS:
            raise MiljodirektoratetError(f"{source}, sheet {SHEET!r}, row 1: columns {list(header)}; expected {list(COLUMNS)}")
        out = []
        for number, values in enumerate(rows, start=2):
            cells = _cells(values)
            if not cells or all(c is None for c in cells):
                continue
            out.append(_row(source, number, cells))
        return out
    finally:
        workbook.close()


def _cells(values: list) -> tuple:
    """calamine's cells as openpyxl gave them: None for an empty cell, an int for a whole number."""
    return tuple(None if v == "" else int(v) if isinstance(v, float) and v.is_integer() else v for v in values)


def _row(source: str, number: int, cells: tuple) -> EmissionRow:
    def text(i: int) -> str:
        return "" if cells[i] is None else str(cells[i]).strip()  # labels carry trailing spaces

    code = text(1)
    if code.endswith(".0"):
        code = code[:-2]
    code = code.zfill(4)
    if not code.isdigit() or len(code) != 4:
        raise MiljodirektoratetError(f"{source}, row {number}, column Kommunenummer: got {cells[1]!r}; expected four digits")
    try:
        year = int(float(cells[3]))
    except (TypeError, ValueError):
        raise MiljodirektoratetError(f"{source}, row {number}, column År: got {cells[3]!r}; expected a year") from None
    raw = cells[7]
    if raw in (None, ""):
        tonnes = None
    elif isinstance(raw, (int, float)):
        tonnes = float(raw)
    else:
        try:
            tonnes = float(str(raw).replace(" ", "").replace(",", "."))
        except ValueError:
            raise MiljodirektoratetError(
                f"{source}, row {number}, column Utslipp (tonn CO2-ekvivalenter): got {raw!r}; expected a number") from None
    return EmissionRow(text(0), code, text(2), year, text(4), text(5), text(6), tonnes, number)


@dataclass(frozen=True)
class EmissionsRefresh:
    vintage: str
    changed: bool
    landing_path: Path
    rows: int | None  # None: the download is the latest vintage byte for byte and was not parsed again
    parsed: list[EmissionRow] | None = None  # the rows of a new vintage, parsed once to check it before landing
    downloaded: bool = True  # False: the server answered 304 Not Modified, no body
    how: str = ""  # for the run log: what was asked and what decided


def stored_validators(landing: LandingZone, vintage: str) -> dict[str, str]:
    """The ETag / Last-Modified the server sent with this vintage's bytes ({} when it sent neither)."""
    directory = landing.vintage_dir("miljodirektoratet", TABLE, vintage)
    learned = directory / VALIDATORS_FILE
    if learned.is_file():
        return dict(json.loads(learned.read_text(encoding="utf-8")))
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    return dict(manifest.get("validators") or {})


def validators_of(response: Response) -> dict[str, str]:
    return {name: response.headers[name] for name in ("etag", "last-modified") if response.headers.get(name)}


def conditional_headers(validators: Mapping[str, str]) -> dict[str, str]:
    headers = {}
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators.get("last-modified"):
        headers["If-Modified-Since"] = validators["last-modified"]
    return headers


def is_current(transport: Transport, landing: LandingZone, url: str = DOWNLOAD_URL) -> tuple[bool, str]:
    """Whether the workbook the server offers is the latest vintage (304, or the same bytes), and how that was
    learned; asked as `refresh` asks. Lands nothing; validators learned from the same bytes are kept, as
    `refresh` keeps them."""
    latest, known, asked, response = _ask(transport, landing, url)
    if response.status == 304:
        return True, "304 Not Modified"
    digest = hashlib.sha256(response.body).hexdigest()[:12]
    if latest is not None and latest.endswith(digest):
        offered = validators_of(response)
        if offered and offered != known:
            _keep_validators(landing.vintage_dir("miljodirektoratet", TABLE, latest), offered)
        return True, "downloaded, the same sha256"
    return False, "a workbook not landed yet" if latest is not None else "no workbook landed yet"


def _ask(transport: Transport, landing: LandingZone, url: str) -> tuple[str | None, dict[str, str], dict[str, str],
                                                                      Response]:
    latest = landing.latest_vintage("miljodirektoratet", TABLE)
    known = stored_validators(landing, latest) if latest is not None else {}
    asked = conditional_headers(known)
    return latest, known, asked, transport.get(url, headers=asked)


def refresh(transport: Transport, landing: LandingZone, url: str = DOWNLOAD_URL) -> EmissionsRefresh:
    latest, known, asked, response = _ask(transport, landing, url)
    if response.status == 304:
        assert latest is not None  # a 304 only answers a conditional request, and those need a vintage
        return EmissionsRefresh(latest, False, landing.vintage_dir("miljodirektoratet", TABLE, latest), None,
                                downloaded=False,
                                how=f"not modified: the server answered 304 to {', '.join(asked)} ({latest})")
    offered = validators_of(response)
    digest = hashlib.sha256(response.body).hexdigest()[:12]
    asked_how = f"conditional GET ({', '.join(asked)}) answered 200" if asked else "GET"
    if latest is not None and latest.endswith(digest):
        # The same bytes were parsed and checked when that vintage landed; parsing the whole workbook
        # again (4 s for the 47 000 rows of a national file, bench/bench_pipeline.py) would find nothing new.
        path = landing.vintage_dir("miljodirektoratet", TABLE, latest)
        if offered and offered != known:
            _keep_validators(path, offered)  # so the next refresh can ask without downloading
        return EmissionsRefresh(latest, False, path, None,
                                how=f"{asked_how}: downloaded {len(response.body):,} bytes, the same sha256 as "
                                    f"{latest}" + ("" if offered else "; the server sends no ETag or Last-Modified, "
                                                                      "so every refresh downloads"))
    rows = parse_workbook(response.body, url)
    fetched_at = utc_now()
    vintage = f"{fetched_at.replace(':', '').replace('-', '')}-{digest}"
    path = landing.write_vintage("miljodirektoratet", TABLE, vintage,
                                 [Payload("utslippsstatistikk_alle_kommuner.xlsx", url, "GET", (), None,
                                          response.body, fetched_at)], source_updated=None,
                                 extra={"origin": "snapshot" if response.from_snapshot else "live",
                                        "validators": offered})
    return EmissionsRefresh(vintage, True, path, len(rows), rows,
                            how=f"{asked_how}: a new workbook, {len(response.body):,} bytes, {len(rows):,} rows")


def _keep_validators(vintage_dir: Path, validators: Mapping[str, str]) -> None:
    tmp = vintage_dir / f".{VALIDATORS_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(dict(validators), indent=1) + "\n", encoding="utf-8")
    tmp.replace(vintage_dir / VALIDATORS_FILE)
