"""How long the two reports take to build, by stage, side by side.

    .venv/bin/python -m bench.bench_report [--data data] [--repeat 3]

Reads the work file of an existing run (`--data`, default `data/`: run `make run` first, or point it at
any data directory) and builds, in this one process, the data team's quality report and the macro group's
report: gathering from the marts, the charts (matplotlib, PNG) and the HTML, each round into a scratch
folder. The first round includes importing matplotlib and building its font cache; the table shows the
first round and the best of the others. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, table


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def one_round(work: Path, scratch: Path) -> dict[str, dict[str, float]]:
    import base64

    import duckdb

    from styringsdata.reporting import macro_report, report
    from styringsdata.reporting.report import RunInfo
    from styringsdata.settings import Settings

    run = RunInfo(run_id="bench0000000000", started_at="2026-06-15T07:00:00+00:00", outcome="published",
                  home_municipality=Settings.from_env().home_municipality)
    con = duckdb.connect(str(work), read_only=True)
    try:
        seconds: dict[str, dict[str, float]] = {}
        data, gather = timed(report.gather, con, run, None)
        charts, draw = timed(report.render_charts, data)
        inline = {k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in charts.items()}
        _, render = timed(report.render_html, data, inline)
        _, whole = timed(report.write_report, con, scratch / "data-team", run, None)
        seconds["data team"] = {"gather": gather, "charts": draw, "html": render, "whole report": whole}
        data, gather = timed(macro_report.gather, con, run, None)
        charts, draw = timed(macro_report.render_charts, data)
        inline = {k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in charts.items()}
        _, render = timed(macro_report.render_html, data, inline)
        _, whole = timed(macro_report.write_macro_report, con, scratch / "macro", run, None)
        seconds["macro group"] = {"gather": gather, "charts": draw, "html": render, "whole report": whole}
    finally:
        con.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = args.data.resolve() / "work.duckdb"
    if not work.exists():
        print(f"no work file at {work}: run `make run` (or pass --data DIR of a run) first", file=sys.stderr)
        return 2
    rounds = []
    for _ in range(max(args.repeat, 2)):
        scratch = Path(tempfile.mkdtemp(prefix="bench_report_"))
        try:
            rounds.append(one_round(work, scratch))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    stages = ("gather", "charts", "html", "whole report")
    rows = []
    for stage in stages:
        first = [rounds[0][who][stage] for who in ("data team", "macro group")]
        best = [min(r[who][stage] for r in rounds[1:]) for who in ("data team", "macro group")]
        rows.append([stage, f"{first[0]:.2f}", f"{first[1]:.2f}", f"{best[0]:.2f}", f"{best[1]:.2f}",
                     f"{best[1] / best[0]:.1f}x" if best[0] else ""])
    print(table(["stage", "data team, 1st (s)", "macro group, 1st (s)", "data team, best (s)",
                 "macro group, best (s)", "macro / data team"], rows,
                title=f"report build times on {work} ({len(rounds)} rounds; 'whole report' = gather + charts + "
                      "HTML + files again)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
