"""How a damaged work file is told apart from a good one, and from one another process holds.

A real DuckDB file of a few MB (several 256 KiB blocks), damaged the ways files get damaged: a copy that
stopped halfway, a file of zeros (a crashed file system, a pre-allocated image), a lost header, a patch
of garbage in the middle (a bad sector), nothing at all. The end-to-end recovery of a real work file is
in test_work_file_rebuild.py.
"""

from __future__ import annotations

import random

import duckdb
import pytest

from styringsdata.runs import work_file
from tests.faults.publishing import child
from tests.faults.runs import kill


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "work.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute("create table raw.cells as select range as id, 'v' || (range * 7919 % 100003) as label, "
                "random() as value from range(400000)")
    con.execute("create schema marts")
    con.execute("create table marts.small as select range as id from range(10)")
    con.close()
    assert path.stat().st_size > 4 * 262144
    return path


def damaged(path, how: str) -> bytes:
    data = path.read_bytes()
    size = len(data)
    rng = random.Random(11)
    return {
        "cut in half": data[: size // 2],
        "cut near the end": data[: size - 4096],
        "cut to 100 bytes": data[:100],
        "zeroed": b"\0" * size,
        "header zeroed": b"\0" * 12288 + data[12288:],
        "garbage in the middle": data[: size // 2] + rng.randbytes(65536) + data[size // 2 + 65536:],
        "empty": b"",
    }[how]


def test_a_good_work_file_has_no_problem(good):
    assert work_file.problem(good) is None
    assert work_file.problem(good.with_name("missing.duckdb")) is None  # a first run: nothing to check


@pytest.mark.parametrize("how", ["cut in half", "cut near the end", "cut to 100 bytes", "zeroed", "header zeroed",
                                 "garbage in the middle", "empty"])
def test_a_damaged_work_file_is_named_and_moved_aside_as_found(good, how):
    bad = damaged(good, how)
    good.write_bytes(bad)

    problem = work_file.problem(good)

    assert problem, how
    assert good.read_bytes() == bad, "the check wrote to the damaged file"
    aside = work_file.move_aside(good)
    assert not good.exists() and aside.name.startswith("work.duckdb.corrupt-") and aside.read_bytes() == bad
    con = duckdb.connect(str(good))  # the next run starts a new one there
    con.close()


def test_a_work_file_duckdb_shortened_itself_has_no_problem(good):
    # was: every third build of the same work file (dbt replacing its tables) left DuckDB's free blocks at
    # the end of the file, DuckDB cut them off, its header still counted them, and the next run called the
    # file "cut short", moved it aside and rebuilt it from the landing zone (audit_and_publish had no marts)
    def sizes() -> tuple[int, int]:
        con = duckdb.connect(str(good), read_only=True)
        try:
            block_size, total_blocks = con.execute("select block_size, total_blocks from pragma_database_size()"
                                                   ).fetchone()
        finally:
            con.close()
        return good.stat().st_size, work_file.HEADER_BYTES + block_size * total_blocks

    for _ in range(6):  # rebuilt as dbt does: the new table beside the old one, then swapped in
        con = duckdb.connect(str(good))
        con.execute("create table raw.cells__new as select range as id, random() as value from range(400000)")
        con.execute("drop table raw.cells")
        con.execute("alter table raw.cells__new rename to cells")
        con.close()
        size, described = sizes()
        if size < described:
            break
    assert size < described, "DuckDB kept the file at the size its header describes; the premise changed"

    assert work_file.problem(good) is None
    con = duckdb.connect(str(good), read_only=True)
    assert con.execute("select count(*) from raw.cells").fetchone() == (400000,)
    con.close()


def test_a_work_file_another_process_holds_is_not_called_damaged(good, tmp_path):
    holder = child(good, tmp_path / "warehouse.duckdb", tmp_path / "parquet", "--hold-work", "60")
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        with pytest.raises(work_file.WorkFileBusy, match=rf"held by another process: .*PID {holder.pid}"):
            work_file.problem(good)
        assert good.exists()
    finally:
        kill(holder)


def test_a_private_copy_is_read_and_removed(good, tmp_path):
    lock = tmp_path / ".styringsdata-run.lock"
    with work_file.readable(good, lock) as copy:
        assert copy.work_db != good and copy.work_db.parent == good.parent
        con = duckdb.connect(str(copy.work_db), read_only=True)
        assert con.execute("select count(*) from marts.small").fetchone() == (10,)
        con.close()
    assert sorted(p.name for p in good.parent.iterdir() if "snapshot" in p.name) == []
    # a copy left by a reader that was killed is swept by the next one
    stale = good.with_name(f".work.duckdb.snapshot-{2**22 + 7}")
    stale.write_bytes(b"x")
    with work_file.readable(good, lock):
        pass
    assert not stale.exists()
