"""The quality gate as Dagster asset checks on the work file, one per rule and table it checks.

The rules, their descriptions and the tables they check come from src/styringsdata/quality/gate.py RULES (severities from
gate.yaml); each check hangs on the asset of the table it checks (raw.ssb_12143 -> raw/ssb_12143). Checks on
marts with severity "error" are blocking: when one fails, nothing downstream of the checked marts runs in that
run. Checks on raw tables cannot block in Dagster (the gate runs after dbt, downstream of the raw assets; a
blocking check there would make dbt wait for it), but the publish step refuses on its own when any error-severity
rule failed (it reads this run's gate result), so a failed gate never touches data/warehouse.duckdb.
"""


import dagster as dg

from styringsdata.quality.gate import (RULES, CheckResult, GateConfig, GateResult, describe, gate_result_path,  # noqa: F401
                                       read_gate_result, rule_tables, run_gate)
from styringsdata.defs.keys import SSB_SPECS
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource, run_started_at
from styringsdata.reporting.report import RunInfo
from styringsdata.reporting.report_delivery import deliver
from styringsdata.runs.source_outcomes import SourceFailure, latest_failures

CONFIG = GateConfig.load()
SSB_TABLE_IDS = [spec.table_id for spec in SSB_SPECS.tables]


def asset_of(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))  # "marts.fct_indicator_values" -> marts/fct_indicator_values


def _spec(name: str, table: str) -> dg.AssetCheckSpec:
    severity = CONFIG.severities[name]
    blocking = severity == "error" and table.startswith("marts.")
    consequence = ("blocks the publication" if blocking else
                   "the publish step refuses when it fails" if severity == "error" else "reported, never blocks")
    return dg.AssetCheckSpec(
        name, asset=asset_of(table), blocking=blocking,
        description=f"{describe(name, CONFIG, 'set by STYRINGSDATA_HOME_MUNICIPALITY')} "
                    f"Severity {severity}: {consequence}. Rule in src/styringsdata/quality/gate.py, severity in gate.yaml; "
                    f"failing rows in the check's metadata and Data Docs.",
        metadata={"rule": name, "severity": severity, "table": table, "gx_suite": RULES[name].layer})


SPECS = [_spec(name, table) for name in RULES for table in rule_tables(name, SSB_TABLE_IDS)]



@dg.multi_asset_check(specs=SPECS, pool=DUCKDB_WRITER_POOL, can_subset=True,
                      description="The publication gate: Great Expectations suites on the work file "
                                  "(src/styringsdata/quality/gate.py).")
def quality_gate(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource):
    settings = pipeline.settings
    run_id = context.run.run_id
    with pipeline.work_db() as con:
        result = run_gate(con, settings.home_municipality, config=CONFIG, data_docs_dir=settings.reports_dir / "gx")
        # raw tables of SSB tables that failed before their first vintage: nothing to check, and no reason to block
        never_loaded = {f"raw.ssb_{f.source_table}": f for f in latest_failures(con) if f.source == "SSB"}
    path = gate_result_path(settings.reports_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.to_json(), encoding="utf-8")
    if not result.passed:
        # Blocking checks skip the publish and the report asset, so the held-back report is written here.
        names = ", ".join(c.name for c in result.errors)
        run = RunInfo(run_id=run_id, started_at=run_started_at(context.instance, run_id), outcome="held_back",
                      reason=f"the quality gate failed: {names}", home_municipality=settings.home_municipality)
        deliver(settings.work_db, settings.reports_dir, run, result, settings.mail, context.log,
                number_style=settings.number_format)
    found = {(c.name, c.table): c for c in result.by_table}
    for key in sorted(context.selected_asset_check_keys, key=lambda k: (k.name, k.asset_key.to_user_string())):
        table = ".".join(key.asset_key.path)
        check = found.pop((key.name, table), None) or _not_in_work_file(key.name, table, never_loaded.get(table))
        yield _check_result(check, key, result.data_docs)
    unplanned = sorted(f"{name} on {table}" for name, table in found if (name, table) not in _planned())
    if unplanned:  # e.g. an SSB table still in raw but no longer in src/styringsdata/sources/ssb_tables.yaml: in the report only
        context.log.warning(f"gate results without a Dagster check: {', '.join(unplanned)}")


def _planned() -> set[tuple[str, str]]:
    return {(spec.name, ".".join(spec.asset_key.path)) for spec in SPECS}


def _not_in_work_file(name: str, table: str, failure: SourceFailure | None = None) -> CheckResult:
    if failure is not None:  # the source's own check (source_answered) fails with the error; a warning here
        return CheckResult(name=name, suite=RULES[name].layer, table=table, severity="warning",
                           description=f"{table} is not in the work file: {failure.what()} failed before any "
                                       f"vintage was loaded ({failure.error_class}); its figures have status "
                                       "source_error", passed=False, rows_checked=0, failing_rows=0)
    return CheckResult(name=name, suite=RULES[name].layer, table=table, severity=CONFIG.severities[name],
                       description=f"{table} is not in the work file: nothing was checked", passed=False,
                       rows_checked=0, failing_rows=0)


def _check_result(check: CheckResult, key: dg.AssetCheckKey, data_docs: str | None) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=key.name,
        asset_key=key.asset_key,
        passed=check.passed,
        severity=dg.AssetCheckSeverity.ERROR if check.severity == "error" else dg.AssetCheckSeverity.WARN,
        metadata={
            "table": check.table,
            "rows_checked": check.rows_checked,
            "failing_rows": check.failing_rows,
            "examples": dg.MetadataValue.json(check.examples),
            "data_docs": dg.MetadataValue.path(data_docs or ""),
        },
        description=check.description,
    )
