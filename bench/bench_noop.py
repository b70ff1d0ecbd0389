"""A run with nothing new upstream, answered by the pre-check, beside the job it replaces. Asserts nothing.

    .venv/bin/python -m bench.bench_noop [--repeat 5]

Each round, in a fresh data directory, offline (the bundled snapshots), as a user runs it (`styringsdata run`
in a child process, wall time from start to exit):

  full run               the first run: every source fetched and loaded, dbt build, gate, publish, report
  no-op, pre-check       the same command again: the change markers are asked before Dagster is imported
                         (src/styringsdata/runs/precheck.py), nothing new, the job is not started
  no-op, job (--force)   the same again with `--force`: Dagster starts, every source step asks its change
                         marker, dbt, gate and publish are skipped (what a no-op cost before the pre-check)

and, for scale, `python -c "import styringsdata.cli"` and a bare interpreter start. The variants are
interleaved round by round, so other load on the machine hits them alike; the table shows each one's
median, fastest and slowest round and the ratios of the medians.

The publication ledger's verification (src/styringsdata/publishing/ledger.py: every target's file metadata, a
hash only where it changed) is timed on its own in each round's data directory, in process, median of 20
(budget: 50 ms). With `--before-src DIR` (the `src/` of an earlier commit, e.g. `git archive main src | tar -x
-C /tmp/before`), each round also makes a full run and a no-op pre-check with that code, in a data directory
of its own, so the pre-check's no-op time before and after a change is measured side by side:

    .venv/bin/python -m bench.bench_noop --repeat 3 --before-src /tmp/before/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench._common import table, timed

VARIANTS = ("full run", "no-op, pre-check", "no-op, job (--force)", "import styringsdata.cli", "python start")
BEFORE = ("full run (before)", "no-op, pre-check (before)")
LEDGER = "ledger verification, in process"
VERIFY = """
import statistics, sys, time
from styringsdata.publishing import ledger
from styringsdata.settings import Settings
settings = Settings.from_env()
times = []
for _ in range(20):
    started = time.perf_counter()
    checks = ledger.verify(settings, ledger.load(settings))
    times.append(time.perf_counter() - started)
assert ledger.current(checks), ledger.summary(checks)
print(statistics.median(times))
"""


def one_round(work: Path, n: int, before_src: Path | None = None) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STYRINGSDATA_", "DAGSTER_HOME"))}
    env.update(STYRINGSDATA_DATA_DIR=str(work / f"data-{n}"), STYRINGSDATA_SOURCE_MODE="replay")
    run = [sys.executable, "-m", "styringsdata.cli", "run"]
    out: dict[str, float] = {}
    if before_src is not None:
        before = {**env, "STYRINGSDATA_DATA_DIR": str(work / f"before-{n}"), "PYTHONPATH": str(before_src)}
        out[BEFORE[0]], _ = timed(run, before)
        out[BEFORE[1]], answered = timed(run, before)
        if "nothing new at" not in answered.stdout:
            print(f"round {n}: the earlier pre-check did not answer: {answered.stdout.strip()[:300]}", flush=True)
    out["full run"], _ = timed(run, env)
    out["no-op, pre-check"], answered = timed(run, env)
    if "nothing new at" not in answered.stdout:
        print(f"round {n}: the pre-check did not answer: {answered.stdout.strip()[:300]}", flush=True)
    _, verified = timed([sys.executable, "-c", VERIFY], env)
    out[LEDGER] = float(verified.stdout.strip())
    out["no-op, job (--force)"], _ = timed([*run, "--force"], env)
    out["import styringsdata.cli"], _ = timed([sys.executable, "-c", "import styringsdata.cli"], env)
    out["python start"], _ = timed([sys.executable, "-c", "pass"], env)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before-src", type=Path, help="the src/ of an earlier commit, timed side by side")
    args = parser.parse_args()
    rounds = []
    with tempfile.TemporaryDirectory(prefix="bench_noop_") as tmp:
        for n in range(1, args.repeat + 1):
            rounds.append(one_round(Path(tmp), n, args.before_src))
            print(f"round {n}: " + ", ".join(f"{k} {v:.3f} s" for k, v in rounds[-1].items()), flush=True)
    variants = (*(BEFORE if args.before_src else ()), *VARIANTS)
    median = {v: statistics.median(r[v] for r in rounds) for v in variants}
    rows = []
    for variant in variants:
        times = [r[variant] for r in rounds]
        rows.append([variant, f"{median[variant]:.2f} s", f"{min(times):.2f} s", f"{max(times):.2f} s",
                     f"{median[variant] / median['full run']:.3f}x",
                     f"{median[variant] / median['no-op, job (--force)']:.3f}x"])
    print()
    print(table(["variant", "median", "fastest", "slowest", "/ full run", "/ no-op job"], rows,
                f"`styringsdata run`, offline, wall time, median of {args.repeat} rounds "
                f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"))
    ledger_ms = [r[LEDGER] * 1000 for r in rounds]
    print(f"\nledger verification (every target, nothing changed), in process: median {statistics.median(ledger_ms):.1f} "
          f"ms, slowest round {max(ledger_ms):.1f} ms (budget 50 ms)")
    if args.before_src:
        print(f"no-op pre-check before {median[BEFORE[1]]:.2f} s, after {median['no-op, pre-check']:.2f} s")
    print(f"the pre-check answers a no-op {median['no-op, job (--force)'] / median['no-op, pre-check']:.1f}x faster "
          f"than the job, and {median['full run'] / median['no-op, pre-check']:.1f}x faster than a full run")


if __name__ == "__main__":
    main()
