"""Cheap change detection for the sensors: metadata calls only, never data.

SSB: one `GET /tables/{id}` per table, compared with the vintages in the landing zone (a vintage is
named from `updated`). FHI: one `table?modifiedAfter=` listing, asked the same way the FHI asset asks it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.fhi import FhiClient, FhiSpecs, modified_since
from ingestion.landing import LandingZone, vintage_from_updated
from ingestion.ssb import SsbClient, TableSpecs


@dataclass(frozen=True)
class SsbChange:
    table_id: str
    vintage: str  # the vintage SSB's `updated` names, not in the landing zone yet
    source_updated: str


def ssb_changes(client: SsbClient, landing: LandingZone, specs: TableSpecs) -> list[SsbChange]:
    changes = []
    for spec in specs.tables:
        info = client.table_info(spec.table_id)
        vintage = vintage_from_updated(info.updated)
        if not landing.has_vintage("ssb", spec.table_id, vintage):
            changes.append(SsbChange(spec.table_id, vintage, info.updated))
    return changes


def fhi_changes(client: FhiClient, landing: LandingZone, specs: FhiSpecs) -> tuple[str, ...]:
    """Our FHI tables that FHI lists as modified since our vintages (all of them before the first fetch)."""
    since = modified_since(landing, specs)
    ours = {t.table_id for t in specs.tables}
    if since is None:
        return tuple(sorted(ours))
    modified, _ = client.modified_tables(specs.source_id, since)
    return tuple(sorted(modified & ours))
