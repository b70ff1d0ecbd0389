"""Publish: copy the marts that passed `dbt build` into a fresh warehouse file and Parquet."""


import dagster as dg

from orchestration.defs.dbt import dbt_project
from orchestration.defs.quality import read_gate_result
from orchestration.defs.resources import DUCKDB_WRITER_POOL, PipelineResource, run_started_at
from orchestration.lib.build_state import mark_published
from orchestration.lib.publish import marts_from_manifest, publish

MARTS = marts_from_manifest(dbt_project.manifest_path)


@dg.asset(
    key=dg.AssetKey(["published", "warehouse"]),
    group_name="publish",
    kinds={"duckdb", "parquet"},
    deps=[dg.AssetKey(["marts", mart.name]) for mart in MARTS],
    pool=DUCKDB_WRITER_POOL,
    description=(
        "The published warehouse BI tools read: every mart copied into a new DuckDB file that replaces "
        "data/warehouse.duckdb by an atomic rename (the previous one kept as warehouse.previous.duckdb), "
        "plus one Parquet file per mart in data/parquet/."
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
        raise dg.Failure(f"the quality gate failed ({names}); data/warehouse.duckdb was left as it was")
    publication = publish(settings.work_db, settings.warehouse, settings.parquet_dir, MARTS)
    mark_published(settings.build_state_path, context.run_id, run_started_at(context.instance, context.run_id))
    context.log.info(f"published {len(publication.tables)} marts to {publication.path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(publication.path)),
            "parquet_dir": dg.MetadataValue.path(str(publication.parquet_dir)),
            "published_at": publication.published_at,
            "tables": dg.MetadataValue.json(publication.tables),
        }
    )
