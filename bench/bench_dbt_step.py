"""The Dagster dbt step against dbt's own elapsed time, for this checkout and another revision, side by side.

    .venv/bin/python -m bench.bench_dbt_step [--ref REV] [--work data/bench/run/work.duckdb] [--repeat 2]

Each round runs the pipeline's dbt step alone (`bench_pipeline.py --child --select dbt`: `execute_in_process`
of the dbt assets and their checks, as in bench/bench_overhead.py) once per variant, interleaved, each on a
fresh copy of the national work file in a data directory of its own that is kept between rounds (as a
production data directory is: round 1 is a first build there, later rounds are the daily case). `--ref` exports
that revision with `git archive` into a temporary directory and runs its code with this virtualenv.

Per run: the step's wall time (Dagster's STEP_START -> STEP_SUCCESS), dbt's own elapsed time (run_results.json),
their ratio, where the rest goes (before dbt starts, dbt's process start and parse, after dbt exits), whether dbt
parsed the project partially, and the CPU seconds of the whole child process tree (less sensitive than wall
time to other load on the machine). Prints tables; asserts nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, bench_parser, export_revision, require_work_file, table


def run_step(root: Path, data: Path, work: Path, snapshot: Path) -> dict:
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(work, data / "work.duckdb")
    (data / "work.build.json").unlink(missing_ok=True)  # no previous build: the step builds
    out = data / "step.json"
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STYRINGSDATA_", "DBT_"))}
    env["PYTHONPATH"] = os.pathsep.join((str(root / "src"), str(root)))  # the variant's code, before this checkout's
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bench.bench_pipeline", "--child", "--select",
                                "dbt", "--snapshot", str(snapshot), "--data", str(data), "--out", str(out)],
                               cwd=root, env=env, stdout=(data / "step.log").open("w"), stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if not out.exists():
        raise SystemExit(f"the dbt step in {root} crashed (status {status}); log {data / 'step.log'}")
    report = json.loads(out.read_text(encoding="utf-8"))
    step = next(s for s in report["steps"].values() if s["stage"] == "dbt")
    command = report["dbt_command"]
    return {
        "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "step": step["seconds"],
        "dbt": report["dbt_elapsed"] or 0.0,
        "before": command["started"] - step["start"],
        "dbt process": command["finished"] - command["started"] - (report["dbt_elapsed"] or 0.0),
        "after": step["end"] - command["finished"],
        "parse": report.get("dbt_parse") or "not recorded",
        "ok": report["success"],
    }


def main() -> int:
    parser = bench_parser(__doc__, snapshot=True, work=True, repeat=2)
    parser.add_argument("--ref", help="git revision whose dbt step runs beside this checkout's")
    args = parser.parse_args()
    require_work_file(args.work)
    scratch = ROOT / "data" / "bench" / "dbt-step"
    shutil.rmtree(scratch, ignore_errors=True)
    with tempfile.TemporaryDirectory() as exported:
        variants = {"this checkout": ROOT}
        if args.ref:
            variants[f"revision {args.ref}"] = export_revision(args.ref, Path(exported))
        rows = []
        for round_ in range(1, args.repeat + 1):
            for label, root in reversed(variants.items()):
                r = run_step(root, scratch / label.replace(" ", "-"), args.work.resolve(), args.snapshot.resolve())
                print(f"  round {round_}, {label}: step {r['step']:.1f} s, dbt's own {r['dbt']:.1f} s, "
                      f"{r['parse']} parse{'' if r['ok'] else ', FAILED'}", flush=True)
                rows.append((label, round_, r["step"], r["dbt"], f"{r['step'] / r['dbt']:.2f}x", r["before"],
                             r["dbt process"], r["after"], r["parse"], r["cpu"]))
    print()
    print(table(("variant", "round", "Dagster dbt step s", "dbt's own elapsed s", "step / dbt", "before dbt s",
                 "dbt start + parse s", "after dbt s", "parse", "CPU s (process tree)"), rows,
                "The Dagster dbt step against dbt's own time, national work file"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
