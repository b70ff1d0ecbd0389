"""The Udir file route: files exported from Udir's statistikkbanken, validated whole, landed or quarantined.

The layout follows the export columns public code lists for Elevundersøkelsen (src/styringsdata/sources/udir.py); it is not
verified against a real exported file. A good file becomes raw rows on today's municipality codes; a bad one is
quarantined with a report naming file, row, column, value and what was expected, and the last good vintage stays.
"""

from __future__ import annotations

import io
import time
from functools import partial
from pathlib import Path

import duckdb
import openpyxl

from styringsdata.sources import udir
from styringsdata.sources.file_contract import refresh
from styringsdata.raw.landing import LandingZone
from styringsdata.sources.registry import IndicatorRule, load_reference

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "snapshots" / "udir" / "handlingsprogram_2024_2027_elevundersokelsen.csv"
RULES = [IndicatorRule("UTD02", "udir", "percent"), IndicatorRule("UTD03", "udir", "percent"),
         IndicatorRule("UTD04", "udir", "scale 1-5"), IndicatorRule("UTD08", "udir", "scale 1-5"),
         IndicatorRule("UTD01", "registry", "percent"), IndicatorRule("UTD10", "fhi", "percent")]
REFERENCE = load_reference(RULES, {"3203", "3201", "0301"}, {"3025": ("3203",), "0220": ("3025",),
                                                            "1141": ("1103", "1108")})
HEADER = "indicator_id;Skoleaarnavn;Kommunekode;Kommune;Trinnnavn;Score;AndelMobbet;AntallBesvart;Sidenummer\n"


def validate(text: str, name: str = "eus_asker.csv", encoding: str = "utf-8"):
    return udir.validate(text.encode(encoding), name, REFERENCE)


def messages(report) -> list[str]:
    return [str(p) for p in report.problems]


def test_the_bundled_file_holds_the_handlingsprogram_figures_on_the_school_years_first_year():
    report = udir.validate(BUNDLED.read_bytes(), BUNDLED.name, load_reference(
        [IndicatorRule(i, "udir", "percent" if i in ("UTD02", "UTD03") else "scale 1-5")
         for i in ("UTD02", "UTD03", "UTD04", "UTD08", "UTD09")], {"3203"}, {"0220": ("3203",), "3025": ("3203",)}))
    assert report.ok, report.text()
    # on Asker's code of each autumn (0220 for 2019-20, 3025 after), carried as today's
    assert {(r.reported_code, r.year >= 2020) for r in report.rows} == {("0220", False), ("3025", True)}
    assert {r.municipality_code for r in report.rows} == {"3203"}
    got = {(r.indicator_id, r.year): r.value for r in report.rows}
    assert got[("UTD02", 2022)] == 7.6 and got[("UTD04", 2019)] == 4.2 and got[("UTD09", 2021)] == 3.6
    assert {r.school_year for r in report.rows if r.year == 2022} == {"2022-23"}


def test_a_good_export_is_read_with_the_registrys_rules_extra_export_columns_ignored():
    report = validate(HEADER
                      + "UTD04;2022-23;3203;Asker;7. og 10. trinn;4,2;;1830;1\n"
                      + "UTD02;2021-2022;3025;Asker;7. trinn;;6,9;910;1\n"      # a retired code with one successor
                      + "UTD03;2022-23;0301;Oslo;10. trinn;;*;;1\n",           # Udir's suppression mark
                      encoding="cp1252")
    assert report.ok, report.text()
    rows = {r.indicator_id: r for r in report.rows}
    assert (rows["UTD04"].value, rows["UTD04"].year, rows["UTD04"].respondents) == (4.2, 2022, 1830)
    assert (rows["UTD02"].municipality_code, rows["UTD02"].reported_code, rows["UTD02"].year) == ("3203", "3025", 2021)
    assert (rows["UTD03"].value, rows["UTD03"].status) == (None, "suppressed")  # never 0
    assert "decimal separator ','" in report.text()


def test_a_percent_formatted_xlsx_cell_is_the_share_it_shows():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["indicator_id", "Skoleaarnavn", "Kommunekode", "Score", "AndelMobbet"])
    sheet.append(["UTD02", "2022-23", "3203", None, 0.076])
    sheet["E2"].number_format = "0.0%"
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = udir.validate(buffer.getvalue(), "eus.xlsx", REFERENCE)
    assert report.ok, report.text()
    assert report.rows[0].value == 7.6


def test_every_problem_names_file_row_column_value_and_what_was_expected():
    report = validate(HEADER
                      + "UTD04;2022-23;3203;Asker;7. trinn;;4,2;;1\n"          # the figure in the wrong column
                      + "UTD01;2022-23;3203;Asker;;;80;;1\n"                   # a registry indicator
                      + "UTD04;22-23;3203;Asker;;4,1;;;1\n"                    # not a school year
                      + "UTD04;2021-22;9999;X;;4,1;;;1\n"                      # unknown municipality
                      + "UTD04;2020-21;1141;Finnøy;;4,1;;;1\n"                 # split between two successors
                      + "UTD08;2022-23;3203;Asker;;6,5;;;1\n"                  # outside the 1-5 scale
                      + "UTD02;2022-23;3203;Asker;;;;12;1\n")                  # no figure, no *
    text = report.text()
    assert not report.ok and not report.rows
    assert "eus_asker.csv, row 2, column AndelMobbet: got '4,2'; expected empty: UTD04 is scale 1-5" in text
    assert "row 2, column Score: got ''; expected a score on the indicator's scale, or * where Udir suppressed it" in text
    assert ("row 3, column indicator_id: got 'UTD01'; expected an indicator delivered through the Udir route "
            "(UTD02, UTD03, UTD04, UTD08); UTD01 comes from registry") in text
    assert "row 4, column skoleaarnavn: got '22-23'; expected a school year such as 2022-23" in text
    assert "row 5, column kommunekode: got '9999'; expected a municipality code known to KLASS/SSB" in text
    assert "row 6, column kommunekode: got '1141'; expected a code with one successor today" in text
    assert "row 7, column Score: got '6,5'; expected a score between 1 and 5 (unit scale 1-5 of UTD08)" in text
    assert "row 8, column AndelMobbet: got ''; expected a share in percent, or * where Udir suppressed it" in text


def test_school_rows_a_missing_column_and_a_merger_that_would_sum_shares_are_refused():
    school = validate("indicator_id;Skoleaarnavn;Kommunekode;Organisasjonsnummer;EnhetNivaa;Score\n"
                      "UTD04;2022-23;3203;974600951;4;4,2\n")
    assert "row 2, column organisasjonsnummer: got '974600951'; expected empty: municipality-level rows only" \
        in school.text()
    assert "row 2, column enhetnivaa: got '4'; expected 3 (kommune)" in school.text()
    header = validate("indicator_id;Kommunekode;Trinnnavn\nUTD04;3203;7. trinn\n")
    assert "row 1, column header" in header.text() and "missing: skoleaarnavn" in header.text() \
        and "no value column" in header.text()
    merged = validate(HEADER + "UTD04;2022-23;3203;Asker;;4,2;;;\nUTD04;2022-23;3025;Asker;;4,1;;;\n")
    assert ("row 3, column indicator_id+kommunekode+skoleaarnavn: got 'UTD04/3025/2022-23'; expected one row per "
            "indicator, municipality and school year (same as row 2, both 3203 today") in merged.text()


def _refresh(con, landing: LandingZone, inbox: Path, quarantine: Path, bundled: Path, settle: float = 0.0):
    return refresh(con, landing, udir.SOURCE, partial(udir.validate, reference=REFERENCE), bundled=bundled,
                   inbox=inbox, quarantine=quarantine, load_vintage=udir.load_vintage, settle_seconds=settle)


def test_good_file_lands_and_loads_bad_file_is_quarantined_and_the_last_good_vintage_stays(tmp_path):
    inbox, quarantine, bundled = tmp_path / "inbox", tmp_path / "quarantine", tmp_path / "bundled"
    inbox.mkdir()
    bundled.mkdir()
    landing = LandingZone(tmp_path / "landing")
    con = duckdb.connect()
    (inbox / "eus 2022.csv").write_text(HEADER + "UTD04;2022-23;3203;Asker;;4,2;;1830;1\n", encoding="utf-8")
    first = _refresh(con, landing, inbox, quarantine, bundled)
    assert [n for n, _ in first.inbox.accepted] == ["eus 2022.csv"] and first.rows_loaded == 1
    assert not (inbox / "eus 2022.csv").exists()
    manifest = next((tmp_path / "landing" / "udir").rglob("manifest.json")).read_text(encoding="utf-8")
    assert '"origin": "inbox"' in manifest

    (inbox / "eus 2023.csv").write_text(HEADER + "UTD04;2023-24;3203;Asker;;4,3;;;1\nUTD04;2023-24;3203;Asker;;x;;;1\n",
                                        encoding="utf-8")
    second = _refresh(con, landing, inbox, quarantine, bundled)
    assert [n for n, _ in second.inbox.rejected] == ["eus 2023.csv"] and second.newly_loaded == 0
    report = second.inbox.rejected[0][1].read_text(encoding="utf-8")
    assert "eus 2023.csv: REJECTED" in report
    assert "eus 2023.csv, row 3, column Score: got 'x'; expected a number" in report
    assert list(quarantine.glob("*eus_2023.csv"))  # the file itself, byte for byte, next to its report
    assert con.execute(f"select indicator_id, year, value, _origin from {udir.TABLE}").fetchall() == [
        ("UTD04", 2022, 4.2, "inbox")]


def test_a_file_still_being_written_waits_for_the_settle_time(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "bundled").mkdir()
    path = inbox / "eus.csv"
    path.write_text(HEADER + "UTD04;2022-23;3203;Asker;;4,2;;;1\n", encoding="utf-8")
    (inbox / "~$eus.xlsx").write_bytes(b"lock file Excel keeps while the workbook is open")
    con = duckdb.connect()
    result = _refresh(con, LandingZone(tmp_path / "landing"), inbox, tmp_path / "q", tmp_path / "bundled", settle=30)
    assert result.inbox.accepted == [] and [n for n, _ in result.inbox.skipped] == ["eus.csv"] and path.exists()
    # a minute later (the settle rule reads the change time too, which a test cannot set back)
    result = refresh(con, LandingZone(tmp_path / "landing"), udir.SOURCE, partial(udir.validate, reference=REFERENCE),
                     bundled=tmp_path / "bundled", inbox=inbox, quarantine=tmp_path / "q",
                     load_vintage=udir.load_vintage, settle_seconds=30, now=time.time() + 60)
    assert [n for n, _ in result.inbox.accepted] == ["eus.csv"]
    assert (inbox / "~$eus.xlsx").exists() and not list((tmp_path / "q").glob("*"))  # temporary names left alone


def test_a_registry_vintage_landed_before_its_indicators_moved_to_udir_stays_loadable(tmp_path):
    """Upgrade: the bundled registry file carried UTD02 until this route existed; its landed vintage must still load
    (raw keeps it, the marts show registry figures only for registry-routed indicators), a new drop must not."""
    from styringsdata.sources.registry import land_seed_files, landed_reference, parse_landed, validate as validate_registry

    old = ("indicator_id;municipality_code;period;value;unit;status;source;comment\n"
           "UTD02;3203;2022;7,6;percent;measured;Elevundersøkelsen;\nUTD01;3203;2022;80;percent;measured;Ungdata;\n")
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "handlingsprogram_2024_2027.csv").write_text(old, encoding="utf-8")
    before = load_reference([IndicatorRule("UTD02", "registry", "percent"), IndicatorRule("UTD01", "registry", "percent")],
                            {"3203"}, {})
    [vintage] = land_seed_files(seed, LandingZone(tmp_path / "landing"), before)
    now = REFERENCE  # UTD02 is routed udir today
    assert "UTD02 comes from udir" in validate_registry(old.encode(), "x.csv", now).text()  # a new drop: refused
    try:
        parse_landed(vintage, now)
    except ValueError as exc:
        assert "no longer validates" in str(exc)  # what the run did before landed_reference
    else:
        raise AssertionError("the old vintage should not validate against today's routes")
    _, rows = parse_landed(vintage, landed_reference(now))
    assert [(r.indicator_id, r.value) for r in rows] == [("UTD02", 7.6), ("UTD01", 80.0)]
