"""The ASSS way of comparing needs two inputs no API serves: the municipal deflator and the expense-need index.

Both are file contracts (docs/sources.md, "Municipal deflator and expense-need index"): bundled in snapshots/, dropped
in data/inbox/<source>/, validated whole, landed as vintages or quarantined with a row-level error report.
"""

from functools import partial

import dagster as dg

from styringsdata.queries import one_value
from styringsdata.sources import expense_need_index, municipal_deflator
from styringsdata.sources.catalogue import registry_reference
from styringsdata.home import asss_members
from styringsdata.sources.registry import keyed_release_delta
from styringsdata.sources.file_contract import RefreshResult, refresh
from styringsdata.sources.ssb import load_table_specs
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource
from styringsdata.runs.build_state import RAW_CHANGED

GROUP = "asss_inputs"


def _metadata(result: RefreshResult, total: int) -> dict:
    return {
        "accepted_files": dg.MetadataValue.json([name for name, _ in result.inbox.accepted]),
        "rejected_files": dg.MetadataValue.json({name: str(path) for name, path in result.inbox.rejected}),
        "already_landed_files": dg.MetadataValue.json(result.inbox.already_landed),
        "vintages": result.vintages,
        "new_vintages_loaded": result.newly_loaded,
        RAW_CHANGED: result.newly_loaded > 0,
        "rows_loaded": result.rows_loaded,
        "dagster/row_count": total,
    }


def _log_rejected(context: dg.AssetExecutionContext, source: str, result: RefreshResult) -> None:
    for name, report in result.inbox.rejected:
        context.log.warning(f"{source} file {name} rejected, moved to quarantine (the last good vintage stays in "
                            f"use); report: {report}")


@dg.asset(
    key=dg.AssetKey(["raw", municipal_deflator.SOURCE]),
    group_name=GROUP,
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    description=(
        "The municipal deflator (kommunal deflator) per year and estimate (NBnn, RNBnn, ...), from files in the "
        "documented contract: bundled in snapshots/municipal_deflator/ (published figures with their citation, "
        "illustrative ones marked), dropped in data/inbox/municipal_deflator/. The newest valid file wins whole."
    ),
)
def municipal_deflator_estimates(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings
    with pipeline.work_db() as con:
        municipal_deflator.ensure_table(con)
        result = refresh(con, pipeline.landing(), municipal_deflator.SOURCE, municipal_deflator.validate,
                         bundled=settings.snapshot_dir / municipal_deflator.SOURCE,
                         inbox=settings.data_dir / "inbox" / municipal_deflator.SOURCE,
                         quarantine=settings.quarantine, load_vintage=municipal_deflator.load_vintage,
                         max_bytes=settings.registry_max_bytes, settle_seconds=settings.registry_settle_seconds,
                         plausible=municipal_deflator.plausibility())
        total = one_value(con, f"select count(*) from {municipal_deflator.TABLE}")
    _log_rejected(context, municipal_deflator.SOURCE, result)
    return dg.MaterializeResult(metadata=_metadata(result, total))


@dg.asset(
    key=dg.AssetKey(["raw", expense_need_index.SOURCE]),
    group_name=GROUP,
    kinds={"python", "duckdb"},
    pool=DUCKDB_WRITER_POOL,
    # Municipality codes are checked against what SSB and KLASS say exists today.
    deps=[dg.AssetKey(["raw", "klass_municipality_changes"]),
          *[dg.AssetKey(["raw", f"ssb_{t.table_id}"]) for t in load_table_specs().tables]],
    description=(
        "The expense-need index (indeks for beregnet utgiftsbehov, Grønt hefte) per municipality, year and cost-key "
        "sector, national average = 100, from files in the documented contract: bundled in "
        "snapshots/expense_need_index/, dropped in data/inbox/expense_need_index/. The newest file wins per figure."
    ),
)
def expense_need_indices(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings
    with pipeline.work_db() as con:
        codes = registry_reference(con, settings.catalogue_path)
        areas = expense_need_index.load_areas(settings.seeds_dir / expense_need_index.AREAS_SEED)
        reference = expense_need_index.NeedIndexReference(areas, codes.municipalities, codes.retired,
                                                          members=frozenset(asss_members()), names=codes.names)
        expense_need_index.ensure_table(con)
        result = refresh(con, pipeline.landing(), expense_need_index.SOURCE,
                         partial(expense_need_index.validate, reference=reference),
                         bundled=settings.snapshot_dir / expense_need_index.SOURCE,
                         inbox=settings.data_dir / "inbox" / expense_need_index.SOURCE,
                         quarantine=settings.quarantine, load_vintage=expense_need_index.load_vintage,
                         max_bytes=settings.registry_max_bytes, settle_seconds=settings.registry_settle_seconds,
                         plausible=expense_need_index.plausibility(reference),
                         release_delta=keyed_release_delta(("year", "municipality_code", "need_area")))
        total = one_value(con, f"select count(*) from {expense_need_index.TABLE}")
    _log_rejected(context, expense_need_index.SOURCE, result)
    return dg.MaterializeResult(metadata=_metadata(result, total))


asss_input_assets = [municipal_deflator_estimates, expense_need_indices]
