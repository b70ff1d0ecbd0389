"""Write every file that follows from the source configuration, so dbt, the catalogue and the fetch never disagree.

    python -m tools.derive          # from the repository root; also part of `make snapshots`

From src/styringsdata/sources/ssb_tables.yaml
(with snapshots/kostra_published.csv, the document's key figures, and the catalogue's
curated files in catalogue/):

- dbt_project/seeds/ssb_series.csv: every configured SSB series with the key staging computes for it
  (`Var=code;Var=code`), the measure and/or key figure it feeds, and its evidence grade.
- dbt_project/seeds/ssb_indicator_routes.csv: how each SSB-sourced indicator is computed (`indicators` in the YAML),
  with the tables its measures come from and whether they are fetched.
- dbt_project/seeds/kostra_key_figures.csv: the Handlingsprogram's key figures with the route each is got by (`table`:
  the table and series it comes from; `asss_formula`: KS's A/B formula on SSB's base tables; `source unknown`) and its
  grade and reason; and whether the document's figure is deflated (`*)`) or
  need-adjusted (`**)`), so SSB's raw figure is not the printed one; then the ASSS macro group's financial key
  figures (catalogue/asss_macro_key_figures.csv), each of which must be a configured series.
- dbt_project/seeds/published_figures.csv: every figure the Handlingsprogram prints for an indicator
  (catalogue/published_values.csv, on today's codes) or for an unadjusted key figure: what makes a bundled figure
  `published`, not `illustrative`, in the marts' `origin` column.
- dbt_project/seeds/catalogue_indicators.csv: the catalogue (catalogue/build_catalogue.py), whose SSB and FHI routes,
  source tables and formulas come from the source configuration.
- dbt_project/models/staging/ssb/_ssb__sources.yml: one dbt source per configured table (raw.ssb_<id>).
- dbt_project/macros/ssb_configured_tables.sql: the tables and their region dimensions, for staging to read while dbt
  parses (a dbt model cannot read a file).

This is a tool run on a checkout, not part of the installed package: it reads and writes the repository it sits in
(`--root` for another copy). tests/ingestion/test_sources_config.py checks the committed files equal what it writes.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
from pathlib import Path

import yaml

from styringsdata.sources.ssb import TableSpecs, load_table_specs

ROOT = Path(__file__).resolve().parents[1]

SEEDS = Path("dbt_project/seeds")
SOURCES = Path("dbt_project/models/staging/ssb/_ssb__sources.yml")
MACRO = Path("dbt_project/macros/ssb_configured_tables.sql")
CONFIG = Path("src/styringsdata/sources/ssb_tables.yaml")
KOSTRA_PUBLISHED = Path("snapshots/kostra_published.csv")
PUBLISHED_VALUES = Path("catalogue/published_values.csv")
# The ASSS macro group's financial key figures (issue 13): not in the Handlingsprogram's tables, so they have no
# published figures; each must be a configured series.
MACRO_KEY_FIGURES = Path("catalogue/asss_macro_key_figures.csv")
MEMBER_TEXTS = "member_indicator_texts.csv"
GENERATED = f"Written by tools/derive.py from {CONFIG}: do not edit; edit the YAML and run `make snapshots`."
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


def _number(value: float) -> str:
    return f"{value:g}"


def ssb_route_rows(specs: TableSpecs, names: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for route in specs.indicators:
        if route.indicator_id not in names:
            raise ValueError(f"{CONFIG}: indicator {route.indicator_id} is not in the catalogue "
                             "(catalogue/appendix_indicators.csv)")
        rows.append({"indicator_id": route.indicator_id, "indicator_name": names[route.indicator_id],
                     "source_table": "+".join(specs.route_tables(route)),
                     "numerator_measures": "|".join(route.numerator),
                     "denominator_measures": "|".join(route.denominator),
                     "multiplier": _number(route.multiplier), "add_constant": _number(route.add),
                     "source_status": specs.route_status(route)})
    return rows


def kostra_key_figure_rows(specs: TableSpecs, root: Path) -> list[dict[str, str]]:
    mapped = {s.key_figure: s for s in specs.series() if s.key_figure}
    unmapped = {w.key_figure: w for w in specs.without_known_table if w.key_figure}
    rows = []
    with (root / KOSTRA_PUBLISHED).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            kf = row["key_figure_id"]
            decimals = max(len(row[c].partition(".")[2]) for c in KOSTRA_COLUMNS | {"asss_without_oslo_2022": 0})
            base = {"key_figure_id": kf, "service_area": row["service_area"], "section": row["section"],
                    "display_order": row["display_order"], "key_figure_name": row["key_figure_name"],
                    "unit": "percent" if row["is_percent"] == "true" else "as published", "decimals": str(decimals),
                    "adjustment_in_document": adjustment(row["key_figure_name"])}
            if kf in mapped:
                series = mapped[kf]
                rows.append({**base, "route": "table", "source_table": series.table_id,
                             "series_key": series.key, "evidence_grade": series.evidence.grade,
                             "source_reason": series.evidence.cite})
            elif kf in unmapped:
                entry = unmapped[kf]
                rows.append({**base, "route": entry.route, "source_table": "", "series_key": "",
                             "evidence_grade": entry.grade, "source_reason": entry.reason})
            else:
                raise ValueError(f"key figure {kf} is neither a series nor listed under without_known_table "
                                 f"in {CONFIG}")
    return rows + macro_key_figure_rows(mapped, root)


def macro_key_figure_rows(mapped: dict, root: Path = ROOT) -> list[dict[str, str]]:
    rows = []
    with (root / MACRO_KEY_FIGURES).open(encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            kf = row["key_figure_id"]
            if kf not in mapped:
                raise ValueError(f"{MACRO_KEY_FIGURES.name} row {line}: key figure {kf} is not a series in "
                                 f"{CONFIG} (every macro-group key figure needs its table)")
            series = mapped[kf]
            rows.append({**row, "adjustment_in_document": "", "route": "table",
                         "source_table": series.table_id, "series_key": series.key,
                         "evidence_grade": series.evidence.grade, "source_reason": series.evidence.cite})
    return rows


def published_figure_rows(root: Path) -> list[dict[str, str]]:
    rows = []
    with (root / PUBLISHED_VALUES).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            # Every printed cell, with its status: a number (measured), "Tall kommer" (pending) or "Ikke målt"
            # (not_measured); fct_indicator_values keeps each until a source gives a figure.
            rows.append({"figure_kind": "indicator", "figure_id": row["indicator_id"], "region_code": "3203",
                         "year": row["year"], "value": row["value"] if row["status"] == "measured" else "",
                         "status": row["status"], "document_line": row["document_line"]})
    with (root / KOSTRA_PUBLISHED).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if adjustment(row["key_figure_name"]):
                continue  # the printed figure is adjusted: SSB's figure is not it
            for column, (code, year) in KOSTRA_COLUMNS.items():
                text = row[column]
                if text and not (code == "EKG12" and float(text) == 0):
                    rows.append({"figure_kind": "key_figure", "figure_id": row["key_figure_id"], "region_code": code,
                                 "year": str(year), "value": text, "status": "measured", "document_line": ""})
    return rows


def render(rows: list[dict[str, str]], newline: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def sources_yaml(specs: TableSpecs) -> str:
    tables = [{
        "name": f"ssb_{spec.table_id}",
        "description": f"SSB table {spec.table_id}: {spec.title}. One column per SSB dimension (the region is "
                       f"{spec.region_variable}), value, status, provenance, the period's first and last day and the "
                       "answer's origin; every vintage.",
        "meta": {"dagster": {"asset_key": ["raw", f"ssb_{spec.table_id}"]}, "region_variable": spec.region_variable},
    } for spec in specs.tables]
    tables += [
        {"name": "ssb_categories", "description": "Labels, order and units of every category of every fetched SSB "
                                                  "table vintage.",
         "meta": {"dagster": {"asset_key": ["raw", "ssb_categories"]}}},
        {"name": "ssb_tables", "description": "One row per fetched SSB table vintage: label, SSB's updated, periods, "
                                              "fetch time, rows.",
         "meta": {"dagster": {"asset_key": ["raw", "ssb_tables"]}}},
    ]
    document = {"version": 2, "sources": [{
        "name": "ssb", "schema": "raw",
        "description": "SSB statistikkbanken (PxWebApi v2), loaded by src/styringsdata/raw/raw_store.py from the landing zone.",
        "tables": tables}]}
    return f"# {GENERATED}\n" + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=118)


def macro_sql(specs: TableSpecs) -> str:
    entries = ",\n".join(f"        {{'table_id': '{spec.table_id}', 'region_variable': '{spec.region_variable}'}}"
                         for spec in specs.tables)
    return (f"{{#- {GENERATED}\n"
            "    Every configured SSB table and its region dimension, in the YAML's order: staging unions these raw\n"
            "    tables, the marts read municipality names from these dimensions. The var `ssb_tables` (set when\n"
            "    STYRINGSDATA_SSB_TABLES names some of these tables) keeps only those: a raw table an earlier run\n"
            "    loaded for a table no longer fetched is not read. -#}\n"
            "{% macro ssb_configured_tables() %}\n"
            f"    {{%- set tables = [\n{entries}\n    ] -%}}\n"
            "    {%- set chosen = var('ssb_tables', none) -%}\n"
            "    {{ return(tables if chosen is none else tables | selectattr('table_id', 'in', chosen) | list) }}\n"
            "{% endmacro %}\n"
            "\n"
            "{% macro ssb_region_variables() %}\n"
            "    {{ return(ssb_configured_tables() | map(attribute='region_variable') | unique | sort | list) }}\n"
            "{% endmacro %}\n")


def _build_catalogue_module(root: Path):
    """catalogue/build_catalogue.py of this checkout (it is a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("build_catalogue", root / "catalogue" / "build_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def derived_routes(root: Path = ROOT) -> tuple[TableSpecs, list[dict[str, str]]]:
    specs = load_table_specs(root / CONFIG)
    names = {r["indicator_id"]: r["indicator_name"] for r in _build_catalogue_module(root).appendix()}
    return specs, ssb_route_rows(specs, names)


def derived_files(root: Path = ROOT) -> dict[Path, str]:
    """Relative path -> the text this configuration gives it."""
    specs, routes = derived_routes(root)
    build_catalogue = _build_catalogue_module(root)
    return {
        SEEDS / "ssb_series.csv": render(ssb_series_rows(specs)),
        SEEDS / "ssb_indicator_routes.csv": render(routes),
        SEEDS / "kostra_key_figures.csv": render(kostra_key_figure_rows(specs, root)),
        SEEDS / "published_figures.csv": render(published_figure_rows(root)),
        # CRLF, as the catalogue has always been written (csv's default)
        SEEDS / "catalogue_indicators.csv": render(build_catalogue.build(specs=specs, routes=routes), "\r\n"),
        # Asker's rows from the document; the other members' rows are theirs, kept as they stand
        SEEDS / MEMBER_TEXTS: render(build_catalogue.member_texts(_rows(root / SEEDS / MEMBER_TEXTS))),
        SOURCES: sources_yaml(specs),
        MACRO: macro_sql(specs),
    }


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8", newline=""))) if path.exists() else []


def current(path: Path) -> str | None:
    """A derived file's text as it is on disk, line ends untranslated; None when it is missing."""
    return path.read_bytes().decode("utf-8") if path.exists() else None


def write(root: Path = ROOT) -> tuple[list[Path], int]:
    """Write the derived files that differ; (those written, how many there are)."""
    files = derived_files(root)
    written = []
    for relative, text in files.items():
        path = root / relative
        if current(path) != text:
            path.write_bytes(text.encode("utf-8"))  # bytes: the catalogue keeps its CRLF line ends
            written.append(relative)
    return written, len(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to derive in (default: this one)")
    root = parser.parse_args(argv).root.resolve()
    written, total = write(root)
    for relative in written:
        print(f"wrote {relative}")
    print(f"derived files: {len(written)} changed, {total - len(written)} already current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
