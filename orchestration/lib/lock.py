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
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
import time
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Iterator

RUN_LOCK_NAME = ".styringsdata-run.lock"


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


@contextmanager
def exclusive_lock(path: Path, what: str, *, wait: float = 0.0, poll: float = 0.05) -> Iterator[Path]:
    """Hold an exclusive lock on `path` for the `with` block.

    `wait` seconds: how long to wait for a holder to finish; 0 fails at once. Raises LockHeld naming
    the holder when the lock is still taken after that.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" after waiting {wait:.0f}s" if wait > 0 else ""
                    raise LockHeld(
                        f"cannot start {what}: {_holder(path)} holds the lock {path}{waited}. "
                        "Wait for it to finish (the lock is released when that process ends, also if it "
                        "crashes; the lock file itself never needs removing)") from None
                time.sleep(poll)
        info = {"pid": os.getpid(), "what": what,
                "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "argv": sys.argv[:4]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        yield path
    finally:
        os.close(fd)  # releases the flock


def run_lock(data_dir: Path, *, wait: float = 0.0) -> AbstractContextManager[Path]:
    """The lock for a whole pipeline run over one data directory (work file, landing, publication)."""
    return exclusive_lock(Path(data_dir) / RUN_LOCK_NAME, f"a pipeline run on {data_dir}", wait=wait)
