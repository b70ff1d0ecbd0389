"""SSB KLASS classification 131 changes: the municipality lineage every series is harmonised with."""


import dagster as dg

from styringsdata.sources.klass import CHANGES_FROM, refresh_changes, refresh_kostra_groups
from styringsdata.raw.raw_store import load_landed_klass, load_landed_kostra_groups
from styringsdata.sources.ssb import load_table_specs
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.runs.build_state import RAW_CHANGED


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
        loaded = load_landed_kostra_groups(con, pipeline.landing(), result.landing_path.parent.name)  # every vintage
    return dg.MaterializeResult(
        metadata={
            "vintage": result.vintage,
            "new_vintage": result.changed,
            RAW_CHANGED: any(not r.already_loaded for r in loaded),
            "memberships": result.changes,
            "rows_loaded": sum(r.rows for r in loaded),
            "landing_path": dg.MetadataValue.path(str(result.landing_path)),
        }
    )
