"""A new data directory reuses the project's dbt parse instead of parsing all models and tests again.

dbt keeps its parse (partial_parse.msgpack) only while the profile it was made with is unchanged, and the
profile holds the DuckDB path: with the work file's absolute path in it, every new data directory (a first
run, each test's tmp directory, the national bench) made dbt parse the whole project again, some 6 s of CPU.
The dbt step starts dbt in the work file's directory with the file's name only, so the profile is the same
for every data directory. Runs dbt as the pipeline does (through src/styringsdata/runs/dbt_child.py, with
child_arguments()), twice, on two data directories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from styringsdata.defs.dbt import DBT_CHILD, child_arguments
from styringsdata.settings import DBT_PROJECT_DIR, Settings


def parse_events(target) -> list[dict]:
    return [json.loads(line) for line in (target / "dbt.log").read_text(encoding="utf-8").splitlines()
            if line.startswith("{")]


def dbt_parse(settings: Settings, target) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STYRINGSDATA_", "DBT_"))}
    env.update({"DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
                "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DBT_LOG_FORMAT_FILE": "json", "DBT_TARGET_PATH": str(target), "DBT_LOG_PATH": str(target)})
    # dagster-dbt starts dbt in the project directory; the launcher moves it to the work file's
    done = subprocess.run([sys.executable, str(DBT_CHILD), *child_arguments(settings), "parse", "--quiet"],
                          cwd=DBT_PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_second_data_directory_parses_partially(tmp_path):
    target = tmp_path / "target"
    first = Settings.from_env({"STYRINGSDATA_DATA_DIR": str(tmp_path / "one")})
    second = Settings.from_env({"STYRINGSDATA_DATA_DIR": str(tmp_path / "elsewhere" / "two")})
    dbt_parse(first, target)
    (target / "dbt.log").unlink()
    dbt_parse(second, target)
    names = [e["info"]["name"] for e in parse_events(target)]
    refused = [e["data"].get("reason") for e in parse_events(target) if e["info"]["name"] == "UnableToPartialParse"]
    assert not refused, f"dbt parsed the whole project again: {refused}"
    assert "PartialParsingSkipParsing" in names or "PartialParsingEnabled" in names, names
    # dbt never opened a work file while parsing, neither where it was started nor in the data directories
    assert not list(DBT_PROJECT_DIR.glob("*.duckdb")) and not list(tmp_path.rglob("*.duckdb"))
