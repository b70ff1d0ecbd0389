"""Two runs at once. DuckDB lets one process write a file; what the loser sees must be clear, and
neither the work file nor the published warehouse may suffer.

- two publishes of the same warehouse: the second waits for the first (publish lock), or fails at
  once naming the holder when it may not wait; the warehouse is whole either way;
- a second writer of the work file: DuckDB refuses it, naming the file and the holder's PID;
- a publish while another process writes the work file: refused, last publication untouched;
- two pipeline runs on one data directory: the run lock refuses the second, naming the first;
- every lock is released when its holder is SIGKILLed: no stale lock to remove by hand.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import duckdb
import pytest

from styringsdata.runs.lock import LockHeld, exclusive_lock, run_lock
from styringsdata.publishing.publish import PublishError, publish, publish_lock_path
from tests.faults.publishing import MARTS, ROOT, child, leftovers, read_whole, write_marts

ROWS = 20_000


@pytest.fixture
def published(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    work, warehouse, parquet = data / "work.duckdb", data / "warehouse.duckdb", data / "parquet"
    write_marts(work, 1, ROWS)
    publish(work, warehouse, parquet, MARTS)
    write_marts(work, 2, ROWS)
    return work, warehouse, parquet


def ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline().strip()
    assert line == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")


def test_a_second_publish_waits_for_the_first(published):
    work, warehouse, parquet = published
    with exclusive_lock(publish_lock_path(warehouse), "a publish in progress (the test)"):
        proc = child(work, warehouse, parquet, "--lock-wait", "30")
        ready(proc)
        time.sleep(0.7)
        assert proc.poll() is None, "the second publish did not wait"
        assert read_whole(warehouse, ROWS) == 1
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert read_whole(warehouse, ROWS) == 2 and leftovers(warehouse.parent) == []


def test_a_second_publish_that_may_not_wait_fails_naming_the_holder(published):
    work, warehouse, parquet = published
    with exclusive_lock(publish_lock_path(warehouse), "a publish in progress (the test)"):
        proc = child(work, warehouse, parquet, "--lock-wait", "0")
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"LockHeld: cannot start publishing {warehouse}: process {os.getpid()} " \
           "(a publish in progress (the test), since" in err
    assert str(publish_lock_path(warehouse)) in err
    assert read_whole(warehouse, ROWS) == 1 and leftovers(warehouse.parent) == []


def test_two_publishes_started_together_both_finish_and_the_warehouse_is_whole(published):
    work, warehouse, parquet = published
    procs = [child(work, warehouse, parquet, "--lock-wait", "60") for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    assert read_whole(warehouse, ROWS) == 2
    assert read_whole(warehouse.with_name("warehouse.previous.duckdb"), ROWS) in (1, 2)
    assert leftovers(warehouse.parent) == []


def test_a_second_writer_of_the_work_file_is_refused_naming_file_and_holder(published):
    work, warehouse, parquet = published
    holder = child(work, warehouse, parquet, "--hold-work", "30")
    try:
        ready(holder)
        with pytest.raises(duckdb.IOException, match=rf'Could not set lock on file "{re.escape(str(work))}".*PID {holder.pid}'):
            duckdb.connect(str(work))
        # Publishing needs to read the work file: refused too, and the publication stays as it was.
        with pytest.raises(PublishError, match=rf"cannot publish: the work file {re.escape(str(work))} .*PID {holder.pid}.*"
                                               "left as it was"):
            publish(work, warehouse, parquet, MARTS, lock_wait=0)
        assert read_whole(warehouse, ROWS) == 1 and leftovers(warehouse.parent) == []
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    # The killed writer's lock went with it: the next writer gets in, the file is intact.
    con = duckdb.connect(str(work))
    assert con.execute("select count(*), min(generation) from marts.big").fetchone() == (ROWS + 2, 2)
    con.close()


HOLD_RUN_LOCK = """
import sys, time
from styringsdata.runs.lock import run_lock
with run_lock(sys.argv[1]):
    print("ready", flush=True)
    time.sleep(60)
"""


def test_a_second_run_on_the_same_data_directory_is_refused_and_a_killed_run_frees_the_lock(tmp_path):
    first = subprocess.Popen([sys.executable, "-c", HOLD_RUN_LOCK, str(tmp_path)], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready(first)
        with pytest.raises(LockHeld, match=rf"cannot start a pipeline run on {re.escape(str(tmp_path))}: process {first.pid} "
                                           rf"\(a pipeline run on {re.escape(str(tmp_path))}, since .*\) holds the lock"):
            with run_lock(tmp_path):
                pass
        started = time.monotonic()
        with pytest.raises(LockHeld, match="after waiting"):
            with run_lock(tmp_path, wait=0.3):
                pass
        assert time.monotonic() - started >= 0.3
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    with run_lock(tmp_path) as path:  # no manual step: the lock went with the killed process
        assert path.name == ".styringsdata-run.lock"


def test_second_cli_run_on_the_same_data_directory_is_refused_naming_the_first(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    env["STYRINGSDATA_DATA_DIR"] = str(data)
    with run_lock(data):  # stands in for a first run still going
        second = subprocess.run([sys.executable, "-m", "styringsdata.cli", "run"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300)
    assert second.returncode == 4, second.stderr
    assert "not started" in second.stderr and f"process {os.getpid()}" in second.stderr
    assert not (data / "warehouse.duckdb").exists() and not (data / "work.duckdb").exists()


HOLD_SHARED = """
import sys, time
from styringsdata.runs.lock import shared_lock
with shared_lock(sys.argv[1], "read the work file now"):
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_the_run_lock_is_reentrant_in_its_process_and_waits_for_readers_only(tmp_path):
    from styringsdata.runs.lock import holds, run_lock_path, shared_lock

    path = run_lock_path(tmp_path)
    with run_lock(tmp_path):
        with run_lock(tmp_path, wait=0):  # the CLI's run, then its Dagster resource: same process
            assert holds(path)
        assert holds(path)
        with shared_lock(path, "read"):  # a run reading its own work file
            pass
        # another process that only reads is refused while this one writes
        reader = subprocess.run([sys.executable, "-c", HOLD_SHARED, str(path), "0"], cwd=ROOT, capture_output=True,
                                text=True, timeout=60)
        assert reader.returncode == 1 and f"is writing it (lock {path})" in reader.stderr
    assert not holds(path)
    # a reader holds it for 1.5 s: a writer that may not wait for writers still waits for it
    reader = subprocess.Popen([sys.executable, "-c", HOLD_SHARED, str(path), "1.5"], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready(reader)
        started = time.monotonic()
        with run_lock(tmp_path, wait=0):
            assert time.monotonic() - started >= 1.0
    finally:
        reader.kill()
        reader.communicate(timeout=30)
