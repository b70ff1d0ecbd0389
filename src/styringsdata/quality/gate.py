"""The quality gate: Great Expectations 1.x suites, kept as code, run on the DuckDB work file.

DuckDB runs each check's query and GX's pandas datasource validates its rows in batches of `batch_rows` (a frame
of one batch in memory, never a whole table). Not GX's SQL datasource: on stock duckdb-engine it gets no rows (GX
issue #11579: GX fetches after closing the connection, and the ROLLBACK that closing sends replaces the one
pending result of duckdb-engine's cursor, which is the DuckDB connection itself); with a cursor that holds its
rows it works, but was slower on the national uniqueness check for no less memory, and has no regex for DuckDB
(bench/gx_duckdb_sql_engine.py). Severities and thresholds live in src/styringsdata/quality/gate.yaml. Errors block the
publication, warnings are reported. Data Docs are built to <reports>/gx/.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import duckdb
import pandas as pd
import yaml

from styringsdata.paths import DBT_PROJECT_DIR
from styringsdata.quality.data_docs import make_offline
from styringsdata.quality.gx_import import import_great_expectations
from styringsdata.queries import one_value
from styringsdata.sources.ssb import load_table_specs
from styringsdata.vocabulary import indicator_statuses

CONFIG_PATH = Path(__file__).with_name("gate.yaml")
SEVERITIES = ("error", "warning")
log = logging.getLogger(__name__)


@dataclass
class CheckResult:
    name: str
    suite: str
    table: str
    severity: str
    description: str
    passed: bool
    rows_checked: int
    failing_rows: int
    examples: list[dict[str, Any]] = field(default_factory=list)
    failing_sample: list[dict[str, Any]] = field(default_factory=list)  # for the report's CSV attachment


@dataclass
class GateResult:
    checked_at: str
    checks: list[CheckResult]  # one per rule; a rule run on several raw tables names the failing ones
    data_docs: str | None = None
    by_table: list[CheckResult] = field(default_factory=list)  # one per rule and table: the Dagster asset checks

    @property
    def passed(self) -> bool:
        return all(c.passed or c.severity != "error" for c in self.checks)

    @property
    def errors(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed and c.severity == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed and c.severity == "warning"]

    def to_json(self) -> str:
        return json.dumps({"checked_at": self.checked_at, "passed": self.passed, "data_docs": self.data_docs,
                           "checks": [asdict(c) for c in self.checks],
                           "by_table": [asdict(c) for c in self.by_table]}, ensure_ascii=False, indent=1, default=str)

    @classmethod
    def from_json(cls, text: str) -> "GateResult":
        document = json.loads(text)
        return cls(document["checked_at"], [CheckResult(**c) for c in document["checks"]], document.get("data_docs"),
                   [CheckResult(**c) for c in document.get("by_table", [])])


@dataclass(frozen=True)
class GateConfig:
    severities: dict[str, str]
    thresholds: dict[str, float]
    examples_per_check: int
    failing_rows_kept: int
    batch_rows: int  # rows validated at a time: the gate's memory grows with this, not with the tables

    @classmethod
    def load(cls, path: Path = CONFIG_PATH) -> "GateConfig":
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        severities = document["checks"]
        bad = {k: v for k, v in severities.items() if v not in SEVERITIES}
        if bad:
            raise ValueError(f"{path}: severities must be error or warning, got {bad}")
        unknown, missing = sorted(set(severities) - set(RULES)), sorted(set(RULES) - set(severities))
        if unknown or missing:
            raise ValueError(f"{path}: 'checks' must give a severity to each rule of src/styringsdata/quality/gate.py RULES "
                             f"and nothing else; unknown: {unknown or 'none'}, missing: {missing or 'none'}")
        return cls(severities, document["thresholds"], int(document["examples_per_check"]),
                   int(document["failing_rows_kept"]), int(document["batch_rows"]))


@dataclass(frozen=True)
class Rule:
    """A quality rule, written once: Dagster's check of that name, the report's line and gate.yaml's severity
    all come from here (src/styringsdata/defs/quality.py builds the asset checks from RULES)."""

    layer: str  # the GX suite: raw or marts
    description: str  # for a data engineer: what holds when it passes, and how GX checks it ({thresholds}, {home})
    tables: tuple[str, ...] = ()  # the tables it checks, "schema.table" = the Dagster asset key
    per_ssb_table: bool = False  # also every raw SSB table (raw.ssb_<table id>)


RULES: dict[str, Rule] = {
    "raw_keys_not_null": Rule(
        "raw", "Every row of the raw SSB table has its region, period (Tid), _vintage and _fetched_at "
        "(GX expect_column_values_to_not_be_null on each).", per_ssb_table=True),
    "raw_municipality_codes_valid": Rule(
        "raw", "No figure uses a municipality code in a year after KLASS retired it (Asker's 0220 after 2019), and "
        "no registry figure uses a code KLASS has since replaced (unexpected rows: SQL against the KLASS changes "
        "in raw.klass_municipality_changes and raw.klass_municipality_lineage).",
        tables=("raw.registry_values",), per_ssb_table=True),
    "raw_periods_well_formed": Rule(
        "raw", "Every period (Tid) of the raw SSB table is a year YYYY, a quarter YYYYKn or a two-year interval YYYY-YYYY "
        "(GX expect_column_values_to_match_regex on its distinct periods).", per_ssb_table=True),
    "raw_units_known": Rule(
        "raw", "Every SSB series (ContentsCode) has a unit in SSB's metadata "
        "(GX expect_column_values_to_not_be_null on unit_base).", tables=("raw.ssb_categories",)),
    "catalogue_complete": Rule(
        "marts", "The indicator catalogue holds the 88 indicators of the Handlingsprogram, each id once "
        "(GX expect_table_row_count_to_equal 88, expect_column_values_to_be_unique on indicator_id).",
        tables=("marts.indicator_catalogue",)),
    "fct_covers_catalogue": Rule(
        "marts", "Every catalogue indicator has at least one row in fct_indicator_values "
        "(unexpected rows: the catalogue's indicators without rows).", tables=("marts.fct_indicator_values",)),
    "fct_unique_grain": Rule(
        "marts", "One row per indicator, municipality and year "
        "(GX expect_compound_columns_to_be_unique on indicator_id, municipality_code, year).",
        tables=("marts.fct_indicator_values",)),
    "fct_status_allowed": Rule(
        "marts", "status is one of {statuses} (seed value_statuses; GX expect_column_values_to_be_in_set).",
        tables=("marts.fct_indicator_values",)),
    "fct_missing_is_never_a_number": Rule(
        "marts", "A row whose status is not measured (suppressed, missing, pending ...) has no value, never 0 "
        "(GX expect_column_values_to_be_null on value).", tables=("marts.fct_indicator_values",)),
    "fct_shares_within_0_100": Rule(
        "marts", "Values in unit percent lie between 0 and 100 (GX expect_column_values_to_be_between).",
        tables=("marts.fct_indicator_values",)),
    "fct_ranks_within_range": Rule(
        "marts", "Ranks lie between 1 and {max_rank}, the number of municipalities "
        "(GX expect_column_values_to_be_between).", tables=("marts.fct_indicator_values",)),
    "fct_scores_within_scale": Rule(
        "marts", "Scores in a unit 'scale a-b' lie between a and b "
        "(GX expect_column_values_to_be_in_set on a within-scale flag computed in DuckDB).",
        tables=("marts.fct_indicator_values",)),
    "kostra_home_present": Rule(
        "marts", "The home municipality ({home}) has a row in every key figure and year of kostra_comparison, and "
        "a figure in at least one: an empty comparison or a home member without figures fails, it does not pass "
        "for checking nothing (GX expect_table_row_count_to_be_between, min 1, on the key figures and years; "
        "expect_column_values_to_be_between, min 1, on the home member's rows in each; "
        "expect_column_sum_to_be_between, min 1, on its figures).", tables=("marts.kostra_comparison",)),
    "sources_answered": Rule(
        "marts", "Every source table answered at its latest attempt (marts.source_freshness: is_stale false), "
        "except those whose last good vintage is older than their freshness window, which are "
        "sources_within_freshness's. A failing table keeps its last good vintage, still inside its window, or it "
        "never had one (a first run) and its figures have status source_error; as a warning this never blocks "
        "the rest (unexpected rows: the failing tables and the error).", tables=("marts.source_freshness",)),
    "sources_within_freshness": Rule(
        "marts", "No source table failed at its latest attempt with its last good vintage older than its "
        "freshness window (marts.source_freshness: is_stale and is_late; the window ends 30 days after the "
        "publication expected from the table's last update and its cadence). As an error it blocks the whole "
        "publication, because those figures would go out as current while a newer publication exists and "
        "cannot be fetched; set it to warning in gate.yaml to let the rest publish, the stale figures flagged in "
        "source_freshness (unexpected rows: the tables, their last update, expected publication and the error).",
        tables=("marts.source_freshness",)),
    "resource_use_asss_average_is_reference": Rule(
        "marts", "The ASSS average of each resource-use index (index_net_expenses, index_less_depreciation, "
        "resource_use_index), weighted by inhabitants as the model weights it, is the scale's reference "
        "{resource_use_asss_level} (dbt var resource_use_asss_level) within {resource_use_asss_tolerance}, per area "
        "and year, and every member of that year has the index when any has "
        "(GX expect_column_values_to_be_between on the averages DuckDB computes; "
        "expect_column_pair_values_to_be_equal on members and members_with_index).",
        tables=("marts.resource_use_index",)),
    "need_adjusted_within_factor_of_unadjusted": Rule(
        "marts", "A member's need-adjusted figure is within a factor of {need_adjustment_max_factor} of its "
        "unadjusted one: resource_use_index against index_less_depreciation (the step before the expense-need "
        "correction), kostra_comparison's need_adjusted_value against value. An expense-need index far from 100 "
        "(1,0421 for 104,21) fails it, though the index's ASSS average stays at the reference "
        "(GX expect_column_values_to_be_between on the ratio DuckDB computes).",
        tables=("marts.resource_use_index", "marts.kostra_comparison")),
    "fct_year_on_year_jumps": Rule(
        "marts", "No measured value changes more than {year_on_year_jump_pct} % from the year before, same "
        "indicator and municipality; ranks, and bases closer to 0 than {year_on_year_min_base}, are not compared "
        "(unexpected rows: the pairs that jump).", tables=("marts.fct_indicator_values",)),
}


def describe(name: str, config: "GateConfig", home: str) -> str:
    return RULES[name].description.format(home=home, statuses=", ".join(indicator_statuses()),
                                          resource_use_asss_level=resource_use_asss_level(), **config.thresholds)


@functools.lru_cache(maxsize=1)
def _dbt_vars(mtime_ns: int) -> dict[str, Any]:
    document = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(document["vars"])


def resource_use_asss_level() -> float:
    """The ressursbruksindikator's ASSS average, written once as dbt var `resource_use_asss_level` (the model
    scales to it, the gate checks it). Parsed again only when dbt_project.yml changed: every rule's description
    asks for it."""
    return float(_dbt_vars((DBT_PROJECT_DIR / "dbt_project.yml").stat().st_mtime_ns)["resource_use_asss_level"])


def rule_tables(name: str, ssb_table_ids: Iterable[str]) -> list[str]:
    """The tables a rule checks when these SSB tables are loaded, each one a Dagster asset key."""
    rule = RULES[name]
    ssb = [f"raw.ssb_{t}" for t in ssb_table_ids] if rule.per_ssb_table else []
    return ssb + list(rule.tables)


@dataclass(frozen=True)
class Check:
    """One GX validation: a query DuckDB answers with only the columns and rows the rule's expectations read.

    A rule checked on every raw SSB table is one query over all of them (a `_table` column says whose row it is)
    and one validation, split into one result per table afterwards; a `_rows` column says how many table rows a
    result row stands for (DuckDB groups equal keys, GX sees each once), so counts and failing rows are the
    table's."""

    name: str
    suite: str
    table: str  # the asset the validation is filed under; with `tables`, a label for all of them
    # The query; with `tables`, one query per table, run one after another into the same batches (a union of
    # them would have DuckDB hold every table's aggregate at once: 80 MB more on the national work file).
    sql: str | tuple[str, ...]
    expectations: Callable[[Any], list[Any]]  # gxe module -> expectations on the frame
    whole_frame_is_failures: bool = False  # the query returns violations; examples are its rows
    # How the rows may be split into batches without changing a verdict: ROWS (row-wise expectations, and
    # "no rows" on a violation query), WHOLE (a row count other than zero), or the key columns of a uniqueness
    # expectation (rows that share a key land in the same batch; `table` is then the table scanned).
    split: str | tuple[str, ...] = "rows"
    description: str = ""  # RULES[name], filled in by build_checks
    tables: tuple[str, ...] = ()  # the tables a `_table` column splits the result into, in their order


ROWS, WHOLE = "rows", "whole"
TABLE_COLUMN, WEIGHT_COLUMN = "_table", "_rows"
EVERY_SSB_TABLE = "raw.ssb_each_table"  # the GX asset of the rules run on every raw SSB table at once


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]).fetchall()}


def build_checks(con: duckdb.DuckDBPyConnection, config: GateConfig, home: str) -> list[Check]:
    t = config.thresholds
    checks: list[Check] = []
    raw_ssb = sorted(n for n in _tables(con, "raw") if n.startswith("ssb_") and n not in ("ssb_tables", "ssb_categories"))
    region_variables = load_table_specs().region_variables()  # src/styringsdata/sources/ssb_tables.yaml
    columns_of: dict[str, list[str]] = {}
    for table, column in con.execute(  # one query for every table: DuckDB's catalog answers each in ~5 ms
            "select table_name, column_name from information_schema.columns where table_schema = 'raw' "
            "order by table_name, ordinal_position").fetchall():
        columns_of.setdefault(table, []).append(column)
    regions: dict[str, str] = {}
    for table in raw_ssb:
        columns = columns_of.get(table, [])
        region = next((c for c in columns if c in region_variables), None)
        if region is None:
            raise ValueError(f"raw.{table}: no region column (expected one of {', '.join(region_variables)}; "
                             f"the table has {', '.join(columns)})")
        regions[table] = region
    ssb_tables = tuple(f"raw.{table}" for table in raw_ssb)
    if raw_ssb:
        # Not-null reads the four key columns only, and DuckDB answers the rest: GX gets each table's rows that
        # lack a key (equal ones grouped, with their count) and one row standing for all its complete rows (the
        # first one's keys, with their count), so a national table is a few rows, not half a million.
        checks.append(Check(
            "raw_keys_not_null", "raw", EVERY_SSB_TABLE,
            # NOT MATERIALIZED: DuckDB would otherwise materialize the CTE it reads twice, every row's keys
            # (national: +18 MB and twice the time of two scans).
            tuple(f"""with keyed as not materialized (
                          select rowid as _first, "{regions[table]}" as region, "Tid" as period, _vintage, _fetched_at
                          from raw.{table})
                      select '{n}' as {TABLE_COLUMN}, region, period, _vintage, _fetched_at, {WEIGHT_COLUMN} from (
                          select region, period, _vintage, _fetched_at, count(*) as {WEIGHT_COLUMN},
                                 min(_first) as _first
                          from keyed
                          where region is null or period is null or _vintage is null or _fetched_at is null
                          group by all
                          union all
                          select arg_min(region, _first), arg_min(period, _first), arg_min(_vintage, _first),
                                 arg_min(_fetched_at, _first), count(*), min(_first)
                          from keyed
                          where region is not null and period is not null and _vintage is not null
                            and _fetched_at is not null
                          having count(*) > 0)
                      order by _first"""
                  for table, n in zip(raw_ssb, ssb_tables)),
            lambda gxe: [gxe.ExpectColumnValuesToNotBeNull(column=c, result_format="COMPLETE")
                         for c in ("region", "period", "_vintage", "_fetched_at")], tables=ssb_tables))
        checks.append(Check(
            "raw_municipality_codes_valid", "raw", EVERY_SSB_TABLE,
            tuple(f"""with retired as (
                    select c.old_code as code, min(c.change_occurred) as retired_on
                    from raw.klass_municipality_changes c
                    where not exists (  -- kept or given back later (Stavanger 1103 -> 1103)
                        select 1 from raw.klass_municipality_changes k
                        where k.new_code = c.old_code and k.change_occurred >= c.change_occurred)
                    group by c.old_code
                )
                select distinct '{n}' as {TABLE_COLUMN}, '{table}' as source_table, r."{regions[table]}" as region,
                       r."Tid" as period, retired.retired_on
                from raw.{table} r join retired on retired.code = r."{regions[table]}"
                where try_cast(left(r."Tid", 4) as integer) >= year(retired.retired_on)
                  and r.value is not null""" for table, n in zip(raw_ssb, ssb_tables)),
            lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True, tables=ssb_tables))
        checks.append(Check(
            "raw_periods_well_formed", "raw", EVERY_SSB_TABLE,
            tuple(f"""select distinct '{n}' as {TABLE_COLUMN}, "Tid" as period from raw.{table}"""
                  for table, n in zip(raw_ssb, ssb_tables)),
            lambda gxe: [gxe.ExpectColumnValuesToMatchRegex(
                column="period", regex=r"^(19|20)\d\d(K[1-4]|-(19|20)\d\d)?$", result_format="COMPLETE")],
            tables=ssb_tables))
    checks.append(Check(
        "raw_municipality_codes_valid", "raw", "raw.registry_values",
        """select r.indicator_id, r.municipality_code, r.period, l.to_code as should_be
           from raw.registry_values r join raw.klass_municipality_lineage l
             on l.from_code = r.municipality_code and l.from_code <> l.to_code""",
        lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True))
    checks.append(Check(
        "raw_units_known", "raw", "raw.ssb_categories",
        "select table_id, code, unit_base from raw.ssb_categories where dimension = 'ContentsCode'",
        lambda gxe: [gxe.ExpectColumnValuesToNotBeNull(column="unit_base", result_format="COMPLETE")]))
    checks.append(Check(
        "catalogue_complete", "marts", "marts.indicator_catalogue",
        "select indicator_id from marts.indicator_catalogue",
        lambda gxe: [gxe.ExpectTableRowCountToEqual(value=88), gxe.ExpectColumnValuesToBeUnique(column="indicator_id")],
        split=WHOLE))
    checks.append(Check(
        "fct_covers_catalogue", "marts", "marts.fct_indicator_values",
        """select c.indicator_id, c.indicator_name from marts.indicator_catalogue c
           anti join marts.fct_indicator_values f using (indicator_id)""",
        lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True))
    checks.append(Check(
        "fct_unique_grain", "marts", "marts.fct_indicator_values",
        "select rowid as _row, indicator_id, municipality_code, year, value, status from marts.fct_indicator_values",
        lambda gxe: [gxe.ExpectCompoundColumnsToBeUnique(column_list=["indicator_id", "municipality_code", "year"],
                                                         result_format="COMPLETE")],
        split=("indicator_id", "municipality_code", "year")))
    checks.append(Check(
        "fct_status_allowed", "marts", "marts.fct_indicator_values",
        "select indicator_id, municipality_code, year, status from marts.fct_indicator_values",
        lambda gxe: [gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=list(indicator_statuses()), result_format="COMPLETE")]))
    checks.append(Check(
        "fct_missing_is_never_a_number", "marts", "marts.fct_indicator_values",
        "select indicator_id, municipality_code, year, status, value from marts.fct_indicator_values "
        "where status <> 'measured'",
        lambda gxe: [gxe.ExpectColumnValuesToBeNull(column="value", result_format="COMPLETE")]))
    checks.append(Check(
        "fct_shares_within_0_100", "marts", "marts.fct_indicator_values",
        "select indicator_id, municipality_code, year, value from marts.fct_indicator_values "
        "where unit = 'percent' and value is not null",
        lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=100,
                                                       result_format="COMPLETE")]))
    checks.append(Check(
        "fct_ranks_within_range", "marts", "marts.fct_indicator_values",
        "select indicator_id, municipality_code, year, value from marts.fct_indicator_values "
        "where unit = 'rank' and value is not null",
        lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="value", min_value=1, max_value=t["max_rank"],
                                                       result_format="COMPLETE")]))
    checks.append(Check(
        "fct_scores_within_scale", "marts", "marts.fct_indicator_values",
        """select indicator_id, municipality_code, year, value, unit,
                  value between cast(regexp_extract(unit, 'scale (\\d+)-(\\d+)', 1) as double)
                            and cast(regexp_extract(unit, 'scale (\\d+)-(\\d+)', 2) as double) as within_scale
           from marts.fct_indicator_values where unit like 'scale %' and value is not null""",
        lambda gxe: [gxe.ExpectColumnValuesToBeInSet(column="within_scale", value_set=[True],
                                                     result_format="COMPLETE")]))
    # One row per key figure and year, so the check counts what it checked; an empty comparison or a home
    # member without a single figure fails instead of passing vacuously.
    checks.append(Check(
        "kostra_home_present", "marts", "marts.kostra_comparison",
        f"""select key_figure_id, year, count(*) filter (where region_code = '{home}') as home_rows,
                   count(value) filter (where region_code = '{home}') as home_figures
            from marts.kostra_comparison group by key_figure_id, year order by key_figure_id, year""",
        lambda gxe: [gxe.ExpectTableRowCountToBeBetween(min_value=1),
                     gxe.ExpectColumnValuesToBeBetween(column="home_rows", min_value=1, result_format="COMPLETE"),
                     gxe.ExpectColumnSumToBeBetween(column="home_figures", min_value=1)],
        split=WHOLE))  # the sum is over every key figure and year, not over one batch of them
    if "source_freshness" in _tables(con, "marts"):
        freshness_columns = {r[0] for r in con.execute("describe marts.source_freshness").fetchall()}
        stale = "is_stale" if "is_stale" in freshness_columns else "false"  # a work file built before issue 21
        error = "last_error" if "last_error" in freshness_columns else "null"
        # Each failing table under one rule: a late one (no vintage at all is never late) blocks, the rest warn.
        checks.append(Check(
            "sources_answered", "marts", "marts.source_freshness",
            f"""select source, source_table, latest_vintage, {error} as last_error
                from marts.source_freshness where {stale} and not coalesce(is_late, false)
                order by source, source_table""",
            lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True))
        checks.append(Check(
            "sources_within_freshness", "marts", "marts.source_freshness",
            f"""select source, source_table, latest_vintage, last_source_updated, expected_next_publication,
                       {error} as last_error
                from marts.source_freshness where {stale} and coalesce(is_late, false)
                order by source, source_table""",
            lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True))
    level, tolerance = resource_use_asss_level(), t["resource_use_asss_tolerance"]
    indices = ("index_net_expenses", "index_less_depreciation", "resource_use_index")
    long = " union all ".join(
        f"select service_area, year, inhabitants, in_asss_average, '{c}' as index_column, {c} as index_value "
        f"from marts.resource_use_index" for c in indices)
    # Per index, area and year; an area and year where no member has the index (no ASSS average: a member lacks
    # a figure) has nothing to average, and the mart's note says why.
    checks.append(Check(
        "resource_use_asss_average_is_reference", "marts", "marts.resource_use_index",
        f"""select index_column, service_area, year,
                   count(*) as members, count(index_value) as members_with_index,
                   sum(index_value * inhabitants) / sum(inhabitants) filter (where index_value is not null)
                       as asss_average
            from ({long}) where in_asss_average
            group by index_column, service_area, year having count(index_value) > 0
            order by service_area, year, index_column""",
        lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="asss_average", min_value=level - tolerance,
                                                       max_value=level + tolerance, result_format="COMPLETE"),
                     gxe.ExpectColumnPairValuesToBeEqual(column_A="members", column_B="members_with_index",
                                                         result_format="COMPLETE")]))
    factor = float(t["need_adjustment_max_factor"])
    need_tables = RULES["need_adjusted_within_factor_of_unadjusted"].tables
    checks.append(Check(
        "need_adjusted_within_factor_of_unadjusted", "marts", "marts.need_adjusted_figures",
        (f"""select '{need_tables[0]}' as {TABLE_COLUMN}, service_area as figure, municipality_code, year,
                    index_less_depreciation as unadjusted, resource_use_index as need_adjusted, need_index,
                    resource_use_index / index_less_depreciation as ratio
             from marts.resource_use_index
             where resource_use_index is not null and index_less_depreciation is not null
               and index_less_depreciation <> 0
             order by service_area, year, municipality_code""",
         f"""select '{need_tables[1]}' as {TABLE_COLUMN}, key_figure_id as figure, region_code as municipality_code,
                    year, value as unadjusted, need_adjusted_value as need_adjusted, need_index,
                    need_adjusted_value / value as ratio
             from marts.kostra_comparison
             where region_kind = 'municipality' and need_adjusted_value is not null and value is not null
               and value <> 0
             order by key_figure_id, year, region_code"""),
        lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="ratio", min_value=1 / factor, max_value=factor,
                                                       result_format="COMPLETE")],
        tables=need_tables))
    checks.append(Check(
        "fct_year_on_year_jumps", "marts", "marts.fct_indicator_values",
        f"""select cur.indicator_id, cur.municipality_code, cur.year, prev.value as previous_value, cur.value,
                   round(100 * (cur.value / prev.value - 1), 1) as change_pct
            from marts.fct_indicator_values cur
            join marts.fct_indicator_values prev
              on prev.indicator_id = cur.indicator_id and prev.municipality_code = cur.municipality_code
             and prev.year = cur.year - 1
            where cur.status = 'measured' and prev.status = 'measured' and cur.unit <> 'rank'
              and abs(prev.value) >= {t['year_on_year_min_base']}
              and abs(cur.value / prev.value - 1) * 100 > {t['year_on_year_jump_pct']}""",
        lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True))
    return [replace(c, description=describe(c.name, config, home)) for c in checks]


def gate_result_path(reports_dir: Path, run_id: str) -> Path:
    """Where a run's gate result is kept: the held-back report, the report asset and recovery read it."""
    return reports_dir / "gate" / f"{run_id}.json"


def read_gate_result(reports_dir: Path, run_id: str) -> GateResult | None:
    path = gate_result_path(reports_dir, run_id)
    return GateResult.from_json(path.read_text(encoding="utf-8")) if path.exists() else None


def run_gate(con: duckdb.DuckDBPyConnection, home: str, *, config: GateConfig | None = None,
             data_docs_dir: Path | None = None, only: Iterable[str] | None = None) -> GateResult:
    """Every rule on the work file (`only`: these rules alone, for a test of a few marts built by hand)."""
    import_great_expectations()  # first, so that GX's import leaves out what the gate never runs
    import great_expectations as gx

    config = config or GateConfig.load()
    from great_expectations.data_context.types.base import (DataContextConfig, InMemoryStoreBackendDefaults,
                                                            ProgressBarsConfig)

    from styringsdata.quality.gx_views import VIEWS as GX_VIEWS

    context = gx.get_context(mode="ephemeral", project_config=DataContextConfig(
        # Without this an ephemeral context has a second Data Docs site, in a new temporary directory each time:
        # every gate built all its pages twice and left the copy in /tmp.
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        # tqdm bars per expectation flood the run log of a scheduled job
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False)))
    if data_docs_dir is not None:
        context.add_data_docs_site(site_name="styringsdata", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "view": GX_VIEWS["index"]},
            "site_section_builders": {
                "expectations": {"view": GX_VIEWS["page"]}, "validations": {"view": GX_VIEWS["page"]},
                "profiling": "0",  # no profiling results: skip scanning the store for them
            },
        })  # type: ignore[typeddict-unknown-key]  # SiteBuilder takes it; GX's TypedDict of the config omits it
    source = context.data_sources.add_pandas("work_file")
    assets: dict[str, Any] = {}
    results: list[CheckResult] = []
    chosen = set(only) if only is not None else None
    for check in build_checks(con, config, home):
        if chosen is not None and check.name not in chosen:
            continue
        # Data Docs list validations by asset (the table) and suite (table and rule), and show each expectation
        # with the rule's description as its notes.
        if check.table not in assets:
            assets[check.table] = source.add_dataframe_asset(check.table)
        batch = assets[check.table].add_batch_definition_whole_dataframe(check.name)
        name = f"{check.table.replace('.', '__')}__{check.name}"
        suite = context.suites.add(gx.ExpectationSuite(name, expectations=_annotated(check, config)))
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
        tallies = {table: _Tally() for table in (check.tables or (check.table,))}
        for frame in _batches(con, check, config.batch_rows):
            validation = definition.run(batch_parameters={"dataframe": frame}, result_format="COMPLETE")
            failing = _failing_index(check, frame, validation)
            if not check.tables:
                tallies[check.table].add(frame, bool(validation.success), failing, config.failing_rows_kept)
            else:  # one verdict per table: its rows, and whether any of them failed
                for table, part in frame.groupby(TABLE_COLUMN, sort=False):
                    own = [i for i in failing if i in part.index]
                    tallies[str(table)].add(part, not own, own, config.failing_rows_kept)
            del frame, validation  # one batch in memory at a time
        results.extend(tally.result(check, table, config) for table, tally in tallies.items())
    docs = None
    if data_docs_dir is not None:
        built = time.time() - 1  # coarse file system clocks
        context.build_data_docs()  # once, from the stored results of every validation above
        make_offline(data_docs_dir, since=built)
        docs = str(data_docs_dir / "index.html")
    return GateResult(dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), _merge(results), docs, results)


def _annotated(check: Check, config: GateConfig) -> list:
    import great_expectations.expectations as gxe

    severity = config.severities[check.name]
    consequence = "blocks the publication" if severity == "error" else "reported, does not block"
    expectations = check.expectations(gxe)
    for expectation in expectations:
        expectation.meta = {"rule": check.name, "table": check.table, "severity": severity}
        expectation.notes = f"Rule {check.name} ({severity}: {consequence}): {check.description}"
        if check.whole_frame_is_failures:  # GX would say only "Must have exactly 0 rows"
            expectation.description = f"No rows expected from the rule's query: {check.description}"
    return expectations


ROW_KEY = "_row"  # a query may name its rows (DuckDB's rowid) so that rows split by key keep their table order


def _batches(con: duckdb.DuckDBPyConnection, check: Check, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The check's rows as pandas frames of about `batch_rows` rows each, never the whole result at once.

    Each frame is indexed by the row's position in the whole result (or by its `_row` column), so the indexes GX
    reports as failing are the same as on one frame of every row. A query without rows yields one empty frame:
    GX still validates it (a row count of zero is a verdict too). A check with one query per table runs them in
    turn and fills each batch from as many tables as fit.
    """
    cursor = con.cursor()
    try:
        if isinstance(check.split, tuple):
            assert isinstance(check.sql, str), "a uniqueness check reads one table"
            yield from _batches_by_key(cursor, check.sql, check.split, batch_rows)
            return
        queries = (check.sql,) if isinstance(check.sql, str) else check.sql
        if check.split == WHOLE:
            yield _indexed(pd.concat([cursor.execute(q).df() for q in queries], ignore_index=True), 0)
            return
        vectors = max(1, batch_rows // 2048)  # DuckDB hands out rows in vectors of 2048
        offset, waiting, empty = 0, [], None
        for query in queries:
            cursor.execute(query)
            while True:
                frame = cursor.fetch_df_chunk(vectors)
                if frame.empty:
                    empty = frame if empty is None else empty
                    break
                waiting.append(frame)
                if sum(len(f) for f in waiting) >= batch_rows:
                    batch = _indexed(pd.concat(waiting, ignore_index=True), offset)
                    offset, waiting = offset + len(batch), []
                    yield batch
        if waiting or offset == 0:
            yield _indexed(pd.concat(waiting, ignore_index=True) if waiting else empty, offset)
    finally:
        cursor.close()


def _batches_by_key(cursor: duckdb.DuckDBPyConnection, sql: str, key: tuple[str, ...],
                    batch_rows: int) -> Iterator[pd.DataFrame]:
    """Rows split by a hash of their key: rows sharing a key, the only ones a uniqueness check compares, meet."""
    total = one_value(cursor, f"select count(*) from ({sql})")
    parts = max(1, -(-total // batch_rows))
    columns = ", ".join(f'"{c}"' for c in key)
    for part in range(parts):
        frame = cursor.execute(f"select * from ({sql}) where hash({columns}) % {parts} = {part}").df()
        yield _indexed(frame, 0)


def _indexed(frame: pd.DataFrame, offset: int) -> pd.DataFrame:
    if ROW_KEY in frame.columns:
        return frame.set_index(ROW_KEY, drop=True).rename_axis(None)
    frame.index = pd.RangeIndex(offset, offset + len(frame))
    return frame


def _failing_index(check: Check, frame: pd.DataFrame, validation: Any) -> list[Any]:
    """The frame's rows GX found failing: every row of a violation query that failed, else the unexpected ones."""
    if check.whole_frame_is_failures:
        return list(frame.index) if not validation.success else []
    return sorted({i for item in validation.results if not item.success
                   for i in (item.result.get("unexpected_index_list") or [])})


@dataclass
class _Tally:
    """One check's findings on one table, summed over its batches: rows seen, verdict, failing rows (the first
    ones kept). A `_rows` column counts the table rows a frame row stands for."""

    rows: int = 0
    passed: bool = True
    failing: int = 0
    failed_without_rows: bool = False  # an expectation on the whole batch failed (a row count)
    kept: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)

    def add(self, frame: pd.DataFrame, passed: bool, failing: list[Any], keep: int) -> None:
        weights = frame[WEIGHT_COLUMN] if WEIGHT_COLUMN in frame.columns else None
        self.rows += int(weights.sum()) if weights is not None else len(frame)
        self.passed = self.passed and passed
        self.failing += int(weights.loc[failing].sum()) if weights is not None else len(failing)
        self.failed_without_rows |= not passed and not failing
        rows = failing[:keep]
        shown = frame.loc[rows].drop(columns=[c for c in (TABLE_COLUMN, WEIGHT_COLUMN) if c in frame.columns])
        records = json.loads(shown.to_json(orient="records", date_format="iso"))
        copies = [int(weights.loc[i]) if weights is not None else 1 for i in rows]
        found = [(i, record) for i, record, n in zip(rows, records, copies) for _ in range(n)]
        self.kept = sorted(self.kept + found, key=lambda pair: pair[0])[:keep]

    def result(self, check: Check, table: str, config: GateConfig) -> CheckResult:
        sample = [row for _, row in self.kept]
        failing = self.failing or (1 if self.failed_without_rows else 0)
        return CheckResult(
            name=check.name, suite=check.suite, table=table, severity=config.severities[check.name],
            description=check.description, passed=self.passed, rows_checked=self.rows, failing_rows=failing,
            examples=sample[: config.examples_per_check], failing_sample=sample)


def _merge(results: list[CheckResult]) -> list[CheckResult]:
    """Per-table checks of the same name (raw tables) become one line per name, naming every failing table."""
    groups: dict[str, list[CheckResult]] = {}
    for r in results:
        groups.setdefault(r.name, []).append(r)
    merged = []
    for name, group in groups.items():
        if len(group) == 1:
            merged.append(group[0])
            continue
        failing = [r for r in group if not r.passed]
        first = group[0]
        merged.append(CheckResult(
            name, first.suite, ", ".join(r.table for r in failing) or f"{len(group)} {first.suite} tables", first.severity,
            first.description, not failing, sum(r.rows_checked for r in group), sum(r.failing_rows for r in group),
            [e for r in failing for e in r.examples][: max(len(first.examples), 5)],
            [row for r in failing for row in r.failing_sample]))
    return merged
