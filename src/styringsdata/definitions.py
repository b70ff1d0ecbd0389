"""The Dagster code location: `dagster dev -w workspace.yaml` or `styringsdata run`.

The Definitions are built when first asked for (`defs`, or Dagster loading the @dg.definitions function), not at
import: building them prepares the dbt manifest, which may run `dbt parse`.
"""

from __future__ import annotations

import functools

import dagster as dg
from styringsdata.defs.dbt import dbt_models, dbt_resource, ensure_manifest
from styringsdata.defs.fhi import fhi_nokkel
from styringsdata.defs.file_contracts import file_contract_assets
from styringsdata.defs.files import kommune_nm_ranks, miljodirektoratet_emissions
from styringsdata.defs.freshness import source_freshness_checks
from styringsdata.defs.keys import SSB_SPECS
from styringsdata.defs.jobs import audit_and_publish, full_refresh, kostra_refresh
from styringsdata.defs.klass import klass_kostra_groups, klass_municipality_changes
from styringsdata.defs.quality import quality_gate
from styringsdata.defs.registry import registry_values
from styringsdata.defs.report import quality_report
from styringsdata.defs.resources import PipelineResource
from styringsdata.defs.schedules import build_schedules
from styringsdata.defs.sensors import build_sensors
from styringsdata.defs.ssb import build_ssb_assets
from styringsdata.settings import Settings

SETTINGS = Settings.from_env()

ssb_assets = build_ssb_assets(SSB_SPECS)

# Bookkeeping tables every SSB asset appends to; declared so they sit in the ssb group, not "default".
ssb_bookkeeping = [
    dg.AssetSpec(["raw", "ssb_categories"], group_name="ssb", kinds={"duckdb"},
                 description="Category labels, order and units of every loaded SSB table vintage."),
    dg.AssetSpec(["raw", "ssb_tables"], group_name="ssb", kinds={"duckdb"},
                 description="One row per loaded SSB table vintage: label, SSB's updated, periods, rows."),
]


@functools.cache
def build_defs() -> dg.Definitions:
    ensure_manifest(SETTINGS)
    from styringsdata.defs.publish import published_warehouse  # reads the manifest's marts at import

    return _definitions(dbt_models(), published_warehouse)


@dg.definitions
def styringsdata() -> dg.Definitions:
    return build_defs()


def __getattr__(name: str) -> dg.Definitions:
    if name == "defs":  # `from styringsdata.definitions import defs` builds them on first use
        return build_defs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _definitions(dbt_assets: dg.AssetsDefinition, published_warehouse: dg.AssetsDefinition) -> dg.Definitions:
    return dg.Definitions(
        assets=[*ssb_assets, *ssb_bookkeeping, klass_municipality_changes, klass_kostra_groups, fhi_nokkel,
                miljodirektoratet_emissions, *file_contract_assets, kommune_nm_ranks, registry_values,
                dbt_assets, published_warehouse, quality_report],
        asset_checks=[quality_gate, source_freshness_checks],
        jobs=[full_refresh, kostra_refresh, audit_and_publish],
        schedules=build_schedules(SETTINGS),
        sensors=build_sensors(SETTINGS),
        resources={
            "pipeline": PipelineResource(),
            "dbt": dbt_resource(),
        },
        # One process per run: SSB's rate limit is counted by one limiter, and the
        # DuckDB work file has one writer.
        executor=dg.in_process_executor,
    )
