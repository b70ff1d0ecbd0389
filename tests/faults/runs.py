"""Whole pipeline runs as real processes, for the recovery tests: start, watch, kill, inspect.

A run is `python -m styringsdata.cli run` (or `tests/faults/run_child.py`, which kills itself at a chosen
function) with its own data directory; the tests copy one published data directory (conftest.py) so
each starts from a finished publication without paying for a first run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
RUN_CHILD = "tests.faults.run_child"  # run as a module from the root (cwd=ROOT): no sys.path insert
REGISTRY_HEADER = "indicator_id;municipality_code;period;value;unit;status;source;comment\n"


# The fault worlds' SSB configuration: two of the bundled tables, the two the faults name (12143's code is removed
# or revised, 11787 is rate-limited); a whole run fetches 2 tables instead of 42, and costs ~35 % less CPU.
MINI_TABLES = ("12143", "11787")


def mini_ssb_tables() -> Path:
    """The bundled SSB configuration cut to MINI_TABLES (STYRINGSDATA_SSB_TABLES), written once per content."""
    from styringsdata.sources.ssb import subset_configuration

    text = subset_configuration(MINI_TABLES)
    path = Path(tempfile.gettempdir()) / "styringsdata-mini" / \
        f"ssb_tables-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yaml"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)  # two workers may write it at once: each renames a whole file
    return path


def pipeline_env(data_dir: Path, *, all_tables: bool = False, **extra: str) -> dict[str, str]:
    """A run's environment: replay, the data directory, and the mini SSB configuration unless `all_tables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
    # Settle time 0: a file a test writes has a change time of now (the drop zone's settle rule reads it).
    env.update({"STYRINGSDATA_DATA_DIR": str(data_dir), "STYRINGSDATA_SOURCE_MODE": "replay",
                "STYRINGSDATA_REGISTRY_SETTLE_SECONDS": "0"})
    if not all_tables:
        env["STYRINGSDATA_SSB_TABLES"] = str(mini_ssb_tables())
    env.update(extra)
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "styringsdata.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def start(env: dict[str, str], *argv: str, log: Path) -> subprocess.Popen:
    """A process whose output goes to a file (a pipe nobody reads would block a chatty dbt)."""
    handle = open(log, "w")
    return subprocess.Popen([sys.executable, *argv], cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                            text=True)


def start_cli(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    return start(env, "-m", "styringsdata.cli", *args, log=log)


def start_killed_at(env: dict[str, str], target: str, *args: str, log: Path, when: str = "before") -> subprocess.Popen:
    """`styringsdata ARGS` that SIGKILLs itself when `target` (module:attribute) is called."""
    return start(env, "-m", RUN_CHILD, "--kill-in", target, "--when", when, "--", *args, log=log)


def copy_data(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def drop_registry_file(data_dir: Path, name: str, rows: str, age_seconds: float = 3600) -> Path:
    """A file that finished copying long ago (so no settle time applies)."""
    inbox = data_dir / "inbox" / "registry"
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_text(REGISTRY_HEADER + rows, encoding="utf-8")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def published_value(data_dir: Path, indicator: str, municipality: str, year: int) -> float | None:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        row = con.execute("select value from fct_indicator_values where indicator_id = ? and municipality_code = ? "
                          "and year = ?", [indicator, municipality, year]).fetchone()
    finally:
        con.close()
    return None if row is None else row[0]


def published_rows(data_dir: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(f"select * from {table} order by all").fetchall()
    finally:
        con.close()


def process_state(pid: int) -> str | None:
    """The kernel's state letter (R, S, D, Z, ...), or None when the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    for line in status.splitlines():
        if line.startswith("State:"):
            return line.split()[1]
    return None


def alive(pid: int) -> bool:
    return process_state(pid) not in (None, "Z", "X")


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def processes_running(needle: str) -> list[int]:
    """Live processes whose command line contains `needle` (e.g. the test's own data directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and alive(int(entry.name)):
            if any(needle in part for part in cmdline(int(entry.name))) or needle in _environ(int(entry.name)):
                found.append(int(entry.name))
    return found


def _environ(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def wait_for(predicate, timeout: float, what: str, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def dbt_child(parent: int) -> int | None:
    for pid in children(parent):
        if any(part.endswith("dbt") or part.endswith("dbt_child.py") for part in cmdline(pid)) and \
                "build" in cmdline(pid):
            return pid
    return None


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


def read(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")
