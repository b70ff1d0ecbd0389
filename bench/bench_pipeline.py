"""The whole pipeline at national scale, by stage; then a no-op rerun. Prints tables, asserts nothing.

    .venv/bin/python -m bench.bench_pipeline [--snapshot data/bench/national] [--data data/bench/run]
    .venv/bin/python -m bench.bench_pipeline --compare REV [--repeat 2]

1. Generates the national snapshot when it is missing (bench/national_snapshot.py; ~25 s).
2. Full run: the `full_refresh` job, offline replay from that snapshot, in a fresh data directory
   (`defs.get_job_def("full_refresh").execute_in_process(...)` in a child process, as
   `styringsdata run` does, with the SSB and FHI catalogues pointed at the national ones).
3. No-op run: the same job again on the same data directory (nothing changed upstream).
4. What-if: only the source assets (what a no-op run would cost if dbt, gate, publish and
   report were skipped when no source vintage is new).

Per run: wall time of the child process, time to import the definitions, per-stage time from
Dagster's event log (STEP_START -> STEP_SUCCESS; ingest = SSB/KLASS/FHI/file/registry steps,
dbt, gate = quality_gate, freshness checks, publish = published__warehouse, report = the report
step), peak
resident memory per stage (this process, and this process plus its children: dbt runs as a
subprocess), ru_maxrss, and the requests sent by kind. `--keep` keeps the data directory
(bench/bench_overhead.py reuses its work file).

`--compare REV` runs only full runs, of this checkout and of git revision REV (exported with `git archive`,
run with this virtualenv and this script's measuring code), interleaved `--repeat` times so that other load on
the shared machine hits both alike, each in a fresh data directory of its own. It prints both side by side by
stage: wall time, peak memory of the pipeline process, of the dbt subprocess, and of both together, and the
dbt step against dbt's own elapsed time (run_results.json) -- the median round of each (by wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import (DATA_KINDS, DEFAULT_SNAPSHOT, ROOT, MemorySampler, RequestCounter,
                           ensure_national_snapshot, export_revision, mb, table, use_national_catalogues)

STAGES = ("startup", "ingest", "dbt", "gate", "freshness checks", "publish", "report", "other")


def stage_of(step_key: str) -> str:
    if step_key.startswith("raw__"):
        return "ingest"
    if "dbt" in step_key:
        return "dbt"
    if step_key == "quality_gate" or "gate" in step_key:
        return "gate"
    if "freshness" in step_key:
        return "freshness checks"
    if step_key.startswith("published"):
        return "publish"
    if "report" in step_key:
        return "report"
    return "other"


# -- the child: one run in this process ----------------------------------------------------------

def child(args: argparse.Namespace) -> int:
    started = time.time()
    code = Path(args.code).resolve()
    os.environ["STYRINGSDATA_DATA_DIR"] = str(args.data)
    os.environ["STYRINGSDATA_SNAPSHOT_DIR"] = str(args.snapshot)
    os.environ["STYRINGSDATA_SOURCE_MODE"] = "replay"
    sampler = MemorySampler()
    sampler.start()
    use_national_catalogues(args.snapshot)
    counter = RequestCounter()
    counter.install()

    dbt_targets: list[Path] = []
    from dagster_dbt import DbtCliResource

    original_cli = DbtCliResource.cli

    def cli(self, *a, **k):  # noqa: ANN001
        invocation = original_cli(self, *a, **k)
        dbt_targets.append(Path(invocation.target_path))
        return invocation

    DbtCliResource.cli = cli

    import dagster as dg

    from styringsdata.definitions import defs

    imported = time.time()
    job = defs.get_job_def("full_refresh")
    selection = None
    if args.select == "ingest":
        graph = defs.resolve_asset_graph()
        raw = {n.key for n in graph.asset_nodes if n.key.path[0] == "raw" and n.is_executable}
        # the source freshness checks, not the quality gate's checks on raw tables (the gate runs after dbt)
        from styringsdata.defs.quality import quality_gate
        checks = {k for k in graph.asset_check_keys if k.asset_key in raw} - set(quality_gate.check_keys)
        job = job.get_subset(asset_selection=raw, asset_check_selection=checks)
    elif args.select == "dbt":  # the dbt step alone, with dbt's own tests (bench/bench_overhead.py)
        dbt_assets = defs.get_assets_def(dg.AssetKey(["marts", "fct_indicator_values"]))
        job = job.get_subset(asset_selection=set(dbt_assets.keys), asset_check_selection=set(dbt_assets.check_keys))
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=selection)
    finished = time.time()
    sampler.stop()

    steps: dict[str, dict] = {}
    dbt_command: dict[str, float] = {}  # when dagster-dbt started and finished the dbt subprocess
    for entry in instance.all_logs(result.run_id):
        message = entry.user_message or ""
        if "Running dbt command" in message:
            dbt_command["started"] = entry.timestamp
        elif "Finished dbt command" in message:
            dbt_command["finished"] = entry.timestamp
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        key = event.step_key
        step = steps.setdefault(key, {"stage": stage_of(key), "start": None, "end": None, "outcome": None})
        kind = event.event_type_value
        if kind == "STEP_START":
            step["start"] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"] = entry.timestamp
            step["outcome"] = kind
        elif kind == "STEP_SKIPPED":
            step["outcome"] = kind
    for step in steps.values():
        if step["start"] is not None and step["end"] is not None:
            step["seconds"] = step["end"] - step["start"]
            step["peak_own"], step["peak_total"] = sampler.peak(step["start"], step["end"])
            step["peak_children"] = sampler.peak_children(step["start"], step["end"])
            step["cpu"] = sampler.cpu_seconds(step["start"], step["end"])
        else:
            step["seconds"] = step["cpu"] = 0.0
            step["peak_own"] = step["peak_total"] = step["peak_children"] = 0
    startup_own, startup_total = sampler.peak(started, imported)

    dbt_nodes: dict[str, float] = {}
    dbt_elapsed = None
    dbt_parse = None
    for target in dbt_targets:
        path = target if target.is_absolute() else code / "dbt_project" / target
        dbt_parse = parse_mode(path / "dbt.log") or dbt_parse
        results = path / "run_results.json"
        if results.exists():
            document = json.loads(results.read_text(encoding="utf-8"))
            dbt_elapsed = document.get("elapsed_time")
            for node in document["results"]:
                kind = node["unique_id"].split(".")[0]
                dbt_nodes[kind] = dbt_nodes.get(kind, 0.0) + float(node.get("execution_time") or 0.0)
                dbt_nodes[kind + "_count"] = dbt_nodes.get(kind + "_count", 0) + 1
        if path.parent == code / "dbt_project" / "target" and path.name.startswith("styringsdata_dbt_models-"):
            shutil.rmtree(path, ignore_errors=True)  # this run's own dbt target folder

    failed = [k for k, s in steps.items() if s["outcome"] == "STEP_FAILURE"]
    report = {
        "success": result.success, "failed_steps": failed,
        "started": started, "imported": imported, "finished": finished,
        "startup_seconds": imported - started, "execute_seconds": finished - imported,
        "startup_peak_own": startup_own, "startup_peak_total": startup_total,
        "startup_cpu": sampler.cpu_seconds(started, imported),
        "cpu_children": sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]),  # dbt's (and dbt parse's, if any)
        "steps": steps, "requests": counter.counts,
        "ru_maxrss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "ru_maxrss_children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
        "peak_total": max((s[1] + s[2] for s in sampler.samples), default=0),
        "peak_own": max((s[1] for s in sampler.samples), default=0),
        "peak_children": max((s[2] for s in sampler.samples), default=0),
        "dbt_nodes": dbt_nodes, "dbt_elapsed": dbt_elapsed, "dbt_command": dbt_command, "dbt_parse": dbt_parse,
    }
    Path(args.out).write_text(json.dumps(report), encoding="utf-8")
    return 0 if result.success else 1


def parse_mode(dbt_log: Path) -> str | None:
    """How dbt parsed the project in that invocation, from its JSON log: partially, or fully and why."""
    if not dbt_log.exists():
        return None
    mode = "partial"
    for line in dbt_log.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"UnableToPartialParse"' in line:
            try:
                return "full: " + json.loads(line)["data"]["reason"]
            except (ValueError, KeyError):
                return "full"
        if '"PartialParsingSkipParsing"' in line:
            mode = "partial (nothing changed)"
    return mode


# -- the parent: runs, tables ------------------------------------------------------------------

def variant_env(code: Path) -> dict[str, str]:
    """The environment of a process running the variant in `code`: its package (src/) and its tooling (the root)
    before this checkout's editable install."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join((str(code / "src"), str(code)))}


def run_child(label: str, snapshot: Path, data: Path, select: str, code: Path = ROOT) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    log = data.parent / f"{data.name}-{label}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_pipeline", "--child", "--snapshot", str(snapshot), "--data", str(data),
             "--select", select, "--out", str(out), "--code", str(code)],
            cwd=code, env=variant_env(code), stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if not out.exists() or out.stat().st_size == 0:
        raise SystemExit(f"{label} run crashed (status {status}); log: {log}")
    report = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    report["wall"] = wall
    report["cpu"] = usage.ru_utime + usage.ru_stime  # the run's whole process tree (dbt included)
    report["log"] = str(log)
    state = "ok" if report["success"] else f"FAILED steps {report['failed_steps']}"
    print(f"  {label}: {wall:.1f} s, {state} (log {log})", flush=True)
    return report


def stage_rows(report: dict) -> list[tuple]:
    totals = {s: [0.0, 0, 0, 0] for s in STAGES}  # seconds, steps, peak own, peak total
    totals["startup"] = [report["startup_seconds"], 0, report["startup_peak_own"], report["startup_peak_total"]]
    for step in report["steps"].values():
        t = totals[step["stage"]]
        t[0] += step["seconds"]
        t[1] += step["outcome"] in ("STEP_SUCCESS", "STEP_FAILURE")
        t[2] = max(t[2], step["peak_own"])
        t[3] = max(t[3], step["peak_total"])
    steps_sum = sum(t[0] for s, t in totals.items() if s != "startup")
    between = report["execute_seconds"] - steps_sum
    rest = report["wall"] - report["startup_seconds"] - report["execute_seconds"]
    rows = []
    for name in STAGES:
        seconds, count, own, total = totals[name]
        if name in ("report", "freshness checks", "other") and count == 0:
            continue
        rows.append((name if name != "startup" else "startup (imports, definitions)", count or "", seconds,
                     f"{100 * seconds / report['wall']:.0f}%", mb(own), mb(total)))
    rows.append(("Dagster between steps", "", between, f"{100 * between / report['wall']:.0f}%", "", ""))
    rows.append(("interpreter start/exit", "", rest, f"{100 * rest / report['wall']:.0f}%", "", ""))
    own_peak = max([s["peak_own"] for s in report["steps"].values()] + [report["startup_peak_own"]])
    rows.append(("wall (whole process)", "", report["wall"], "100%", mb(own_peak), mb(report["peak_total"])))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "bench" / "run")
    parser.add_argument("--first-year", type=int, default=2010)
    parser.add_argument("--last-year", type=int, default=2025)
    parser.add_argument("--keep", action="store_true", help="keep the data directory afterwards")
    parser.add_argument("--compare", metavar="REV", help="full runs only: this checkout beside git revision REV")
    parser.add_argument("--repeat", type=int, default=2, help="rounds per variant with --compare (default 2)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--select", default="all", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.snapshot, args.data = args.snapshot.resolve(), args.data.resolve()
    if args.child:
        return child(args)

    summary = ensure_national_snapshot(args.snapshot, args.first_year, args.last_year)
    if args.data.exists():
        shutil.rmtree(args.data)
    args.data.parent.mkdir(parents=True, exist_ok=True)
    cells = sum(t["cells"] for t in summary["ssb_tables"])
    print(f"national snapshot {args.snapshot}: {summary['codes_requested']} municipality codes, "
          f"{summary['first_year']}-{summary['last_year']}, {len(summary['ssb_tables'])} SSB tables "
          f"({cells:,} cells), {summary['fhi_geo']} FHI geo codes x 9 tables, "
          f"{summary['emission_rows']:,} emission rows; machine: {os.cpu_count()} cores")
    if args.compare:
        return compare(args)
    print("runs (each in its own process):", flush=True)
    full = run_child("full", args.snapshot, args.data, "all")
    noop = run_child("noop", args.snapshot, args.data, "all")
    skip = run_child("ingest-only", args.snapshot, args.data, "ingest")

    print()
    print(table(("stage", "steps", "seconds", "share", "peak RSS (pipeline process)", "peak RSS (+ dbt subprocess)"),
                stage_rows(full), "Table 1. Full national run (offline replay), by stage"))
    print(f"ru_maxrss: pipeline process {mb(full['ru_maxrss_self'])}, largest child (dbt) {mb(full['ru_maxrss_children'])}")
    slowest = sorted(((k, s["seconds"]) for k, s in full["steps"].items() if s["stage"] == "ingest"),
                     key=lambda kv: -kv[1])[:6]
    print("slowest ingest steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in slowest))
    if full["dbt_nodes"]:
        n = full["dbt_nodes"]
        parts = [f"{kind} {n[kind]:.1f} s ({int(n[kind + '_count'])})" for kind in ("seed", "model", "test", "unit_test")
                 if kind in n]
        print(f"inside the dbt step: dbt's own elapsed {full['dbt_elapsed']:.1f} s, parse {full.get('dbt_parse')}; "
              "node execution: " + ", ".join(parts))

    print()
    kinds = sorted(set(full["requests"]) | set(noop["requests"]) | set(skip["requests"]))
    rows = []
    for kind in kinds:
        rows.append((kind + (" *" if kind in DATA_KINDS else ""), full["requests"].get(kind, 0),
                     noop["requests"].get(kind, 0), skip["requests"].get(kind, 0)))
    rows.append(("data requests (*)", *(sum(r["requests"].get(k, 0) for k in DATA_KINDS) for r in (full, noop, skip))))
    rows.append(("all requests", *(sum(r["requests"].values()) for r in (full, noop, skip))))

    def stage_seconds(report: dict, stage: str) -> float:
        return sum(s["seconds"] for s in report["steps"].values() if s["stage"] == stage)

    for stage in ("ingest", "dbt", "gate", "freshness checks", "publish", "report"):
        if any(stage_seconds(r, stage) for r in (full, noop, skip)):
            rows.append((f"seconds: {stage}", *(round(stage_seconds(r, stage), 1) for r in (full, noop, skip))))
    rows.append(("seconds: wall", *(round(r["wall"], 1) for r in (full, noop, skip))))
    rows.append(("wall vs full run", "100%", f"{100 * noop['wall'] / full['wall']:.0f}%",
                 f"{100 * skip['wall'] / full['wall']:.0f}%"))
    print(table(("", "full run", "no-op run", "no-op, ingest only (what-if)"), rows,
                "Table 3. No-op refresh against the full run (requests answered from the snapshot)"))
    if not args.keep:
        shutil.rmtree(args.data, ignore_errors=True)
    else:
        print(f"\nkept {args.data} (work file: {args.data / 'work.duckdb'})")
    return 0 if full["success"] and noop["success"] else 1


# -- --compare: this checkout beside a git revision, full runs only -------------------------------

def prepare(code: Path, scratch: Path) -> None:
    """Unmeasured: compile the variant's bytecode and parse its dbt project afresh, as in a new clone (the
    manifest and dbt's partial-parse state the Dagster definitions start from)."""
    for name in ("manifest.json", "partial_parse.msgpack"):
        (code / "dbt_project" / "target" / name).unlink(missing_ok=True)
    env = {**variant_env(code), "STYRINGSDATA_DATA_DIR": str(scratch)}
    subprocess.run([sys.executable, "-c", "from styringsdata.defs.dbt import ensure_manifest; ensure_manifest()"],
                   cwd=code, env=env, check=True, stdout=subprocess.DEVNULL)


def dbt_split(report: dict) -> dict[str, float]:
    """The dbt step's seconds: the step, dbt's own elapsed time, and the rest before, around and after dbt."""
    step = next((s for s in report["steps"].values() if s["stage"] == "dbt"), None)
    command, elapsed = report.get("dbt_command") or {}, report.get("dbt_elapsed") or 0.0
    if step is None or "started" not in command or "finished" not in command:
        return {}
    return {"step": step["seconds"], "dbt": elapsed, "before": command["started"] - step["start"],
            "process": command["finished"] - command["started"] - elapsed, "after": step["end"] - command["finished"]}


def stage_figures(report: dict) -> dict[str, tuple[float, int, int, int]]:
    """Per stage: seconds, peak RSS of the pipeline process, of the dbt subprocess, and of both together."""
    out = {"startup": (report["startup_seconds"], report["startup_peak_own"],
                       report["startup_peak_total"] - report["startup_peak_own"], report["startup_peak_total"],
                       report.get("startup_cpu", 0.0))}
    for name in STAGES[1:]:
        steps = [s for s in report["steps"].values() if s["stage"] == name]
        if steps:
            out[name] = (sum(s["seconds"] for s in steps), max(s["peak_own"] for s in steps),
                         max(s.get("peak_children", 0) for s in steps), max(s["peak_total"] for s in steps),
                         sum(s.get("cpu", 0.0) for s in steps) + (report.get("cpu_children", 0.0) if name == "dbt" else 0))
    out["wall (whole process)"] = (report["wall"], report["peak_own"], report["peak_children"], report["peak_total"],
                                   report["cpu"])
    return out


def compare(args: argparse.Namespace) -> int:
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"(1, 5, 15 min); {os.cpu_count()} cores", flush=True)
    scratch = args.data.parent / "compare"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    ref = export_revision(args.compare, scratch / "code")
    variants = {f"revision {args.compare}": ref, "this checkout": ROOT}
    for code in variants.values():
        prepare(code, scratch / "prepare")
    runs: dict[str, list[dict]] = {label: [] for label in variants}
    for round_ in range(1, args.repeat + 1):
        for label, code in variants.items():
            data = scratch / f"{label.split()[0]}-{round_}"
            report = run_child(f"{label.split()[0]}-{round_}", args.snapshot, data, "all", code)
            runs[label].append(report)
            shutil.rmtree(data, ignore_errors=True)
    load = os.getloadavg()
    best = {label: min(reports, key=lambda r: r["wall"]) for label, reports in runs.items()}
    (old_label, old), (new_label, new) = best.items()
    figures = {label: stage_figures(r) for label, r in best.items()}
    names = [n for n in ("startup", *STAGES[1:], "wall (whole process)")
             if n in figures[old_label] or n in figures[new_label]]

    def pick(label: str, name: str, i: int) -> float:
        return figures[label].get(name, (0.0, 0, 0, 0, 0.0))[i]

    def ratio(a: float, b: float) -> str:
        return f"{b / a:.2f}x" if a else ""

    print()
    print(table(("stage", f"{args.compare} s", "this s", "this / rev", f"{args.compare} CPU s", "this CPU s",
                  "this / rev (CPU)"),
                [(n, pick(old_label, n, 0), pick(new_label, n, 0), ratio(pick(old_label, n, 0), pick(new_label, n, 0)),
                  pick(old_label, n, 4), pick(new_label, n, 4), ratio(pick(old_label, n, 4), pick(new_label, n, 4)))
                 for n in names],
                f"Table A. Full national run by stage: wall and CPU seconds (user + system of the pipeline process; "
                f"dbt: with the dbt subprocess's; last line: the whole process tree) (best of {args.repeat} by wall "
                f"time, interleaved)"))
    print()
    rows = []
    for n in names:
        rows.append((n, *(mb(pick(label, n, i)) for i in (1, 2, 3) for label in (old_label, new_label))))
    print(table(("stage", f"pipeline {args.compare}", "pipeline this", f"dbt {args.compare}", "dbt this",
                 f"both {args.compare}", "both this"), rows,
                "Table B. Peak resident memory by stage: pipeline process, dbt subprocess, and both at once"))
    print()
    rows = []
    for label, r in best.items():
        d = dbt_split(r)
        if d:
            rows.append((label, d["step"], d["dbt"], f"{d['step'] / d['dbt']:.2f}x" if d["dbt"] else "",
                         d["before"], d["process"], d["after"], r.get("dbt_parse") or ""))
    print(table(("variant", "Dagster dbt step s", "dbt's own elapsed s", "step / dbt", "before dbt s",
                 "dbt start + parse + exit s", "after dbt s", "parse"), rows,
                "Table C. The dbt step against dbt's own elapsed time (run_results.json)"))
    children = ", ".join(f"{label} {mb(r['ru_maxrss_children'])}" for label, r in best.items())
    print(f"\nru_maxrss, largest child: {children}")
    print("rounds (wall s): " + "; ".join(f"{label} " + ", ".join(f"{r['wall']:.1f}" for r in rs) for label, rs in runs.items()))
    print(f"this checkout against {args.compare}: {new['wall'] / old['wall']:.2f}x wall, "
          f"{new['peak_total'] / old['peak_total']:.2f}x peak (pipeline + dbt); goal 20 s and 500 MB: "
          f"{new['wall']:.1f} s, {mb(new['peak_total'])}")
    print(f"load after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)")
    ok = all(r["success"] for rs in runs.values() for r in rs)
    if ok:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
