"""The Dagster code location: `dagster dev -w workspace.yaml` or `styringsdata run`."""

from __future__ import annotations

import dagster as dg
from orchestration.defs.dbt import dbt_resource, styringsdata_dbt_models
from orchestration.defs.fhi import fhi_nokkel
from orchestration.defs.files import kommune_nm_ranks, miljodirektoratet_emissions
from orchestration.defs.klass import klass_municipality_changes
from orchestration.defs.publish import published_warehouse
from orchestration.defs.quality import quality_gate
from orchestration.defs.registry import registry_values
from orchestration.defs.report import quality_report
from orchestration.defs.resources import PipelineResource
from orchestration.defs.ssb import build_ssb_assets

ssb_assets = build_ssb_assets()

# Bookkeeping tables every SSB asset appends to; declared so they sit in the ssb group, not "default".
ssb_bookkeeping = [
    dg.AssetSpec(["raw", "ssb_categories"], group_name="ssb", kinds={"duckdb"},
                 description="Category labels, order and units of every loaded SSB table vintage."),
    dg.AssetSpec(["raw", "ssb_tables"], group_name="ssb", kinds={"duckdb"},
                 description="One row per loaded SSB table vintage: label, SSB's updated, periods, rows."),
]

full_refresh = dg.define_asset_job(
    "full_refresh",
    selection=dg.AssetSelection.all() | dg.AssetSelection.all_asset_checks(),
    description="Every source, dbt build and publish; offline on the bundled snapshots unless "
    "STYRINGSDATA_SOURCE_MODE says otherwise.",
)

# For when only the gate's configuration changed (expectations/gate.yaml): audit the marts already in the
# work file again and publish them if they pass, without fetching or rebuilding anything.
audit_and_publish = dg.define_asset_job(
    "audit_and_publish",
    selection=dg.AssetSelection.assets(published_warehouse, quality_report)
    | dg.AssetSelection.checks(quality_gate),
    description="Re-run the quality gate on the work file's marts and publish them if it passes.",
)

defs = dg.Definitions(
    assets=[*ssb_assets, *ssb_bookkeeping, klass_municipality_changes, fhi_nokkel, miljodirektoratet_emissions,
            kommune_nm_ranks, registry_values, styringsdata_dbt_models, published_warehouse, quality_report],
    asset_checks=[quality_gate],
    jobs=[full_refresh, audit_and_publish],
    resources={
        "pipeline": PipelineResource(),
        "dbt": dbt_resource(),
    },
    # One process per run: SSB's rate limit is counted by one limiter, and the
    # DuckDB work file has one writer.
    executor=dg.in_process_executor,
)
