"""Every figure in the warehouse says where its number comes from, and the report counts the illustrative ones."""

from __future__ import annotations

import duckdb


def test_origin_of_every_figure_and_the_publications_source_mode(offline_run):
    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        assert {r[0] for r in con.execute("select distinct source_mode from _publication").fetchall()} == {"replay"}
        for table in ("fct_indicator_values", "kostra_comparison"):
            # no number without an origin, no origin without a number
            assert con.execute(f"select count(*) from {table} where (value is null) <> (origin is null)").fetchone() == (0,)
        assert {r[0] for r in con.execute("select distinct origin from kostra_comparison where origin is not null")
                .fetchall()} == {"published", "illustrative"}
        # Offline, the only live figures are those the municipality dropped in the registry and Udir inboxes
        # (conftest; Udir's suppressed figure has no number, so no origin).
        assert sorted(con.execute("select indicator_id, year, source_table from fct_indicator_values "
                                  "where origin = 'live'").fetchall()) == [
            ("MED01", 2023, "sykefravaer_2023.csv"), ("UTD02", 2023, "elevundersokelsen_2023.csv"),
            ("UTD04", 2023, "elevundersokelsen_2023.csv")]
        # The Handlingsprogram's printed figures are published; another municipality's bundled figure is not.
        assert con.execute("select origin from fct_indicator_values where indicator_id = 'HEL12' "
                           "and municipality_code = '3203' and year = 2021").fetchone() == ("published",)
        assert con.execute("select distinct origin from fct_indicator_values where municipality_code = '3201' "
                           "and origin is not null and route <> 'udir'").fetchall() == [("illustrative",)]
        # A starred KOSTRA row prints an adjusted figure: the bundled stand-in for SSB's raw one is illustrative.
        assert con.execute("select origin, adjustment_in_document from kostra_comparison where key_figure_id = 'KOSU01' "
                           "and region_code = '3203' and year = 2022").fetchone() == (
            "illustrative", "deflated and need-adjusted")
        counts = dict(con.execute("select origin, count(*) from (select origin from fct_indicator_values union all "
                                  "select origin from kostra_comparison) where origin is not null group by 1").fetchall())
    finally:
        con.close()
    report = next((offline_run.data_dir / "reports").glob("quality-report_*.md")).read_text()
    total = sum(counts.values())
    assert f"Figures by origin: {counts['illustrative']} of {total} are illustrative" in report
