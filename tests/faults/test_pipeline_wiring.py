"""A source fault fails its asset; the publish step must then not run in that run, so the last
publication stays as it was. That holds because every source asset is upstream of the publish
asset (Dagster skips the steps downstream of a failure). Checked on the asset graph, without a run.
End to end for a failing gate: tests/pipeline/test_quality_gate.py."""

from __future__ import annotations

import dagster as dg

from styringsdata.definitions import defs

PUBLISH = dg.AssetKey(["published", "warehouse"])


def downstream(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    todo = [key]
    while todo:
        for child in graph.get(todo.pop()).child_keys:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def test_every_source_asset_is_upstream_of_the_publish_step():
    graph = defs.resolve_asset_graph()
    sources = [k for k in graph.get_all_asset_keys() if k.path[0] == "raw" and graph.get(k).is_materializable]
    assert len(sources) >= 5  # SSB tables, KLASS, FHI, Miljødirektoratet, Kommune-NM, registry
    not_guarding = [k.to_user_string() for k in sources if PUBLISH not in downstream(graph, k)]
    assert not_guarding == []
