"""The municipality's own registers and surveys: bundled published values plus the inbox drop zone."""

import dagster as dg

from styringsdata.queries import one_value
from styringsdata.sources.catalogue import registry_reference
from styringsdata.raw.raw_store import load_registry_vintage
from styringsdata.sources.registry import (REFERENCE_SNAPSHOT, land_seed_files, landed_reference, parse_landed, process_inbox,
                                write_reference_snapshot)
from styringsdata.defs.file_contracts import inbox_metadata, log_inbox
from styringsdata.defs.keys import REGISTRY, WAITS_FOR_CODES
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.runs.build_state import RAW_CHANGED


@dg.asset(
    key=REGISTRY,
    group_name="registry",
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    deps=WAITS_FOR_CODES,
    description=(
        "Figures from the home municipality's own registers and surveys (its own, KS, Sentio, Ungdata, Udir, "
        "Nkom, Bedre VANN, ...): files dropped in the registry inbox are validated whole; accepted files land "
        "as vintages and load into raw.registry_values, rejected ones go to quarantine with an error report. "
        "The Handlingsprogram's published 2019-2022 values (its author's, 3203) are bundled as the first vintage."
    ),
)
def registry_values(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings
    landing = pipeline.landing()
    with pipeline.work_db() as con:
        reference = registry_reference(con, settings.catalogue_path, max_bytes=settings.registry_max_bytes)
        # `styringsdata registry check` reads this, never the work file a run is writing.
        write_reference_snapshot(settings.data_dir / REFERENCE_SNAPSHOT, reference)
        land_seed_files(settings.registry_seed, landing, reference)
        inbox = process_inbox(settings.registry_inbox, settings.quarantine, landing, reference,
                              settle_seconds=settings.registry_settle_seconds)
        log_inbox(context, "registry", inbox)
        loaded_rows = 0
        vintages = 0
        # A vintage landed before one of its indicators moved to another route (UTD02 ... to udir) stays loadable:
        # raw keeps its rows, and the marts take registry figures only for indicators the catalogue routes here.
        landed = landed_reference(reference)
        for table in sorted(p.name for p in (settings.landing_dir / "registry").iterdir()) \
                if (settings.landing_dir / "registry").is_dir() else []:
            for vintage in landing.vintages("registry", table):
                manifest, rows = parse_landed(landing.vintage_dir("registry", table, vintage), landed)
                result = load_registry_vintage(con, landing.vintage_dir("registry", table, vintage), rows, manifest)
                loaded_rows += result.rows
                vintages += 0 if result.already_loaded else 1
        total = one_value(con, "select count(*) from raw.registry_values")
    return dg.MaterializeResult(
        metadata={
            **inbox_metadata(inbox),
            "new_vintages_loaded": vintages,
            RAW_CHANGED: vintages > 0,
            "rows_loaded": loaded_rows,
            "dagster/row_count": total,
        }
    )
