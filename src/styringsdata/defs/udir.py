"""Udir (Utdanningsdirektoratet): Elevundersøkelsen figures exported from Udir's statistikkbanken, as files.

The file contract is src/styringsdata/sources/udir.py (docs/sources.md, "Udir"): bundled in snapshots/udir/,
dropped in the Udir inbox
(STYRINGSDATA_UDIR_INBOX), validated whole with the registry's reading rules and settle time, landed as vintages
or quarantined with a row-level error report.
"""

from functools import partial

import dagster as dg

from styringsdata.queries import one_value
from styringsdata.sources import udir
from styringsdata.sources.catalogue import registry_reference
from styringsdata.sources.registry import keyed_release_delta
from styringsdata.sources.file_contract import refresh
from styringsdata.sources.ssb import load_table_specs
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.runs.build_state import RAW_CHANGED


@dg.asset(
    key=dg.AssetKey(["raw", "udir_values"]),
    group_name="udir",
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    # Municipality codes are checked against what SSB and KLASS say exists.
    deps=[dg.AssetKey(["raw", "klass_municipality_changes"]),
          *[dg.AssetKey(["raw", f"ssb_{t.table_id}"]) for t in load_table_specs().tables]],
    description=(
        "Udir's figures (Elevundersøkelsen: mobbing, trivsel, vurdering for læring, motivasjon) from files exported "
        "from Udir's statistikkbanken with an indicator_id column (docs/sources.md, 'Udir'): bundled in snapshots/udir/, dropped "
        "in data/inbox/udir/. Accepted files land as vintages; rejected ones go to quarantine with an error report."
    ),
)
def udir_values(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings
    with pipeline.work_db() as con:
        reference = registry_reference(con, settings.catalogue_path, max_bytes=settings.registry_max_bytes)
        udir.ensure_table(con)
        result = refresh(con, pipeline.landing(), udir.SOURCE, partial(udir.validate, reference=reference),
                         bundled=settings.snapshot_dir / udir.SOURCE, inbox=settings.udir_inbox_dir,
                         quarantine=settings.quarantine, load_vintage=udir.load_vintage,
                         max_bytes=settings.registry_max_bytes, settle_seconds=settings.registry_settle_seconds,
                         plausible=udir.plausibility(reference),
                         release_delta=keyed_release_delta(("indicator_id", "kommunekode", "skoleaarnavn")))
        total = one_value(con, f"select count(*) from {udir.TABLE}")
    for name, report in result.inbox.rejected:
        context.log.warning(f"udir file {name} rejected, moved to quarantine (the last good vintage stays in use); "
                            f"report: {report}")
    for name, why in result.inbox.skipped:
        context.log.info(f"udir file {name} left in the inbox: {why}")
    return dg.MaterializeResult(metadata={
        "accepted_files": dg.MetadataValue.json([name for name, _ in result.inbox.accepted]),
        "rejected_files": dg.MetadataValue.json({name: str(path) for name, path in result.inbox.rejected}),
        "already_landed_files": dg.MetadataValue.json(result.inbox.already_landed),
        "waiting_files": dg.MetadataValue.json(dict(result.inbox.skipped)),
        "vintages": result.vintages,
        "new_vintages_loaded": result.newly_loaded,
        RAW_CHANGED: result.newly_loaded > 0,
        "rows_loaded": result.rows_loaded,
        "dagster/row_count": total,
    })
