"""Every dbt model and every column it produces is described in YAML."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

MANIFEST = Path(__file__).resolve().parents[2] / "dbt_project" / "target" / "manifest.json"


def test_every_model_and_column_is_described(offline_run):
    manifest = json.loads(MANIFEST.read_text())
    con = duckdb.connect(str(offline_run.data_dir / "work.duckdb"), read_only=True)
    undocumented = []
    try:
        for node in manifest["nodes"].values():
            if node["resource_type"] not in ("model", "seed"):
                continue
            if not node.get("description"):
                undocumented.append((node["name"], "<model description>"))
            actual = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [node["schema"], node["alias"] or node["name"]]).fetchall()]
            assert actual, f"{node['name']} was not built in {node['schema']}"
            described = {c for c, meta in node["columns"].items() if meta.get("description")}
            undocumented += [(node["name"], c) for c in actual if c not in described]
    finally:
        con.close()
    assert not undocumented, undocumented
