"""File sources without an API: Miljødirektoratet's emissions workbook and NHO Kommune-NM rankings."""

import dagster as dg

from styringsdata.sources import kommune_nm, miljodirektoratet
from styringsdata.raw.raw_store import load_landed_emissions, load_landed_kommune_nm
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.runs.build_state import RAW_CHANGED


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
        # every landed workbook raw lacks (a new work file gets the whole history back); a known workbook is
        # recognised by its vintage and never parsed again
        loaded = load_landed_emissions(con, pipeline.landing(), result.landing_path.parent.name,
                                       miljodirektoratet.parse_workbook,
                                       {result.vintage: result.parsed} if result.parsed is not None else None)
        total = con.execute("select count(*) from raw.miljodirektoratet_emissions where _vintage = ?",
                            [result.vintage]).fetchone()[0]
    return dg.MaterializeResult(metadata={"vintage": result.vintage, "new_vintage": result.changed,
                                          RAW_CHANGED: any(not r.already_loaded for r in loaded),
                                          "rows_loaded": sum(r.rows for r in loaded), "dagster/row_count": total})


@dg.asset(
    key=dg.AssetKey(["raw", "kommune_nm_ranks"]),
    group_name="kommune_nm",
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    description=(
        "NHO Kommune-NM rankings from files in the documented column contract (docs/sources.md, 'NHO Kommune-NM'): "
        "bundled in snapshots/kommune_nm/ and dropped in data/inbox/kommune_nm/."
    ),
)
def kommune_nm_ranks(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings
    landing = pipeline.landing()
    limit = settings.registry_max_bytes
    landed = kommune_nm.land_files(settings.snapshot_dir / "kommune_nm", landing, max_bytes=limit)
    inbox = kommune_nm.take_inbox(settings.data_dir / "inbox" / "kommune_nm", settings.quarantine, landing,
                                  settle_seconds=settings.registry_settle_seconds, max_bytes=limit)
    for name, report in inbox.rejected:
        context.log.warning(f"Kommune-NM file {name} rejected, moved to quarantine (the last good vintage stays in "
                            f"use); report: {report}")
    for name, why in inbox.skipped:
        context.log.info(f"Kommune-NM file {name} left in the inbox: {why}")
    landed += [path for _, path in inbox.accepted]
    with pipeline.work_db() as con:
        results = load_landed_kommune_nm(con, landing, kommune_nm.parse)  # every landed file raw lacks
        loaded = sum(r.rows for r in results)
        newly_loaded = sum(not r.already_loaded for r in results)
        total = con.execute("select count(*) from raw.kommune_nm_ranks").fetchone()[0]
    return dg.MaterializeResult(metadata={"files": len(landed), "rejected_files": dg.MetadataValue.json(
                                              {name: str(path) for name, path in inbox.rejected}),
                                          "waiting_files": dg.MetadataValue.json(dict(inbox.skipped)),
                                          "rows_loaded": loaded, RAW_CHANGED: newly_loaded > 0,
                                          "dagster/row_count": total})
