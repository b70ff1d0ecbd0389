"""The indicator catalogue (dbt_project/seeds/catalogue_indicators.csv) as Python sees it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import duckdb

from styringsdata.sources.klass import CodeChange, code_validity
from styringsdata.sources.registry import IndicatorRule, Reference, load_reference
from styringsdata.sources.ssb import load_table_specs
from styringsdata.vocabulary import indicator_routes

ROUTES = indicator_routes()  # seed vocabulary


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    indicator_name: str
    focus_area: str
    route: str
    source_table: str
    unit: str
    frequency: str
    direction: str


def load_catalogue(path: Path) -> list[Indicator]:
    """`path`: the catalogue seed (Settings.catalogue_path)."""
    with Path(path).open(encoding="utf-8") as f:
        return [Indicator(r["indicator_id"], r["indicator_name"], r["focus_area"], r["route"], r["source_table"],
                          r["unit"], r["frequency"], r["direction"]) for r in csv.DictReader(f)]


def registry_reference(con: duckdb.DuckDBPyConnection, catalogue: Path, *,
                       max_bytes: int | None = None) -> Reference:
    """Check registry files against the catalogue and the municipality codes the pipeline knows.

    Today's codes: every four-digit region code in the latest SSB metadata that KLASS does not list
    as changed away. Retired codes: KLASS lineage sources whose successor is another code.
    """
    tables = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    if not {"ssb_categories", "klass_municipality_lineage"} <= tables:
        raise RuntimeError("the work file has no SSB/KLASS reference data yet: run `styringsdata run` first")
    lineage = con.execute(
        """select from_code, list(distinct to_code order by to_code) from raw.klass_municipality_lineage
           where _vintage = (select max(_vintage) from raw.klass_municipality_lineage) and from_code <> to_code
           group by from_code""").fetchall()
    retired = {code: tuple(successors) for code, successors in lineage}
    codes = {r[0] for r in con.execute(
        """select distinct code from raw.ssb_categories
           where list_contains(?, dimension) and regexp_full_match(code, '\\d{4}')""",
        [list(load_table_specs().region_variables())]).fetchall()}
    current = (codes - set(retired)) | {c for successors in retired.values() for c in successors}
    rules = [IndicatorRule(i.indicator_id, i.route, i.unit) for i in load_catalogue(catalogue)]
    limits: dict = {"max_bytes": max_bytes} if max_bytes else {}
    names: dict[str, set[str]] = {}
    for code, name in [] if "klass_municipality_changes" not in tables else con.execute(
            r"""select code, label from raw.ssb_categories
               where list_contains(?, dimension) and regexp_full_match(code, '\d{4}') and label is not null
               union select old_code, old_name from raw.klass_municipality_changes where old_name <> ''
               union select new_code, new_name from raw.klass_municipality_changes where new_name <> ''""",
            [list(load_table_specs().region_variables())]).fetchall():
        names.setdefault(code, set()).add(name)
    # When each code began and ceased: one reading of KLASS's changes (the newest vintage), sources/klass.py.
    validity = code_validity([] if "klass_municipality_changes" not in tables else [
        CodeChange(*row) for row in con.execute(
            """select old_code, old_name, new_code, new_name, change_occurred from raw.klass_municipality_changes
               where _vintage = (select max(_vintage) from raw.klass_municipality_changes)""").fetchall()])
    return load_reference(rules, current, retired, names={k: frozenset(v) for k, v in names.items()},
                          retired_on=validity.ceased_on, started_on=validity.started_on,
                          predecessors=validity.predecessors, **limits)
