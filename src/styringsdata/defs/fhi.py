"""FHI Statistikk (the former Kommunehelsa statistikkbank): the public-health indicators with a known table."""

import dagster as dg

from styringsdata.sources.fhi import FhiClient, load_fhi_specs, modified_since, refresh_table
from styringsdata.raw.raw_store import load_landed_fhi
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.runs.build_state import RAW_CHANGED

FHI_SPECS = load_fhi_specs()


@dg.asset(
    key=dg.AssetKey(["raw", "fhi_nokkel"]),
    group_name="fhi",
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    description=(
        f"FHI Statistikk open API, source '{FHI_SPECS.source_id}': {len(FHI_SPECS.tables)} tables for "
        f"{len(FHI_SPECS.indicators) - len(FHI_SPECS.without_table)} of the {len(FHI_SPECS.indicators)} indicators "
        "citing Kommunehelse statistikkbank (the others have no known table; `styringsdata doctor --live` lists "
        "candidates). One `table?modifiedAfter=` listing decides which tables are fetched again; raw.fhi_values."
    ),
)
def fhi_nokkel(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    client = FhiClient(pipeline.transport)
    landing = pipeline.landing()
    since = modified_since(landing, FHI_SPECS)
    modified, _ = client.modified_tables(FHI_SPECS.source_id, since)
    fetched, rows, newly_loaded, requests = [], 0, 0, 0
    with pipeline.work_db() as con:
        for table in FHI_SPECS.tables:
            result = refresh_table(client, landing, FHI_SPECS, table, modified)
            if result.changed:
                fetched.append(table.table_id)
            requests += result.data_requests
            for loaded in load_landed_fhi(con, landing, table.table_id):  # every vintage raw lacks
                rows += loaded.rows
                newly_loaded += 0 if loaded.already_loaded else 1
        total = con.execute("select count(*) from raw.fhi_values").fetchone()[0]
    return dg.MaterializeResult(metadata={
        "modified_after": str(since) if since else "(first fetch: all tables)",
        "tables_fetched": dg.MetadataValue.json(fetched),
        "data_requests": requests,
        "new_vintage": bool(fetched),
        RAW_CHANGED: newly_loaded > 0,
        "rows_loaded": rows,
        "dagster/row_count": total,
    })
