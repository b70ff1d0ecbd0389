"""Publish: copy the marts that passed `dbt build` into a fresh warehouse file and Parquet (and PostgreSQL)."""

from dataclasses import asdict

import dagster as dg

from styringsdata.defs.dbt import dbt_project
from styringsdata.defs.quality import read_gate_result
from styringsdata.defs.keys import PUBLISHED
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource, run_started_at
from styringsdata.publishing import ledger
from styringsdata.publishing.ledger import postgres_target
from styringsdata.publishing.publish import marts_from_manifest, publish
from styringsdata.publishing.publish_postgres import GateRecord
from styringsdata.runs import build_state
from styringsdata.runs.build_state import mark_published

MARTS = marts_from_manifest(dbt_project.manifest_path)


def gate_record(run_id: str, gate) -> GateRecord:
    # The failing-row samples are the report's attachment, not part of the publication's record.
    checks = [{k: v for k, v in asdict(c).items() if k != "failing_sample"} for c in gate.checks]
    return GateRecord(run_id, gate.checked_at, gate.passed, checks)


@dg.asset(
    key=PUBLISHED,
    group_name="publish",
    kinds={"duckdb", "parquet"},
    deps=[dg.AssetKey(["marts", mart.name]) for mart in MARTS],
    pool=DUCKDB_WRITER_POOL,
    description=(
        "The published warehouse BI tools read: every mart copied into a new DuckDB file that replaces "
        "data/warehouse.duckdb by an atomic rename (the previous one kept as warehouse.previous.duckdb), "
        "plus one Parquet file per mart in data/parquet/; with STYRINGSDATA_POSTGRES_URL, the same tables in a "
        "PostgreSQL schema, switched in one transaction, with the gate result in its _publication table."
    ),
)
def published_warehouse(context: dg.AssetExecutionContext, pipeline: PipelineResource) -> dg.MaterializeResult:
    settings = pipeline.settings
    # The explicit dependency on the gate: dbt tests alone do not stop a Python asset downstream.
    gate = read_gate_result(settings.reports_dir, context.run_id)
    if gate is None:
        raise dg.Failure("the quality gate did not run in this run; refusing to publish unaudited marts")
    if not gate.passed:
        names = ", ".join(c.name for c in gate.errors)
        raise dg.Failure(f"the quality gate failed ({names}); data/warehouse.duckdb (and PostgreSQL, when "
                         "configured) were left as they were")
    record = gate_record(context.run_id, gate)
    started_at = run_started_at(context.instance, context.run_id)
    state = build_state.load(settings.build_state_path)
    approved: list[str] = []

    def keep_approved(file, published_at: str, rows: dict[str, int]) -> None:
        # Kept before any target changes: a run killed after this republishes it when the next one starts.
        approved.append(ledger.approve(settings, file, published_at=published_at, run_id=context.run_id,
                                       build_run_id=state.run_id if state is not None else context.run_id,
                                       run_started_at=started_at, tables=rows, gate=record))

    # PostgreSQL on its own, after the files: a server that cannot be reached (or readers that hold it past
    # the swap wait) leaves it behind in the ledger, and the DuckDB file and Parquet are published anyway.
    publication = publish(settings.work_db, settings.warehouse, settings.parquet_dir, MARTS,
                          source_mode=settings.source_mode.value, on_built=keep_approved)
    ledger.record_published(settings)
    mark_published(settings.build_state_path, context.run_id, started_at)
    context.log.info(f"published {len(publication.tables)} marts to {publication.path} (publication {approved[0]})")
    if postgres_target(settings) is not None:
        postgres_line = ledger.publish_postgres_target(settings, context.log)
        context.log.info(postgres_line)
    else:
        postgres_line = "(not configured)"
        context.log.info("not published to PostgreSQL: STYRINGSDATA_POSTGRES_URL is not set")
    return dg.MaterializeResult(
        metadata={
            "publication": approved[0],
            "path": dg.MetadataValue.path(str(publication.path)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "postgres": postgres_line,
            "published_at": publication.published_at,
            "tables": dg.MetadataValue.json(publication.tables),
            "seconds": dg.MetadataValue.json({k: round(v, 3) for k, v in publication.seconds.items()}),
        }
    )
