"""File sources without an API: Miljødirektoratet's emissions workbook and NHO Kommune-NM rankings."""

import dagster as dg

from ingestion import kommune_nm, miljodirektoratet
from ingestion.landing import read_manifest
from ingestion.raw_store import (LoadResult, emissions_vintage_loaded, load_emissions_vintage,
                                 load_kommune_nm_vintage)
from orchestration.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from orchestration.lib.build_state import RAW_CHANGED


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
    with pipeline.work_db() as con:
        if emissions_vintage_loaded(con, result.vintage):
            # the same bytes as the vintage raw holds: parsing 47 000 rows again would find nothing new
            loaded = LoadResult("miljodirektoratet_emissions", result.vintage, 0, True)
        else:
            rows = result.parsed
            if rows is None:  # landed before but not in this work file (a new work file)
                manifest = read_manifest(result.landing_path)
                data = (result.landing_path / manifest["payloads"][0]["file"]).read_bytes()
                rows = miljodirektoratet.parse_workbook(data, str(result.landing_path))
            loaded = load_emissions_vintage(con, result.landing_path, rows)
        total = con.execute("select count(*) from raw.miljodirektoratet_emissions where _vintage = ?",
                            [result.vintage]).fetchone()[0]
    return dg.MaterializeResult(metadata={"vintage": result.vintage, "new_vintage": result.changed,
                                          RAW_CHANGED: not loaded.already_loaded,
                                          "rows_loaded": loaded.rows, "dagster/row_count": total})


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
    loaded, newly_loaded = 0, 0
    with pipeline.work_db() as con:
        for vintage_dir in landed:
            manifest = read_manifest(vintage_dir)
            rows = kommune_nm.parse((vintage_dir / manifest["payloads"][0]["file"]).read_bytes(),
                                    manifest.get("original_name", "kommune_nm"))
            result = load_kommune_nm_vintage(con, vintage_dir, rows)
            loaded += result.rows
            newly_loaded += 0 if result.already_loaded else 1
        total = con.execute("select count(*) from raw.kommune_nm_ranks").fetchone()[0]
    return dg.MaterializeResult(metadata={"files": len(landed), "rows_loaded": loaded, RAW_CHANGED: newly_loaded > 0,
                                          "dagster/row_count": total})
