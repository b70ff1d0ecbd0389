"""Decode a >= 1 000 000-cell JSON-stat2 payload with SSB's structure three ways, side by side.

    python -m bench.bench_jsonstat [--cells N] [--repeat R] [--skip-pyjstat] [--before REV]

(a) json.loads alone: the floor, any decoder must parse the text;
(b) ours: styringsdata.sources.jsonstat.decode(text).to_arrow() (parsing included);
(b') the same decoder as it was at git revision REV (default: main before issue 17), read with
     `git show` and run in this process on the same payload, so before and after share one run;
(c) pyjstat 2.4: Dataset.read(text).write('dataframe', naming='id'), what people use today.
Prints best-of-R seconds and the ratios. The R rounds interleave (a), (b) and (b'), so a machine whose load
changes during the run slows them alike. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from styringsdata.sources.jsonstat import decode

ROOT = Path(__file__).resolve().parents[1]


def ssb_like_payload(cells: int, seed: int = 1) -> str:
    """KOSTRA-like cube: ~360 regions x functions x 2 contents x years, object index, ~3% suppressed."""
    rng = random.Random(seed)
    regions = [f"{i:04d}" for i in range(101, 101 + 357)] + ["EAK", "EAKUO"] + [f"EKG{i:02d}" for i in range(1, 17)]
    years = [str(y) for y in range(2006, 2026)]
    contents = ["KOSbelopbrinv0000", "KOSbelopinnbyg0000"]
    functions = max(1, math.ceil(cells / (len(regions) * len(years) * len(contents))))
    dims = {
        "KOKkommuneregion0000": regions,
        "KOKfunksjon0000": [f"FG{i:03d}" for i in range(functions)],
        "ContentsCode": contents,
        "Tid": years,
    }

    def dimension(code: str, codes: list[str]) -> dict:
        order = list(enumerate(codes))
        rng.shuffle(order)
        return {"label": code, "category": {"index": {c: i for i, c in order}, "label": {c: c for _, c in order}}}

    n = math.prod(len(v) for v in dims.values())
    values: list[float | None] = []
    status: dict[str, str] = {}
    for i in range(n):
        if rng.random() < 0.03:
            values.append(None)
            status[str(i)] = rng.choice([".", "..", ":"])
        else:
            values.append(round(rng.uniform(-5000, 50000), 1))
    document = {
        "version": "2.0", "class": "dataset", "label": "12362: Benchmark cube", "source": "Statistisk sentralbyrå",
        "updated": "2026-06-15T06:00:00Z", "role": {"time": ["Tid"], "metric": ["ContentsCode"]},
        "id": list(dims), "size": [len(v) for v in dims.values()],
        "dimension": {k: dimension(k, v) for k, v in dims.items()},
        "extension": {"px": {"tableid": "12362", "decimals": 1}},
        "value": values, "status": status,
    }
    return json.dumps(document)


# main before issue 17 (decoder on json.loads); any revision can be given with --before.
BEFORE = "ee87981"


def decoder_at(revision: str):
    """src/styringsdata/sources/jsonstat.py as it was at `revision`, imported under another name; None if git cannot say."""
    shown = subprocess.run(["git", "show", f"{revision}:src/styringsdata/sources/jsonstat.py"], cwd=ROOT, capture_output=True)
    if shown.returncode != 0:
        print(f"(no decoder at {revision}: {shown.stderr.decode().strip()})")
        return None
    path = Path(tempfile.mkdtemp()) / "jsonstat_before.py"
    path.write_bytes(shown.stdout)
    spec = importlib.util.spec_from_file_location("jsonstat_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def best_of(repeat: int, fns: dict[str, Callable[[], object]]) -> dict[str, tuple[float, object]]:
    """Best time and last result of each function, the functions taking turns in every round."""
    best: dict[str, tuple[float, object]] = {name: (math.inf, None) for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - start
            best[name] = (min(best[name][0], elapsed), result)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-pyjstat", action="store_true")
    parser.add_argument("--before", default=BEFORE, help=f"git revision of the decoder to compare with ({BEFORE})")
    args = parser.parse_args()

    text = ssb_like_payload(args.cells)
    cells = math.prod(json.loads(text)["size"])
    print(f"payload: {cells:,} cells, {len(text) / 1e6:.1f} MB of JSON-stat2 (SSB structure, object index, sparse status)")

    old = decoder_at(args.before)
    candidates = {"floor": lambda: json.loads(text), "ours": lambda: decode(text).to_arrow()}
    if old is not None:
        candidates["before"] = lambda: old.decode(text).to_arrow()
    timed = best_of(args.repeat, candidates)
    floor, (ours, table) = timed["floor"][0], timed["ours"]
    print(f"{'method':<34}{'seconds':>10}{'vs json.loads':>16}")
    print(f"{'json.loads (floor)':<34}{floor:>10.3f}{1.0:>15.2f}x")
    print(f"{'styringsdata.sources.jsonstat decode+arrow':<34}{ours:>10.3f}{ours / floor:>15.2f}x")
    if old is not None:
        before, old_table = timed["before"]
        label = f"the same at {args.before} (before)"
        print(f"{label:<34}{before:>10.3f}{before / floor:>15.2f}x")
        same = old_table.equals(table)
        print(f"{'':<34}before/after: {before / ours:.2f}x; decoded tables identical: {'yes' if same else 'NO'}")
    if args.skip_pyjstat:
        return 0
    import pyjstat.pyjstat as pyjstat

    # pyjstat is run once: at this size one run takes long enough to measure.
    start = time.perf_counter()
    frame = pyjstat.Dataset.read(text).write("dataframe", naming="id")
    theirs = time.perf_counter() - start
    print(f"{'pyjstat 2.4 Dataset.read+write':<34}{theirs:>10.3f}{theirs / floor:>15.2f}x")
    print(f"\nours vs pyjstat: {theirs / ours:.1f}x faster; ours vs json.loads: {ours / floor:.2f}x the floor")

    ours_rows = table.num_rows
    same_rows = ours_rows == len(frame)
    sample = random.Random(2).sample(range(ours_rows), 1000)
    ours_values = table.column("value").to_pylist()
    theirs_values = frame["value"].tolist()
    mismatches = sum(
        1 for i in sample
        if not ((ours_values[i] is None and (theirs_values[i] is None or theirs_values[i] != theirs_values[i]))
                or ours_values[i] == theirs_values[i])
    )
    print(f"check: rows {ours_rows:,} vs {len(frame):,} {'OK' if same_rows else 'MISMATCH'}; "
          f"1000 sampled values {'OK' if mismatches == 0 else f'{mismatches} MISMATCH'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
