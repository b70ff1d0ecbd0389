"""File sources without an API: Miljødirektoratet's emissions workbook and NHO Kommune-NM rankings."""

import dagster as dg

from styringsdata.queries import one_value
from styringsdata.sources import kommune_nm, miljodirektoratet
from styringsdata.raw.raw_store import (create_emissions_table, create_kommune_nm_table, load_landed_emissions,
                                        load_landed_kommune_nm)
from styringsdata.defs.file_contracts import log_inbox
from styringsdata.defs.keys import EMISSIONS, KOMMUNE_NM
from styringsdata.defs.resources import PipelineResource
from styringsdata.defs.source_checks import failure_metadata, source_asset, source_check_result
from styringsdata.runs.source_outcomes import SourceFailure, attempt, changed_metadata, record

# (source, table) as in raw.source_attempts and marts.source_freshness
EMISSIONS_SOURCE = ("Miljødirektoratet", "Klimagassutslipp fra kommuner")
KOMMUNE_NM_SOURCE = ("NHO Kommune-NM", "kommune_nm")


@source_asset(
    key=EMISSIONS,
    group="miljodirektoratet",
    description=(
        "Miljødirektoratet, Klimagassutslipp fra kommuner: the whole xlsx (sheet 'Oversikt - detaljert'), "
        "every municipality, year, sector, source and gas. Refused when the download is not a real xlsx. "
        "When the download fails, the workbook raw holds stays."
    ),
)
def miljodirektoratet_emissions(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    result = attempt(*EMISSIONS_SOURCE, lambda: miljodirektoratet.refresh(pipeline.transport, pipeline.landing()))
    failures = [result] if isinstance(result, SourceFailure) else []
    refreshed = None if isinstance(result, SourceFailure) else result
    with pipeline.work_db() as con:
        # every landed workbook raw lacks (a new work file gets the whole history back); a known workbook is
        # recognised by its vintage and never parsed again
        parsed = None if refreshed is None or refreshed.parsed is None else {refreshed.vintage: refreshed.parsed}
        loaded = load_landed_emissions(con, pipeline.landing(), miljodirektoratet.TABLE,
                                       miljodirektoratet.parse_workbook, parsed)
        outcome_changed = record(con, context.run.run_id, EMISSIONS_SOURCE[0], [EMISSIONS_SOURCE[1]], failures)
        create_emissions_table(con)
        vintage = one_value(con, "select max(_vintage) from raw.miljodirektoratet_emissions") \
            if refreshed is None else refreshed.vintage
        total = one_value(con, "select count(*) from raw.miljodirektoratet_emissions where _vintage = ?",
                               [vintage])
    for failure in failures:
        context.log.info(f"{failure.line()}; the workbook raw holds stays")
    return dg.MaterializeResult(metadata={"vintage": vintage or "(none yet)",
                                          "new_vintage": refreshed is not None and refreshed.changed,
                                          **changed_metadata(outcome_changed, any(not r.already_loaded for r in loaded)),
                                          "rows_loaded": sum(r.rows for r in loaded), "dagster/row_count": total,
                                          **failure_metadata(failures)},
                                check_results=[source_check_result(EMISSIONS, [EMISSIONS_SOURCE[1]], failures)])


@source_asset(
    key=KOMMUNE_NM,
    group="kommune_nm",
    description=(
        "NHO Kommune-NM rankings from files in the documented column contract (docs/sources.md, 'NHO Kommune-NM'): "
        "bundled in snapshots/kommune_nm/ and dropped in data/inbox/kommune_nm/. A file that cannot be read is "
        "named (file and row) and stays where it was dropped; what raw holds stays."
    ),
)
def kommune_nm_ranks(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    settings = pipeline.settings
    landing = pipeline.landing()
    limit = settings.registry_max_bytes

    def land():
        # the bundled file must read; a bad inbox file is quarantined by take_inbox and the rest goes on
        landed = kommune_nm.land_files(settings.snapshot_dir / "kommune_nm", landing, max_bytes=limit)
        inbox = kommune_nm.take_inbox(settings.data_dir / "inbox" / "kommune_nm", settings.quarantine, landing,
                                      settle_seconds=settings.registry_settle_seconds, max_bytes=limit)
        return landed, inbox

    outcome = attempt(*KOMMUNE_NM_SOURCE, land)
    failures = [outcome] if isinstance(outcome, SourceFailure) else []
    landed, inbox = ([], None) if isinstance(outcome, SourceFailure) else outcome
    if inbox:
        log_inbox(context, "Kommune-NM", inbox)
    landed += [path for _, path in inbox.accepted] if inbox else []
    with pipeline.work_db() as con:
        results = load_landed_kommune_nm(con, landing, kommune_nm.validate)  # every landed file raw lacks
        loaded = sum(r.rows for r in results)
        newly_loaded = sum(not r.already_loaded for r in results)
        outcome_changed = record(con, context.run.run_id, KOMMUNE_NM_SOURCE[0], [KOMMUNE_NM_SOURCE[1]], failures)
        create_kommune_nm_table(con)
        total = one_value(con, "select count(*) from raw.kommune_nm_ranks")
    for failure in failures:
        context.log.info(f"{failure.line()}; the files raw holds stay")
    return dg.MaterializeResult(metadata={"files": len(landed), "rejected_files": dg.MetadataValue.json(
                                              {name: str(path) for name, path in inbox.rejected} if inbox else {}),
                                          "waiting_files": dg.MetadataValue.json(dict(inbox.skipped) if inbox else {}),
                                          "rows_loaded": loaded, **changed_metadata(outcome_changed, newly_loaded > 0),
                                          "dagster/row_count": total, **failure_metadata(failures)},
                                check_results=[source_check_result(KOMMUNE_NM, [KOMMUNE_NM_SOURCE[1]], failures)])
