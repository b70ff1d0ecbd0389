"""Faults in files: registry drop-zone extracts, the Miljødirektoratet workbook, Kommune-NM files.

Registry (tests/ingestion/test_registry.py checks each message on `validate`; here the whole drop
zone): a bad file is rejected whole and moved, byte for byte, to quarantine next to a report naming
file, row, column, value and what was expected; nothing of it is landed or loaded; the figures we
already had stay; a good file dropped alongside still goes through.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from styringsdata.sources import kommune_nm
from styringsdata.raw.landing import LandingZone
from styringsdata.sources.miljodirektoratet import COLUMNS, MiljodirektoratetError, refresh
from styringsdata.raw.raw_store import load_emissions_vintage, load_registry_vintage
from styringsdata.sources.registry import IndicatorRule, load_reference, parse_landed, process_inbox
from styringsdata.sources.transport import Response, SourceMode, Transport
from tests.ingestion.fakes import FakeClock, ScriptedSender

HEADER = "indicator_id;municipality_code;period;value;unit;status;source;comment\n"
GOOD_ROW = "OKO01;3203;2022;14,8;percent;measured;Økonomiavdelingen;\n"
REFERENCE = load_reference(
    [IndicatorRule("OKO01", "registry", "percent"), IndicatorRule("MED02", "registry", "scale 1-5")],
    municipalities={"3203", "3201", "0301"}, retired={"3025": ("3203",)}, max_bytes=10_000)


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD_XLSX = xlsx([HEADER.strip().split(";"), ["OKO01", "3203", 2023, 15.1, "percent", "measured", "Asker", None]])

BAD_FILES = {
    "empty file": ("tom.csv", b"", "tom.csv: REJECTED, 1 problem(s); nothing from this file was loaded\n"
                                    "  tom.csv: the file is empty; expected a header row and at least one data row"),
    "header only": ("bare_header.csv", HEADER.encode(),
                    "bare_header.csv: the file has a header but no data rows; expected at least one data row"),
    "wrong encoding (DOS code page 865)": (
        "dos.csv", (HEADER + "OKO01;3203;2022;14,8;percent;measured;Müller;\n").encode("cp865"),
        "dos.csv: not valid UTF-8, and byte 0x81 on line 2 is not a character in Windows-1252"),
    "UTF-16": ("utf16.csv", (HEADER + GOOD_ROW).encode("utf-16"), "the file looks like UTF-16 or binary"),
    "duplicate rows": ("dobbel.csv", (HEADER + GOOD_ROW + GOOD_ROW).encode(),
                       "dobbel.csv, row 3, column indicator_id+municipality_code+period: got 'OKO01/3203/2022'; "
                       "expected one row per figure (same as row 2)"),
    "unknown municipality code": ("ukjent.csv", (HEADER + GOOD_ROW.replace("3203", "9999")).encode(),
                                  "ukjent.csv, row 2, column municipality_code: got '9999'; expected a municipality "
                                  "code known to KLASS/SSB"),
    "retired municipality code": ("gammel.csv", (HEADER + GOOD_ROW.replace("3203", "3025")).encode(),
                                  "got '3025'; expected a current municipality code; 3025 is retired, use 3203"),
    "wrong columns": ("kolonner.csv", b"indikator;kommune;aar;verdi\nOKO01;3203;2022;14,8\n",
                      "kolonner.csv, row 1, column header: got 'indikator;kommune;aar;verdi'"),
    "HTML saved as xlsx": ("eksport.xlsx", b"<!DOCTYPE html><html><title>Innlogging</title></html>",
                           "eksport.xlsx: not an XLSX file (no zip signature; first bytes b'<!DOCTYPE html><'); "
                           "expected an .xlsx"),
    "xlsx cut in half": ("halv.xlsx", GOOD_XLSX[: len(GOOD_XLSX) // 2],
                         "halv.xlsx: cannot open as XLSX (BadZipFile: File is not a zip file); expected an .xlsx workbook"),
    "too large": ("stor.csv", (HEADER + GOOD_ROW * 200).encode(),
                  "stor.csv: got '11671 bytes'; expected at most 10000 bytes (STYRINGSDATA_REGISTRY_MAX_BYTES)"),
}


@pytest.fixture
def registry(tmp_path):
    """A drop zone whose first file was accepted and loaded."""
    inbox, quarantine = tmp_path / "inbox", tmp_path / "quarantine"
    inbox.mkdir()
    landing = LandingZone(tmp_path / "landing")
    (inbox / "first.csv").write_text(HEADER + GOOD_ROW.replace("2022", "2021"), encoding="utf-8")
    [(_, vintage_dir)] = process_inbox(inbox, quarantine, landing, REFERENCE, settle_seconds=0).accepted
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    manifest, rows = parse_landed(vintage_dir, REFERENCE)
    load_registry_vintage(con, vintage_dir, rows, manifest)
    return inbox, quarantine, landing, con


def registry_state(landing: LandingZone, con) -> tuple:
    tables = sorted(p.name for p in (landing.root / "registry").iterdir())
    return ({t: landing.vintages("registry", t) for t in tables},
            con.execute("select indicator_id, municipality_code, period, value, _file from raw.registry_values "
                        "order by all").fetchall())


@pytest.mark.parametrize("fault", list(BAD_FILES))
def test_a_bad_registry_file_is_quarantined_whole_with_a_report(registry, fault, monkeypatch):
    inbox, quarantine, landing, con = registry
    name, data, expected = BAD_FILES[fault]
    before = registry_state(landing, con)
    (inbox / name).write_bytes(data)
    (inbox / "good.xlsx").write_bytes(GOOD_XLSX)  # dropped at the same time: not held back
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))
    result = process_inbox(inbox, quarantine, landing, REFERENCE, settle_seconds=0)
    monkeypatch.undo()
    assert [n for n, _ in result.rejected] == [name] and [n for n, _ in result.accepted] == ["good.xlsx"]
    report = result.rejected[0][1].read_text(encoding="utf-8")
    assert expected in report, report
    assert report.startswith(f"{name}: REJECTED")
    # The file itself, byte for byte, next to its report; nothing left in the inbox.
    [kept] = [p for p in quarantine.iterdir() if p.name.endswith(name)]
    assert kept.read_bytes() == data and result.rejected[0][1] == kept.with_name(kept.name + ".errors.txt")
    assert list(inbox.iterdir()) == []
    # Nothing of it landed; what we had is untouched.
    vintages, rows = registry_state(landing, con)
    assert vintages == {**before[0], "good": vintages["good"]} and rows == before[1]
    if fault == "too large":
        assert name not in read  # refused from its size, never read into memory


def test_two_bad_files_whose_names_clean_up_alike_both_stay_in_quarantine(registry):
    inbox, quarantine, landing, _ = registry
    (inbox / "a b.csv").write_bytes(b"")
    (inbox / "a_b.csv").write_bytes(HEADER.encode())
    result = process_inbox(inbox, quarantine, landing, REFERENCE, settle_seconds=0)
    assert sorted(n for n, _ in result.rejected) == ["a b.csv", "a_b.csv"]
    kept = sorted(p.read_bytes() for p in quarantine.iterdir() if not p.name.endswith(".errors.txt"))
    assert kept == [b"", HEADER.encode()]
    assert len(list(quarantine.glob("*.errors.txt"))) == 2


def test_a_symbolic_link_in_the_inbox_is_quarantined_not_followed(registry, tmp_path):
    inbox, quarantine, landing, con = registry
    secret = tmp_path / "elsewhere.csv"
    secret.write_text(HEADER + GOOD_ROW)
    (inbox / "link.csv").symlink_to(secret)
    (inbox / "good.xlsx").write_bytes(GOOD_XLSX)
    result = process_inbox(inbox, quarantine, landing, REFERENCE, settle_seconds=0)
    assert [n for n, _ in result.rejected] == ["link.csv"] and [n for n, _ in result.accepted] == ["good.xlsx"]
    assert "link.csv: got 'a symbolic link'; expected a regular file" in result.rejected[0][1].read_text()
    assert secret.read_text() == HEADER + GOOD_ROW  # the target is untouched and was not landed
    assert not any("link" in t for t in registry_state(landing, con)[0])


# -- Miljødirektoratet ----------------------------------------------------------------------------

URL = "https://www.miljodirektoratet.no/sharepoint/downloaditem/?id=01FM3LD2WOT7QL4D6Y5FC3JYADXGI6A3FA"


def workbook() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Oversikt - detaljert"
    sheet.append(list(COLUMNS))
    sheet.append(["Akershus", 3203, "Asker", 2009, "Veitrafikk", "Personbiler  ", "CO2", 3352.02])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("body, message", [
    (b"<!DOCTYPE html>\n<html><head><title>Side for feilmelding</title></head></html>",
     r"expected the xlsx workbook \(a zip file\) but got an HTML page.*find the current link on "
     r"https://www.miljodirektoratet.no/tjenester/klimagassutslipp-kommuner/"),
    (b"", r"expected the xlsx workbook \(a zip file\) but got not a zip file"),
    ("half", r"starts like an xlsx but cannot be opened \(BadZipFile.*perhaps cut off"),
])
def test_a_download_that_is_not_the_workbook_keeps_the_vintage_we_had(tmp_path, body, message):
    landing = LandingZone(tmp_path / "landing")
    good = workbook()
    first = refresh(Transport(SourceMode.LIVE, sender=ScriptedSender([Response(200, good, {})]), clock=FakeClock()),
                    landing, URL)
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    from styringsdata.sources.miljodirektoratet import parse_workbook

    load_emissions_vintage(con, first.landing_path, parse_workbook(good, URL))
    before = con.execute("select * exclude (_landing_path) from raw.miljodirektoratet_emissions").fetchall()
    body = good[: len(good) // 2] if body == "half" else body
    transport = Transport(SourceMode.LIVE, sender=ScriptedSender([Response(200, body, {"content-type": "text/html"})]),
                          clock=FakeClock())
    with pytest.raises(MiljodirektoratetError, match=rf"{URL.replace('?', '[?]')}: {message}"):
        refresh(transport, landing, URL)
    assert landing.vintages("miljodirektoratet", "klimagassutslipp-kommuner") == [first.vintage]
    assert con.execute("select * exclude (_landing_path) from raw.miljodirektoratet_emissions").fetchall() == before


# -- NHO Kommune-NM -------------------------------------------------------------------------------

NM_HEADER = ("kommunenummer;kommune;year;total_rank;county;county_rank;naeringsliv_rank;arbeidsmarked_rank;"
             "demografi_rank;kompetanse_rank;kommuneokonomi_rank;fagprove_rank\n")
NM_ROW = "3203;Asker;2022;14;Viken;6;;;;;;348\n"


@pytest.mark.parametrize("data, message", [
    ((NM_HEADER + NM_ROW * 2).encode(), r"nm_2023.csv, row 3: municipality 3203 year 2022 repeats row 2"),
    ((NM_HEADER + NM_ROW.replace(";14;", ";0;")).encode(),
     r"nm_2023.csv, row 2, column total_rank: got '0'; expected a rank from 1 to 357"),
    (b"", r"nm_2023.csv: the file is empty"),
    ((NM_HEADER + NM_ROW.replace("Asker", "Müller")).encode("cp865"), r"byte 0x81 on line 2"),
    ((NM_HEADER + NM_ROW * 40).encode(), r"nm_2023.csv: got '\d+ bytes'; expected at most 1000 bytes"),
])
def test_a_bad_kommune_nm_file_is_quarantined_with_file_and_row_and_lands_nothing(tmp_path, data, message):
    """The Kommune-NM inbox is the shared drop zone (issue 22): a bad file is quarantined with its report."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    landing = LandingZone(tmp_path / "landing")
    (inbox / "nm_2022.csv").write_text(NM_HEADER + NM_ROW, encoding="utf-8")
    [(_, first)] = kommune_nm.take_inbox(inbox, tmp_path / "q", landing, settle_seconds=0, max_bytes=1_000).accepted
    (inbox / "nm_2023.csv").write_bytes(data)
    result = kommune_nm.take_inbox(inbox, tmp_path / "q", landing, settle_seconds=0, max_bytes=1_000)
    [(name, report)] = result.rejected
    assert name == "nm_2023.csv" and re.search(message, report.read_text()), report.read_text()
    assert list(inbox.iterdir()) == [] and [p.read_bytes() for p in (tmp_path / "q").glob("*nm_2023.csv")] == [data]
    assert [p.name for p in (landing.root / "kommune_nm").iterdir()] == ["nm_2022"]
    assert landing.vintages("kommune_nm", "nm_2022") == [first.name]


def test_zip_signature_alone_does_not_make_an_xlsx(registry):
    inbox, quarantine, landing, _ = registry
    fake = io.BytesIO()
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    (inbox / "arkiv.xlsx").write_bytes(fake.getvalue())
    result = process_inbox(inbox, quarantine, landing, REFERENCE, settle_seconds=0)
    assert [n for n, _ in result.rejected] == ["arkiv.xlsx"]
    assert ("arkiv.xlsx: cannot open as XLSX (KeyError: \"There is no item named '[Content_Types].xml' in the archive\")"
            in result.rejected[0][1].read_text())
