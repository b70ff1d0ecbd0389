"""File sources without an API: Miljødirektoratet's emissions workbook and NHO Kommune-NM rankings."""

import dagster as dg

from ingestion import kommune_nm, miljodirektoratet
from ingestion.landing import read_manifest
from ingestion.raw_store import load_emissions_vintage, load_kommune_nm_vintage
from orchestration.defs.resources import DUCKDB_WRITER_POOL, PipelineResource


@dg.asset(
    key=dg.AssetKey(["raw", "miljodirektoratet_emissions"]),
    group_name="miljodirektoratet",
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    description=(
        "Miljødirektoratet, Klimagassutslipp fra kommuner: the whole xlsx (sheet 'Oversikt - detaljert'), "
        "every municipality, year, sector, source and gas. Refused when the download is not a real xlsx."
    ),
)
def miljodirektoratet_emissions(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    result = miljodirektoratet.refresh(pipeline.transport, pipeline.landing())
    manifest = read_manifest(result.landing_path)
    data = (result.landing_path / manifest["payloads"][0]["file"]).read_bytes()
    rows = miljodirektoratet.parse_workbook(data, str(result.landing_path))
    with pipeline.work_db() as con:
        loaded = load_emissions_vintage(con, result.landing_path, rows)
    return dg.MaterializeResult(metadata={"vintage": result.vintage, "new_vintage": result.changed,
                                          "rows_loaded": loaded.rows, "dagster/row_count": len(rows)})


@dg.asset(
    key=dg.AssetKey(["raw", "kommune_nm_ranks"]),
    group_name="kommune_nm",
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    description=(
        "NHO Kommune-NM rankings from files in the documented column contract (README 'NHO Kommune-NM'): "
        "bundled in snapshots/kommune_nm/ and dropped in data/inbox/kommune_nm/."
    ),
)
def kommune_nm_ranks(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings
    landing = pipeline.landing()
    limit = settings.registry_max_bytes
    landed = kommune_nm.land_files(settings.snapshot_dir / "kommune_nm", landing, max_bytes=limit)
    landed += kommune_nm.land_files(settings.data_dir / "inbox" / "kommune_nm", landing, max_bytes=limit)
    loaded = 0
    with pipeline.work_db() as con:
        for vintage_dir in landed:
            manifest = read_manifest(vintage_dir)
            rows = kommune_nm.parse((vintage_dir / manifest["payloads"][0]["file"]).read_bytes(),
                                    manifest.get("original_name", "kommune_nm"))
            loaded += load_kommune_nm_vintage(con, vintage_dir, rows).rows
        total = con.execute("select count(*) from raw.kommune_nm_ranks").fetchone()[0]
    return dg.MaterializeResult(metadata={"files": len(landed), "rows_loaded": loaded, "dagster/row_count": total})
