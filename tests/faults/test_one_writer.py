"""One writer at a time, whoever starts it: `styringsdata run`, or Dagster (UI, schedule, sensor).

A "Dagster run" here is `dagster job execute` in its own process against its own DAGSTER_HOME: Dagster's
own way of executing the job in a process, as its run launcher does for the UI, schedules and sensors,
never through `src/styringsdata/cli.py`.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from tests.faults.runs import (ROOT, cli, copy_data, kill, pipeline_env, published_rows, read, start, start_cli,
                               wait_for)

DAGSTER = str(Path(sys.executable).with_name("dagster"))


def dagster_home(tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    home.mkdir()
    shutil.copy(ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return home


def start_dagster_run(env: dict[str, str], log: Path):
    return start(env, DAGSTER, "job", "execute", "-m", "styringsdata.definitions", "-j", "full_refresh", log=log)


def lock_holder(data: Path) -> int | None:
    try:
        return json.loads((data / ".styringsdata-run.lock").read_text() or "{}").get("pid")
    except (OSError, ValueError):
        return None


def test_dagster_runs_during_a_cli_run_wait_for_it_or_are_refused_naming_it(published_data, tmp_path):
    data = copy_data(published_data, tmp_path / "data")
    cli_log, waiting_log, refused_log = tmp_path / "cli.log", tmp_path / "waiting.log", tmp_path / "refused.log"
    first = start_cli(pipeline_env(data, STYRINGSDATA_REBUILD="on"), "run", log=cli_log)
    procs = [first]
    try:
        wait_for(lambda: lock_holder(data) == first.pid, 120, "the CLI run to take the run lock")
        waiting = start_dagster_run(pipeline_env(data, DAGSTER_HOME=str(dagster_home(tmp_path, "home1"))),
                                    waiting_log)
        refused = start_dagster_run(pipeline_env(data, DAGSTER_HOME=str(dagster_home(tmp_path, "home2")),
                                                 STYRINGSDATA_RUN_LOCK_WAIT="1"), refused_log)
        procs += [waiting, refused]
        assert first.wait(timeout=900) == 0, read(cli_log)[-4000:]
        assert refused.wait(timeout=900) != 0
        assert waiting.wait(timeout=900) == 0, read(waiting_log)[-4000:]
    finally:
        for proc in procs:
            kill(proc)
    assert f"published: {data / 'warehouse.duckdb'}" in read(cli_log)
    # the one that waited said for whom, then ran (nothing new upstream by then)
    assert f"process {first.pid}" in read(waiting_log) and "waiting" in read(waiting_log)
    # the one that could not wait was refused before any step ran, naming the CLI run
    refused_text = read(refused_log)
    assert f"process {first.pid}" in refused_text and "STEP_START" not in refused_text, refused_text[-3000:]
    assert published_rows(data, "_publication")


def test_a_cli_run_during_a_dagster_run_is_refused_naming_it_and_the_dagster_run_finishes(published_data, tmp_path):
    data = copy_data(published_data, tmp_path / "data")
    log = tmp_path / "dagster.log"
    running = start_dagster_run(pipeline_env(data, DAGSTER_HOME=str(dagster_home(tmp_path, "home")),
                                             STYRINGSDATA_REBUILD="on"), log)
    try:
        wait_for(lambda: "STEP_START" in read(log) or running.poll() is not None, 300, "the Dagster run to start")
        second = cli(pipeline_env(data), "run")
        assert running.wait(timeout=900) == 0, read(log)[-4000:]
    finally:
        kill(running)
    assert second.returncode == 4, second.stdout[-2000:] + second.stderr[-3000:]
    assert f"process {running.pid}" in second.stderr and "not started" in second.stderr


def test_report_in_a_loop_during_a_run_never_fails_the_run(published_data, tmp_path):
    data = copy_data(published_data, tmp_path / "data")
    log = tmp_path / "run.log"
    run = start_cli(pipeline_env(data, STYRINGSDATA_REBUILD="on"), "run", log=log)
    reports = []
    try:
        while run.poll() is None:
            reports.append(cli(pipeline_env(data), "report", timeout=300))
    finally:
        kill(run)
    assert run.returncode == 0, read(log)[-4000:]
    assert reports
    for report in reports:
        assert report.returncode in (0, 4), report.stderr[-3000:]
        assert "Traceback" not in report.stderr, report.stderr[-3000:]
        if report.returncode == 4:
            (line,) = report.stderr.strip().splitlines()
            assert "cannot read the work file now" in line and "run" in line, line
    after = cli(pipeline_env(data), "report")
    assert after.returncode == 0, after.stderr[-3000:]
