"""The work file is a cache of the landing zone: checked at the start of every run, moved aside when it is
damaged (the run then rebuilds it from `data/landing`, every vintage), and read by anyone but the run
itself only through a private copy, so a reader never holds DuckDB's lock on it while a run writes.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb

from styringsdata.queries import one_value
from styringsdata.runs.lock import holds, shared_lock

# A DuckDB file starts with three 4 KiB headers, then its blocks.
HEADER_BYTES = 3 * 4096
SNAPSHOT_PREFIX = ".snapshot-"


class WorkFileBusy(RuntimeError):
    """Another process holds DuckDB's lock on the work file (a BI tool, a stray dbt): not damage."""


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def problem(work_db: Path) -> str | None:
    """Why the work file cannot be used, or None when it opens and every block of every table reads back.

    Reads the whole file once (checksums are verified on read): a cut-off copy opens and even counts rows,
    and fails only when a query reaches the missing blocks. Raises WorkFileBusy when another process has it.
    """
    work_db = Path(work_db)
    if not work_db.exists():
        return None
    try:
        con = duckdb.connect(str(work_db), read_only=True)  # read-only: the damaged file stays as found
    except duckdb.Error as exc:
        if "Could not set lock" in str(exc):
            raise WorkFileBusy(f"{work_db} is held by another process: {_one_line(str(exc))}") from None
        return _one_line(str(exc))
    try:
        block_size = one_value(
            con, "select block_size from pragma_database_size() where database_name = current_database()")
        tables = con.execute("select schema_name, table_name from duckdb_tables() order by all").fetchall()
        expected = HEADER_BYTES + block_size * (_last_block_in_use(con, tables) + 1)
        size = work_db.stat().st_size
        if size < expected:
            return f"it is {size} bytes but the blocks it uses need {expected} bytes (the file was cut short)"
        for schema, table in tables:
            con.execute(f'select bit_xor(hash(t)) from "{schema}"."{table}" as t').fetchone()
    except duckdb.Error as exc:
        return _one_line(str(exc))
    finally:
        con.close()
    return None


def _last_block_in_use(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> int:
    """The highest block the file's metadata and tables use (-1: none).

    Not the header's total_blocks: that counts free blocks too, and DuckDB cuts free blocks off the end of
    the file (after dbt replaced tables, every few builds) while still counting them, so a good file is
    shorter than total_blocks says. The work file has no indexes, whose blocks no pragma lists.
    """
    last = one_value(con, "select coalesce(max(block_id), -1) from pragma_metadata_info()")
    for schema, table in tables:
        name = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table))
        used = one_value(con, "select max(greatest(block_id, coalesce(list_max(additional_block_ids), -1))) "
                              "from pragma_storage_info(?) where persistent", [name])
        last = max(last, -1 if used is None else used)
    return last


def move_aside(work_db: Path) -> Path:
    """Rename the damaged file (and its WAL) to `<name>.corrupt-<UTC stamp>`, kept for whoever investigates."""
    work_db = Path(work_db)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = work_db.with_name(f"{work_db.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = work_db.with_name(f"{work_db.name}.corrupt-{stamp}-{n}")
    work_db.rename(target)
    if _wal(work_db).exists():
        _wal(work_db).rename(_wal(target))
    return target


def _sweep_stale_snapshots(work_db: Path) -> None:
    """Copies left by a reader that was killed before it could remove them."""
    for path in work_db.parent.glob(f".{work_db.name}{SNAPSHOT_PREFIX}*"):
        pid = path.name.rsplit("-", 1)[-1].split(".")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)


def _copy(source: Path, target: Path) -> None:
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        target.unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise OSError(exc.errno, f"{os.strerror(exc.errno)} (copying {source} to read it)", str(target)) from None
        raise


@dataclass(frozen=True)
class Readable:
    work_db: Path  # the file to open read-only
    state: str | None  # the build state file's text at the same moment (None: there is none)


@contextmanager
def readable(work_db: Path, lock_path: Path, *, state_path: Path | None = None,
             wait: float = 10.0) -> Iterator[Readable]:
    """The work file to read from without ever blocking a run.

    In the process that holds the run lock (a run reading its own work file): the work file itself.
    Anywhere else: a private copy, taken while no run writes (the run lock held shared for the copy only)
    and removed afterwards, with the build state as it was then. Raises LockHeld ("cannot read the work
    file now") when a run is writing.
    """
    work_db = Path(work_db)

    def state() -> str | None:
        return state_path.read_text(encoding="utf-8") if state_path is not None and state_path.exists() else None

    if holds(lock_path):
        yield Readable(work_db, state())
        return
    target = work_db.with_name(f".{work_db.name}{SNAPSHOT_PREFIX}{os.getpid()}")
    _sweep_stale_snapshots(work_db)
    try:
        with shared_lock(lock_path, f"read the work file now ({work_db})", wait=wait):
            if not work_db.exists():
                raise FileNotFoundError(errno.ENOENT, "no work file yet; run `styringsdata run` first", str(work_db))
            _copy(work_db, target)
            if _wal(work_db).exists():
                _copy(_wal(work_db), _wal(target))
            copied_state = state()
    except BaseException:
        target.unlink(missing_ok=True)
        _wal(target).unlink(missing_ok=True)
        raise
    try:
        yield Readable(target, copied_state)
    finally:
        target.unlink(missing_ok=True)
        _wal(target).unlink(missing_ok=True)
