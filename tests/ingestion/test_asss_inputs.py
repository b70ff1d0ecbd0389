"""The two ASSS inputs as file contracts: the municipal deflator and the expense-need index.

Bad files are rejected whole with row-level errors (file, row, column, value, expected) and quarantined;
the last good vintage stays in raw and stays the one in use.
"""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import duckdb
import openpyxl
import pytest

from styringsdata.sources import expense_need_index, municipal_deflator
from styringsdata.sources.file_contract import refresh
from styringsdata.raw.landing import LandingZone

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_DEFLATOR = ROOT / "snapshots" / "municipal_deflator" / "kommunal_deflator.csv"
BUNDLED_INDEX = ROOT / "snapshots" / "expense_need_index" / "utgiftsbehov_asss_illustrative.csv"
AREAS = ROOT / "dbt_project" / "seeds" / expense_need_index.AREAS_SEED
MEMBERS = frozenset({"0301", "4601", "5001", "1103", "3201", "4204", "3107", "1108", "5501", "3301", "3203", "3205"})
REFERENCE = expense_need_index.NeedIndexReference(expense_need_index.load_areas(AREAS), MEMBERS,
                                                  {"3025": ("3203",), "3024": ("3201",)})
DEFLATOR_HEADER = "year;deflator_percent;estimate;published;origin;source;citation\n"
INDEX_HEADER = "year;municipality_code;municipality_name;need_area;need_index;origin;source;citation\n"


def deflator_rows(*years_and_percent: tuple[int, str]) -> str:
    return DEFLATOR_HEADER + "".join(
        f"{year};{percent};NB{str(year)[2:]};{year - 1}-10;published;Nasjonalbudsjettet {year};https://example.org/nb\n"
        for year, percent in years_and_percent)


def messages(report) -> list[str]:
    return [str(p) for p in report.problems]


# -- the bundled files --------------------------------------------------------
def test_bundled_deflator_is_valid_every_published_row_cited_and_the_documents_2024_figure_in_it():
    report = municipal_deflator.validate(BUNDLED_DEFLATOR.read_bytes(), BUNDLED_DEFLATOR.name)
    assert report.ok, report.text()
    years = sorted({r.year for r in report.rows})
    assert years == list(range(years[0], years[-1] + 1)) and years[0] <= 2019 and years[-1] >= 2025
    assert all(r.citation for r in report.rows if r.origin == "published")
    assert {r.year for r in report.rows if r.origin == "illustrative"} == {2020, 2025}
    # Handlingsprogram 2024-2027, "Deflator - 4,3 prosent" (statsbudsjettet 2024)
    assert [(r.deflator_percent, r.estimate) for r in report.rows if r.year == 2024 and r.estimate == "NB24"] == [(4.3, "NB24")]


def test_bundled_expense_need_index_covers_every_member_and_area_and_says_it_is_illustrative():
    report = expense_need_index.validate(BUNDLED_INDEX.read_bytes(), BUNDLED_INDEX.name, REFERENCE)
    assert report.ok, report.text()
    assert {r.municipality_code for r in report.rows} == MEMBERS
    assert {r.need_area for r in report.rows} == REFERENCE.areas
    assert {r.origin for r in report.rows} == {"illustrative"}
    assert all("illustrative" in r.source and "Grønt hefte" in r.source for r in report.rows)


# -- deflator: bad input ------------------------------------------------------
def test_a_deflator_file_with_a_missing_year_is_rejected_naming_the_gap():
    report = municipal_deflator.validate(deflator_rows((2019, "3,0"), (2020, "3,1"), (2022, "5,3")).encode(), "d.csv")
    assert not report.ok and report.rows == []
    assert messages(report) == [
        "d.csv, row 4, column year: got '2022'; expected a row for 2021 before it: every year from 2019 to 2022 "
        "is needed (a deflator chain cannot cross a missing year)"]


@pytest.mark.parametrize("line, expected", [
    ("2022;1,053;NB23;2022-10;published;NB23;https://x",
     "row 2, column deflator_percent: got '1,053'; expected a number whose reading is unambiguous: it reads as 1053 "
     "with ',' between thousands or as 1.053"),
    ("2022;5,3;NB23;2022-10;published;NB23;https://x\n2022;43;NB24;2023-10;published;NB24;https://x",
     "row 3, column deflator_percent: got '43'; expected the growth in percent between -20 and 20"),
    ("2022;fem;NB23;2022-10;published;NB23;https://x", "column deflator_percent: got 'fem'; expected the growth"),
    ("22;5,3;NB23;2022-10;published;NB23;https://x", "row 2, column year: got '22'; expected a year between"),
    ("2022;5,3;;2022-10;published;NB23;https://x", "row 2, column estimate: got ''; expected the estimate's document"),
    ("2022;5,3;NB23;okt 2022;published;NB23;https://x", "column published: got 'okt 2022'; expected the month"),
    ("2022;5,3;NB23;2022-10;anslått;NB23;https://x", "column origin: got 'anslått'; expected one of published, illustrative"),
    ("2022;5,3;NB23;2022-10;published;NB23;", "column citation: got ''; expected where the published figure"),
    ("2022;5,3;NB23;2022-10;published;NB23;https://x\n2022;5,4;NB23;2022-11;published;NB23;https://x",
     "row 3, column year+estimate: got '2022/NB23'; expected one row per year and estimate (same as row 2)"),
    ("2022;5,3;NB23;2022-10;published;Prop. 1 S; kap. 3;https://x", "row 2, column 8: got 'https://x'; expected 7 cells"),
])
def test_each_bad_deflator_value_is_reported_with_row_column_and_expectation(line, expected):
    report = municipal_deflator.validate((DEFLATOR_HEADER + line + "\n").encode(), "d.csv")
    assert not report.ok and report.rows == []
    assert any(expected in m for m in messages(report)), messages(report)


def test_deflator_header_must_be_the_contract():
    report = municipal_deflator.validate(b"aar;deflator\n2022;5,3\n", "d.csv")
    assert messages(report)[0].startswith("d.csv, row 1, column header: got 'aar;deflator'; expected the columns year;")


# -- expense-need index: bad input --------------------------------------------
@pytest.mark.parametrize("line, expected", [
    ("2022;9999;Ukjent;grunnskole;104,2;published;Grønt hefte 2022;https://x",
     "row 2, column municipality_code: got '9999'; expected a municipality code known to KLASS/SSB"),
    ("2022;3025;Asker;grunnskole;104,2;published;Grønt hefte 2022;https://x",
     "row 2, column municipality_code: got '3025'; expected today's municipality code; 3025 is retired, use 3203"),
    ("2022;3203;Asker;kultur;104,2;published;Grønt hefte 2022;https://x",
     "row 2, column need_area: got 'kultur'; expected a need area of the catalogue"),
    ("2022;3203;Asker;grunnskole;-104,2;published;Grønt hefte 2022;https://x",
     "row 2, column need_index: got '-104,2'; expected a positive index (the national average = 100)"),
    ("2022;3203;Asker;grunnskole;0;published;Grønt hefte 2022;https://x",
     "row 2, column need_index: got '0'; expected a positive index"),
    ("2022;3203;Asker;grunnskole;;published;Grønt hefte 2022;https://x",
     "row 2, column need_index: got ''; expected a number"),
    ("2022;3203;Asker;grunnskole;104,2;published;Grønt hefte 2022;",
     "row 2, column citation: got ''; expected where the published figure can be read"),
])
def test_each_bad_index_row_is_reported_with_row_column_and_expectation(line, expected):
    report = expense_need_index.validate((INDEX_HEADER + line + "\n").encode(), "i.csv", REFERENCE)
    assert not report.ok and report.rows == []
    assert any(m.startswith("i.csv, " + expected) for m in messages(report)), messages(report)


def test_one_bad_row_rejects_the_whole_index_file():
    good = "2022;3203;Asker;grunnskole;104,2;published;Grønt hefte 2022;https://x\n"
    report = expense_need_index.validate(
        (INDEX_HEADER + good + "2022;3201;Bærum;grunnskole;-3;published;Grønt hefte 2022;https://x\n").encode(),
        "i.csv", REFERENCE)
    assert not report.ok and report.rows == [] and len(report.problems) == 1


def test_an_index_file_on_the_ratio_scale_is_refused_with_the_conversion():
    report = expense_need_index.validate(
        (INDEX_HEADER + "2022;3203;Asker;grunnskole;1,0421;published;Grønt hefte 2022;https://x\n"
                        "2022;3203;Asker;samlet;0,9712;published;Grønt hefte 2022;https://x\n").encode(),
        "i.csv", REFERENCE)
    assert messages(report) == ["i.csv, row 2, column need_index: got '1.0421'; expected the index with the national "
                                "average = 100 (Grønt hefte prints 1,0421: write 104,21); every index in the file "
                                "is below 10"]


def test_index_as_excel_exports_it_xlsx_and_latin_1_csv():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(INDEX_HEADER.strip().split(";"))
    sheet.append([2022, "3203", "Asker", "barnevern", 98.61, "published", "Grønt hefte 2022, tabell C-k", "https://x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = expense_need_index.validate(buffer.getvalue(), "i.xlsx", REFERENCE)
    assert xlsx.ok, xlsx.text()
    assert (xlsx.rows[0].year, xlsx.rows[0].need_index, xlsx.rows[0].municipality_code) == (2022, 98.61, "3203")
    latin = expense_need_index.validate(
        (INDEX_HEADER + "2022;3301;Drammen;pleie_og_omsorg;101,07;published;Grønt hefte 2022, tabell C-k;https://x\n"
         ).encode("iso-8859-1"), "i.csv", REFERENCE)
    assert latin.ok and latin.rows[0].source == "Grønt hefte 2022, tabell C-k"


# -- the drop zone: rejected whole, the last good vintage stays in use ---------
@pytest.fixture
def zone(tmp_path):
    con = duckdb.connect(str(tmp_path / "work.duckdb"))
    yield tmp_path, LandingZone(tmp_path / "landing"), con
    con.close()


def _deflator_refresh(tmp_path: Path, landing: LandingZone, con, bundled: Path):
    municipal_deflator.ensure_table(con)
    return refresh(con, landing, municipal_deflator.SOURCE, municipal_deflator.validate, bundled=bundled,
                   inbox=tmp_path / "inbox", quarantine=tmp_path / "quarantine",
                   load_vintage=municipal_deflator.load_vintage, settle_seconds=0)


def _latest_series(con) -> list[tuple[int, float]]:
    # what int_asss__deflator_in_use reads: the newest vintage, whole
    return con.execute("""select year, deflator_percent from raw.municipal_deflator
                          where _vintage = (select max(_vintage) from raw.municipal_deflator) order by year""").fetchall()


def test_a_bad_deflator_file_is_quarantined_and_the_last_good_vintage_stays_in_use(zone):
    tmp_path, landing, con = zone
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    (bundled / "deflator.csv").write_text(deflator_rows((2021, "3,3"), (2022, "5,3"), (2023, "3,7")))
    first = _deflator_refresh(tmp_path, landing, con, bundled)
    assert (first.vintages, first.newly_loaded) == (1, 1)
    assert _latest_series(con) == [(2021, 3.3), (2022, 5.3), (2023, 3.7)]

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "deflator_2025.csv").write_text(deflator_rows((2021, "3,3"), (2022, "6,4"), (2024, "4,3")))
    second = _deflator_refresh(tmp_path, landing, con, bundled)
    assert second.inbox.accepted == [] and [name for name, _ in second.inbox.rejected] == ["deflator_2025.csv"]
    report = second.inbox.rejected[0][1].read_text()
    assert "deflator_2025.csv: REJECTED, 1 problem(s); nothing from this file was loaded" in report
    assert "deflator_2025.csv, row 4, column year: got '2024'; expected a row for 2023 before it" in report
    assert not (inbox / "deflator_2025.csv").exists()
    assert [p.name for p in (tmp_path / "quarantine").iterdir() if not p.name.endswith(".errors.txt")][0].endswith(
        "deflator_2025.csv")
    assert second.newly_loaded == 0 and _latest_series(con) == [(2021, 3.3), (2022, 5.3), (2023, 3.7)]

    # a corrected file is the newest vintage and wins whole
    (inbox / "deflator_2025.csv").write_text(deflator_rows((2021, "3,3"), (2022, "6,4"), (2023, "5,2"), (2024, "4,3")))
    third = _deflator_refresh(tmp_path, landing, con, bundled)
    assert [name for name, _ in third.inbox.accepted] == ["deflator_2025.csv"] and third.newly_loaded == 1
    assert _latest_series(con) == [(2021, 3.3), (2022, 6.4), (2023, 5.2), (2024, 4.3)]
    # nothing lands or loads twice
    again = _deflator_refresh(tmp_path, landing, con, bundled)
    assert (again.vintages, again.newly_loaded) == (2, 0)


def test_a_bad_index_file_is_quarantined_and_the_bundled_figures_stay(zone):
    tmp_path, landing, con = zone
    expense_need_index.ensure_table(con)
    validate = partial(expense_need_index.validate, reference=REFERENCE)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "gront_hefte_2022.csv").write_text(
        INDEX_HEADER + "2022;3203;Asker;grunnskole;104,2;published;Grønt hefte 2022;https://x\n"
                       "2022;4999;Ukjent;grunnskole;99,0;published;Grønt hefte 2022;https://x\n"
                       "2022;3201;Bærum;fritid;99,0;published;Grønt hefte 2022;https://x\n"
                       "2022;3301;Drammen;barnevern;-1;published;Grønt hefte 2022;https://x\n")
    result = refresh(con, landing, expense_need_index.SOURCE, validate, bundled=BUNDLED_INDEX.parent, inbox=inbox,
                     quarantine=tmp_path / "quarantine", load_vintage=expense_need_index.load_vintage,
                     settle_seconds=0)
    report = result.inbox.rejected[0][1].read_text()
    assert "gront_hefte_2022.csv: REJECTED, 3 problem(s)" in report
    assert "row 3, column municipality_code: got '4999'; expected a municipality code known to KLASS/SSB" in report
    assert "row 4, column need_area: got 'fritid'; expected a need area of the catalogue" in report
    assert "row 5, column need_index: got '-1'; expected a positive index" in report
    rows = con.execute("select count(*), count(distinct _vintage), min(origin) from raw.expense_need_index").fetchone()
    assert rows == (864, 1, "illustrative")  # only the bundled file; not Asker's 104,2 from the rejected one
