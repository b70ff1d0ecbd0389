"""What Dagster's asset check results cost by themselves: a job of one multi-asset check with N checks that do
nothing but yield a passing result (with metadata like the gate's), on a SQLite instance like the one
`styringsdata run` and the tests use, kept on disk and on a tmpfs (where the test suite keeps its scratch,
tests/conftest.py), and on an in-memory one.

    .venv/bin/python -m bench.bench_check_events [--checks 20 143] [--repeat 1] [--sqlite-dirs /var/tmp /dev/shm]

The gate yields one result per rule and table: 143 on the bundled snapshots, most of them the three raw rules on
each of the 42 raw SSB tables. Each check is an ASSET_CHECK_EVALUATION_PLANNED event when the run starts and a
STEP_OUTPUT and an ASSET_CHECK_EVALUATION event when the gate yields it; on SQLite every event opens a connection
and commits. Each variant runs in a child process of its own. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, table


def child(checks: int, storage: str, out: Path) -> int:
    """`storage`: "memory", or the directory the SQLite instance is made in."""
    import dagster as dg

    specs = [dg.AssetCheckSpec(f"check_{i}", asset=dg.AssetKey(["raw", f"table_{i % 50}"])) for i in range(checks)]
    assets = [dg.AssetSpec(dg.AssetKey(["raw", f"table_{i}"])) for i in range(min(checks, 50))]
    yielding: dict[str, float] = {}

    @dg.multi_asset_check(specs=specs, can_subset=True)
    def gate_like(context):  # untyped: Dagster resolves annotations, and dg is local here
        started = time.perf_counter()
        for key in context.selected_asset_check_keys:
            yield dg.AssetCheckResult(check_name=key.name, asset_key=key.asset_key, passed=True, metadata={
                "rows_checked": 1000, "failing_rows": 0, "examples": dg.MetadataValue.json([]),
                "data_docs": dg.MetadataValue.path("/reports/gx/index.html")})
        yielding["seconds"] = time.perf_counter() - started

    job = dg.define_asset_job("checks_only", selection=dg.AssetSelection.checks(gate_like))
    defs = dg.Definitions(assets=assets, asset_checks=[gate_like], jobs=[job])
    with tempfile.TemporaryDirectory(dir=None if storage == MEMORY else storage) as home:
        if storage != MEMORY:
            Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
            instance = dg.DagsterInstance.from_config(home)
        else:
            instance = dg.DagsterInstance.ephemeral()
        started, cpu = time.perf_counter(), time.process_time()
        result = defs.resolve_job_def("checks_only").execute_in_process(instance=instance)
        out.write_text(json.dumps({"run": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                                   "yielding": yielding["seconds"], "ok": result.success}), encoding="utf-8")
    return 0


MEMORY = "memory"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checks", type=int, nargs="+", default=[20, 143])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sqlite-dirs", nargs="+", default=["/var/tmp", "/dev/shm"],
                        help="directories to keep the SQLite instance in (default: a disk's and a tmpfs's)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(int(args.child[0]), args.child[1], Path(args.child[2]))
    variants = [d for d in args.sqlite_dirs if Path(d).is_dir()] + [MEMORY]
    rows = []
    for checks in args.checks:
        first: float | None = None
        for storage in variants:
            best: dict | None = None
            for _ in range(args.repeat):
                with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
                    out = Path(f.name)
                subprocess.run([sys.executable, "-m", "bench.bench_check_events", "--child", str(checks), storage,
                                str(out)], cwd=ROOT, check=True, capture_output=True)
                report = json.loads(out.read_text(encoding="utf-8"))
                out.unlink()
                best = report if best is None or report["run"] < best["run"] else best
            assert best is not None
            first = first or best["run"]
            label = "in memory" if storage == MEMORY else f"SQLite in {storage}"
            rows.append((checks, label, best["run"], f"{best['run'] / first:.2f}x", best["cpu"], best["yielding"],
                         "yes" if best["ok"] else "no"))
    load = os.getloadavg()[0]
    print(table(("checks", "instance storage", "run s", "against the first", "CPU s", "yielding the results s", "ok"), rows,
                f"A job of one multi-asset check that yields N passing results (best of {args.repeat}; load "
                f"average {load:.1f} on {os.cpu_count()} cores)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
