"""A whole offline `styringsdata run` of every bundled SSB table beside one of some of them (STYRINGSDATA_SSB_TABLES;
default: the fault worlds' two, tests/faults/runs.py MINI_TABLES), interleaved `--repeat` times so that other load on
the machine hits both alike. Each run gets a fresh data directory and Dagster instance in the temporary directory
(the test suite's scratch). Prints wall and CPU (the run and its dbt child) per stage and in all, the median
round of each by wall time, and the ratio; asserts nothing.

    .venv/bin/python -m bench.bench_ssb_subset [--repeat 3] [--tables 12143 11787]
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench._common import ROOT, bench_parser, table, timed
from styringsdata.sources.ssb import load_table_specs, subset_configuration

STAGES = ("sources", "dbt", "gate", "publish", "report")
STAGE_LINE = re.compile(r"^  (\w+) .*\((\d+(?:\.\d+)?) s\)$")


def one_run(tables: Path | None) -> dict[str, float]:
    """Seconds: wall and CPU of the whole command, and each stage's wall as the run prints it."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-ssb-subset-"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STYRINGSDATA_")}
        env.update({"STYRINGSDATA_DATA_DIR": str(scratch / "data"), "STYRINGSDATA_SOURCE_MODE": "replay",
                    "DAGSTER_HOME": str(scratch / "dagster_home")})
        (scratch / "dagster_home").mkdir()
        shutil.copy(ROOT / "dagster_home" / "dagster.yaml", scratch / "dagster_home" / "dagster.yaml")
        if tables is not None:
            env["STYRINGSDATA_SSB_TABLES"] = str(tables)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, result = timed([sys.executable, "-m", "styringsdata.cli", "run"], env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        figures = {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}
        for line in result.stdout.splitlines():
            match = STAGE_LINE.match(line)
            if match and match.group(1) in STAGES:
                figures[match.group(1)] = float(match.group(2))
        return figures
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = bench_parser(__doc__, repeat=3)
    parser.add_argument("--tables", nargs="+", default=["12143", "11787"], help="the SSB tables the small run keeps")
    args = parser.parse_args()
    mini = Path(tempfile.mkdtemp(prefix="bench-ssb-subset-")) / "ssb_tables.yaml"
    mini.write_text(subset_configuration(args.tables), encoding="utf-8")
    rounds: dict[str, list[dict[str, float]]] = {"every table": [], "some tables": []}
    for n in range(args.repeat):
        for label, tables in (("every table", None), ("some tables", mini)):
            rounds[label].append(one_run(tables))
            print(f"round {n + 1} {label}: {rounds[label][-1]['wall']:.1f} s", file=sys.stderr)
    median = {label: sorted(runs, key=lambda r: r["wall"])[len(runs) // 2] for label, runs in rounds.items()}
    full, small = median["every table"], median["some tables"]
    rows = [(what, full.get(what, 0.0), small.get(what, 0.0),
             f"{small[what] / full[what]:.2f}x" if full.get(what) else "")
            for what in (*STAGES, "wall", "cpu")]
    print(table(("seconds", f"every table ({len(load_table_specs().tables)})", f"{', '.join(args.tables)}",
                 "ratio"), rows,
                title=f"`styringsdata run`, offline, fresh data directory; median of {args.repeat} interleaved "
                      f"round(s) by wall time (spread of wall: every table "
                      f"{statistics.pstdev(r['wall'] for r in rounds['every table']):.1f} s, some tables "
                      f"{statistics.pstdev(r['wall'] for r in rounds['some tables']):.1f} s)"))
    shutil.rmtree(mini.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
