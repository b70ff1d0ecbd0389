"""Freshness: is each source publishing as often as its indicators' frequency says?

The rule lives in one place, the dbt mart `source_freshness` (cadence from the catalogue's frequency,
late when today is 30 days past the expected next publication). These checks show it per source asset
in Dagster, as warnings; they run after dbt has rebuilt that mart in the same run.
"""

import dagster as dg

from styringsdata.defs.file_contracts import FILE_CONTRACTS
from styringsdata.defs.files import EMISSIONS_SOURCE, KOMMUNE_NM_SOURCE
from styringsdata.defs.keys import EMISSIONS, FHI, KOMMUNE_NM, SSB_SPECS, ssb_key
from styringsdata.defs.resources import DUCKDB_WRITER_POOL, PipelineResource

FRESHNESS_MART = dg.AssetKey(["marts", "source_freshness"])
CHECK_NAME = "source_publishes_on_time"

# source asset -> (source, source_table or None for every table of that source) in marts.source_freshness
SOURCE_ROWS: dict[dg.AssetKey, tuple[str, str | None]] = {
    **{ssb_key(t.table_id): ("SSB", t.table_id) for t in SSB_SPECS.tables},
    FHI: ("FHI", None),
    EMISSIONS: (EMISSIONS_SOURCE[0], None),
    KOMMUNE_NM: (KOMMUNE_NM_SOURCE[0], None),
    **{c.key: (c.freshness_source, None) for c in FILE_CONTRACTS if c.freshness_source},
}


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(CHECK_NAME, asset=key, additional_deps=[FRESHNESS_MART], blocking=False,
                             description="The source has published within its expected cadence plus 30 days "
                             "(marts.source_freshness).")
           for key in SOURCE_ROWS],
    pool=DUCKDB_WRITER_POOL,
    can_subset=True,
)
def source_freshness_checks(context: dg.AssetCheckExecutionContext, pipeline: PipelineResource):
    with pipeline.work_db() as con:
        rows = con.execute("""select source, source_table, last_source_updated, latest_vintage,
                                     expected_next_publication, is_late
                              from marts.source_freshness""").fetchall()
    for check_key in context.selected_asset_check_keys:
        source, table = SOURCE_ROWS[check_key.asset_key]
        mine = [r for r in rows if r[0] == source and (table is None or r[1] == table)]
        late = [r for r in mine if r[5]]
        yield dg.AssetCheckResult(
            check_name=CHECK_NAME,
            asset_key=check_key.asset_key,
            passed=bool(mine) and not late,
            severity=dg.AssetCheckSeverity.WARN,
            description=(f"no row for {source} {table or ''} in marts.source_freshness" if not mine else
                         f"late: {', '.join(r[1] for r in late)}" if late else "on time"),
            metadata={
                "tables": len(mine),
                "late_tables": dg.MetadataValue.json([r[1] for r in late]),
                "last_source_updated": str(max((r[2] for r in mine if r[2]), default="")),
                "expected_next_publication": str(min((r[4] for r in mine if r[4]), default="")),
            },
        )
