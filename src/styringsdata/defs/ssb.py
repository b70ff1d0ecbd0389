"""One asset per SSB table: fetch a new vintage when SSB's `updated` moved, land it, load it into raw."""


import dagster as dg

from styringsdata.raw.raw_store import load_landed_ssb
from styringsdata.sources.ssb import SsbCheck, TableSpec, TableSpecs, check_ssb, load_table_specs, refresh_table
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.runs.build_state import RAW_CHANGED

# The run's one SSB change check, made by its first SSB asset and used by all (a run is one process:
# definitions.py uses the in-process executor). Keyed by run id, so a later run asks again.
_RUN_CHECK: dict[str, SsbCheck] = {}


def run_check(context: dg.AssetExecutionContext, pipeline: PipelineResource, specs: TableSpecs) -> SsbCheck:
    run_id = context.run.run_id
    if run_id not in _RUN_CHECK:
        _RUN_CHECK.clear()
        _RUN_CHECK[run_id] = check_ssb(pipeline.ssb(), pipeline.landing(), [t.table_id for t in specs.tables])
        context.log.info(_RUN_CHECK[run_id].how)
    return _RUN_CHECK[run_id]


def build_ssb_asset(spec: TableSpec, specs: TableSpecs) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", f"ssb_{spec.table_id}"]),
        group_name="ssb",
        kinds={"python", "duckdb"},
        pool=DUCKDB_WRITER_POOL,
        description=(f"SSB table {spec.table_id}: {spec.title}. Series and evidence grades: "
                     + "; ".join(f"{s.name} {s.evidence.grade}" for s in spec.series)
                     + " (src/styringsdata/sources/ssb_tables.yaml)."),
        metadata={"ssb_table": spec.table_id, "region_variable": spec.region_variable},
    )
    def _asset(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
        check = run_check(context, pipeline, specs)
        result = refresh_table(pipeline.ssb(), pipeline.landing(), specs, spec, check)
        with pipeline.work_db() as con:
            # every landed vintage raw lacks, not only this one: a new work file gets the whole history back
            loaded = load_landed_ssb(con, pipeline.landing(), spec.table_id)
            total = con.execute(
                f"select count(*) from raw.ssb_{spec.table_id} where _vintage = ?", [result.vintage]).fetchone()[0]
        if result.dropped_codes:
            context.log.info(f"{spec.table_id}: codes the table does not carry, skipped: {result.dropped_codes}")
        return dg.MaterializeResult(
            metadata={
                "vintage": result.vintage,
                "source_updated": result.source_updated,
                "new_vintage": result.changed,
                RAW_CHANGED: any(not r.already_loaded for r in loaded),
                "data_requests": result.data_requests,
                "change_check": check.how,
                "cells_requested": result.cells_requested,
                "rows_loaded": sum(r.rows for r in loaded),
                "vintages_loaded": dg.MetadataValue.json([r.vintage for r in loaded]),
                "dagster/row_count": total,
                "landing_path": dg.MetadataValue.path(str(result.landing_path)),
            }
        )

    return _asset


def build_ssb_assets(specs: TableSpecs | None = None) -> list[dg.AssetsDefinition]:
    specs = specs or load_table_specs()
    return [build_ssb_asset(spec, specs) for spec in specs.tables]
