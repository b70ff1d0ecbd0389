"""The quality gate alone on the national work file: this checkout's gate against another revision's, side by side.

    .venv/bin/python -m bench.bench_gate [--work data/bench/run/work.duckdb] [--ref REV] [--repeat 2]

Each variant runs `run_gate` (with Data Docs, as the pipeline does) in a child process of its own on a read-only
connection to the same work file; a sampler reads the child's resident memory every 0.1 s. `--ref` takes the
gate (src/styringsdata/quality/gate.py and gate.yaml) from a git revision, e.g. the commit before the memory change; the
verdicts of both variants are compared check by check. The work file comes from `bench/bench_pipeline.py
--keep`. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, MemorySampler, bench_parser, mb, require_work_file, table


def child(args: argparse.Namespace) -> int:
    # What the pipeline process holds before its gate step: Dagster, dagster-dbt, pandas, DuckDB.
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401
    import duckdb
    import pandas  # noqa: F401

    sampler = MemorySampler()
    sampler.start()
    spec = importlib.util.spec_from_file_location("gate_under_test", Path(args.gate) / "gate.py")
    gate = importlib.util.module_from_spec(spec)
    sys.modules["gate_under_test"] = gate
    spec.loader.exec_module(gate)
    before_gx = time.time()
    time.sleep(0.25)  # a sample of the process before Great Expectations
    # The gate imports GX on its first run in a process, the way the gate under test does it (since issue 24:
    # through quality/gx_import.py, which leaves out the modules GX loads for expectations the gate never runs).
    importer = getattr(gate, "import_great_expectations", None)
    if importer is not None:
        importer()
    import great_expectations  # noqa: F401
    import great_expectations.expectations  # noqa: F401

    loaded = time.time()
    time.sleep(0.25)
    con = duckdb.connect(str(args.work), read_only=True)
    with tempfile.TemporaryDirectory() as docs:
        result = gate.run_gate(con, "3203", data_docs_dir=Path(docs))
    finished = time.time()
    sampler.stop()
    pipeline = max(s[1] for s in sampler.samples if s[0] <= before_gx)
    with_gx = max(s[1] for s in sampler.samples if before_gx + 0.25 <= s[0] <= loaded + 0.25)
    peak_own, _ = sampler.peak(loaded, finished)
    Path(args.out).write_text(json.dumps({
        "seconds": finished - loaded - 0.25, "import_seconds": loaded - before_gx - 0.25, "peak": peak_own,
        "baseline": pipeline, "with_gx": with_gx,
        "checks": [(c.name, c.passed, c.rows_checked, c.failing_rows) for c in result.checks]}), encoding="utf-8")
    return 0


def gate_from_revision(revision: str, into: Path) -> Path:
    for name in ("gate.py", "gate.yaml"):
        text = subprocess.run(["git", "show", f"{revision}:src/styringsdata/quality/{name}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        (into / name).write_text(text, encoding="utf-8")
    return into


def run_variant(gate_dir: Path, work: Path) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "bench.bench_gate", "--child", "--gate", str(gate_dir), "--work", str(work),
                                "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"the gate in {gate_dir} failed:\n{completed.stderr[-3000:]}")
    report = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    report["wall"] = wall
    return report


def main() -> int:
    parser = bench_parser(__doc__, work=True, repeat=2, child="gate")
    parser.add_argument("--ref", help="git revision whose gate runs beside this checkout's")
    args = parser.parse_args()
    if args.child:
        return child(args)
    require_work_file(args.work)

    with tempfile.TemporaryDirectory() as scratch:
        variants = {"this checkout": ROOT / "src" / "styringsdata" / "quality"}
        if args.ref:
            variants[f"revision {args.ref}"] = gate_from_revision(args.ref, Path(scratch))
        best: dict[str, dict] = {}
        for round_ in range(1, args.repeat + 1):  # interleaved, so load on the machine hits both alike
            for label, gate_dir in reversed(variants.items()):
                report = run_variant(gate_dir, args.work)
                if label not in best or report["seconds"] < best[label]["seconds"]:
                    best[label] = {**report, "peak": max(report["peak"], best.get(label, {}).get("peak", 0))}
                print(f"  round {round_}, {label}: {report['seconds']:.1f} s, peak {mb(report['peak'])}", flush=True)

    rows = [(label, r["seconds"], r["import_seconds"], mb(r["baseline"]), mb(r["with_gx"] - r["baseline"]),
             mb(r["peak"]), mb(r["peak"] - r["with_gx"]), mb(r["peak"] - r["baseline"]),
             sum(c[2] for c in r["checks"]), sum(not c[1] for c in r["checks"])) for label, r in best.items()]
    print(table(("gate", "seconds (best)", "GX import s", "RSS before (pipeline imports)", "GX import adds",
                 "peak RSS", "gate adds to GX", "gate + GX add", "rows checked", "checks failed"), rows,
                f"The quality gate on {args.work} (best of {args.repeat}; peak is the worst round's). The child holds "
                "what the pipeline process holds before its gate step (Dagster, dagster-dbt, pandas, DuckDB); "
                "seconds: run_gate with Data Docs, after Great Expectations is imported"))
    if len(best) == 2:
        old, new = (best[label]["checks"] for label in reversed(list(best)))
        same = old == new
        print("verdicts, rows checked and failing rows per check: " + ("identical" if same else "DIFFERENT"))
        if not same:
            for a, b in zip(old, new):
                if a != b:
                    print(f"  {a} -> {b}")
        ratio = best["this checkout"]
        ref = best[f"revision {args.ref}"]
        print(f"this checkout against {args.ref}: {ratio['seconds'] / ref['seconds']:.2f}x time, "
              f"{ratio['peak'] / ref['peak']:.2f}x peak memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
