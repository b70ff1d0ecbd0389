"""The dbt seeds that follow from the source configuration, so dbt and the fetch never disagree.

    python -m ingestion.seeds        # rewrites the seeds below (also part of `make snapshots`)

- `ssb_series.csv`: every configured SSB series (ingestion/ssb_tables.yaml) with the key staging computes for it
  (`Var=code;Var=code`), the measure and/or KOSTRA key figure it feeds, and its evidence grade.
- `kostra_key_figures.csv`: the Handlingsprogram's KOSTRA key figures (snapshots/kostra_published.csv) with the
  table and series each comes from, or `source unknown` / `not SSB` and the reason; and whether the document's
  figure is deflated (`*)`) or need-adjusted (`**)`), so SSB's raw figure is not the printed one.
- `published_figures.csv`: every figure the Handlingsprogram prints for an indicator (catalogue/published_values.csv,
  on today's codes) or for an unadjusted KOSTRA key figure: what makes a bundled figure `published`, not
  `illustrative`, in the marts' `origin` column.

tests/ingestion/test_sources_config.py checks the committed seeds equal what this module writes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ingestion.ssb import TableSpecs, load_table_specs

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "dbt_project" / "seeds"
KOSTRA_PUBLISHED = ROOT / "snapshots" / "kostra_published.csv"
PUBLISHED_VALUES = ROOT / "catalogue" / "published_values.csv"
# The ASSS macro group's financial key figures (issue 13): not in the Handlingsprogram's tables, so they have no
# published figures; each must be a configured series.
MACRO_KEY_FIGURES = ROOT / "catalogue" / "asss_macro_key_figures.csv"
# The document's columns: Asker in 2021 and 2022, the peers and KOSTRA group 12 in 2022 (today's codes).
KOSTRA_COLUMNS = {"asker_2021": ("3203", 2021), "asker_2022": ("3203", 2022), "baerum_2022": ("3201", 2022),
                  "drammen_2022": ("3301", 2022), "lillestrom_2022": ("3205", 2022),
                  "kostra_group_12_2022": ("EKG12", 2022)}


def adjustment(name: str) -> str:
    """`*)` deflated ("Inflasjonsjustert med deflator"), `**)` need-adjusted ("Justert for utgiftsbehov")."""
    need = "**)" in name
    deflated = "*)" in name.replace("**)", "")
    return "deflated and need-adjusted" if deflated and need else "need-adjusted" if need else \
        "deflated" if deflated else ""


def ssb_series_rows(specs: TableSpecs) -> list[dict[str, str]]:
    rows = []
    for spec in specs.tables:
        for series in spec.series:
            rows.append({"table_id": spec.table_id, "series_key": series.key, "measure": series.measure or "",
                         "key_figure_id": series.key_figure or "", "measure_kind": spec.measure_kind,
                         "period_suffix": series.period or "", "label": series.label,
                         "evidence_grade": series.evidence.grade, "evidence": series.evidence.cite})
    return rows


def kostra_key_figure_rows(specs: TableSpecs) -> list[dict[str, str]]:
    mapped = {s.key_figure: s for s in specs.series() if s.key_figure}
    unmapped = {w.key_figure: w for w in specs.without_known_table if w.key_figure}
    rows = []
    with KOSTRA_PUBLISHED.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            kf = row["key_figure_id"]
            decimals = max(len(row[c].partition(".")[2]) for c in KOSTRA_COLUMNS | {"asss_without_oslo_2022": 0})
            base = {"key_figure_id": kf, "service_area": row["service_area"], "section": row["section"],
                    "display_order": row["display_order"], "key_figure_name": row["key_figure_name"],
                    "unit": "percent" if row["is_percent"] == "true" else "as published", "decimals": str(decimals),
                    "adjustment_in_document": adjustment(row["key_figure_name"])}
            if kf in mapped:
                series = mapped[kf]
                rows.append({**base, "source_status": "mapped", "source_table": series.table_id,
                             "series_key": series.key, "evidence_grade": series.evidence.grade,
                             "source_reason": series.evidence.cite})
            elif kf in unmapped:
                entry = unmapped[kf]
                rows.append({**base, "source_status": entry.status, "source_table": "", "series_key": "",
                             "evidence_grade": entry.grade, "source_reason": entry.reason})
            else:
                raise ValueError(f"key figure {kf} is neither a series nor listed under without_known_table "
                                 "in ingestion/ssb_tables.yaml")
    return rows + macro_key_figure_rows(mapped)


def macro_key_figure_rows(mapped: dict) -> list[dict[str, str]]:
    rows = []
    with MACRO_KEY_FIGURES.open(encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            kf = row["key_figure_id"]
            if kf not in mapped:
                raise ValueError(f"{MACRO_KEY_FIGURES.name} row {line}: key figure {kf} is not a series in "
                                 "ingestion/ssb_tables.yaml (every macro-group key figure needs its table)")
            series = mapped[kf]
            rows.append({**row, "adjustment_in_document": "", "source_status": "mapped",
                         "source_table": series.table_id, "series_key": series.key,
                         "evidence_grade": series.evidence.grade, "source_reason": series.evidence.cite})
    return rows


def published_figure_rows() -> list[dict[str, str]]:
    rows = []
    with PUBLISHED_VALUES.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["status"] == "measured":
                rows.append({"figure_kind": "indicator", "figure_id": row["indicator_id"], "region_code": "3203",
                             "year": row["year"], "value": row["value"]})
    with KOSTRA_PUBLISHED.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if adjustment(row["key_figure_name"]):
                continue  # the printed figure is adjusted: SSB's figure is not it
            for column, (code, year) in KOSTRA_COLUMNS.items():
                text = row[column]
                if text and not (code == "EKG12" and float(text) == 0):
                    rows.append({"figure_kind": "key_figure", "figure_id": row["key_figure_id"], "region_code": code,
                                 "year": str(year), "value": text})
    return rows


def render(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def expected_seeds(specs: TableSpecs | None = None) -> dict[str, str]:
    specs = specs or load_table_specs()
    return {"ssb_series.csv": render(ssb_series_rows(specs)),
            "kostra_key_figures.csv": render(kostra_key_figure_rows(specs)),
            "published_figures.csv": render(published_figure_rows())}


def write_seeds(seeds_dir: Path = SEEDS) -> list[Path]:
    written = []
    for name, text in expected_seeds().items():
        path = seeds_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> int:
    for path in write_seeds():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
