"""Norwegian number formats and the CSV Norwegian Excel opens."""

from __future__ import annotations

import csv
import io

from styringsdata.reporting.numbers import NBSP, excel_csv, format_number, format_plain


def test_norwegian_and_english_numbers():
    assert format_number(1785.14, 1) == f"1{NBSP}785,1"
    assert format_number(1785.14, 1, "en") == "1,785.1"
    assert format_number(1234567.891, 2) == f"1{NBSP}234{NBSP}567,89"
    assert format_number(-0.7, 1) == "\u22120,7" and format_number(-0.7, 1, "en") == "-0.7"
    assert format_number(-0.04, 1) == "0,0", "a figure that rounds to zero has no sign"
    assert format_number(0.7, 1, signed=True) == "+0,7"
    assert format_number(None) == "" and format_number(float("nan")) == ""
    assert format_plain(62000.0, "no") == f"62{NBSP}000" and format_plain(14.80, "no") == "14,8"
    assert format_plain(True, "no") == "ja"


def test_excel_csv_is_semicolon_separated_utf8_with_bom_and_decimal_comma():
    data = excel_csv(["kommune", "verdi", "merknad"], [["Bærum", 1785.14, "a;b"], ["Tromsø", 3.0, None]])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [["kommune", "verdi", "merknad"], ["Bærum", "1785,14", "a;b"], ["Tromsø", "3", ""]]
