"""FHI Statistikk (the former Kommunehelsa statistikkbank): the public-health indicators with a known table."""

import functools

import dagster as dg

from styringsdata.queries import one_value
from styringsdata.sources.fhi import FhiClient, FhiRefresh, load_fhi_specs, modified_since, refresh_table
from styringsdata.raw.raw_store import create_fhi_table, load_landed_fhi
from styringsdata.defs.keys import FHI
from styringsdata.defs.resources import PipelineResource
from styringsdata.defs.source_checks import failure_metadata, source_asset, source_check_result
from styringsdata.runs.source_outcomes import SourceFailure, attempt, changed_metadata, record

FHI_SPECS = load_fhi_specs()


@source_asset(
    key=FHI,
    group="fhi",
    description=(
        f"FHI Statistikk open API, source '{FHI_SPECS.source_id}': {len(FHI_SPECS.tables)} tables for "
        f"{len(FHI_SPECS.indicators) - len(FHI_SPECS.without_table)} of the {len(FHI_SPECS.indicators)} indicators "
        "citing Kommunehelse statistikkbank (the others have no known table; `styringsdata doctor --live` lists "
        "candidates). One `table?modifiedAfter=` listing decides which tables are fetched again; raw.fhi_values. "
        "A table that fails keeps what raw holds; the others are fetched."
    ),
)
def fhi_nokkel(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    client = FhiClient(pipeline.transport)
    landing = pipeline.landing()
    since = modified_since(landing, FHI_SPECS)
    table_ids = list(dict.fromkeys(t.table_id for t in FHI_SPECS.tables))
    listing = attempt("FHI", "(table list)", lambda: client.modified_tables(FHI_SPECS.source_id, since))
    fetched: list[str] = []
    rows, newly_loaded, requests = 0, 0, 0
    failures: dict[str, SourceFailure] = {}
    with pipeline.work_db() as con:
        for table in FHI_SPECS.tables:
            result: FhiRefresh | SourceFailure
            if isinstance(listing, SourceFailure):
                result = listing
            elif table.table_id in failures:
                result = failures[table.table_id]
            else:
                result = attempt("FHI", table.table_id,
                                 functools.partial(refresh_table, client, landing, FHI_SPECS, table, listing[0]))
            if isinstance(result, SourceFailure):
                failures[table.table_id] = SourceFailure("FHI", table.table_id, result.error_class, result.message,
                                                         result.advice)
            else:
                if result.changed:
                    fetched.append(table.table_id)
                requests += result.data_requests
            for loaded in load_landed_fhi(con, landing, table.table_id):  # every vintage raw lacks
                rows += loaded.rows
                newly_loaded += 0 if loaded.already_loaded else 1
        outcome_changed = record(con, context.run.run_id, "FHI", table_ids, list(failures.values()))
        create_fhi_table(con)  # a first run whose every FHI table failed still gives dbt its (empty) table
        total = one_value(con, "select count(*) from raw.fhi_values")
    for failure in failures.values():
        context.log.info(f"{failure.line()}; the table keeps what raw holds")
    return dg.MaterializeResult(metadata={
        "modified_after": str(since) if since else "(first fetch: all tables)",
        "tables_fetched": dg.MetadataValue.json(fetched),
        "data_requests": requests,
        "new_vintage": bool(fetched),
        **changed_metadata(outcome_changed, newly_loaded > 0),
        "rows_loaded": rows,
        "dagster/row_count": total,
        **failure_metadata(list(failures.values())),
    }, check_results=[source_check_result(FHI, table_ids, list(failures.values()))])
