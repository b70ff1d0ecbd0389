"""Requests of a live national refresh against the theoretical minimum, and SSB's rate limit. Asserts nothing.

    .venv/bin/python bench/bench_requests.py [--snapshot data/bench/national] [--per-minute 30]

The pipeline's own ingestion code (ingestion.ssb.refresh_table per table, KLASS, FHI,
Miljødirektoratet: what the Dagster source assets call) runs in LIVE mode, with the transport's
real rate limiter (30 calls per minute to data.ssb.no, sliding window) and retries, but every
answer comes from the national snapshot and the clock is virtual: the limiter's waits are
counted, not slept. Run 1 starts from an empty landing zone (a full refresh); run 2 repeats it on
the same landing zone with nothing changed upstream (a no-op refresh).

Per SSB table: cells asked for, the minimum number of data requests (ceil(cells / 800 000): SSB
answers at most 800 000 cells per request, empty cells included), the requests made and how
(GET, or POST when the URL would pass 2 000 characters). Then the time the rate limit alone
imposes on all calls to data.ssb.no (table info, metadata, data, KLASS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DEFAULT_SNAPSHOT, ensure_national_snapshot, request_kind, table, use_national_catalogues  # noqa: E402


KLASS_FROM = dt.date(2018, 1, 1)  # orchestration/defs/klass.py CHANGES_FROM, as recorded in the snapshot


class VirtualClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    parser.add_argument("--per-minute", type=int, default=30, help="SSB's limit per IP (default 30)")
    args = parser.parse_args()
    args.snapshot = args.snapshot.resolve()
    summary = ensure_national_snapshot(args.snapshot)
    use_national_catalogues(args.snapshot)

    from ingestion import miljodirektoratet
    from ingestion.fhi import FhiClient, load_fhi_specs, modified_since
    from ingestion.fhi import refresh_table as refresh_fhi_table
    from ingestion.klass import KlassClient
    from ingestion.landing import LandingZone
    from ingestion.ssb import MAX_CELLS, SsbClient, load_table_specs, refresh_table
    from ingestion.transport import SnapshotStore, SourceMode, Transport

    store = SnapshotStore(args.snapshot)
    log: list[tuple[float, str, str]] = []  # (virtual time, kind, method)
    clock = VirtualClock()

    def sender(request, timeout):  # noqa: ANN001
        log.append((clock.now(), request_kind(request.method, request.url), request.method))
        return store.load(request)

    specs = load_table_specs()
    fhi_specs = load_fhi_specs()
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        landing = LandingZone(Path(tmp))
        for run in ("full", "no-op"):
            log.clear()
            clock.t = 0.0
            transport = Transport(SourceMode.LIVE, None, sender=sender, clock=clock,
                                  rate_limits={"data.ssb.no": (args.per_minute, 60.0)})
            client = SsbClient(transport)
            per_table = []
            for spec in specs.tables:
                before = len(log)
                result = refresh_table(client, landing, specs, spec)
                methods = sorted({m for _, kind, m in log[before:] if kind == "ssb data"})
                per_table.append((spec.table_id, result.cells_requested,
                                  math.ceil(result.cells_requested / MAX_CELLS) if result.changed else 0,
                                  result.data_requests, "/".join(methods)))
            KlassClient(transport).fetch_changes(KLASS_FROM)
            fhi = FhiClient(transport)
            modified, _ = fhi.modified_tables(fhi_specs.source_id, modified_since(landing, fhi_specs))
            for fhi_table in fhi_specs.tables:
                refresh_fhi_table(fhi, landing, fhi_specs, fhi_table, modified)
            miljodirektoratet.refresh(transport, landing)
            kinds: dict[str, int] = {}
            for _, kind, _ in log:
                kinds[kind] = kinds.get(kind, 0) + 1
            ssb_calls = [t for t, kind, _ in log if kind.startswith("ssb") or kind == "klass changes"]
            runs[run] = {"tables": per_table, "kinds": kinds, "limiter_wait": clock.t,
                         "ssb_calls": len(ssb_calls), "last_ssb_call": max(ssb_calls, default=0.0)}

    full = runs["full"]
    rows = [(t, cells, minimum, made, method, f"{100 * (made - minimum) / minimum:+.0f}%")
            for t, cells, minimum, made, method in full["tables"]]
    cells = sum(r[1] for r in rows)
    minimum = sum(r[2] for r in rows)
    made = sum(r[3] for r in rows)
    rows.append(("all SSB tables", cells, minimum, made, "", f"{100 * (made - minimum) / minimum:+.0f}%"))
    print(f"national snapshot: {summary['codes_requested']} municipality codes, {summary['first_year']}-"
          f"{summary['last_year']}; SSB limit {MAX_CELLS:,} cells per request, {args.per_minute} calls per minute")
    print()
    print(table(("SSB table", "cells", "minimum requests", "data requests", "method", "above minimum"), rows,
                "Table 2a. Full live refresh: SSB data requests against ceil(cells / 800 000)"))

    def limit_time(calls: int) -> float:
        # Sliding window of `per_minute` calls per 60 s: call n (0-based) can go at floor(n / per_minute) minutes.
        return 60.0 * ((calls - 1) // args.per_minute) if calls else 0.0

    rows = []
    for kind in sorted(set(full["kinds"]) | set(runs["no-op"]["kinds"])):
        rows.append((kind, full["kinds"].get(kind, 0), runs["no-op"]["kinds"].get(kind, 0)))
    for label, key in (("calls to data.ssb.no (info, metadata, data, KLASS)", "ssb_calls"),):
        rows.append((label, full[key], runs["no-op"][key]))
    rows.append(("rate-limit wait, measured (virtual clock, s)", round(full["limiter_wait"], 1),
                 round(runs["no-op"]["limiter_wait"], 1)))
    rows.append(("lower bound for these calls at 30/min (s)", limit_time(full["ssb_calls"]),
                 limit_time(runs["no-op"]["ssb_calls"])))
    rows.append(("lower bound for the data requests alone (s)", limit_time(made), 0.0))
    print()
    print(table(("", "full refresh", "no-op refresh"), rows,
                "Table 2b. All requests by kind, and what SSB's rate limit alone imposes"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
