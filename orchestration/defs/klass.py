"""SSB KLASS classification 131 changes: the municipality lineage every series is harmonised with."""


import datetime as dt

import dagster as dg

from ingestion.klass import refresh_changes
from ingestion.raw_store import load_landed_klass
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
        landing = pipeline.landing()
        loaded = load_landed_klass(con, landing, result.landing_path.parent.name)  # every vintage raw lacks
        lineage_rows = con.execute(
            "select count(*) from raw.klass_municipality_lineage where _vintage = ?", [result.vintage]).fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "vintage": result.vintage,
            "new_vintage": result.changed,
            RAW_CHANGED: any(not r.already_loaded for r in loaded),
            "changes": result.changes,
            "rows_loaded": sum(r.rows for r in loaded),
            "lineage_rows": lineage_rows,
            "landing_path": dg.MetadataValue.path(str(result.landing_path)),
        }
    )
