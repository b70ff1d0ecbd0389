from __future__ import annotations

import io

import openpyxl
import pytest

from ingestion.landing import LandingZone, read_manifest
from ingestion.registry import (
    IndicatorRule,
    load_reference,
    parse_landed,
    process_inbox,
    validate,
)

HEADER = "indicator_id;municipality_code;period;value;unit;status;source;comment\n"
REFERENCE = load_reference(
    [IndicatorRule("OKO01", "registry", "percent"), IndicatorRule("MED02", "registry", "scale 1-5"),
     IndicatorRule("UTD17", "kommune_nm", "rank"), IndicatorRule("BYS08", "registry", "count"),
     IndicatorRule("SAM04", "registry", "percentage points")],
    municipalities={"3203", "3201", "0301"},
    retired={"3025": ("3203",), "0220": ("3203",)},
    max_bytes=10_000,
)


def check(text: str, name: str = "f.csv", encoding: str = "utf-8"):
    return validate(text.encode(encoding), name, REFERENCE)


def messages(report) -> list[str]:
    return [str(p) for p in report.problems]


def test_a_good_file_in_both_separators_and_decimal_styles():
    semicolon = check(HEADER + "OKO01;3203;2022;14,8;percent;measured;Asker kommune;\n"
                               "MED02;3203;2021;4,2;scale 1-5;measured;KS;\n"
                               "OKO01;3203;2023;;percent;Tall kommer;;\n")
    assert semicolon.ok, semicolon.text()
    assert [r.value for r in semicolon.rows] == [14.8, 4.2, None]
    assert semicolon.rows[2].status == "pending"
    comma = check(HEADER.replace(";", ",") + 'OKO01,3203,2022,14.8,percent,measured,"Asker, økonomi",\n')
    assert comma.ok and comma.rows[0].value == 14.8 and comma.rows[0].source == "Asker, økonomi"


def test_iso_8859_1_is_accepted():
    report = check(HEADER + "OKO01;3203;2022;14,8;percent;measured;Økonomiavdelingen;Røyken\n", encoding="iso-8859-1")
    assert report.ok and report.rows[0].comment == "Røyken"


def test_wrong_encoding_is_rejected_naming_the_byte():
    data = (HEADER + "OKO01;3203;2022;14,8;percent;measured;\u201cAsker\u201d;\n").encode("cp1252")
    report = validate(data, "f.csv", REFERENCE)
    assert not report.ok
    assert "byte 0x93" in messages(report)[0] and "UTF-8 or ISO-8859-1" in messages(report)[0]
    utf16 = validate((HEADER + "OKO01;3203;2022;1;percent;measured;;\n").encode("utf-16"), "f.csv", REFERENCE)
    assert "UTF-16" in messages(utf16)[0]


def test_empty_file_and_header_only_are_rejected():
    assert "the file is empty" in messages(check(""))[0]
    assert "at least one data row" in messages(check(HEADER))[0]


def test_wrong_columns_are_named():
    report = check("indicator;municipality_code;period;value\nOKO01;3203;2022;1\n")
    [problem] = messages(report)
    assert "row 1, column header" in problem and "missing: indicator_id, unit, status, source, comment" in problem
    assert "unknown: indicator" in problem


@pytest.mark.parametrize(
    "line, expected",
    [
        ("XYZ99;3203;2022;1;percent;measured;;", "column indicator_id: got 'XYZ99'; expected an indicator_id from the catalogue"),
        ("UTD17;3203;2022;348;rank;measured;;", "UTD17 comes from kommune_nm"),
        ("OKO01;9999;2022;1;percent;measured;;", "column municipality_code: got '9999'; expected a municipality code known"),
        ("OKO01;3025;2022;1;percent;measured;;", "3025 is retired, use 3203"),
        ("OKO01;324;2022;1;percent;measured;;", "a four-digit municipality code"),
        ("OKO01;3203;22;1;percent;measured;;", "column period: got '22'; expected a year between 1990"),
        ("OKO01;3203;2022;fjorten;percent;measured;;", "column value: got 'fjorten'; expected a number"),
        ("OKO01;3203;2022;140;percent;measured;;", "column value: got '140'; expected a share between 0 and 100"),
        ("MED02;3203;2022;6;scale 1-5;measured;;", "expected a score between 1 and 5"),
        ("BYS08;3203;2022;-1;count;measured;;", "expected a number of 0 or more"),
        ("OKO01;3203;2022;;percent;measured;;", "column value: got ''; expected a number, since status is measured"),
        ("OKO01;3203;2022;12;percent;Ikke målt;;", "column status: got 'Ikke målt'; expected measured, since a value"),
        ("OKO01;3203;2022;12;percent;kanskje;;", "column status: got 'kanskje'; expected one of"),
        ("OKO01;3203;2022;12;kr;measured;;", "column unit: got 'kr'; expected 'percent'"),
    ],
)
def test_each_bad_value_is_reported_with_row_column_and_expectation(line, expected):
    report = check(HEADER + "OKO01;3203;2021;18,0;percent;measured;;\n" + line + "\n")
    assert not report.ok
    assert any(expected in m for m in messages(report)), messages(report)
    assert all("f.csv, row 3" in m for m in messages(report))


def test_negative_change_in_percentage_points_is_fine():
    assert check(HEADER + "SAM04;3203;2021;-2,0;percentage points;measured;;\n").ok


def test_duplicate_rows_are_rejected_naming_both():
    report = check(HEADER + "OKO01;3203;2022;14,8;percent;measured;;\n" * 2)
    assert messages(report) == ["f.csv, row 3, column indicator_id+municipality_code+period: got 'OKO01/3203/2022'; "
                                "expected one row per figure (same as row 2)"]


def test_size_limit_is_refused():
    report = check(HEADER + "OKO01;3203;2022;14,8;percent;measured;;" + "x" * 20_000 + "\n")
    assert "at most 10000 bytes" in messages(report)[0]


def test_xlsx_is_read_and_html_posing_as_xlsx_is_refused():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(";"))
    sheet.append(["OKO01", "3203", 2022, 14.8, "percent", "measured", "Asker kommune", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = validate(buffer.getvalue(), "f.xlsx", REFERENCE)
    assert report.ok, report.text()
    assert report.rows[0].value == 14.8
    html = validate(b"<!DOCTYPE html><html>Side for feilmelding</html>", "f.xlsx", REFERENCE)
    assert "not an XLSX file (no zip signature" in messages(html)[0]


def test_inbox_accepts_whole_files_and_quarantines_bad_ones(tmp_path):
    inbox, quarantine = tmp_path / "inbox", tmp_path / "quarantine"
    inbox.mkdir()
    (inbox / "good.csv").write_text(HEADER + "OKO01;3203;2022;14,8;percent;measured;;\n")
    (inbox / "bad.csv").write_text(HEADER + "OKO01;3203;2022;14,8;percent;measured;;\n"
                                            "OKO01;3203;2021;abc;percent;measured;;\n")
    landing = LandingZone(tmp_path / "landing")
    result = process_inbox(inbox, quarantine, landing, REFERENCE)
    assert [name for name, _ in result.accepted] == ["good.csv"]
    assert [name for name, _ in result.rejected] == ["bad.csv"]
    assert list(inbox.iterdir()) == []
    report = result.rejected[0][1].read_text()
    assert "REJECTED" in report and "bad.csv, row 3, column value: got 'abc'" in report
    assert any(p.name.endswith("-bad.csv") for p in quarantine.iterdir())  # the raw file is kept
    manifest, rows = parse_landed(result.accepted[0][1], REFERENCE)
    assert manifest["original_name"] == "good.csv" and len(rows) == 1
    assert read_manifest(result.accepted[0][1])["payloads"][0]["sha256"]
    # the same file dropped again is recognised, not landed twice
    (inbox / "good.csv").write_text(HEADER + "OKO01;3203;2022;14,8;percent;measured;;\n")
    again = process_inbox(inbox, quarantine, landing, REFERENCE)
    assert again.already_landed == ["good.csv"] and again.accepted == []
