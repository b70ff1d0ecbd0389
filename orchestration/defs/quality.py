"""The quality gate as Dagster asset checks on the work file.

Checks with severity "error" (expectations/gate.yaml) are blocking: when one fails, nothing downstream
of the checked marts runs in that run, and the publish step also refuses on its own (it reads this
run's gate result), so a failed gate never touches data/warehouse.duckdb.
"""

from pathlib import Path

import dagster as dg

from expectations.gate import GateConfig, GateResult, run_gate
from orchestration.defs.resources import DUCKDB_WRITER_POOL, PipelineResource, run_started_at
from orchestration.lib.report import RunInfo
from orchestration.lib.report_delivery import deliver

CONFIG = GateConfig.load()
# Which mart each check guards. Raw-layer checks hang on fct_indicator_values too: they run after
# dbt on the same work file, and attaching them upstream would split the dbt step around the checks.
CHECK_TARGETS = {
    "raw_keys_not_null": ["marts", "fct_indicator_values"],
    "raw_periods_well_formed": ["marts", "fct_indicator_values"],
    "raw_units_known": ["marts", "fct_indicator_values"],
    "raw_municipality_codes_valid": ["marts", "fct_indicator_values"],
    "catalogue_complete": ["marts", "indicator_catalogue"],
    "fct_covers_catalogue": ["marts", "fct_indicator_values"],
    "fct_unique_grain": ["marts", "fct_indicator_values"],
    "fct_status_allowed": ["marts", "fct_indicator_values"],
    "fct_missing_is_never_a_number": ["marts", "fct_indicator_values"],
    "fct_shares_within_0_100": ["marts", "fct_indicator_values"],
    "fct_ranks_within_range": ["marts", "fct_indicator_values"],
    "fct_scores_within_scale": ["marts", "fct_indicator_values"],
    "kostra_home_present": ["marts", "kostra_comparison"],
    "fct_year_on_year_jumps": ["marts", "fct_indicator_values"],
}
assert set(CHECK_TARGETS) == set(CONFIG.severities), "expectations/gate.yaml and CHECK_TARGETS disagree"


def gate_result_path(reports_dir: Path, run_id: str) -> Path:
    return reports_dir / "gate" / f"{run_id}.json"


def read_gate_result(reports_dir: Path, run_id: str) -> GateResult | None:
    path = gate_result_path(reports_dir, run_id)
    return GateResult.from_json(path.read_text(encoding="utf-8")) if path.exists() else None


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(name, asset=dg.AssetKey(target), blocking=CONFIG.severities[name] == "error",
                          description=f"Great Expectations check ({CONFIG.severities[name]})")
        for name, target in CHECK_TARGETS.items()
    ],
    pool=DUCKDB_WRITER_POOL,
)
def quality_gate(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource):
    settings = pipeline.settings
    run_id = context.run.run_id
    with pipeline.work_db() as con:
        result = run_gate(con, settings.home_municipality, config=CONFIG, data_docs_dir=settings.reports_dir / "gx")
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
    for check in result.checks:
        yield dg.AssetCheckResult(
            check_name=check.name,
            asset_key=dg.AssetKey(CHECK_TARGETS[check.name]),
            passed=check.passed,
            severity=dg.AssetCheckSeverity.ERROR if check.severity == "error" else dg.AssetCheckSeverity.WARN,
            metadata={
                "table": check.table,
                "rows_checked": check.rows_checked,
                "failing_rows": check.failing_rows,
                "examples": dg.MetadataValue.json(check.examples),
                "data_docs": dg.MetadataValue.path(result.data_docs or ""),
            },
            description=check.description,
        )
