"""The asset keys that more than one definition names: the jobs, sensors and freshness checks select them, and
assets that check municipality codes wait for them. Each asset module takes its own key from here too."""

import dagster as dg

from styringsdata.runs.run_summary import PUBLISHED, REPORT  # the run's summary reads the same two  # noqa: F401
from styringsdata.settings import Settings


def ssb_key(table_id: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", f"ssb_{table_id}"])


KLASS_CHANGES = dg.AssetKey(["raw", "klass_municipality_changes"])
KOSTRA_GROUPS = dg.AssetKey(["raw", "klass_kostra_groups"])
FHI = dg.AssetKey(["raw", "fhi_nokkel"])
EMISSIONS = dg.AssetKey(["raw", "miljodirektoratet_emissions"])
KOMMUNE_NM = dg.AssetKey(["raw", "kommune_nm_ranks"])
REGISTRY = dg.AssetKey(["raw", "registry_values"])

# The SSB tables this code location fetches (STYRINGSDATA_SSB_TABLES): read once, when the definitions load.
SSB_SPECS = Settings.from_env().table_specs

# Municipality codes are checked against what SSB and KLASS say exists today: an asset that checks them waits.
WAITS_FOR_CODES: tuple[dg.AssetKey, ...] = (KLASS_CHANGES, *(ssb_key(t.table_id) for t in SSB_SPECS.tables))
