"""The KOSTRA tables of the Handlingsprogram, rebuilt from the warehouse with the README's one query."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
QUERY = (Path(__file__).with_name("kostra_comparison.sql")).read_text()
PUBLISHED = ROOT / "snapshots" / "kostra_published.csv"
COLUMNS = {"asker_2021": "Asker 2021", "asker_2022": "Asker 2022", "baerum_2022": "Bærum", "drammen_2022": "Drammen",
           "lillestrom_2022": "Lillestrøm", "asss_without_oslo_2022": "ASSS uten Oslo",
           "kostra_group_12_2022": "Kostragruppe 12"}


def test_readme_documents_the_query():
    assert "max(value_rounded) filter (where region_code = 'ASSS_UTEN_OSLO' and year = 2022)" in (
        ROOT / "README.md").read_text()


def test_query_reproduces_the_documents_tables(offline_run):
    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        result = con.execute(QUERY)
        header = [d[0] for d in result.description]
        table = [dict(zip(header, row)) for row in result.fetchall()]
    finally:
        con.close()
    assert header[4:] == list(COLUMNS.values())
    published = list(csv.DictReader(PUBLISHED.open(encoding="utf-8")))
    # The macro group's financial key figures (service area Økonomi) are not in the document's tables.
    table = [r for r in table if r["service_area"] in {p["service_area"] for p in published}]
    assert [(r["service_area"], r["key_figure_name"]) for r in table] == sorted(
        ((p["service_area"], p["key_figure_name"]) for p in published),
        key=lambda k: (k[0], next(int(p["display_order"]) for p in published if (p["service_area"], p["key_figure_name"]) == k)))
    by_name = {(r["service_area"], r["key_figure_name"]): r for r in table}
    checked, mismatches = 0, []
    for row in published:
        got = by_name[(row["service_area"], row["key_figure_name"])]
        for column, label in COLUMNS.items():
            text = row[column]
            if text == "":
                continue
            expected = float(text)
            if column == "kostra_group_12_2022" and expected == 0:
                # The document prints 0 for a KOSTRA group figure SSB does not have: missing, never 0.
                if got[label] is not None:
                    mismatches.append((row["key_figure_id"], label, "missing", got[label]))
                continue
            checked += 1
            tolerance = 0.5 * 10 ** -max(len(text.partition(".")[2]), 0) + 1e-9
            if got[label] is None or abs(got[label] - expected) > tolerance:
                mismatches.append((row["key_figure_id"], label, expected, got[label]))
    print(f"\n{checked} published KOSTRA cells checked, {len(mismatches)} mismatches")
    assert checked > 450 and not mismatches, mismatches[:10]
