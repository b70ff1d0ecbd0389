"""The file-contract assets (deflator, expense-need index, Udir) are made by one factory from one spec each
(src/styringsdata/defs/file_contracts.py, issue 24): the code location carries them as the hand-written assets it
replaced did (key, group, what they wait for, pool, kinds, checks), and each reports what its inbox holds."""

from __future__ import annotations

import os
import shutil
import time

import dagster as dg

from styringsdata.defs.file_contracts import (EXPENSE_NEED_INDEX, FILE_CONTRACTS, MUNICIPAL_DEFLATOR, UDIR,
                                              build_file_contract_asset)
from styringsdata.defs.freshness import CHECK_NAME as FRESHNESS_CHECK
from styringsdata.defs.keys import KLASS_CHANGES, ssb_key
from styringsdata.defs.resources import PipelineResource
from styringsdata.settings import PROJECT_ROOT
from styringsdata.sources.ssb import load_table_specs

SNAPSHOTS = PROJECT_ROOT / "snapshots"


def graph():
    from styringsdata.definitions import defs

    return defs.resolve_asset_graph()


def test_the_code_location_carries_each_contract_as_its_spec_says():
    g = graph()
    codes = {KLASS_CHANGES, *(ssb_key(t.table_id) for t in load_table_specs().tables)}
    # what the hand-written assets had: the index and Udir check municipality codes, the deflator has none
    expected = {
        dg.AssetKey(["raw", "municipal_deflator"]): ("asss_inputs", set()),
        dg.AssetKey(["raw", "expense_need_index"]): ("asss_inputs", codes),
        dg.AssetKey(["raw", "udir_values"]): ("udir", codes),
    }
    assert {c.key for c in FILE_CONTRACTS} == set(expected)
    for contract in FILE_CONTRACTS:
        node = g.get(contract.key)
        group, deps = expected[contract.key]
        assert (node.group_name, node.parent_keys) == (group, deps), contract.key
        assert node.description == contract.description and node.pools == {"duckdb_writer"}
        assert set(node.kinds) == {"python", "duckdb"}
        assert node.assets_def.op.name == contract.key.to_python_identifier()  # run step keys stay
        # no source_answered check: a rejected file is quarantined, never a failed source
        freshness = {dg.AssetCheckKey(contract.key, FRESHNESS_CHECK)} if contract is UDIR else set()
        assert set(node.check_keys) == freshness, contract.key
    assert UDIR.freshness_source == "Udir" and not MUNICIPAL_DEFLATOR.freshness_source
    assert not EXPENSE_NEED_INDEX.freshness_source


def test_a_deflator_file_still_being_copied_is_reported_as_waiting(tmp_path, monkeypatch):
    """A file in the deflator's inbox younger than the settle time stays there; the asset now says so, as the
    Udir asset always did (the hand-written deflator asset said nothing of it)."""
    data = tmp_path / "data"
    monkeypatch.setenv("STYRINGSDATA_DATA_DIR", str(data))
    monkeypatch.setenv("STYRINGSDATA_SOURCE_MODE", "replay")
    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(SNAPSHOTS))
    monkeypatch.setenv("STYRINGSDATA_REGISTRY_SETTLE_SECONDS", "3600")
    inbox = data / "inbox" / "municipal_deflator"
    inbox.mkdir(parents=True)
    dropped = inbox / "kommunal_deflator_2026.csv"  # the bundled file, as a user would drop its next release
    shutil.copy(SNAPSHOTS / "municipal_deflator" / "kommunal_deflator.csv", dropped)
    os.utime(dropped, (time.time(), time.time()))

    asset = build_file_contract_asset(MUNICIPAL_DEFLATOR)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([asset], resources={"pipeline": PipelineResource()}, instance=instance)

    assert result.success
    (materialization,) = result.asset_materializations_for_node(asset.op.name)
    metadata = {k: v.value if hasattr(v, "value") else v for k, v in materialization.metadata.items()}
    assert set(metadata) == {"accepted_files", "rejected_files", "already_landed_files", "waiting_files", "vintages",
                             "new_vintages_loaded", "raw_changed", "rows_loaded", "dagster/row_count"}
    assert list(metadata["waiting_files"]) == [dropped.name]
    assert metadata["accepted_files"] == [] and metadata["rejected_files"] == {}
    assert metadata["vintages"] == 1 and metadata["dagster/row_count"] > 0  # the bundled file landed
    assert dropped.exists()
    logged = [e.user_message for e in instance.all_logs(result.run_id) if "left in the inbox" in e.user_message]
    assert any(m.startswith(f"municipal_deflator file {dropped.name} left in the inbox") for m in logged), logged
