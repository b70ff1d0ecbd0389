"""The marts BI tools read have enforced dbt contracts: a column whose type drifts from its YAML fails the build."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT = ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


def _contract_tool():
    spec = importlib.util.spec_from_file_location("mart_contract_types", ROOT / "tools" / "mart_contract_types.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def test_every_mart_is_built_with_the_types_its_contract_declares(offline_run):
    """Every model under models/marts has an enforced contract, and the types DuckDB built agree with the YAML."""
    manifest = json.loads((DBT_PROJECT / "target" / "manifest.json").read_text())
    marts = [n for n in manifest["nodes"].values()
             if n["resource_type"] == "model" and n["original_file_path"].startswith("models/marts/")]
    assert {m["name"] for m in marts} >= {"fct_indicator_values", "kostra_comparison", "indicator_catalogue"}
    not_enforced = [m["name"] for m in marts if not m["config"]["contract"]["enforced"]]
    assert not not_enforced, f"marts without an enforced contract: {not_enforced}"

    tool = _contract_tool()
    types = tool.built_types(offline_run.data_dir / "work.duckdb")
    findings = [f for yaml_file in sorted((DBT_PROJECT / "models" / "marts").glob("*.yml"))
                for f in tool.check_file(yaml_file, types)[0]]
    assert not findings, "\n".join(map(str, findings))


def test_a_type_that_drifts_from_the_contract_fails_the_build(tmp_path):
    """A copy of the dbt project where one mart's SQL yields DOUBLE for a column its contract declares integer."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    model = project / "models" / "marts" / "indicator_catalogue.sql"
    sql = model.read_text()
    assert "cast(catalogue.decimals as integer) as decimals" in sql
    model.write_text(sql.replace("cast(catalogue.decimals as integer) as decimals",
                                 "cast(catalogue.decimals as double) as decimals"))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("STYRINGSDATA_", "DBT_"))}
    env.update({"STYRINGSDATA_WORK_DB": str(tmp_path / "work.duckdb"), "DBT_PROFILES_DIR": str(project),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    result = subprocess.run(
        [str(DBT), "build", "--select", "catalogue_indicators", "member_indicator_texts", "indicator_catalogue",
         "--resource-type", "seed", "model", "--vars", '{"home_municipality": "3203"}'],
        cwd=project, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr

    assert result.returncode != 0, output
    # the failure is the mart's: both seeds load
    assert re.search(r"\d of 3 OK loaded seed file seeds\.catalogue_indicators", output), output
    assert re.search(r"\d of 3 OK loaded seed file seeds\.member_indicator_texts", output), output
    assert "This model has an enforced contract that failed" in output, output
    mismatch = next(line for line in output.splitlines() if line.strip().startswith("| decimals"))
    assert [cell.strip() for cell in mismatch.strip().strip("|").split("|")] == [
        "decimals", "DOUBLE", "INTEGER", "data type mismatch"]
