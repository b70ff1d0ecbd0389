"""What a user reads about a failed run: the root cause, not the wrappers Dagster puts around it.

Dagster reports a failing step as `DagsterExecutionStepExecutionError: Error occurred while executing op
"..."` and keeps the exception the step raised (a ReplayMiss naming the request, DuckDB's "No space left
on device" naming the file) as its `cause`. The CLI's "step X failed:" lines, the held-back report and
the failure mail all take their text from here. Duck-typed on Dagster's SerializableErrorInfo (message,
cls_name, cause, context) and its events, so this module imports nothing from Dagster.
"""

from __future__ import annotations

import errno
import re
import shutil
from pathlib import Path
from typing import Any, Iterable

# Exceptions Dagster raises around the user's own; their text says nothing about what went wrong.
_WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError", "DagsterResourceFunctionError",
             "DagsterExecutionInterruptedError", "DagsterExecutionHandleOutputError", "DagsterExecutionLoadInputError",
             "DagsterExecutionResourceInitError"}
_DBT_ERRORS = "Errors parsed from dbt logs:"
DISK_FULL = re.compile(r"no space left on device|disk quota exceeded|file too large|\[Errno (28|122|27)\]",
                       re.IGNORECASE)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\x1b\[[0-9;]*m", "", text)).strip()  # dbt colours its log lines


def _describe(error: Any) -> str:
    message = (error.message or "").strip()
    name = error.cls_name or ""
    if _DBT_ERRORS in message:
        # dagster-dbt's own text is how to find the log; what failed in dbt is listed after this marker
        message = f"dbt build failed: {message.split(_DBT_ERRORS, 1)[1]}"
        # dbt logs a Python traceback after its last error when it cannot write its own artifacts (a full disk):
        # the line keeps dbt's errors and the traceback's last line, which says why
        head, traceback, tail = message.partition("Traceback (most recent call last)")
        if traceback:
            last = [line for line in tail.strip().splitlines() if line.strip()]
            message = head + (last[-1] if last else "")
        return _one_line(message)
    # "module.Class: text" -> "Class: text"; Dagster's Failure carries the user's description as its text
    head, sep, rest = message.partition(": ")
    if sep and "." in head and " " not in head:
        message = f"{head.rsplit('.', 1)[1]}: {rest}" if name != "Failure" else rest
    return _one_line(message)


def root_cause(error: Any) -> str:
    """The first exception in the chain that is not one of Dagster's wrappers, on one line."""
    seen = error
    while seen is not None:
        if seen.cls_name not in _WRAPPERS:
            return _describe(seen)
        seen = seen.cause or seen.context
    return _describe(error)


def step_failures(events: Iterable[Any]) -> list[str]:
    """'step X failed: <root cause>' for every failed step (and resource initialisation) among `events`."""
    lines = []
    for event in events:
        data = getattr(event, "event_specific_data", None)
        error = getattr(data, "error", None)
        if error is None:
            continue
        if event.event_type_value == "STEP_FAILURE":
            lines.append(f"step {event.step_key} failed: {root_cause(error)}")
        elif event.event_type_value == "RESOURCE_INIT_FAILURE":
            lines.append(f"not started: {root_cause(error)}")
    return lines


def disk_full(text: str) -> bool:
    return bool(DISK_FULL.search(text))


def is_disk_full_error(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)) or disk_full(str(exc))


def disk_full_line(cause: str) -> str:
    """The one line a disk-full failure ends with (the cause names the file or directory)."""
    return (f"out of disk space: {cause}. The last publication is intact; free space and run again "
            "(the next run finishes the job)")


def fullest(paths: Iterable[Path]) -> str:
    """Where a write without a file name most likely failed: the one of these with the least room left."""
    free = []
    for path in paths:
        existing = Path(path)
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        try:
            free.append((shutil.disk_usage(existing).free, str(path)))
        except OSError:
            continue
    if not free:
        return ""
    room, where = min(free)
    return f"the file system of {where} has {room // 1024} KiB free"
