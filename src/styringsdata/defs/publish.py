"""Publish: copy the marts that passed `dbt build` into a fresh warehouse file and Parquet (and PostgreSQL)."""

from dataclasses import asdict

import dagster as dg

from styringsdata.defs.dbt import dbt_project
from styringsdata.defs.quality import read_gate_result
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource, run_started_at
from styringsdata.runs.build_state import mark_published
from styringsdata.publishing.publish import marts_from_manifest, publish
from styringsdata.publishing.publish_postgres import GateRecord, PostgresTarget
from styringsdata.settings import Settings

MARTS = marts_from_manifest(dbt_project.manifest_path)


def postgres_target(settings: Settings) -> PostgresTarget | None:
    if not settings.postgres_url:
        return None
    return PostgresTarget(settings.postgres_url, settings.postgres_schema, settings.postgres_reader_role,
                          settings.postgres_swap_wait)


def gate_record(run_id: str, gate) -> GateRecord:
    # The failing-row samples are the report's attachment, not part of the publication's record.
    checks = [{k: v for k, v in asdict(c).items() if k != "failing_sample"} for c in gate.checks]
    return GateRecord(run_id, gate.checked_at, gate.passed, checks)


@dg.asset(
    key=dg.AssetKey(["published", "warehouse"]),
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
    postgres = postgres_target(settings)
    publication = publish(settings.work_db, settings.warehouse, settings.parquet_dir, MARTS, postgres=postgres,
                          gate=gate_record(context.run_id, gate),
                          source_mode=settings.source_mode.value)
    mark_published(settings.build_state_path, context.run_id, run_started_at(context.instance, context.run_id))
    context.log.info(f"published {len(publication.tables)} marts to {publication.path}")
    context.log.info(f"published to PostgreSQL {publication.postgres}" if publication.postgres else
                     "not published to PostgreSQL: STYRINGSDATA_POSTGRES_URL is not set")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.path)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "postgres": publication.postgres or "(not configured)",
            "published_at": publication.published_at,
            "tables": dg.MetadataValue.json(publication.tables),
            "seconds": dg.MetadataValue.json({k: round(v, 3) for k, v in publication.seconds.items()}),
        }
    )
