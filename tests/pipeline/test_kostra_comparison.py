"""The KOSTRA tables of the Handlingsprogram, rebuilt from the warehouse with the query docs/operations.md gives.

Every printed cell of a key figure whose series has a known SSB table is compared. Rows the document marks `*)`
(deflated) or `**)` (need-adjusted) print an adjusted figure: SSB's raw figure differs from it, so they are stated
and not compared (a later step computes the adjustments). Key figures no public source showed a table for keep
their rows with status source_unknown (or not_computed, on the A/B formula route) and the reason.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb

from tools.derive import adjustment

ROOT = Path(__file__).resolve().parents[2]
# The query in docs/operations.md itself (section "KOSTRA comparison"), so what a reader copies is what is checked here.
QUERY = re.search(r"### KOSTRA comparison\n.*?```sql\n(.*?)```", (ROOT / "docs" / "operations.md").read_text(encoding="utf-8"),
                  re.S).group(1)
PUBLISHED = ROOT / "snapshots" / "kostra_published.csv"
KEY_FIGURES = {r["key_figure_id"]: r for r in csv.DictReader(
    (ROOT / "dbt_project" / "seeds" / "kostra_key_figures.csv").open(encoding="utf-8"))}
COLUMNS = {"asker_2021": "Asker 2021", "asker_2022": "Asker 2022", "baerum_2022": "Bærum", "drammen_2022": "Drammen",
           "lillestrom_2022": "Lillestrøm", "asss_without_oslo_2022": "ASSS uten Oslo",
           "kostra_group_12_2022": "Kostragruppe 12"}


def test_query_reproduces_the_documents_tables_where_ssb_publishes_the_printed_figure(offline_run):
    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        result = con.execute(QUERY)
        header = [d[0] for d in result.description]
        table = [dict(zip(header, row)) for row in result.fetchall()]
        statuses = dict(con.execute("select key_figure_id, any_value(status) from kostra_comparison "
                                    "where region_code = '3203' group by all").fetchall())
        origins = {(r[0], r[1], r[2]): r[3] for r in con.execute(
            "select key_figure_id, region_code, year, origin from kostra_comparison").fetchall()}
    finally:
        con.close()
    assert header[4:] == list(COLUMNS.values())
    published = list(csv.DictReader(PUBLISHED.open(encoding="utf-8")))
    # Every key figure keeps its row, in the document's order, whether or not its table is known; the macro
    # group's financial key figures (service area Økonomi) are not in the document's tables.
    table = [r for r in table if r["service_area"] in {p["service_area"] for p in published}]
    assert [(r["service_area"], r["key_figure_name"]) for r in table] == sorted(
        ((p["service_area"], p["key_figure_name"]) for p in published),
        key=lambda k: (k[0], next(int(p["display_order"]) for p in published if (p["service_area"], p["key_figure_name"]) == k)))
    by_name = {(r["service_area"], r["key_figure_name"]): r for r in table}
    checked, mismatches, adjusted, unknown = 0, [], [], []
    for row in published:
        kf = row["key_figure_id"]
        got = by_name[(row["service_area"], row["key_figure_name"])]
        route = KEY_FIGURES[kf]["route"]
        if route != "table":
            unknown.append(kf)
            expected_status = "source_unknown" if route == "source unknown" else "not_computed"
            if statuses[kf] != expected_status or any(got[label] is not None for label in COLUMNS.values()):
                mismatches.append((kf, "status", expected_status, statuses[kf]))
            continue
        if adjustment(row["key_figure_name"]):
            adjusted.append(kf)  # printed figure is adjusted; SSB's raw one differs: not compared
            if origins.get((kf, "3203", 2022)) == "published":
                mismatches.append((kf, "origin", "illustrative", "published"))
            continue
        for column, label in COLUMNS.items():
            text = row[column]
            if text == "":
                continue
            expected = float(text)
            if column == "kostra_group_12_2022" and expected == 0:
                # The document prints 0 for a KOSTRA group figure SSB does not have: missing, never 0.
                if got[label] is not None:
                    mismatches.append((kf, label, "missing", got[label]))
                continue
            checked += 1
            tolerance = 0.5 * 10 ** -max(len(text.partition(".")[2]), 0) + 1e-9
            if got[label] is None or abs(got[label] - expected) > tolerance:
                mismatches.append((kf, label, expected, got[label]))
    print(f"\n{checked} published KOSTRA cells checked; not compared: {len(adjusted)} key figures the document "
          f"deflates or need-adjusts ({', '.join(adjusted)}), {len(unknown)} without a known table")
    assert not mismatches, mismatches[:10]
    # Before the candidate tables (issue 21): 31 cells, 19 adjusted, 61 without a table.
    assert checked == 246 and len(adjusted) == 36 and len(unknown) == 10
    assert origins[("KVEL12", "3203", 2021)] == "published" and origins[("KOPP17", "EKG12", 2022)] == "published"
