"""The ASSS way of comparing: deflated and need-adjusted key figures (the ressursbruksindikator: test_asss_analyses.py).

The golden dbt unit test (golden_handlingsprogram_samfunnstjenester_starred_rows_for_asker) reproduces the
Handlingsprogram's Samfunnstjenester KOSTRA table for Asker; here we check that its inputs are what it says
they are (the document's own figures, the bundled deflator file) and run the dbt unit tests on the work file
of an offline run; then the published marts are checked end to end.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import yaml

from styringsdata.sources import municipal_deflator
from tests.pipeline.dbt_unit import run_dbt_unit_tests

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"
UNIT_TESTS = yaml.safe_load((DBT_DIR / "models" / "intermediate" / "_intermediate__asss.yml").read_text())["unit_tests"]
GOLDEN = next(t for t in UNIT_TESTS if t["name"] == "golden_handlingsprogram_samfunnstjenester_starred_rows_for_asker")
# The state budget for 2023 (NB23), the estimates the document's KOSTRA tables match.
DOCUMENT_AS_OF = "2022-10"


def _given(test: dict, ref: str) -> list[dict]:
    return next(g["rows"] for g in test["given"] if g["input"] == f"ref('{ref}')")


def _published_kostra() -> dict[str, dict]:
    with (ROOT / "snapshots" / "kostra_published.csv").open(encoding="utf-8") as f:
        return {r["key_figure_id"]: r for r in csv.DictReader(f)}


def _deflator_in_use(as_of: str | None) -> dict[int, municipal_deflator.DeflatorRow]:
    path = ROOT / "snapshots" / "municipal_deflator" / "kommunal_deflator.csv"
    rows = municipal_deflator.validate(path.read_bytes(), path.name).rows
    in_use: dict[int, municipal_deflator.DeflatorRow] = {}
    for row in sorted(rows, key=lambda r: (r.published, r.row)):
        if as_of is None or row.published <= as_of:
            in_use[row.year] = row
    return in_use


def test_golden_covers_every_starred_row_of_the_samfunnstjenester_table():
    with (DBT_DIR / "seeds" / "kostra_key_figures.csv").open(encoding="utf-8") as f:
        starred = {r["key_figure_id"] for r in csv.DictReader(f)
                   if r["service_area"] == "Samfunnstjenester" and "*)" in r["key_figure_name"]}
    assert len(starred) == 12
    assert {r["key_figure_id"] for r in _given(GOLDEN, "kostra_key_figures")} == starred
    expected = {(r["key_figure_id"], r["year"]) for r in GOLDEN["expect"]["rows"] if r["region_code"] == "3203"}
    assert expected == {(k, 2022) for k in starred} | {("KSAM10", 2021)}


def test_golden_inputs_are_the_documents_figures_and_the_bundled_deflator():
    published = _published_kostra()
    nominal = {(r["key_figure_id"], r["year"]): r["value"] for r in _given(GOLDEN, "int_kostra__member_figures")}
    # 2022 is the base year: the table prints it in its own prices, so its figures are the nominal ones.
    for (key, year), value in nominal.items():
        if year == 2022:
            assert value == float(published[key]["asker_2022"]), key
    # 2021: the only unadjusted figure the document prints is the indicator table's (SSB 12905, line 548).
    with (ROOT / "catalogue" / "published_values.csv").open(encoding="utf-8") as f:
        oko04 = {int(r["year"]): r for r in csv.DictReader(f) if r["indicator_id"] == "OKO04"}
    assert oko04[2021]["document_line"] == "548" and nominal[("KSAM10", 2021)] == float(oko04[2021]["value"]) == 99
    assert float(oko04[2022]["value"]) == float(published["KSAM10"]["asker_2022"]) == 132
    # The deflator rows are the bundled file's estimates in use as of the state budget for 2023.
    in_use = _deflator_in_use(DOCUMENT_AS_OF)
    for row in _given(GOLDEN, "int_asss__deflator_in_use"):
        bundled = in_use[row["year"]]
        assert (row["deflator_percent"], row["estimate"], row["origin"]) == (
            bundled.deflator_percent, bundled.estimate, bundled.origin), row
    assert in_use[2022].estimate == "NB23" and in_use[2022].deflator_percent == 5.3


def test_golden_expectations_are_the_printed_figures_and_only_the_nb23_deflator_gives_them():
    published = _published_kostra()
    for row in GOLDEN["expect"]["rows"]:
        if row["region_code"] != "3203":
            continue
        column = "asker_2021" if row["year"] == 2021 else "asker_2022"
        assert row["adjusted_value_rounded"] == float(published[row["key_figure_id"]][column]), row
    assert float(published["KSAM10"]["asker_2021"]) == 104
    # The newest estimate for 2022 (RNB23, 6.4 %) would print 105, not 104: the table used NB23's 5.3 %.
    newest = _deflator_in_use(None)[2022]
    assert newest.estimate == "RNB23" and round(99 * (1 + newest.deflator_percent / 100)) == 105
    assert round(99 * (1 + _deflator_in_use(DOCUMENT_AS_OF)[2022].deflator_percent / 100)) == 104


def test_dbt_unit_tests_of_the_asss_models_pass_on_the_work_file(offline_run, tmp_path):
    output = run_dbt_unit_tests(offline_run, tmp_path, ["int_kostra__adjusted_key_figures", "int_asss__deflator_in_use",
                                                        "resource_use_index", "production_index"],
                                dt.date(2026, 6, 15))
    assert "PASS=8 " in output, output[-3000:]


def test_published_comparison_carries_the_adjustments_as_the_document_marks_them(offline_run):
    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        marks = dict(con.execute(
            """select key_figure_id, any_value(adjustment) from kostra_comparison group by key_figure_id""").fetchall())
        names = dict(con.execute("select distinct key_figure_id, key_figure_name from kostra_comparison").fetchall())
        rows = con.execute(
            """select key_figure_id, year, value, price_base_year, deflated_value, need_index, need_adjusted_value,
                      adjusted_value, adjustment
               from kostra_comparison where region_code = '3203' and year = 2021""").fetchall()
    finally:
        con.close()
    for key, name in names.items():
        expected = {(True, True): "both", (True, False): "deflated", (False, False): "none"}[("*)" in name, "**)" in name)]
        assert marks[key] == expected, (key, name)
    assert sum(m == "both" for m in marks.values()) == 25 and sum(m == "deflated" for m in marks.values()) == 16
    checked = 0
    for key, _year, value, base, deflated, index, need_adjusted, adjusted, adjustment in rows:
        if value is None:  # a key figure without a known table: marked as the document marks it, nothing computed
            assert (deflated, need_adjusted, adjusted) == (None, None, None), key
            continue
        if adjustment == "none":
            assert (deflated, need_adjusted, adjusted) == (None, None, value)
            continue
        assert base == 2025 and deflated > value  # 2021 in 2025 prices
        if adjustment == "both":
            assert abs(need_adjusted - value * 100 / index) < 1e-9
            assert abs(adjusted - deflated * 100 / index) < 1e-6
            checked += 1
    with_figure = sum(1 for r in rows if r[8] == "both" and r[2] is not None)
    assert checked == with_figure >= 10, (checked, with_figure)
