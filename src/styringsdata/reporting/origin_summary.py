"""How many figures in the marts are illustrative: one line for the quality report.

Kept apart from src/styringsdata/reporting/report.py so the report can be rewritten without this being lost.
"""

from __future__ import annotations

from typing import Any

import duckdb


def origin_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Figures by origin (live / published / illustrative) in fct_indicator_values and kostra_comparison."""
    counts: dict[str, int] = {}
    for table in ("fct_indicator_values", "kostra_comparison"):
        try:
            rows = con.execute(f"select origin, count(*) from marts.{table} where origin is not null "
                               "group by origin").fetchall()
        except duckdb.Error:  # marts from before the origin column: nothing to count
            continue
        for origin, n in rows:
            counts[origin] = counts.get(origin, 0) + n
    return counts


def origin_line(data: Any) -> str:
    counts = getattr(data, "origin_counts", None) or {}
    total = sum(counts.values())
    if not total:
        return "Figures by origin: none counted"
    return (f"Figures by origin: {counts.get('illustrative', 0)} of {total} are illustrative (made up to exercise the "
            f"pipeline, never the municipality's real figures), {counts.get('published', 0)} published "
            f"(the Handlingsprogram's), {counts.get('live', 0)} live")
