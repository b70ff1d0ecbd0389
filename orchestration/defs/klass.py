"""SSB KLASS classification 131 changes: the municipality lineage every series is harmonised with."""


import datetime as dt

import dagster as dg

from ingestion.klass import refresh_changes, refresh_kostra_groups
from ingestion.raw_store import load_klass_vintage, load_kostra_groups_vintage
from ingestion.ssb import load_table_specs
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


@dg.asset(
    key=dg.AssetKey(["raw", "klass_kostra_groups"]),
    group_name="klass",
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    description=(
        "KOSTRA group membership from SSB KLASS classification 112 (correspondsAt 131 on 1 January of every "
        "configured year): which KOSTRA group (EKGnn) each municipality belonged to. The comparison takes the "
        "members' groups from this, never from a code written into the project."
    ),
)
def klass_kostra_groups(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    specs = load_table_specs()
    result = refresh_kostra_groups(pipeline.klass(), pipeline.landing(), range(specs.first_year, specs.last_year + 1))
    with pipeline.work_db() as con:
        loaded = load_kostra_groups_vintage(con, result.landing_path)
    return dg.MaterializeResult(
        metadata={
            "vintage": result.vintage,
            "new_vintage": result.changed,
            RAW_CHANGED: not loaded.already_loaded,
            "memberships": result.changes,
            "rows_loaded": loaded.rows,
            "landing_path": dg.MetadataValue.path(str(result.landing_path)),
        }
    )
