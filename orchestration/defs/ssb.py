"""One asset per SSB table: fetch a new vintage when SSB's `updated` moved, land it, load it into raw."""


import dagster as dg

from ingestion.raw_store import load_ssb_vintage
from ingestion.ssb import TableSpec, TableSpecs, load_table_specs, refresh_table
from orchestration.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from orchestration.lib.build_state import RAW_CHANGED


def build_ssb_asset(spec: TableSpec, specs: TableSpecs) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", f"ssb_{spec.table_id}"]),
        group_name="ssb",
        kinds={"python", "duckdb"},
        pool=DUCKDB_WRITER_POOL,
        description=(f"SSB table {spec.table_id}: {spec.title}. Series and evidence grades: "
                     + "; ".join(f"{s.name} {s.evidence.grade}" for s in spec.series) + " (ingestion/ssb_tables.yaml)."),
        metadata={"ssb_table": spec.table_id, "region_variable": spec.region_variable},
    )
    def _asset(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
        result = refresh_table(pipeline.ssb(), pipeline.landing(), specs, spec)
        with pipeline.work_db() as con:
            loaded = load_ssb_vintage(con, result.landing_path)
            total = con.execute(
                f"select count(*) from raw.ssb_{spec.table_id} where _vintage = ?", [result.vintage]).fetchone()[0]
        if result.dropped_codes:
            context.log.info(f"{spec.table_id}: codes the table does not carry, skipped: {result.dropped_codes}")
        return dg.MaterializeResult(
            metadata={
                "vintage": result.vintage,
                "source_updated": result.source_updated,
                "new_vintage": result.changed,
                RAW_CHANGED: not loaded.already_loaded,
                "data_requests": result.data_requests,
                "cells_requested": result.cells_requested,
                "rows_loaded": loaded.rows,
                "dagster/row_count": total,
                "landing_path": dg.MetadataValue.path(str(result.landing_path)),
            }
        )

    return _asset


def build_ssb_assets(specs: TableSpecs | None = None) -> list[dg.AssetsDefinition]:
    specs = specs or load_table_specs()
    return [build_ssb_asset(spec, specs) for spec in specs.tables]
