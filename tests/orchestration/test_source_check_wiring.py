"""The Dagster SSB assets share one change check per run (issue 17): materialized twice offline, the second
run asks SSB one listing for every table, and each asset's metadata says so."""

from __future__ import annotations

import dagster as dg

from styringsdata.sources.ssb import load_table_specs
from styringsdata.sources.transport import Transport
from styringsdata.defs.resources import PipelineResource
from styringsdata.defs.ssb import build_ssb_assets
from styringsdata.settings import PROJECT_ROOT, Settings


def test_the_ssb_assets_of_a_run_share_one_listing_call(tmp_path, monkeypatch):
    monkeypatch.setenv("STYRINGSDATA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STYRINGSDATA_SOURCE_MODE", "replay")
    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(PROJECT_ROOT / "snapshots"))
    urls: list[str] = []
    send = Transport.send

    def counting(self, request):
        urls.append(request.url)
        return send(self, request)

    monkeypatch.setattr(Transport, "send", counting)
    assets = build_ssb_assets(Settings.from_env({}).table_specs)
    tables = len(load_table_specs().tables)

    first = dg.materialize(assets, resources={"pipeline": PipelineResource()})
    assert first.success
    assert sum(u.endswith("/metadata") for u in urls) == tables and not any(u.endswith("/tables") for u in urls)

    urls.clear()
    second = dg.materialize(assets, resources={"pipeline": PipelineResource()})
    assert second.success
    assert urls == ["https://data.ssb.no/api/pxwebapi/v2/tables"]  # one call for all tables, in one run
    checks = {m.metadata["change_check"].value for m in second.asset_materializations_for_node(assets[0].op.name)}
    assert len(checks) == 1 and "one listing, GET /tables?pastDays=1" in checks.pop()
