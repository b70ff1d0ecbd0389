"""Where the marts' figures come from (their `origin`), counted: one line for the quality report, and the macro
group's report's notice, which counts every figure that report shows.

Kept apart from src/styringsdata/reporting/report.py so the report can be rewritten without this being lost.
"""

from __future__ import annotations

from typing import Any

import duckdb


# Where each figure comes from, in the macro group's words: the marts' `origin`.
ORIGIN_NO = {"illustrative": "illustrerende", "published": "publisert", "live": "levert"}

# The marts whose figures the macro group's report shows, the rows that hold a figure, and what the report calls
# them: the KOSTRA tables and the members' indicators (sections 1-2), the analyses (3) and their calendar (4).
MACRO_REPORT_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("kostra_comparison", "value is not null", "KOSTRA-sammenligningen"),
    ("fct_indicator_values", "value is not null and not is_aggregate", "indikatorene"),
    ("tjenesteprofil", "value is not null", "tjenesteprofilene"),
    ("resource_use_index", "resource_use_index is not null", "ressursbruksindikatoren"),
    ("production_index", "sector_index is not null", "produksjonsindeksen"),
    ("analysis_revisions", "true", "grunnlagstallene i kalenderen"),
)


def origin_words(origins: set[str]) -> list[str]:
    """The origins in Norwegian («illustrerende», «publisert», «levert»), in that order."""
    return [ORIGIN_NO.get(o, o) for o in ("illustrative", "published", "live") if o in origins] + sorted(
        o for o in origins if o not in ORIGIN_NO)


def origin_counts_by_table(con: duckdb.DuckDBPyConnection,
                           tables: tuple[tuple[str, str, str], ...]) -> dict[str, dict[str, int]]:
    """table -> {origin: figures}; a mart without the origin column (built before it) is left out, not guessed."""
    counts: dict[str, dict[str, int]] = {}
    for table, where, _ in tables:
        try:
            rows = con.execute(f"select origin, count(*) from marts.{table} where ({where}) and origin is not null "
                               "group by origin").fetchall()
        except duckdb.Error:  # marts from before the origin column: nothing to count
            continue
        counts[table] = {origin: n for origin, n in rows}
    return counts


def total_by_origin(by_table: dict[str, dict[str, int]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table_counts in by_table.values():
        for origin, n in table_counts.items():
            counts[origin] = counts.get(origin, 0) + n
    return counts


def origin_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Figures by origin (live / published / illustrative) in fct_indicator_values and kostra_comparison."""
    return total_by_origin(origin_counts_by_table(con, (("fct_indicator_values", "true", ""),
                                                        ("kostra_comparison", "true", ""))))


def origin_line(data: Any) -> str:
    counts = getattr(data, "origin_counts", None) or {}
    total = sum(counts.values())
    if not total:
        return "Figures by origin: none counted"
    return (f"Figures by origin: {counts.get('illustrative', 0)} of {total} are illustrative (made up to exercise the "
            f"pipeline, never the municipality's real figures), {counts.get('published', 0)} published "
            f"(the Handlingsprogram's), {counts.get('live', 0)} live")
