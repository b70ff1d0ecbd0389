"""Calls per source of a live national refresh, full and no-op, before and after, and what SSB's rate
limit makes them cost. Asserts nothing.

    .venv/bin/python -m bench.bench_requests [--snapshot data/bench/national] [--per-minute 30] [--before REV]

One driver runs the pipeline's own ingestion code (what the source assets call: the SSB check and
refresh per table, KLASS, FHI, Miljødirektoratet) twice on one landing zone: run 1 starts empty (a full
refresh), run 2 repeats it with nothing changed upstream (a no-op refresh). It runs in LIVE mode, with
the transport's real rate limiter (30 calls per minute to data.ssb.no, sliding window) and retries, but
every answer comes from the national snapshot and the clock is virtual: the limiter's waits are counted,
not slept; SSB's calendar clock stands where the snapshot was recorded.

The driver runs as a child process twice, side by side in this one bench run: on this tree's
`ingestion/` ("after") and on `ingestion/` as it was at git revision REV ("before", default: main before
issue 17), extracted with `git archive`; both answer from the same snapshot.

Minimum: SSB full = one metadata call per table + ceil(cells / 800 000) data requests per table (SSB
answers at most 800 000 cells per request, empty cells included); no-op = 1 (one question for every
table). FHI full = one listing + dimensions and data per table; no-op = the listing. Miljødirektoratet
full = one download; no-op = one request and no download. KLASS (changes since 2018, KOSTRA groups per
year) has no cheaper question and is counted, not minimised.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
from pathlib import Path

from bench._common import DEFAULT_SNAPSHOT, ROOT, ensure_national_snapshot, table

# main before issue 17 (one table-info call per SSB table, the workbook downloaded on every refresh).
BEFORE = "ee87981"

DRIVER = r'''
import datetime as dt, json, sys, tempfile
from pathlib import Path
from styringsdata.sources import miljodirektoratet, ssb
from styringsdata.sources.fhi import FhiClient, load_fhi_specs, modified_since, refresh_table as refresh_fhi
from styringsdata.sources.klass import KlassClient, refresh_changes, refresh_kostra_groups
from styringsdata.raw.landing import LandingZone
from styringsdata.sources.transport import SnapshotStore, SourceMode, Transport

snapshot, per_minute = Path(sys.argv[1]), int(sys.argv[2])
specs = ssb.load_table_specs(snapshot / "ssb_tables.yaml")
fhi_specs = load_fhi_specs(snapshot / "fhi_tables.yaml", snapshot / "ssb_tables.yaml")
store = SnapshotStore(snapshot)
has_check = hasattr(ssb, "check_ssb")  # the code after issue 17

class VirtualClock:
    t = 0.0
    def now(self): return self.t
    def sleep(self, seconds): self.t += max(0.0, seconds)

clock, log, out = VirtualClock(), [], {}

def sender(request, timeout):
    response = store.load(request)
    log.append([clock.t, request.method, request.url, response.status, len(response.body),
                sorted(k for k in response.headers if k in ("etag", "last-modified"))])
    return response

with tempfile.TemporaryDirectory() as tmp:
    landing = LandingZone(Path(tmp))
    for run in ("full", "no-op"):
        log.clear()
        clock.t = 0.0
        extra = {"wall_clock": lambda: store.recorded_at("data.ssb.no")} if has_check else {}
        transport = Transport(SourceMode.LIVE, None, sender=sender, clock=clock,
                              rate_limits={"data.ssb.no": (per_minute, 60.0)}, **extra)
        client = ssb.SsbClient(transport)
        check = ssb.check_ssb(client, landing, [t.table_id for t in specs.tables]) if has_check else None
        for spec in specs.tables:
            if has_check:
                ssb.refresh_table(client, landing, specs, spec, check)
            else:
                ssb.refresh_table(client, landing, specs, spec)
        klass = KlassClient(transport)
        refresh_changes(klass, landing, dt.date(2018, 1, 1))
        refresh_kostra_groups(klass, landing, range(specs.first_year, specs.last_year + 1))
        fhi = FhiClient(transport)
        modified, _ = fhi.modified_tables(fhi_specs.source_id, modified_since(landing, fhi_specs))
        for table in fhi_specs.tables:
            refresh_fhi(fhi, landing, fhi_specs, table, modified)
        miljodirektoratet.refresh(transport, landing)
        out[run] = {"log": list(log), "limiter_wait": clock.t, "check": check.how if check else None}
print(json.dumps(out))
'''


def kind(method: str, url: str, status: int, size: int) -> tuple[str, str]:
    """(source, what) of one request."""
    parsed = urllib.parse.urlsplit(url)
    parts = [p for p in parsed.path.split("/") if p]
    if parsed.netloc == "data.ssb.no":
        if "klass" in parts:
            return "SSB KLASS", "KOSTRA groups (112)" if parts[-1] == "correspondsAt" else "municipality changes"
        if parts[-1] == "tables":
            return "SSB statistikkbank", "listing GET /tables?pastDays"
        return "SSB statistikkbank", {"data": "data", "metadata": "metadata"}.get(parts[-1], "table info /tables/{id}")
    if parsed.netloc == "statistikk-data.fhi.no":
        return "FHI", {"data": "data", "dimension": "dimensions", "table": "listing table?modifiedAfter"}.get(
            parts[-1], parts[-1])
    if "miljodirektoratet" in parsed.netloc:
        return "Miljødirektoratet", "downloads (whole workbook)" if status == 200 and size else "answered 304, no body"
    return parsed.netloc, parts[-1] if parts else ""


def measure(source_root: Path, snapshot: Path, per_minute: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    done = subprocess.run([sys.executable, "-c", DRIVER, str(snapshot), str(per_minute)], cwd=source_root, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the driver failed on {source_root}:\n{done.stderr[-3000:]}")
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    for run in runs.values():
        counts: dict[tuple[str, str], int] = {}
        for _, method, url, status, size, _headers in run["log"]:
            key = kind(method, url, status, size)
            counts[key] = counts.get(key, 0) + 1
        run["counts"] = counts
        run["ssb_host"] = sum(1 for entry in run["log"] if urllib.parse.urlsplit(entry[2]).netloc == "data.ssb.no")
        run["validators"] = sorted({h for entry in run["log"] if "miljodirektoratet" in entry[2] for h in entry[5]})
    return runs


def tree_at(revision: str, into: Path) -> Path:
    """`ingestion/` as it was at `revision`, extracted under `into`."""
    archive = into / "before.tar"
    with open(archive, "wb") as out:
        subprocess.run(["git", "archive", revision, "ingestion"], cwd=ROOT, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


def limit_seconds(calls: int, per_minute: int) -> float:
    """The least time `calls` requests take under a sliding window of `per_minute` per 60 s."""
    return 60.0 * ((calls - 1) // per_minute) if calls else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    parser.add_argument("--per-minute", type=int, default=30, help="SSB's limit per IP (default 30)")
    parser.add_argument("--before", default=BEFORE, help=f"git revision to compare with (default {BEFORE})")
    args = parser.parse_args()
    args.snapshot = args.snapshot.resolve()
    summary = ensure_national_snapshot(args.snapshot)

    after = measure(ROOT, args.snapshot, args.per_minute)
    with tempfile.TemporaryDirectory() as tmp:
        before = measure(tree_at(args.before, Path(tmp)), args.snapshot, args.per_minute)

    tables = summary["ssb_tables"]
    from styringsdata.sources.fhi import load_fhi_specs

    fhi_tables = len(load_fhi_specs(args.snapshot / "fhi_tables.yaml", args.snapshot / "ssb_tables.yaml").tables)
    print(f"national snapshot: {summary['codes_requested']} municipality codes, {summary['first_year']}-"
          f"{summary['last_year']}, {len(tables)} SSB tables; SSB's limit {args.per_minute} calls per minute; "
          f"before = {args.before}, after = this tree")
    print(f"after, SSB's check in the no-op run: {after['no-op']['check']}")
    validators = after["no-op"]["validators"]
    print("Miljødirektoratet: the replayed server sends " + (", ".join(validators) if validators else
          "no ETag or Last-Modified, so the workbook is downloaded and compared by sha256 on every refresh") +
          " (what the real server sends is not verified: no network here; snapshots/build.py FileHost)")

    minimum_full = {("SSB statistikkbank", "metadata"): len(tables),
                    ("SSB statistikkbank", "data"): sum(t["minimum"] for t in tables)}
    rows = []
    keys = sorted(set().union(*(r["counts"] for side in (before, after) for r in side.values())))
    for source in dict.fromkeys(k[0] for k in keys):
        for key in [k for k in keys if k[0] == source]:
            rows.append((source, key[1], *(side[run]["counts"].get(key, 0) for run in ("full", "no-op")
                                           for side in (before, after)), minimum_full.get(key, ""), ""))
        totals = [sum(n for k, n in side[run]["counts"].items() if k[0] == source)
                  for run in ("full", "no-op") for side in (before, after)]
        minimum = {"SSB statistikkbank": (sum(minimum_full.values()), 1), "FHI": (1 + 2 * fhi_tables, 1),
                   "Miljødirektoratet": (1, "1, no download")}.get(source, ("", ""))
        rows.append((source, "all calls", *totals, minimum[0], minimum[1]))
    print()
    print(table(("source", "calls", "full before", "full after", "no-op before", "no-op after", "minimum full",
                 "minimum no-op"), rows,
                "Table 2a. Calls per source: a full and a no-op live refresh, before and after, against the minimum"))

    rows = []
    for label, value in (
        ("calls to data.ssb.no (statistikkbank and KLASS)", lambda r: r["ssb_host"]),
        (f"time SSB's limit imposes on them at {args.per_minute}/min (s)",
         lambda r: limit_seconds(r["ssb_host"], args.per_minute)),
        ("rate-limit wait, measured (virtual clock, s)", lambda r: round(r["limiter_wait"], 1)),
    ):
        rows.append((label, *(value(side[run]) for run in ("full", "no-op") for side in (before, after))))
    print()
    print(table(("", "full before", "full after", "no-op before", "no-op after"), rows,
                "Table 2b. What SSB's rate limit makes these calls cost"))

    rows = [(t["table"], t["cells"], t["minimum"], t["data_requests"],
             f"{100 * (t['data_requests'] - t['minimum']) / t['minimum']:+.0f}%") for t in tables]
    print()
    print(table(("SSB table", "cells", "minimum requests", "data requests", "above minimum"), rows,
                "Table 2c. SSB data requests of the full refresh against ceil(cells / 800 000), per table"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
