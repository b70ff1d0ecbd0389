"""The code location `dagster dev` loads: groups, keys, pools and lineage."""

from __future__ import annotations

import dagster as dg

from styringsdata.sources.ssb import load_table_specs
from styringsdata.definitions import defs


def graph():
    return defs.resolve_asset_graph()


def test_one_asset_per_ssb_table_in_group_ssb_and_pool():
    g = graph()
    for spec in load_table_specs().tables:
        node = g.get(dg.AssetKey(["raw", f"ssb_{spec.table_id}"]))
        assert node.group_name == "ssb"
        assert node.pools == {"duckdb_writer"}


def test_groups_are_per_source_and_layer():
    g = graph()
    groups = {g.get(k).group_name for k in g.get_all_asset_keys()}
    assert groups == {"ssb", "klass", "fhi", "miljodirektoratet", "kommune_nm", "registry", "udir", "asss_inputs",
                      "dbt_staging", "dbt_intermediate", "dbt_marts", "dbt_seeds", "publish"}


def test_dbt_sources_join_the_ingestion_assets_and_publish_follows_the_marts():
    g = graph()
    staging = g.get(dg.AssetKey(["staging", "stg_ssb__series_values"]))
    assert {dg.AssetKey(["raw", "ssb_12143"]), dg.AssetKey(["raw", "ssb_12362"])} <= staging.parent_keys
    groups = g.get(dg.AssetKey(["staging", "stg_klass__kostra_groups"]))
    assert dg.AssetKey(["raw", "klass_kostra_groups"]) in groups.parent_keys
    lineage = g.get(dg.AssetKey(["staging", "stg_klass__municipality_lineage"]))
    assert dg.AssetKey(["raw", "klass_municipality_changes"]) in lineage.parent_keys
    publish = g.get(dg.AssetKey(["published", "warehouse"]))
    assert dg.AssetKey(["marts", "fct_indicator_values"]) in publish.parent_keys
    assert publish.pools == {"duckdb_writer"}


def test_every_writer_shares_the_pool():
    g = graph()
    for key in g.get_all_asset_keys():
        node = g.get(key)
        if node.is_materializable and key.path[0] in ("raw", "staging", "intermediate", "marts", "published"):
            assert node.pools == {"duckdb_writer"}, key


def test_the_asss_inputs_feed_their_staging_models_and_the_index_waits_for_the_codes():
    g = graph()
    deflator = g.get(dg.AssetKey(["staging", "stg_statsbudsjettet__municipal_deflator"]))
    assert dg.AssetKey(["raw", "municipal_deflator"]) in deflator.parent_keys
    index = g.get(dg.AssetKey(["staging", "stg_gront_hefte__expense_need_index"]))
    assert dg.AssetKey(["raw", "expense_need_index"]) in index.parent_keys
    raw_index = g.get(dg.AssetKey(["raw", "expense_need_index"]))
    assert dg.AssetKey(["raw", "klass_municipality_changes"]) in raw_index.parent_keys
    assert raw_index.group_name == "asss_inputs" and raw_index.pools == {"duckdb_writer"}


def test_every_asset_check_says_what_it_checks():
    """The UI once showed 181 of 217 checks without a description and the gate's as "Great Expectations check"."""
    g = graph()
    bare = [key for key in g.asset_check_keys if not (g.get(key).description or "").strip()]
    assert not bare, f"{len(bare)} of {len(g.asset_check_keys)} checks have no description, e.g. {bare[:3]}"
    vague = [key for key in g.asset_check_keys
             if g.get(key).description.strip().startswith("Great Expectations check")]
    assert not vague, vague[:3]
    grain = g.get(dg.AssetCheckKey(dg.AssetKey(["marts", "kostra_comparison"]),
                                   "unique_combination_of_columns_kostra_comparison_key_figure_id__year__region_code"))
    assert "one row per key_figure_id, year, region_code in kostra_comparison" in grain.description


def test_checks_hang_on_the_asset_they_check():
    from styringsdata.defs.quality import SPECS

    for spec in SPECS:  # the gate: raw rules on the raw table, mart rules on the mart
        assert ".".join(spec.asset_key.path) == spec.metadata["table"], spec.key
    assert dg.AssetKey(["raw", "ssb_12143"]) in {spec.asset_key for spec in SPECS if spec.name == "raw_keys_not_null"}
    g = graph()
    # singular dbt tests that read several models hang on the one they are about, not on none
    assert dg.AssetCheckKey(dg.AssetKey(["marts", "fct_indicator_values"]),
                            "assert_every_member_has_every_indicator_every_year") in g.asset_check_keys
    assert dg.AssetCheckKey(dg.AssetKey(["seeds", "kostra_key_figures"]),
                            "assert_every_need_adjusted_key_figure_has_a_need_area") in g.asset_check_keys


def test_the_code_location_is_named_styringsdata():
    import yaml

    from styringsdata.settings import PROJECT_ROOT

    for workspace in ("workspace.yaml", "deploy/workspace.yaml"):
        (entry,) = yaml.safe_load((PROJECT_ROOT / workspace).read_text())["load_from"]
        assert next(iter(entry.values()))["location_name"] == "styringsdata", workspace


def test_the_udir_file_route_feeds_its_staging_model_and_waits_for_the_codes():
    g = graph()
    staging = g.get(dg.AssetKey(["staging", "stg_udir__indicator_values"]))
    assert dg.AssetKey(["raw", "udir_values"]) in staging.parent_keys
    raw = g.get(dg.AssetKey(["raw", "udir_values"]))
    assert dg.AssetKey(["raw", "klass_municipality_changes"]) in raw.parent_keys
    assert raw.group_name == "udir" and raw.pools == {"duckdb_writer"}
