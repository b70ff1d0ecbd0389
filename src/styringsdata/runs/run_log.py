"""The run's full log, one file per run under `<data>/logs/`, while the terminal shows only the stage lines.

Everything the run writes goes to the file: Dagster's events at every level (written as the instance stores them),
dbt's output, and whatever a library prints, because the process's own stdout and stderr (file descriptors 1 and 2,
which Dagster's compute-log capture and dbt's subprocess also use) point at the file while the job executes. The
terminal is reached through copies of those descriptors taken before. `--verbose` follows the file on the terminal.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

import dagster as dg


@dataclass
class RunLog:
    path: Path
    file: IO[str]
    terminal: IO[str]  # the terminal's stdout, as it was before the run's output was redirected
    terminal_err: IO[str]

    def write_event(self, entry: dg.EventLogEntry) -> None:
        self.file.write(format_event(entry) + "\n")
        self.file.flush()


def log_path(logs_dir: Path, run_id: str, started: dt.datetime | None = None) -> Path:
    stamp = (started or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%dT%H%M%SZ")
    return logs_dir / f"{stamp}_{run_id[:8]}.log"


def level_number(entry: dg.EventLogEntry) -> int:
    """The entry's log level as a number. Dagster coerces it to one when it builds the entry, but types the field
    `str | int` because it accepts a level name there too."""
    if isinstance(entry.level, int):
        return entry.level
    return logging.getLevelNamesMapping()[entry.level.upper()]


def format_event(entry: dg.EventLogEntry) -> str:
    """One line per event, as Dagster's console logger writes it (time, level, job, run, step, event, message)."""
    when = dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S %z")
    number = level_number(entry)
    level = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}.get(number, str(number))
    # Dagster's enum keeps the old PIPELINE_* values for runs; its console and UI say RUN_*
    kind = entry.dagster_event.event_type_value.replace("PIPELINE_", "RUN_") if entry.dagster_event else ""
    parts = [when, level, entry.job_name or "", entry.run_id, entry.step_key or "", kind, entry.user_message]
    return " - ".join(part for part in parts if part)


@contextmanager
def run_output_to_file(path: Path, *, verbose: bool = False) -> Iterator[RunLog]:
    """Point stdout and stderr at the log file for the block; yield the file and the terminal's streams."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8", errors="replace")
    terminal_err = os.fdopen(os.dup(saved_err), "w", buffering=1, encoding="utf-8", errors="replace")
    file = open(path, "a", buffering=1, encoding="utf-8")
    follower = _Follower(path, terminal) if verbose else None
    os.dup2(file.fileno(), 1)
    os.dup2(file.fileno(), 2)
    try:
        yield RunLog(path, file, terminal, terminal_err)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        file.close()
        if follower is not None:
            follower.stop()
        terminal.flush()
        terminal_err.flush()


class _Follower:
    """`tail -f` of the log file onto the terminal, for --verbose; stopped after it has shown the last byte."""

    def __init__(self, path: Path, terminal: IO[str]) -> None:
        self._path, self._terminal = path, terminal
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="run-log-follower", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with open(self._path, "rb") as source:
            while True:
                chunk = source.read(65536)
                if chunk:
                    self._terminal.write(chunk.decode("utf-8", errors="replace"))
                    self._terminal.flush()
                elif self._done.is_set():
                    return
                else:
                    self._done.wait(0.2)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=10)
