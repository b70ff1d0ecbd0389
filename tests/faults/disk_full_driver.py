"""Run styringsdata on a data directory that lives on a small tmpfs, fill it, and record what happens.

    disk_full_driver.py MOUNTPOINT PUBLISHED_DATA_DIR SCENARIO

Started by test_disk_full.py inside `unshare --user --map-root-user --mount`, after mounting a tmpfs on
MOUNTPOINT: a real file system that really runs out of space (ENOSPC from the kernel, for DuckDB, dbt
and Python alike), private to this process tree and gone when it ends. Prints one JSON line of results.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.faults.runs import ROOT, drop_registry_file, pipeline_env, published_value


def fill(mount: Path, leave: int) -> Path:
    """Take all free space but `leave` bytes."""
    filler = mount / "filler"
    free = shutil.disk_usage(mount).free
    with open(filler, "wb") as handle:
        remaining = max(0, free - leave)
        chunk = b"\0" * (1 << 20)
        while remaining > 0:
            written = handle.write(chunk[: min(len(chunk), remaining)])
            remaining -= written
    return filler


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def styringsdata(data: Path, *args: str, **env: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "styringsdata.cli", *args], cwd=ROOT,
                            env=pipeline_env(data, **env), capture_output=True, text=True, timeout=900)
    return {"args": list(args), "returncode": result.returncode, "stdout": result.stdout[-6000:],
            "stderr": result.stderr[-20000:]}


def main() -> int:
    mount, published, scenario = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    data = mount / "data"
    shutil.copytree(published, data, ignore=shutil.ignore_patterns("gx"))
    warehouse = data / "warehouse.duckdb"
    before = digest(warehouse)
    steps = []
    if scenario == "report":
        work_size = (data / "work.duckdb").stat().st_size
        # no room for the report's private copy of the work file
        filler = fill(mount, 64 * 1024)
        steps.append(styringsdata(data, "report"))
        filler.unlink()
        # room for the copy, not for the report itself
        filler = fill(mount, work_size + 96 * 1024)
        steps.append(styringsdata(data, "report"))
        filler.unlink()
        steps.append(styringsdata(data, "report"))
    elif scenario.startswith("run:"):
        # a new figure to publish, then too little room for the run to finish (how little: the scenario)
        drop_registry_file(data, "sykefravaer_2023.csv", "MED01;3203;2023;5,5;percent;measured;HR;\n")
        filler = fill(mount, int(scenario.split(":")[1]) * 1024)
        steps.append(styringsdata(data, "run"))
        steps[-1]["warehouse_unchanged"] = digest(warehouse) == before
        filler.unlink()
        steps.append(styringsdata(data, "run"))
        steps[-1]["value"] = published_value(data, "MED01", "3203", 2023)
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps({"mount": str(mount), "data": str(data), "warehouse_unchanged": digest(warehouse) == before,
                      "leftovers": sorted(p.name for p in data.iterdir() if ".snapshot" in p.name),
                      "steps": steps}))
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
