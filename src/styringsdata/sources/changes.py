"""Cheap change detection for the sensors: the calls a refresh makes to decide, never data.

SSB: one `GET /tables?pastDays=N` for every table (`styringsdata.sources.ssb.check_ssb`, the same check a run
makes; table info per table only when it must, and the check says why). FHI: one
`table?modifiedAfter=` listing, asked the same way the FHI asset asks it.
"""

from __future__ import annotations

from dataclasses import dataclass

from styringsdata.sources.fhi import FhiClient, FhiSpecs, modified_since
from styringsdata.raw.landing import LandingZone, vintage_from_updated
from styringsdata.sources.ssb import SsbCheck, SsbClient, TableSpecs, check_ssb

NOT_LANDED = "(no vintage landed yet)"


@dataclass(frozen=True)
class SsbChange:
    table_id: str
    vintage: str  # the vintage SSB's `updated` names (not in the landing zone yet), or NOT_LANDED
    source_updated: str | None


def ssb_changes(client: SsbClient, landing: LandingZone, specs: TableSpecs) -> list[SsbChange]:
    return changes_of(check_ssb(client, landing, [t.table_id for t in specs.tables]))


def changes_of(check: SsbCheck) -> list[SsbChange]:
    return [SsbChange(t, vintage_from_updated(updated) if updated else NOT_LANDED, updated)
            for t, updated in sorted(check.changed.items())]


def fhi_changes(client: FhiClient, landing: LandingZone, specs: FhiSpecs) -> tuple[str, ...]:
    """Our FHI tables that FHI lists as modified since our vintages (all of them before the first fetch)."""
    since = modified_since(landing, specs)
    ours = {t.table_id for t in specs.tables}
    if since is None:
        return tuple(sorted(ours))
    modified, _ = client.modified_tables(specs.source_id, since)
    return tuple(sorted(modified & ours))
