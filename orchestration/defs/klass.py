"""SSB KLASS classification 131 changes: the municipality lineage every series is harmonised with."""


import datetime as dt

import dagster as dg

from ingestion.klass import refresh_changes
from ingestion.raw_store import load_klass_vintage
from orchestration.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from orchestration.lib.build_state import RAW_CHANGED

CHANGES_FROM = dt.date(2018, 1, 1)


@dg.asset(
    key=dg.AssetKey(["raw", "klass_municipality_changes"]),
    group_name="klass",
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    description=(
        "Municipality code changes since 2018 from SSB KLASS (classification 131), and the transitive "
        "lineage from every former code to today's codes (raw.klass_municipality_lineage)."
    ),
)
def klass_municipality_changes(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    result = refresh_changes(pipeline.klass(), pipeline.landing(), CHANGES_FROM)
    with pipeline.work_db() as con:
        loaded = load_klass_vintage(con, result.landing_path)
        lineage_rows = con.execute(
            "select count(*) from raw.klass_municipality_lineage where _vintage = ?", [result.vintage]).fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "vintage": result.vintage,
            "new_vintage": result.changed,
            RAW_CHANGED: not loaded.already_loaded,
            "changes": result.changes,
            "rows_loaded": loaded.rows,
            "lineage_rows": lineage_rows,
            "landing_path": dg.MetadataValue.path(str(result.landing_path)),
        }
    )
