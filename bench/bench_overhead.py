"""The transformation SQL run directly in DuckDB against dbt and Dagster + dbt, side by side.

    .venv/bin/python -m bench.bench_overhead [--snapshot data/bench/national] [--work data/bench/run/work.duckdb]
                                             [--repeat 3]

All variants start from copies of the same national work file (raw tables, seeds and the previous
run's models), one after the other in this one invocation:

  plain     a plain script: the compiled SQL of the 42 models (from the manifest of variant `dbt
            build`), `create or replace view|table` in dependency order on one DuckDB connection;
            then each of the 182 data tests as `select count(*) from (<compiled test>)`; its marts
            are compared row for row with dbt's
  dbt run   `dbt run` from the shell (models only): process start, project parse, models
  dbt build `dbt build` from the shell, as the pipeline runs it (seeds, models, data and unit tests)
  Dagster   the pipeline's dbt step alone (`execute_in_process` selecting the dbt assets), which
            runs `dbt build` through dagster-dbt
  what-if   the plain script again with the intermediate models materialized as tables, not views
            (the data tests on views recompute the view chain each time)

Each round starts from fresh copies; the variants are interleaved and each one's best round is
shown, so other load on the machine hits them alike.

The work file comes from a full national run: `python -m bench.bench_pipeline --keep` leaves one in
data/bench/run/; when it is missing this script makes one (one full run, ~70 s). Prints a table of
seconds and ratios and where the time between the plain script and the Dagster step goes.
Nothing is asserted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from graphlib import TopologicalSorter
from pathlib import Path

from bench._common import ROOT, bench_parser, ensure_national_work_file, table

from styringsdata.home import dbt_vars
from styringsdata.settings import Settings

DBT_PROJECT = ROOT / "dbt_project"
DBT = str(Path(sys.executable).with_name("dbt"))


def run_dbt(args: list[str], work: Path, target: Path) -> float:
    env = {**os.environ, "STYRINGSDATA_DBT_WORK_DB": str(work), "STYRINGSDATA_WORK_DB": str(work), "DBT_TARGET": "dev"}
    if args[0] in ("build", "run"):
        args = [*args, "--vars", json.dumps(dbt_vars(Settings.from_env().home_municipality, dt.date.today()))]
    started = time.perf_counter()
    completed = subprocess.run([DBT, *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
                                "--target-path", str(target), "--log-path", str(target / "logs")],
                               cwd=DBT_PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - started
    (target / "stdout.txt").write_text(completed.stdout, encoding="utf-8")
    if completed.returncode != 0:
        raise SystemExit(f"dbt {' '.join(args)} failed; see {target / 'stdout.txt'}")
    return seconds


def run_results(target: Path) -> tuple[float, dict[str, float], dict[str, int]]:
    document = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    for node in document["results"]:
        kind = node["unique_id"].split(".")[0]
        seconds[kind] = seconds.get(kind, 0.0) + float(node.get("execution_time") or 0.0)
        counts[kind] = counts.get(kind, 0) + 1
    return float(document["elapsed_time"]), seconds, counts


def plain(work: Path, manifest_path: Path) -> tuple[float, float, int, int, list[tuple[str, float]]]:
    """The compiled models and data tests straight on DuckDB. Returns seconds for models and tests."""
    import duckdb

    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    models = {k: v for k, v in nodes.items() if v["resource_type"] == "model"}
    tests = {k: v for k, v in nodes.items() if v["resource_type"] == "test"}
    order = TopologicalSorter({k: [d for d in v["depends_on"]["nodes"] if d in models] for k, v in models.items()})
    con = duckdb.connect(str(work))
    for schema in sorted({v["schema"] for v in models.values()}):
        con.execute(f'drop schema if exists "{schema}" cascade')
        con.execute(f'create schema "{schema}"')
    timings = []
    started = time.perf_counter()
    for key in order.static_order():
        node = models[key]
        sql = node["compiled_code"].strip().rstrip(";")
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        t = time.perf_counter()
        con.execute(f"create or replace {kind} {node['relation_name']} as {sql}\n")
        timings.append((node["name"], time.perf_counter() - t))
    models_seconds = time.perf_counter() - started
    started = time.perf_counter()
    failing = 0
    for node in tests.values():
        sql = node["compiled_code"].strip().rstrip(";")
        failing += con.execute(f"select count(*) from (\n{sql}\n) as dbt_test").fetchone()[0] > 0
    tests_seconds = time.perf_counter() - started
    con.close()
    return models_seconds, tests_seconds, len(models), len(tests), sorted(timings, key=lambda kv: -kv[1])


def same_marts(a: Path, b: Path) -> str:
    """Whether the plain script built the same marts as dbt did, row for row."""
    import duckdb

    con = duckdb.connect(str(a), read_only=True)
    try:
        con.execute(f"attach '{b}' as other (read_only)")
        marts = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_catalog = 'work' and table_schema = 'marts'").fetchall()]
        differing = [t for t in marts if con.execute(
            f"select count(*) from ((select * from work.marts.{t} except all select * from other.marts.{t}) union all "
            f"(select * from other.marts.{t} except all select * from work.marts.{t}))").fetchone()[0]]
    finally:
        con.close()
    return f"{len(marts)} marts identical to dbt's" if not differing else f"marts differ from dbt's: {differing}"


def main() -> int:
    parser = bench_parser(__doc__, snapshot=True, work=True, repeat=3,
                          repeat_help="rounds; each variant's best is shown (default 3)")
    args = parser.parse_args()
    args.snapshot, args.work = args.snapshot.resolve(), args.work.resolve()
    ensure_national_work_file(args.snapshot, args.work)
    from bench import bench_pipeline
    scratch = ROOT / "data" / "bench" / "overhead"
    shutil.rmtree(scratch, ignore_errors=True)
    names = ("dbt-run", "dbt-build", "plain", "plain-tables", "dagster")
    copies = {name: scratch / name / "work.duckdb" for name in names}  # the catalog stays "work"

    def fresh_copies() -> None:
        for copy in copies.values():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.work, copy)

    started = time.perf_counter()
    subprocess.run([DBT, "--version"], stdout=subprocess.DEVNULL, check=True)
    dbt_bare = time.perf_counter() - started
    best: dict[str, float] = {}
    keep: dict[str, object] = {}

    def record(name: str, seconds: float, extra: object = None) -> None:
        if seconds < best.get(name, float("inf")):
            best[name] = seconds
            keep[name] = extra

    print(f"variants, interleaved, best of {args.repeat}:", flush=True)
    for round_ in range(1, args.repeat + 1):
        fresh_copies()
        wall = run_dbt(["build"], copies["dbt-build"], scratch / "dbt-build" / "target")
        record("dbt build", wall, run_results(scratch / "dbt-build" / "target"))
        wall = run_dbt(["run"], copies["dbt-run"], scratch / "dbt-run" / "target")
        record("dbt run", wall, run_results(scratch / "dbt-run" / "target"))
        manifest_path = scratch / "dbt-build" / "target" / "manifest.json"
        models_s, tests_s, n_models, n_tests, slowest = plain(copies["plain"], manifest_path)
        record("plain models", models_s, slowest)
        if round_ == 1:
            same = same_marts(copies["plain"], copies["dbt-build"])
        record("plain tests", tests_s)
        record("plain models+tests", models_s + tests_s)
        # What-if: the intermediate models materialized as tables instead of views.
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        for node in manifest["nodes"].values():
            if node["resource_type"] == "model" and node["schema"] == "intermediate":
                node["config"]["materialized"] = "table"
        tables_manifest = scratch / "plain-tables" / "manifest.json"
        tables_manifest.write_text(json.dumps(manifest), encoding="utf-8")
        t_models, t_tests, *_ = plain(copies["plain-tables"], tables_manifest)
        record("plain tables models", t_models)
        record("plain tables tests", t_tests)
        record("plain tables models+tests", t_models + t_tests)
        dagster = bench_pipeline.run_child(f"dagster-dbt-{round_}", args.snapshot, scratch / "dagster", "dbt")
        dbt_step = next(s for k, s in dagster["steps"].items() if s["stage"] == "dbt")
        record("dagster step", dbt_step["seconds"], (dagster, dbt_step))
        record("dagster wall", dagster["wall"])
        print(f"  round {round_}: dbt build {best['dbt build']:.1f}, dbt run {best['dbt run']:.1f}, plain "
              f"{models_s:.1f} + {tests_s:.1f}, plain (intermediate as tables) {t_models:.1f} + {t_tests:.1f}, "
              f"Dagster dbt step {dbt_step['seconds']:.1f} s (best so far)", flush=True)

    build_elapsed, build_nodes, build_counts = keep["dbt build"]
    run_elapsed, run_nodes, _ = keep["dbt run"]
    slowest = keep["plain models"]
    dagster, dbt_step = keep["dagster step"]
    command = dagster.get("dbt_command", {})
    models_s, tests_s = best["plain models"], best["plain tests"]
    n_models, n_tests = build_counts.get("model", 0), build_counts.get("test", 0)

    base = models_s
    rows = [
        ("plain DuckDB: models", f"{n_models} models", models_s),
        ("plain DuckDB: models + data tests", f"+ {n_tests} tests", best["plain models+tests"]),
        ("dbt run (shell)", "models", best["dbt run"]),
        ("dbt build (shell)", "seeds, models, tests, unit tests", best["dbt build"]),
        ("Dagster dbt step (dagster-dbt: dbt build)", "same", best["dagster step"]),
        ("Dagster process for that step alone", "imports, run, exit", best["dagster wall"]),
        ("what-if, plain: intermediate models as tables", "models + data tests", best["plain tables models+tests"]),
    ]
    print()
    print(table(("variant", "what", "seconds", "x plain models"), [(a, b, c, f"{c / base:.1f}x") for a, b, c in rows],
                f"Table 4. Same transformation SQL, national work file (best of {args.repeat})"))
    print(f"check: the plain script's {same}")
    print(f"what-if detail: models {best['plain tables models']:.1f} s (views: {models_s:.1f} s), data tests "
          f"{best['plain tables tests']:.1f} s (views: {tests_s:.1f} s)")

    pre = command["started"] - dbt_step["start"] if "started" in command else None
    dbt_process = command["finished"] - command["started"] if command.keys() >= {"started", "finished"} else None
    post = dbt_step["end"] - command["finished"] if "finished" in command else None
    elapsed = dagster.get("dbt_elapsed") or build_elapsed
    nodes = dagster.get("dbt_nodes") or build_nodes
    node_total = sum(v for k, v in nodes.items() if not k.endswith("_count"))
    split = [
        ("model SQL itself (plain script)", models_s),
        ("dbt per-model overhead (dbt's model time - plain)", nodes.get("model", 0.0) - models_s),
        ("data tests (dbt's test time)", nodes.get("test", 0.0)),
        ("unit tests", nodes.get("unit_test", 0.0)),
        ("seeds", nodes.get("seed", 0.0)),
        ("dbt between nodes (elapsed - node times)", elapsed - node_total),
    ]
    if dbt_process is not None:
        split.append(("dbt process start + project parse (process - elapsed)", dbt_process - elapsed))
    if pre is not None:
        split.append(("dagster-dbt before dbt starts (dbt --version, adapter)", pre))
    if post is not None:
        split.append(("dagster-dbt after dbt exits (events, results)", post))
    accounted = sum(v for _, v in split)
    split.append(("total = Dagster dbt step", dbt_step["seconds"]))
    print()
    print(table(("where the Dagster dbt step's time goes", "seconds", "share"),
                [(a, round(b, 2), f"{100 * b / dbt_step['seconds']:.0f}%") for a, b in split],
                f"(unaccounted {dbt_step['seconds'] - accounted:+.2f} s)"))
    print(f"\nreference: `dbt --version` (bare dbt process start) {dbt_bare:.1f} s; dbt build's own elapsed "
          f"{build_elapsed:.1f} s, dbt run's {run_elapsed:.1f} s; data tests in the plain script {tests_s:.1f} s "
          f"vs dbt's {build_nodes.get('test', 0):.1f} s")
    print("slowest models (plain): " + ", ".join(f"{n} {s:.2f} s" for n, s in slowest[:5]))
    for copy in copies.values():
        copy.unlink(missing_ok=True)  # logs and dbt output stay in data/bench/overhead/
    return 0


if __name__ == "__main__":
    sys.exit(main())
