"""Every figure in the warehouse says where its number comes from, and the report counts the illustrative ones."""

from __future__ import annotations

from pathlib import Path

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


# The marts whose figures the macro group's report shows (its sections 1-4), and the rows that hold a figure.
MACRO_FIGURES = {
    "kostra_comparison": "value is not null",
    "fct_indicator_values": "value is not null and not is_aggregate",
    "tjenesteprofil": "value is not null",
    "resource_use_index": "resource_use_index is not null",
    "production_index": "sector_index is not null",
    "analysis_revisions": "true",
}


def test_the_macro_reports_origin_notice_counts_every_figure_it_shows(offline_run):
    """Issues 23/25: the notice at the top counted kostra_comparison only; the profiles, the ressursbruksindikator,
    the produksjonsindeks and the calendar carried no origin. Now every analysis figure has one, the notice counts
    them all, and each of those sections says "Opphav: ..." as the finance tables do."""
    import html
    import re

    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        for table in ("tjenesteprofil", "resource_use_index", "production_index"):
            figure = MACRO_FIGURES[table].removesuffix(" is not null")
            assert con.execute(f"select count(*) from {table} where ({figure} is null) <> (origin is null)"
                               ).fetchone() == (0,), table
        counts: dict[str, dict[str, int]] = {}
        for table, where in MACRO_FIGURES.items():
            counts[table] = dict(con.execute(f"select origin, count(*) from {table} where {where} and origin is not null"
                                             " group by 1").fetchall())
    finally:
        con.close()
    assert sum(counts["tjenesteprofil"].values()) > 0 and sum(counts["resource_use_index"].values()) > 0
    by_origin: dict[str, int] = {}
    for table_counts in counts.values():
        for origin, n in table_counts.items():
            by_origin[origin] = by_origin.get(origin, 0) + n
    total = sum(by_origin.values())
    assert total > sum(counts["kostra_comparison"].values())

    # the report the shared run wrote: other tests write more reports (another member, on request) beside it
    (macro,) = [Path(p) for p in re.findall(r"macro group report \(makrogruppen\) written: (\S+\.html)",
                                            offline_run.first.stdout)]
    page = re.sub(r"\s+", " ", html.unescape(macro.read_text(encoding="utf-8")).replace("\u00a0", " "))
    (notice,) = re.findall(r"<p class='notice'>(Opphav for tallene i denne rapporten: .*?)</p>", page)
    print("\norigin notice:", re.sub(r"<[^>]+>", "", notice))
    word = {"illustrative": "illustrerende", "published": "publisert", "live": "levert"}
    for origin, n in by_origin.items():
        assert f"{n:,}".replace(",", " ") + f" av {total:,}".replace(",", " ") + f" er {word[origin]}" in notice, \
            (origin, n, total, notice)
    for section in ("KOSTRA-sammenligningen", "tjenesteprofilene", "ressursbruksindikatoren", "produksjonsindeksen"):
        assert section in notice, section

    profiles = page[page.index("<h2>3. Tjenesteprofiler"):page.index("<h2>4. Foreløpige")]
    tables = profiles.count("<table>")
    assert tables > 0 and profiles.count("Opphav: ") == tables, (tables, profiles.count("Opphav: "))
    assert "Opphav: illustrerende" in profiles
    calendar = page[page.index("<h2>4. Foreløpige"):page.index("<h2>Vedlegg")]
    for analysis in ("Tjenesteprofilene", "Ressursbruksindikatoren", "Produksjonsindeksen"):
        section = calendar.split(f"<h3>{analysis}</h3>", 1)[1].split("<h3>", 1)[0]
        assert re.search(r"Opphav: (illustrerende|publisert|levert|ingen tall)", section), (analysis, section[:300])
