"""The jobs schedules and sensors start (selections by key, resolved in definitions.py)."""

import dagster as dg

from styringsdata.defs.keys import KLASS_CHANGES, KOSTRA_GROUPS, PUBLISHED, REPORT, SSB_SPECS, ssb_key
from styringsdata.defs.quality import quality_gate

KOSTRA_TABLES = tuple(ssb_key(t.table_id) for t in SSB_SPECS.tables if t.kind == "kostra")


DBT_GROUPS = ("dbt_seeds", "dbt_staging", "dbt_intermediate", "dbt_marts", "dbt_models")


def refresh_of(keys: list[dg.AssetKey]) -> dg.AssetSelection:
    """These sources, then the whole dbt project, the gate, publish and the report.

    The whole dbt project, not only what is built from these sources: raw may hold data an earlier run
    loaded and never built (it was killed, or ran out of disk), and this run must publish that too
    (src/styringsdata/runs/build_state.py).
    """
    return dg.AssetSelection.assets(*keys).downstream() | dg.AssetSelection.groups(*DBT_GROUPS).downstream()


full_refresh = dg.define_asset_job(
    "full_refresh",
    selection=dg.AssetSelection.all() | dg.AssetSelection.all_asset_checks(),
    description="Every source, dbt build, the quality gate, publish and the macro group's report; offline on the "
    "bundled snapshots unless STYRINGSDATA_SOURCE_MODE says otherwise.",
)

kostra_refresh = dg.define_asset_job(
    "kostra_refresh",
    selection=refresh_of([*KOSTRA_TABLES, KLASS_CHANGES, KOSTRA_GROUPS]),
    description="The KOSTRA tables and KLASS, then everything built from them, the gate, publish and the report "
    "(scheduled after SSB's KOSTRA releases on 15 March and 15 June).",
)

# For when only the gate's configuration changed (src/styringsdata/quality/gate.yaml): audit the marts already in the
# work file again and publish them if they pass, without fetching or rebuilding anything.
audit_and_publish = dg.define_asset_job(
    "audit_and_publish",
    selection=dg.AssetSelection.assets(PUBLISHED, REPORT) | dg.AssetSelection.checks(quality_gate),
    description="Re-run the quality gate on the work file's marts and publish them if it passes.",
)
