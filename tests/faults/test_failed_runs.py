"""Failed runs: the next run finishes the job.

Each test starts from a copy of one published data directory (conftest.py) and kills or breaks a real
`styringsdata run` process, then checks what the next ordinary run does.
"""

from __future__ import annotations

import json
import signal
import time

import duckdb
import pytest

from styringsdata.sources.ssb import load_table_specs

from tests.faults.runs import (alive, cli, copy_data, dbt_child, drop_registry_file, kill, pipeline_env,
                               published_value, read, start_cli, start_killed_at, wait_for)


def registry_value_in_raw(data, indicator: str, year: int) -> list[float]:
    con = duckdb.connect(str(data / "work.duckdb"), read_only=True)
    try:
        return [r[0] for r in con.execute("select value from raw.registry_values where indicator_id = ? and "
                                          "municipality_code = '3203' and period = ?", [indicator, year]).fetchall()]
    finally:
        con.close()


def test_a_run_killed_after_loading_new_raw_data_is_published_by_the_next_run(published_data, tmp_path):
    data = copy_data(published_data, tmp_path / "data")
    env = pipeline_env(data)
    drop_registry_file(data, "sykefravaer_2023.csv", "MED01;3203;2023;7,7;percent;measured;HR;\n")
    log = tmp_path / "killed.log"
    # SIGKILL when the dbt step decides whether to build: every source step has loaded raw by then.
    proc = start_killed_at(env, "styringsdata.runs.build_state:decide", "run", log=log)
    assert proc.wait(timeout=900) == -signal.SIGKILL, read(log)[-3000:]
    assert "killing at styringsdata.runs.build_state:decide" in read(log)
    assert 7.7 in registry_value_in_raw(data, "MED01", 2023)
    assert published_value(data, "MED01", "3203", 2023) != 7.7

    # The next run finds nothing new upstream (the file was loaded by the killed run), and still publishes.
    second = cli(env, "run")

    assert second.returncode == 0, second.stderr[-3000:]
    # The fault worlds fetch two SSB tables (runs.MINI_TABLES), and a run of part of the configuration says so.
    bundled = len(load_table_specs().tables)
    assert f"styringsdata: SSB tables 12143, 11787 only, of {bundled} configured (STYRINGSDATA_SSB_TABLES=" in \
        second.stdout
    assert "nothing new upstream" not in second.stdout, second.stdout[-2000:]
    assert f"published: {data / 'warehouse.duckdb'}" in second.stdout
    assert published_value(data, "MED01", "3203", 2023) == pytest.approx(7.7)


def test_killing_a_run_during_dbt_kills_dbt_too_and_the_next_run_publishes(published_data, tmp_path):
    data = copy_data(published_data, tmp_path / "data")
    env = pipeline_env(data)
    drop_registry_file(data, "sykefravaer_2023.csv", "MED01;3203;2023;6,6;percent;measured;HR;\n")
    log = tmp_path / "run.log"
    proc = start_cli(env, "run", log=log)
    dbt = None
    try:
        dbt = wait_for(lambda: dbt_child(proc.pid) or proc.poll() is not None and -1, 600, "dbt build to start")
        assert dbt > 0, read(log)[-3000:]
        time.sleep(2)  # dbt has opened the work file
        kill(proc)  # SIGKILL of the parent only: nothing gets to clean up
        deadline = time.monotonic() + 15
        while alive(dbt) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(dbt), f"dbt (pid {dbt}) outlived the run that started it"
    finally:
        kill(proc)
        if dbt and dbt > 0 and alive(dbt):
            import os
            os.kill(dbt, signal.SIGKILL)
    duckdb.connect(str(data / "work.duckdb")).close()  # nobody holds the work file's lock any more

    second = cli(env, "run")

    assert second.returncode == 0, second.stderr[-3000:]
    assert published_value(data, "MED01", "3203", 2023) == pytest.approx(6.6)


def reports_of(data, run_id: str) -> list:
    return sorted((data / "reports").glob(f"quality-report_*_{run_id[:8]}.html"))


def test_a_publication_whose_run_was_killed_before_the_report_gets_its_report(published_data, tmp_path):
    data = copy_data(published_data, tmp_path / "data")
    first_run = json.loads((data / "work.build.json").read_text())["run_id"]
    log = tmp_path / "killed.log"
    proc = start_killed_at(pipeline_env(data, STYRINGSDATA_REBUILD="on"), "styringsdata.defs.report:deliver",
                           "run", log=log)
    assert proc.wait(timeout=900) == -signal.SIGKILL, read(log)[-3000:]
    killed_run = json.loads((data / "work.build.json").read_text())["run_id"]
    assert killed_run != first_run
    assert (data / "warehouse.duckdb").is_file() and not reports_of(data, killed_run)

    # `styringsdata report` now: the figures are the killed run's publication, and must be labelled so.
    asked = copy_data(data, tmp_path / "asked")
    report = cli(pipeline_env(asked), "report")
    assert report.returncode == 0, report.stderr
    assert reports_of(asked, killed_run), report.stdout + report.stderr
    context = json.loads(reports_of(asked, killed_run)[0].with_suffix(".json").read_text())
    assert context["run_id"] == killed_run and context["outcome"] == "published"
    assert not [p for p in (asked / "reports").glob(f"*_{first_run[:8]}.html") if p.stat().st_mtime_ns >
                (data / "warehouse.duckdb").stat().st_mtime_ns], "the previous run's report was rebuilt"

    # The next run, with nothing new upstream, writes the missing report itself.
    second = cli(pipeline_env(data), "run")
    assert second.returncode == 0, second.stderr[-3000:]
    assert reports_of(data, killed_run), second.stdout[-2000:] + second.stderr[-3000:]
