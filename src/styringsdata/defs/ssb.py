"""One asset per SSB table: fetch a new vintage when SSB's `updated` moved, land it, load it into raw."""


import dagster as dg

from styringsdata.queries import one_value
from styringsdata.raw.raw_store import load_landed_ssb, raw_table_exists
from styringsdata.sources.ssb import (RefreshResult, SsbCheck, TableSpec, TableSpecs, check_ssb, refresh_table)
from styringsdata.defs.keys import ssb_key
from styringsdata.defs.resources import PipelineResource
from styringsdata.defs.source_checks import failure_metadata, source_asset, source_check_result
from styringsdata.runs.source_outcomes import SourceFailure, attempt, changed_metadata, record

# The run's one SSB change check, made by its first SSB asset and used by all (a run is one process:
# definitions.py uses the in-process executor). Keyed by run id, so a later run asks again.
# A check that failed (SSB's listing answered 503) is kept too: every SSB asset of the run reports it once.
_RUN_CHECK: dict[str, SsbCheck | SourceFailure] = {}


def run_check(context: dg.AssetExecutionContext, pipeline: PipelineResource,
              specs: TableSpecs) -> SsbCheck | SourceFailure:
    run_id = context.run.run_id
    if run_id not in _RUN_CHECK:
        _RUN_CHECK.clear()
        outcome = attempt("SSB", "(change check)", lambda: check_ssb(
            pipeline.ssb(), pipeline.landing(), [t.table_id for t in specs.tables]))
        _RUN_CHECK[run_id] = outcome
        if isinstance(outcome, SsbCheck):
            context.log.info(outcome.how)
    return _RUN_CHECK[run_id]


def build_ssb_asset(spec: TableSpec, specs: TableSpecs) -> dg.AssetsDefinition:
    key = ssb_key(spec.table_id)

    @source_asset(
        key=key,
        group="ssb",
        description=(f"SSB table {spec.table_id}: {spec.title}. Series and evidence grades: "
                     + "; ".join(f"{s.name} {s.evidence.grade}" for s in spec.series)
                     + " (src/styringsdata/sources/ssb_tables.yaml)."),
        metadata={"ssb_table": spec.table_id, "region_variable": spec.region_variable},
    )
    def _asset(context: dg.AssetExecutionContext, pipeline: PipelineResource):
        check = run_check(context, pipeline, specs)
        result: RefreshResult | SourceFailure
        if isinstance(check, SourceFailure):
            result = check
        else:
            answered: SsbCheck = check
            result = attempt("SSB", spec.table_id,
                             lambda: refresh_table(pipeline.ssb(), pipeline.landing(), specs, spec, answered))
        if isinstance(result, SourceFailure):
            result = SourceFailure("SSB", spec.table_id, result.error_class, result.message, result.advice)
        with pipeline.work_db() as con:
            # every landed vintage raw lacks, not only this one: a new work file gets the whole history back
            loaded = load_landed_ssb(con, pipeline.landing(), spec.table_id)
            outcome_changed = record(con, context.run.run_id, "SSB", [spec.table_id],
                                     [result] if isinstance(result, SourceFailure) else [])
            if isinstance(result, SourceFailure):
                return _failed(context, result, loaded, con, outcome_changed)
            total = one_value(con, f"select count(*) from raw.ssb_{spec.table_id} where _vintage = ?", [result.vintage])
        if result.dropped_codes:
            context.log.info(f"{spec.table_id}: codes the table does not carry, skipped: {result.dropped_codes}")
        return dg.MaterializeResult(
            metadata={
                "vintage": result.vintage,
                "source_updated": result.source_updated,
                "new_vintage": result.changed,
                **changed_metadata(outcome_changed, any(not r.already_loaded for r in loaded)),
                "data_requests": result.data_requests,
                "change_check": answered.how,
                "cells_requested": result.cells_requested,
                "rows_loaded": sum(r.rows for r in loaded),
                "vintages_loaded": dg.MetadataValue.json([r.vintage for r in loaded]),
                "dagster/row_count": total,
                "landing_path": dg.MetadataValue.path(str(result.landing_path)),
                **failure_metadata([]),
            },
            check_results=[source_check_result(key, [spec.table_id], [])],
        )

    def _failed(context, failure: SourceFailure, loaded, con, outcome_changed: bool) -> dg.MaterializeResult:
        # info, not error: the terminal prints one line per failed source at the end; the UI shows the check
        context.log.info(f"{failure.line()}; the table keeps what raw holds")
        total = one_value(con, f"select count(*) from raw.ssb_{spec.table_id} where _vintage = (select max(_vintage) "
                               f"from raw.ssb_{spec.table_id})") if raw_table_exists(con, f"ssb_{spec.table_id}") else 0
        return dg.MaterializeResult(
            metadata={"new_vintage": False,
                      **changed_metadata(outcome_changed, any(not r.already_loaded for r in loaded)),
                      "data_requests": 0, "rows_loaded": sum(r.rows for r in loaded), "dagster/row_count": total,
                      **failure_metadata([failure])},
            check_results=[source_check_result(key, [spec.table_id], [failure])],
        )

    return _asset


def build_ssb_assets(specs: TableSpecs) -> list[dg.AssetsDefinition]:
    return [build_ssb_asset(spec, specs) for spec in specs.tables]
