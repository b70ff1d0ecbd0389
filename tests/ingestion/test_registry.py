from __future__ import annotations

import io

import openpyxl
import pytest

from styringsdata.raw.landing import LandingZone, read_manifest
from styringsdata.sources.registry import (
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
    # an export in the DOS code page 865: its 'ü' is 0x81, no character in Windows-1252
    data = (HEADER + "OKO01;3203;2022;14,8;percent;measured;Asker;rapport fra Müller\n").encode("cp865")
    report = validate(data, "f.csv", REFERENCE)
    assert not report.ok
    assert messages(report) == ["f.csv: not valid UTF-8, and byte 0x81 on line 2 is not a character in Windows-1252; "
                                "expected UTF-8 or Windows-1252 text (save the file as CSV UTF-8)"]
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
    result = process_inbox(inbox, quarantine, landing, REFERENCE, settle_seconds=0)
    assert [name for name, _ in result.accepted] == ["good.csv"]
    assert [name for name, _ in result.rejected] == ["bad.csv"]
    assert list(inbox.iterdir()) == []
    report = result.rejected[0][1].read_text()
    assert "REJECTED" in report and "bad.csv, row 3, column value: got 'abc'" in report
    assert any(p.name.endswith("-bad.csv") for p in quarantine.iterdir())  # the raw file is kept
    manifest, rows = parse_landed(result.accepted[0][1], REFERENCE)
    assert manifest["original_name"] == "good.csv" and len(rows) == 1
    assert read_manifest(result.accepted[0][1])["payloads"][0]["sha256"]
    # the same file dropped again right away is recognised (it is the newest vintage), not landed twice
    (inbox / "good.csv").write_text(HEADER + "OKO01;3203;2022;14,8;percent;measured;;\n")
    again = process_inbox(inbox, quarantine, landing, REFERENCE, settle_seconds=0)
    assert again.already_landed == ["good.csv"] and again.accepted == []


# -- numbers exactly right, every row accounted for (issue 11) ------------------------------------
# Files built as the exporters really write them: Norwegian Excel's "CSV (semikolondelt)" is ';'-separated,
# CRLF, in the Windows ANSI code page (Windows-1252), a cell quoted only when it holds ';', '"' or a line
# break, numbers as displayed (decimal comma, no-break space between thousands when the format groups them,
# "14,8 %" for a percent format). "CSV UTF-8" is the same in UTF-8 with a BOM. XLSX cells keep the number
# as stored plus its number format.
COLUMNS = HEADER.strip().split(";")


def excel_csv(rows: list[list[str]], encoding: str = "cp1252", bom: bool = False, newline: str = "\r\n") -> bytes:
    def cell(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ';"\r\n') else text

    text = "".join(";".join(cell(c) for c in [*COLUMNS]) + newline for _ in [0])
    text += "".join(";".join(cell(c) for c in row) + newline for row in rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def workbook(rows: list[list], formats: dict[tuple[int, int], str] | None = None) -> bytes:
    """An XLSX as Excel stores it: numbers as numbers, the number format on the cell (row, column 1-based)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    for (row, column), number_format in (formats or {}).items():
        sheet.cell(row, column).number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def edit_sheet_xml(data: bytes, pattern: bytes, replacement: bytes) -> bytes:
    """The workbook with one change in the first sheet's XML (what openpyxl cannot be told to write)."""
    import re
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body, n = re.subn(pattern, replacement, body)
                assert n == 1, body
            target.writestr(item, body)
    return buffer.getvalue()


def values(report) -> list[float | None]:
    assert report.ok, report.text()
    return [r.value for r in report.rows]


def test_english_thousands_separator_with_decimal_point_is_not_read_as_a_decimal_comma():
    # was loaded as 1.2345: the comma taken for the decimal separator and the point dropped
    report = check(HEADER + "BYS08;3203;2022;1,234.5;count;measured;;\n")
    assert values(report) == [1234.5]
    assert "decimal separator '.'" in report.text()


def test_percent_formatted_xlsx_cell_becomes_the_catalogue_percent():
    # Excel shows 14,8 % and stores 0.148: the clerk means 14.8 percent, the catalogue unit of OKO01
    data = workbook([["OKO01", "3203", 2022, 0.148, "percent", "measured", "Asker", None],
                     ["SAM04", "3203", 2022, -0.021, None, "measured", None, None]],
                    {(2, 4): "0.0%", (3, 4): "0.0%"})
    report = validate(data, "f.xlsx", REFERENCE)
    assert values(report) == [14.8, -2.1]  # exactly, not 14.799999999999999
    assert "2 percent-formatted cell(s) multiplied by 100" in report.text()


def test_percent_formatted_xlsx_cell_for_a_unit_that_is_not_a_percent_is_rejected():
    data = workbook([["BYS08", "3203", 2022, 0.25, "count", "measured", None, None]], {(2, 4): "0%"})
    report = validate(data, "f.xlsx", REFERENCE)
    assert not report.ok
    assert messages(report) == ["f.xlsx, row 2, column value: got '0.25 formatted as percent (shows 25 %)'; "
                                "expected a number in the catalogue unit 'count' of BYS08 (format the cell as "
                                "a number, not as percent)"]


def test_xlsx_numbers_are_taken_exactly_as_stored():
    # were rounded to 6 significant digits (1234.57), and 12345678.9 was refused as '1.23457e+07'
    data = workbook([["BYS08", "3203", 2020, 1234.5678, "count", "measured", None, None],
                     ["BYS08", "3203", 2021, 12345678.9, "count", "measured", None, None],
                     ["BYS08", "3203", 2022, 0.1 + 0.2, "count", "measured", None, None],
                     ["BYS08", "3203", 2023, 72134574, "count", "measured", None, None]])
    # openpyxl writes 15 significant digits; Excel writes up to 17, as the double needs them
    data = edit_sheet_xml(data, rb"<v>0\.3</v>", b"<v>0.30000000000000004</v>")
    assert values(validate(data, "f.xlsx", REFERENCE)) == [1234.5678, 12345678.9, 0.30000000000000004, 72134574.0]


def test_xlsx_with_a_wrong_dimension_record_still_reads_every_row_and_cell():
    # openpyxl's read-only mode trusts the sheet's <dimension>, which some exporters write wrong: claim the
    # sheet is only A1:B2, and read-only openpyxl returns two columns of the first two rows
    data = workbook([["OKO01", "3203", 2021, 14.8, "percent", "measured", None, None],
                     ["OKO01", "3203", 2022, 15.1, "percent", "measured", None, "ekstra"]])
    data = edit_sheet_xml(data, rb'<dimension ref="A1:H3" ?/>', b'<dimension ref="A1:B2"/>')
    report = validate(data, "f.xlsx", REFERENCE)
    assert values(report) == [14.8, 15.1] and report.rows[1].comment == "ekstra"


def test_an_unbalanced_quote_rejects_the_file_instead_of_swallowing_rows():
    # was "OK, 1 rows" for this 3-row file: the quote opened a cell that ran to the end of the file
    report = check(HEADER + 'OKO01;3203;2020;14,8;percent;measured;Asker;"foreløpig tall\n'
                            "OKO01;3203;2021;15,8;percent;measured;Asker;\n"
                            "OKO01;3203;2022;16,8;percent;measured;Asker;\n")
    assert not report.ok
    assert messages(report) == ["f.csv, row 2, column comment: got '\"foreløpig tall'; expected a closing quote "
                                "before the end of the line (a cell that starts with \" must end with \"; line "
                                "breaks inside a cell are not allowed)"]


def test_every_data_line_is_one_record():
    # a quoted line break would make one record out of two lines: refused, with the line it starts on
    report = check(HEADER + 'OKO01;3203;2020;14,8;percent;measured;Asker;"to\nlinjer"\n'
                            "OKO01;3203;2021;15,8;percent;measured;Asker;\n")
    assert not report.ok and "f.csv, row 2, column comment" in messages(report)[0]


def test_cells_beyond_the_header_reject_the_file():
    # were silently dropped
    report = check(HEADER + "OKO01;3203;2022;14,8;percent;measured;Asker;;husk å sjekke\n")
    assert messages(report) == ["f.csv, row 2, column 9 (beyond the header's 8 columns): got 'husk å sjekke'; "
                                "expected nothing beyond the header's columns"]
    # Excel writes an empty cell for every row once any row used that column: empty cells beyond are fine
    assert check(HEADER.rstrip("\n") + ";\n" + "OKO01;3203;2022;14,8;percent;measured;Asker;;\n").ok


def test_cr_only_line_endings_are_read():
    # Excel for Mac's "CSV (Macintosh)" ends lines with CR alone; raised an uncaught csv.Error
    text = (HEADER + "OKO01;3203;2021;14,8;percent;measured;;\n" + "OKO01;3203;2022;15,8;percent;measured;;\n")
    assert values(validate(text.replace("\n", "\r").encode(), "f.csv", REFERENCE)) == [14.8, 15.8]


def test_a_field_over_128_kib_is_read_not_raised():
    # raised "field larger than field limit (131072)" out of the csv module
    big = load_reference(list(REFERENCE.indicators.values()), REFERENCE.municipalities, REFERENCE.retired,
                         max_bytes=1_000_000)
    text = HEADER + "OKO01;3203;2022;14,8;percent;measured;Asker;" + "x" * 200_000 + "\n"
    report = validate(text.encode(), "f.csv", big)
    assert report.ok and len(report.rows[0].comment) == 200_000


def test_unicode_minus_and_unicode_spaces_as_thousands_separators():
    rows = [["SAM04", "3203", "2021", "\u22123,2", "percentage points", "measured", "", ""],
            ["BYS08", "3201", "2022", "1\u202f234\u202f567", "count", "measured", "", ""],
            ["BYS08", "3203", "2022", "12\u2009345,5", "count", "measured", "", ""],
            ["BYS08", "0301", "2022", "7\u00a0654", "count", "measured", "", ""]]
    report = validate(excel_csv(rows, encoding="utf-8", bom=True), "f.csv", REFERENCE)
    assert values(report) == [-3.2, 1234567.0, 12345.5, 7654.0]


def test_norwegian_excel_csv_in_windows_1252_is_read():
    # Excel's "CSV (semikolondelt)": en dash 0x96, euro 0x80, guillemets 0xab/0xbb, æøå, no-break space
    # 0xa0 between thousands, a percent cell shown as "14,8 %"
    rows = [["OKO01", "3203", "2022", "14,8\u00a0%", "percent", "Målt", "Økonomiavdelingen",
             "Tall for 2021\u20132022 «foreløpige», kostnad 1\u00a0200 \u20ac"],
            ["BYS08", "3203", "2022", "1\u00a0234", "count", "measured", "Bygg; eiendom", ""]]
    data = excel_csv(rows)
    assert b"\x96" in data and b"\x80" in data and b"\xab" in data and b"\r\n" in data
    report = validate(data, "f.csv", REFERENCE)
    assert values(report) == [14.8, 1234.0]
    assert report.rows[0].comment == "Tall for 2021\u20132022 «foreløpige», kostnad 1\u00a0200 \u20ac"
    assert report.rows[1].source == "Bygg; eiendom"
    assert "Windows-1252" in report.text()


def test_an_ambiguous_number_rejects_the_file_with_both_readings():
    # nothing in the file says which separator is the decimal one
    report = check(HEADER + "BYS08;3203;2022;1,234;count;measured;;\n" + "BYS08;3203;2021;1200;count;measured;;\n")
    assert messages(report) == [
        "f.csv, row 2, column value: got '1,234'; expected a number whose reading is unambiguous: it reads as "
        "1234 with ',' between thousands or as 1.234 with ',' as the decimal separator, and no other value in "
        "the file shows which separator is the decimal one (write it with a different number of decimals, or "
        "save the file as XLSX)"]


def test_the_decimal_separator_is_decided_once_per_file_and_stated():
    report = check(HEADER + "BYS08;3203;2021;12,5;count;measured;;\n" + "BYS08;3203;2022;1,234;count;measured;;\n")
    assert values(report) == [12.5, 1.234]
    assert report.text() == "f.csv: OK, 2 rows; decimal separator ',' (row 2: '12,5')\n"
    english = check(HEADER + "BYS08;3203;2021;12.5;count;measured;;\n" + "BYS08;3203;2022;1,234;count;measured;;\n")
    assert values(english) == [12.5, 1234.0]


def test_a_value_that_conflicts_with_the_file_separator_is_rejected():
    report = check(HEADER + "BYS08;3203;2020;12,5;count;measured;;\n" + "BYS08;3203;2021;13,5;count;measured;;\n"
                   + "BYS08;3203;2022;1.234,5;count;measured;;\n" + "BYS08;3203;2023;1,234.5;count;measured;;\n")
    assert messages(report) == [
        "f.csv, row 5, column value: got '1,234.5'; expected a number written with the file's decimal separator "
        "',' (row 2: '12,5'): it reads as 1234.5 with '.' as the decimal separator, and is not a number with ','"]


def test_a_number_excel_showed_in_scientific_notation_is_refused():
    # Excel's General format shows 123456789012 as 1,23457E+11: the digits after the sixth are gone
    report = check(HEADER + "BYS08;3203;2022;1,23457E+11;count;measured;;\n")
    assert not report.ok and "scientific notation" in messages(report)[0]


def test_a_file_that_uses_both_decimal_separators_as_often_is_rejected():
    report = check(HEADER + "BYS08;3203;2021;12,5;count;measured;;\n" + "BYS08;3203;2022;1,234.5;count;measured;;\n")
    assert messages(report) == ["f.csv: the file writes numbers with ',' (row 2: '12,5') and with '.' (row 3: "
                                "'1,234.5') as the decimal separator, 1 value(s) each; expected one decimal "
                                "separator throughout the file"]


def test_a_percent_sign_is_the_figure_as_shown_and_only_for_a_percent_unit():
    assert values(check(HEADER + "OKO01;3203;2022;14,8\u00a0%;percent;measured;;\n")) == [14.8]
    report = check(HEADER + "BYS08;3203;2022;25 %;count;measured;;\n")
    assert messages(report) == ["f.csv, row 2, column value: got '25 %'; expected a number in the catalogue unit "
                                "'count' of BYS08, without a percent sign"]


@pytest.mark.parametrize("text", ["12 5", "1.23,4", "1,2,3", "0 123", "1 2345", "٣", "12,5-", "--3"])
def test_text_that_is_not_one_number_is_refused(text):
    assert "expected a number" in messages(check(HEADER + f"BYS08;3203;2022;{text};count;measured;;\n"))[0]
