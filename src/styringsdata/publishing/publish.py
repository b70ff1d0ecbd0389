"""Publish audited marts: a new DuckDB file renamed over the old one, plus Parquet.

BI users read `warehouse.duckdb` (read-only) while the pipeline runs. We never
open that file for writing: a complete new file is built next to it and moved
into place with one atomic rename, so a reader sees the old publication or the
new one, never a mix. The previous file is kept as `warehouse.previous.duckdb`.

The file is written in DuckDB 1.1's storage format (`PUBLICATION_STORAGE_VERSION`): the pipeline runs DuckDB
2.0, but BI drivers and CLIs bundle a 1.x engine, which cannot open a file in 2.0's format.

With a PostgreSQL target (src/styringsdata/publishing/publish_postgres.py), the same publication is staged and switched
in there before anything is renamed here: a publication that PostgreSQL cannot take changes neither target.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import duckdb

from styringsdata.publishing.common import PublishError
from styringsdata.publishing.common import sql_string as _sql_string
from styringsdata.queries import one_value
from styringsdata.raw.raw_store import identifier
from styringsdata.runs.lock import exclusive_lock

if TYPE_CHECKING:
    from styringsdata.publishing.publish_postgres import GateRecord, PostgresTarget


@dataclass(frozen=True)
class MartSpec:
    name: str  # table name in the publication
    relation: str  # schema-qualified relation in the work file
    description: str
    columns: dict[str, str]  # column -> description


@dataclass(frozen=True)
class Publication:
    path: Path
    parquet_dir: Path
    tables: dict[str, int]  # table -> rows
    published_at: str
    postgres: str | None = None  # where it was published in PostgreSQL too (no password)
    seconds: dict[str, float] = field(default_factory=dict)  # by part: duckdb, parquet, postgres stage/switch


def marts_from_manifest(manifest_path: Path) -> list[MartSpec]:
    """The models under models/marts/, with their YAML descriptions."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    marts = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or "marts" not in node["fqn"][1:-1]:
            continue
        name = identifier(node["alias"] or node["name"], "mart name")
        marts.append(
            MartSpec(
                name=name,
                relation=f'"{node["schema"]}"."{name}"',
                description=node.get("description") or "",
                columns={c: (meta.get("description") or "") for c, meta in node.get("columns", {}).items()},
            )
        )
    return sorted(marts, key=lambda m: m.name)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# The oldest DuckDB release whose readers open the published file (1.0 stored version 64, 2.0 stores 69).
PUBLICATION_STORAGE_VERSION = "v1.1.0"


def build_publication(work_db: Path, target: Path, marts: Iterable[MartSpec], published_at: str,
                      source_mode: str = "replay") -> dict[str, int]:
    if target.exists():
        target.unlink()
    rows: dict[str, int] = {}
    con = duckdb.connect()
    try:
        # A file created by connect() gets this engine's newest format; ATTACH can choose an older one.
        con.execute(f"attach {_sql_string(str(target))} as publication "
                    f"(storage_version {_sql_string(PUBLICATION_STORAGE_VERSION)})")
        try:
            con.execute(f"attach {_sql_string(str(work_db))} as work (read_only)")
        except duckdb.IOException as exc:
            # Typically another process has the work file open for writing (DuckDB allows one writer).
            raise PublishError(f"cannot publish: the work file {work_db} cannot be opened for reading: {exc}; "
                               "the published warehouse was left as it was") from exc
        for mart in marts:
            con.execute(f"create table publication.main.{mart.name} as select * from work.{mart.relation}")
            if mart.description:
                con.execute(f"comment on table publication.main.{mart.name} is {_sql_string(mart.description)}")
            existing = {r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_catalog='publication' "
                "and table_schema='main' and table_name=?", [mart.name]).fetchall()}
            for column, description in mart.columns.items():
                if column in existing and description:
                    con.execute(f'comment on column publication.main.{mart.name}."{column}" is '
                                f'{_sql_string(description)}')
            rows[mart.name] = one_value(con, f"select count(*) from publication.main.{mart.name}")
        con.execute("detach work")
        # source_mode: the run's (replay = bundled or recorded snapshots, live, record); each figure's own origin
        # is in the marts' `origin` column.
        con.execute("create table publication.main._publication "
                    "(published_at timestamp, table_name varchar, row_count bigint, source_mode varchar)")
        con.executemany("insert into publication.main._publication values (?, ?, ?, ?)",
                        [(published_at, name, n, source_mode) for name, n in rows.items()])
        con.execute("checkpoint publication")
        con.execute("detach publication")
    finally:
        con.close()
    _fsync(target)
    return rows


def stage_parquet(db_file: Path, parquet_dir: Path, tables: Iterable[str]) -> Path:
    """Write every table of `db_file` as Parquet into `<parquet_dir>.incoming`, ready to be swapped in."""
    staging = parquet_dir.with_name(parquet_dir.name + ".incoming")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    con = duckdb.connect(str(db_file), read_only=True)
    try:
        for table in tables:
            con.execute(f"copy main.{table} to {_sql_string(str(staging / (table + '.parquet')))} (format parquet)")
    finally:
        con.close()
    return staging


def swap_in_parquet(staging: Path, parquet_dir: Path) -> None:
    previous = parquet_dir.with_name(parquet_dir.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if parquet_dir.exists() and _exchange(staging, parquet_dir):
        # One atomic step: `parquet` never goes missing, not even if the process is killed here.
        staging.rename(previous)
        return
    if parquet_dir.exists():
        parquet_dir.rename(previous)
    staging.rename(parquet_dir)


def export_parquet(warehouse_file: Path, parquet_dir: Path, tables: Iterable[str]) -> None:
    swap_in_parquet(stage_parquet(warehouse_file, parquet_dir, tables), parquet_dir)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories atomically (Linux renameat2 RENAME_EXCHANGE). False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def publish_lock_path(warehouse: Path) -> Path:
    return Path(warehouse).with_name(f".{Path(warehouse).name}.lock")


def publish(work_db: Path, warehouse: Path, parquet_dir: Path, marts: list[MartSpec], *,
            lock_wait: float = 600.0, postgres: "PostgresTarget | None" = None,
            gate: "GateRecord | None" = None, source_mode: str = "replay",
            on_built: "Callable[[Path, str, dict[str, int]], None] | None" = None) -> Publication:
    """Publish the marts. A second publish of the same warehouse waits up to `lock_wait` seconds for the
    first to finish, then fails with LockHeld naming it. With `postgres`, the same publication goes there
    too, recorded with `gate` (the gate result that let it through), all or nothing (the pipeline instead
    publishes PostgreSQL on its own from the approved build: src/styringsdata/publishing/ledger.py).
    `on_built(file, published_at, rows)` is called with the complete new publication before any target
    changes (the pipeline keeps it as the approved build there)."""
    if not marts:
        raise ValueError("nothing to publish: the dbt manifest lists no models under models/marts")
    if postgres is not None and gate is None:
        raise ValueError("publishing to PostgreSQL needs the gate result to record beside the marts")
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(publish_lock_path(warehouse), f"publishing {warehouse}", wait=lock_wait):
        return _publish_locked(Path(work_db), warehouse, Path(parquet_dir), marts, postgres, gate, source_mode,
                               on_built)


def _publish_locked(work_db: Path, warehouse: Path, parquet_dir: Path, marts: list[MartSpec],
                    postgres: "PostgresTarget | None" = None, gate: "GateRecord | None" = None,
                    source_mode: str = "replay",
                    on_built: "Callable[[Path, str, dict[str, int]], None] | None" = None) -> Publication:
    # Files left by a publish that was killed midway: never the live name, and no other publish is
    # running (we hold the lock), so they are safe to remove.
    backup = warehouse.with_name(warehouse.stem + ".previous" + warehouse.suffix)
    tmp_link = backup.with_name(backup.name + ".tmp")
    for leftover in [*warehouse.parent.glob(f".{warehouse.name}.incoming-*"), tmp_link]:
        if leftover.exists() or leftover.is_symlink():
            leftover.unlink()
    published_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")
    incoming = warehouse.with_name(f".{warehouse.name}.incoming-{os.getpid()}")
    staging = None
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    try:
        rows = build_publication(work_db, incoming, marts, published_at, source_mode)
        seconds["duckdb"] = time.perf_counter() - clock
        # Parquet is written before anything is renamed, so the DuckDB file and the Parquet copy
        # change places one right after the other.
        clock = time.perf_counter()
        staging = stage_parquet(incoming, parquet_dir, rows)
        seconds["parquet"] = time.perf_counter() - clock
        if on_built is not None:
            on_built(incoming, published_at, rows)
        if postgres is not None:
            # PostgreSQL first: staging or its switch can fail (a server away, readers holding the old
            # publication past the wait), and then neither target has changed. What remains after it
            # here is two renames on one file system.
            from styringsdata.publishing import publish_postgres

            if gate is None:
                raise PublishError("a PostgreSQL publication records the gate result that let it through; "
                                   "publish() was given none")
            clock = time.perf_counter()
            staged = publish_postgres.stage(postgres, incoming, published_at, gate)
            seconds["postgres stage"] = time.perf_counter() - clock
            clock = time.perf_counter()
            switched = publish_postgres.swap(staged)
            seconds["postgres switch"] = time.perf_counter() - clock
        if warehouse.exists():
            # A hard link keeps the previous publication without copying it and
            # without ever removing the live name.
            os.link(warehouse, tmp_link)
            os.replace(tmp_link, backup)
            if tmp_link.exists():  # rename(2) does nothing when both names are already the same file
                tmp_link.unlink()
        os.replace(incoming, warehouse)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if incoming.exists():
            incoming.unlink()
    swap_in_parquet(staging, parquet_dir)
    return Publication(warehouse, parquet_dir, rows, published_at,
                       f"{postgres.describe()} ({switched.how}"
                       + (f"; {switched.vacuum_error})" if switched.vacuum_error else ")")
                       if postgres is not None else None, seconds)
