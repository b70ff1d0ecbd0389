"""The quality gate: Great Expectations 1.x suites, kept as code, run on the DuckDB work file.

GX's SQL datasource returns empty results on duckdb-engine, so every check pulls its frame out of
DuckDB (`con.sql(...).df()`) and validates it with GX's pandas datasource. Two suites, one per layer
(`raw` and `marts`); severities and thresholds live in expectations/gate.yaml. Errors block the
publication, warnings are reported. Data Docs are built to <reports>/gx/.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import duckdb
import pandas as pd
import yaml

CONFIG_PATH = Path(__file__).with_name("gate.yaml")
REGION_COLUMNS = ("KOKkommuneregion0000", "Region", "Gjerningssted")
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
    checks: list[CheckResult]
    data_docs: str | None = None

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
                           "checks": [asdict(c) for c in self.checks]}, ensure_ascii=False, indent=1, default=str)

    @classmethod
    def from_json(cls, text: str) -> "GateResult":
        document = json.loads(text)
        return cls(document["checked_at"], [CheckResult(**c) for c in document["checks"]], document.get("data_docs"))


@dataclass(frozen=True)
class GateConfig:
    severities: dict[str, str]
    thresholds: dict[str, float]
    examples_per_check: int
    failing_rows_kept: int

    @classmethod
    def load(cls, path: Path = CONFIG_PATH) -> "GateConfig":
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        severities = document["checks"]
        bad = {k: v for k, v in severities.items() if v not in SEVERITIES}
        if bad:
            raise ValueError(f"{path}: severities must be error or warning, got {bad}")
        return cls(severities, document["thresholds"], int(document["examples_per_check"]),
                   int(document["failing_rows_kept"]))


@dataclass(frozen=True)
class Check:
    name: str
    suite: str
    table: str
    description: str
    sql: str
    expectations: Callable[[Any], list]  # gxe module -> expectations on the frame
    whole_frame_is_failures: bool = False  # the query returns violations; examples are its rows


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    return {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]).fetchall()}


def build_checks(con: duckdb.DuckDBPyConnection, config: GateConfig, home: str) -> list[Check]:
    t = config.thresholds
    checks: list[Check] = []
    raw_ssb = sorted(n for n in _tables(con, "raw") if n.startswith("ssb_") and n not in ("ssb_tables", "ssb_categories"))
    for table in raw_ssb:
        columns = [r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? "
            "order by ordinal_position", [table]).fetchall()]
        region = next((c for c in columns if c in REGION_COLUMNS), None)
        if region is None:
            raise ValueError(f"raw.{table}: no region column (expected one of {', '.join(REGION_COLUMNS)}; "
                             f"the table has {', '.join(columns)})")
        checks.append(Check(
            "raw_keys_not_null", "raw", f"raw.{table}", "region, period and provenance filled",
            f'select "{region}" as region, "Tid" as period, _vintage, _fetched_at from raw.{table}',
            lambda gxe: [gxe.ExpectColumnValuesToNotBeNull(column=c, result_format="COMPLETE")
                         for c in ("region", "period", "_vintage", "_fetched_at")]))
        checks.append(Check(
            "raw_municipality_codes_valid", "raw", f"raw.{table}",
            "no municipality code used in a year after KLASS retired it",
            f"""with retired as (
                    select c.old_code as code, min(c.change_occurred) as retired_on
                    from raw.klass_municipality_changes c
                    where not exists (  -- kept or given back later (Stavanger 1103 -> 1103)
                        select 1 from raw.klass_municipality_changes k
                        where k.new_code = c.old_code and k.change_occurred >= c.change_occurred)
                    group by c.old_code
                )
                select distinct '{table}' as source_table, r."{region}" as region, r."Tid" as period,
                       retired.retired_on
                from raw.{table} r join retired on retired.code = r."{region}"
                where try_cast(left(r."Tid", 4) as integer) >= year(retired.retired_on)
                  and r.value is not null""",
            lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True))
        checks.append(Check(
            "raw_periods_well_formed", "raw", f"raw.{table}", "periods are YYYY, YYYYKn or YYYY-YYYY",
            f'select distinct "Tid" as period from raw.{table}',
            lambda gxe: [gxe.ExpectColumnValuesToMatchRegex(
                column="period", regex=r"^(19|20)\d\d(K[1-4]|-(19|20)\d\d)?$", result_format="COMPLETE")]))
    checks.append(Check(
        "raw_municipality_codes_valid", "raw", "raw.registry_values", "registry figures use today's codes",
        """select r.indicator_id, r.municipality_code, r.period, l.to_code as should_be
           from raw.registry_values r join raw.klass_municipality_lineage l
             on l.from_code = r.municipality_code and l.from_code <> l.to_code""",
        lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True))
    checks.append(Check(
        "raw_units_known", "raw", "raw.ssb_categories", "every SSB series has a unit",
        "select table_id, code, unit_base from raw.ssb_categories where dimension = 'ContentsCode'",
        lambda gxe: [gxe.ExpectColumnValuesToNotBeNull(column="unit_base", result_format="COMPLETE")]))
    checks.append(Check(
        "catalogue_complete", "marts", "marts.indicator_catalogue", "the target set has 88 indicators",
        "select indicator_id from marts.indicator_catalogue",
        lambda gxe: [gxe.ExpectTableRowCountToEqual(value=88), gxe.ExpectColumnValuesToBeUnique(column="indicator_id")]))
    checks.append(Check(
        "fct_covers_catalogue", "marts", "marts.fct_indicator_values", "every catalogue indicator has rows",
        """select c.indicator_id, c.indicator_name from marts.indicator_catalogue c
           anti join marts.fct_indicator_values f using (indicator_id)""",
        lambda gxe: [gxe.ExpectTableRowCountToEqual(value=0)], whole_frame_is_failures=True))
    checks.append(Check(
        "fct_unique_grain", "marts", "marts.fct_indicator_values", "one row per indicator, municipality, year",
        "select indicator_id, municipality_code, year, value, status from marts.fct_indicator_values",
        lambda gxe: [gxe.ExpectCompoundColumnsToBeUnique(column_list=["indicator_id", "municipality_code", "year"],
                                                         result_format="COMPLETE")]))
    checks.append(Check(
        "fct_status_allowed", "marts", "marts.fct_indicator_values", "statuses from the allowed set",
        "select indicator_id, municipality_code, year, status from marts.fct_indicator_values",
        lambda gxe: [gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=["measured", "not_measured", "pending", "under_development", "suppressed",
                                        "not_computable", "series_break", "not_delivered"], result_format="COMPLETE")]))
    checks.append(Check(
        "fct_missing_is_never_a_number", "marts", "marts.fct_indicator_values",
        "suppressed, missing or pending rows carry no value (never 0)",
        "select indicator_id, municipality_code, year, status, value from marts.fct_indicator_values "
        "where status <> 'measured'",
        lambda gxe: [gxe.ExpectColumnValuesToBeNull(column="value", result_format="COMPLETE")]))
    checks.append(Check(
        "fct_shares_within_0_100", "marts", "marts.fct_indicator_values", "shares between 0 and 100",
        "select indicator_id, municipality_code, year, value from marts.fct_indicator_values "
        "where unit = 'percent' and value is not null",
        lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=100,
                                                       result_format="COMPLETE")]))
    checks.append(Check(
        "fct_ranks_within_range", "marts", "marts.fct_indicator_values", f"ranks between 1 and {int(t['max_rank'])}",
        "select indicator_id, municipality_code, year, value from marts.fct_indicator_values "
        "where unit = 'rank' and value is not null",
        lambda gxe: [gxe.ExpectColumnValuesToBeBetween(column="value", min_value=1, max_value=t["max_rank"],
                                                       result_format="COMPLETE")]))
    checks.append(Check(
        "fct_scores_within_scale", "marts", "marts.fct_indicator_values", "scale scores within their scale",
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
        f"the home municipality ({home}) in every key figure and year, with figures",
        f"""select key_figure_id, year, count(*) filter (where region_code = '{home}') as home_rows,
                   count(value) filter (where region_code = '{home}') as home_figures
            from marts.kostra_comparison group by key_figure_id, year order by key_figure_id, year""",
        lambda gxe: [gxe.ExpectTableRowCountToBeBetween(min_value=1),
                     gxe.ExpectColumnValuesToBeBetween(column="home_rows", min_value=1, result_format="COMPLETE"),
                     gxe.ExpectColumnSumToBeBetween(column="home_figures", min_value=1)]))
    checks.append(Check(
        "fct_year_on_year_jumps", "marts", "marts.fct_indicator_values",
        f"changes beyond {t['year_on_year_jump_pct']} % from one year to the next (ranks excluded)",
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
    return checks


def run_gate(con: duckdb.DuckDBPyConnection, home: str, *, config: GateConfig | None = None,
             data_docs_dir: Path | None = None) -> GateResult:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage reporting from a closed network
    import great_expectations as gx
    import great_expectations.expectations as gxe

    config = config or GateConfig.load()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # tqdm bars per expectation flood the run log of a scheduled job
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if data_docs_dir is not None:
        context.add_data_docs_site(site_name="styringsdata", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    source = context.data_sources.add_pandas("duckdb_frames")
    results: list[CheckResult] = []
    for n, check in enumerate(build_checks(con, config, home)):
        frame = con.sql(check.sql).df()
        asset = source.add_dataframe_asset(f"{check.suite}__{n:03d}")
        batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add(gx.ExpectationSuite(f"{check.suite}__{check.name}__{n:03d}"))
        for expectation in check.expectations(gxe):
            suite.add_expectation(expectation)
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{check.name}__{n:03d}", data=batch, suite=suite))
        checkpoint = context.checkpoints.add(gx.Checkpoint(name=f"cp_{n:03d}", validation_definitions=[definition],
                                                           actions=[], result_format="COMPLETE"))
        outcome = checkpoint.run(batch_parameters={"dataframe": frame})
        validation = next(iter(outcome.run_results.values()))
        results.append(_result(check, config, frame, validation))
    docs = None
    if data_docs_dir is not None:
        context.build_data_docs()  # once, from the stored results of every checkpoint above
        docs = str(data_docs_dir / "index.html")
    return GateResult(dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), _merge(results), docs)


def _result(check: Check, config: GateConfig, frame: pd.DataFrame, validation: Any) -> CheckResult:
    failing: list[int] = []
    for item in validation.results:
        if not item.success:
            failing += list(item.result.get("unexpected_index_list") or [])
    if check.whole_frame_is_failures:
        failing = list(range(len(frame))) if not validation.success else []
    rows = sorted(set(failing))
    sample = json.loads(frame.iloc[rows[: config.failing_rows_kept]].to_json(orient="records", date_format="iso"))
    return CheckResult(
        name=check.name, suite=check.suite, table=check.table, severity=config.severities[check.name],
        description=check.description, passed=bool(validation.success), rows_checked=len(frame),
        failing_rows=len(set(failing)) if failing else (0 if validation.success else 1),
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
            name, first.suite, ", ".join(r.table for r in failing) or f"{len(group)} raw tables", first.severity,
            first.description, not failing, sum(r.rows_checked for r in group), sum(r.failing_rows for r in group),
            [e for r in failing for e in r.examples][: max(len(first.examples), 5)],
            [row for r in failing for row in r.failing_sample]))
    return merged
