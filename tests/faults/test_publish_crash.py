"""A publish killed with SIGKILL at any moment leaves the old or the new publication, whole;
the next publish succeeds without manual steps and removes what the killed one left behind.
A BI reader with the warehouse open keeps reading its publication while a new one is published."""

from __future__ import annotations

import random
import signal
import time

import duckdb
import pytest

from styringsdata.publishing.publish import publish
from tests.faults.publishing import MARTS, child, leftovers, read_parquet_generation, read_whole, write_marts

SMALL = 20_000  # rows: fast enough to kill at every rename in turn
LARGE = 400_000  # rows: a publish that takes long enough to be killed at random moments


def paths(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    return data / "work.duckdb", data / "warehouse.duckdb", data / "parquet"


def check_visible(data_dir, warehouse, parquet, base, allowed):
    """The live warehouse holds one whole allowed generation; the previous one and the Parquet copy are
    whole too. (Parquet is a second file set: a kill between the two final renames leaves it one
    publication behind until the next publish, never missing and never mixed.)"""
    visible = read_whole(warehouse, base)
    assert visible in allowed, f"warehouse holds generation {visible}, expected one of {allowed}"
    previous = warehouse.with_name("warehouse.previous.duckdb")
    if previous.exists():
        assert read_whole(previous, base) <= visible
    assert parquet.is_dir(), f"{parquet} went missing: {sorted(p.name for p in data_dir.iterdir())}"
    assert read_parquet_generation(parquet, base) <= visible
    return visible


def recover(work, warehouse, parquet, base, generation):
    # The next run: no manual step, and the lock of the killed publish is not held (lock_wait=0).
    publish(work, warehouse, parquet, MARTS, lock_wait=0)
    assert read_whole(warehouse, base) == generation
    assert read_parquet_generation(parquet, base) == generation
    assert leftovers(warehouse.parent) == []


def test_sigkill_at_every_rename_leaves_a_whole_publication_and_the_next_publish_recovers(tmp_path):
    work, warehouse, parquet = paths(tmp_path)
    write_marts(work, 1, SMALL)
    publish(work, warehouse, parquet, MARTS)
    visible, generation, seen = 1, 1, set()
    # The publish makes four renames/links once its new file is built: link and rename of the previous
    # publication, the live rename, the rename that follows the Parquet swap. Killed before each, right
    # after the live rename, and not at all (5: there is no fifth).
    for kill_at, when in ((1, "before"), (2, "before"), (3, "before"), (3, "after"), (4, "before"), (5, "before")):
        if True:
            generation += 1
            write_marts(work, generation, SMALL)
            proc = child(work, warehouse, parquet, "--kill-at", str(kill_at), "--kill-when", when)
            out, err = proc.communicate(timeout=60)
            assert proc.returncode in (-signal.SIGKILL, 0), err
            now = check_visible(warehouse.parent, warehouse, parquet, SMALL, {visible, generation})
            seen.add("old" if now == visible else "new")
            recover(work, warehouse, parquet, SMALL, generation)
            visible = generation
    assert seen == {"old", "new"}


def test_sigkill_at_random_moments_never_leaves_a_broken_warehouse(tmp_path):
    work, warehouse, parquet = paths(tmp_path)
    write_marts(work, 1, LARGE)
    publish(work, warehouse, parquet, MARTS)
    # How long a publish takes here, measured in a child like the ones we kill.
    write_marts(work, 2, LARGE)
    proc = child(work, warehouse, parquet)
    assert proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    proc.communicate(timeout=120)
    duration = time.monotonic() - started
    assert proc.returncode == 0 and read_whole(warehouse, LARGE) == 2
    rng = random.Random(20260315)
    visible, generation, outcomes = 2, 2, []
    for _ in range(8):
        generation += 1
        write_marts(work, generation, LARGE)
        proc = child(work, warehouse, parquet)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, duration * 1.1))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        now = check_visible(warehouse.parent, warehouse, parquet, LARGE, {visible, generation})
        outcomes.append("new" if now == generation else "old")
        visible = now
    assert "old" in outcomes, outcomes  # at least one kill landed mid-publish
    recover(work, warehouse, parquet, LARGE, generation)


def test_a_reader_keeps_its_publication_while_a_new_one_is_published(tmp_path):
    work, warehouse, parquet = paths(tmp_path)
    write_marts(work, 1, SMALL)
    publish(work, warehouse, parquet, MARTS)
    reader = duckdb.connect(str(warehouse), read_only=True)
    try:
        write_marts(work, 2, SMALL)
        proc = child(work, warehouse, parquet)  # another process, as the pipeline is for a BI tool
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        # The open connection still reads the publication it opened, whole.
        assert reader.execute("select count(*), min(generation), max(generation) from big").fetchone() == (SMALL + 1, 1, 1)
    finally:
        reader.close()
    assert read_whole(warehouse, SMALL) == 2


@pytest.mark.parametrize("bad", ["missing", "no_marts_schema"])
def test_a_publish_that_fails_leaves_the_last_publication_and_no_leftovers(tmp_path, bad):
    work, warehouse, parquet = paths(tmp_path)
    write_marts(work, 1, SMALL)
    publish(work, warehouse, parquet, MARTS)
    if bad == "missing":
        work.unlink()
    else:
        con = duckdb.connect(str(work))
        con.execute("drop schema marts cascade")
        con.close()
    with pytest.raises(Exception, match=r"work|marts|big"):
        publish(work, warehouse, parquet, MARTS)
    assert read_whole(warehouse, SMALL) == 1 and read_parquet_generation(parquet, SMALL) == 1
    assert leftovers(warehouse.parent) == []
