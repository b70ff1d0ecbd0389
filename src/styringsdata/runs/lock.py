"""Exclusive locks between processes, for what DuckDB's one-writer rule makes exclusive.

DuckDB itself refuses a second process that opens the work file for writing
("Could not set lock on file ... Conflicting lock is held in ... (PID n)"), but a
run opens and closes that file many times (each asset, then dbt in its own
process, then the gate and publish): two runs started together would interleave
and fail at random steps. One lock for the whole run makes the second run stop at
once with a message naming the first; a separate lock serialises publishing.

The lock is flock(2) on a small file. The kernel drops it when the holding process
ends, however it ends (SIGKILL included), so a crashed run never leaves a lock
someone must remove by hand. The file stays (harmless) and holds the last holder's
pid, start time and purpose, for the message the next contender prints.

Every writer takes the run lock: `styringsdata run` before it starts Dagster, and every
Dagster run (UI, schedule, sensor) when its resources start (src/styringsdata/defs/resources.py).
Within one process the lock is re-entrant, so the CLI's run does not lock itself out. Readers
(`styringsdata report`, the failure sensor) take it shared, only for the moment it takes to copy
the work file (src/styringsdata/runs/work_file.py); a run that finds only readers waits for them.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
import threading
import time
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Iterator

RUN_LOCK_NAME = ".styringsdata-run.lock"
# Readers hold the lock for the time it takes to copy a file: a writer waits this long for them.
READER_GRACE_SECONDS = 60.0

# Lock files this process holds exclusively, with a count: nested acquisitions pass straight through.
_held: dict[str, int] = {}
_held_guard = threading.Lock()


class LockHeld(RuntimeError):
    """Another process holds the lock; the message names it and the lock file."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process"
    return f"process {info.get('pid')} ({info.get('what')}, since {info.get('since')})"


def holds(path: Path) -> bool:
    """Whether this process holds the exclusive lock on `path`."""
    with _held_guard:
        return _held.get(str(Path(path).absolute()), 0) > 0


@contextmanager
def _reentered(key: str) -> Iterator[None]:
    with _held_guard:
        _held[key] += 1
    try:
        yield
    finally:
        with _held_guard:
            _held[key] -= 1


def _only_readers(path: Path) -> bool:
    """Whether the lock is held shared (readers copying a file), not exclusively (a writer)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@contextmanager
def exclusive_lock(path: Path, what: str, *, wait: float = 0.0, poll: float = 0.05,
                   on_wait=None) -> Iterator[Path]:
    """Hold an exclusive lock on `path` for the `with` block.

    `wait` seconds: how long to wait for a writer holding it to finish; 0 fails at once (readers, who
    hold it only to copy a file, are always waited for up to READER_GRACE_SECONDS). Raises LockHeld
    naming the holder when the lock is still taken after that. `on_wait(message)` is called once when
    the lock is busy, so a caller can say whom it waits for.
    """
    path = Path(path)
    key = str(path.absolute())
    if holds(path):
        with _reentered(key):
            yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                readers = _only_readers(path)
                limit = max(0.0, wait) if not readers else max(wait, READER_GRACE_SECONDS)
                if time.monotonic() - started >= limit:
                    holder = "processes reading it" if readers else _holder(path)
                    waited = f" after waiting {time.monotonic() - started:.0f}s" if limit > 0 else ""
                    raise LockHeld(
                        f"cannot start {what}: {holder} holds the lock {path}{waited}. "
                        "Wait for it to finish (the lock is released when that process ends, also if it "
                        "crashes; the lock file itself never needs removing)") from None
                if on_wait is not None and not told and not readers:
                    on_wait(f"waiting for {_holder(path)} to finish (lock {path}; giving up after {wait:.0f}s)")
                    told = True
                time.sleep(poll)
        info = {"pid": os.getpid(), "what": what,
                "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "argv": sys.argv[:4]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        with _held_guard:
            _held[key] = 1
        try:
            yield path
        finally:
            with _held_guard:
                _held.pop(key, None)
    finally:
        os.close(fd)  # releases the flock


@contextmanager
def shared_lock(path: Path, what: str, *, wait: float = 0.0, poll: float = 0.05) -> Iterator[Path]:
    """Hold `path` shared: no writer can take it meanwhile; other readers can. Passes straight through
    when this process holds it exclusively (a run reading its own work file)."""
    path = Path(path)
    if holds(path):
        with _reentered(str(path.absolute())):
            yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockHeld(f"cannot {what}: {_holder(path)} is writing it (lock {path}); "
                                   "try again when it has finished") from None
                time.sleep(poll)
        yield path
    finally:
        os.close(fd)


def run_lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / RUN_LOCK_NAME


def run_lock(data_dir: Path, *, wait: float = 0.0, what: str | None = None,
             on_wait=None) -> AbstractContextManager[Path]:
    """The lock for a whole pipeline run over one data directory (work file, landing, publication)."""
    return exclusive_lock(run_lock_path(data_dir), what or f"a pipeline run on {data_dir}", wait=wait,
                          on_wait=on_wait)
