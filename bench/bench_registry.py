"""Read a registry file near the size limit three ways, side by side.

    python -m bench.bench_registry [--rows N] [--repeat R]

(a) csv.reader over the decoded text: the C floor for splitting cells (what the reader used before
    issue 11, without its checks);
(b) ours, splitting only: styringsdata.sources.registry.read_cells (decode, one record per line, quotes checked);
(c) ours, whole: styringsdata.sources.registry.validate (split, decide the decimal separator, check every row).
The file is Norwegian Excel's "CSV (semikolondelt)": Windows-1252, ';', CRLF, decimal comma.
Prints best-of-R seconds and the ratios. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from typing import Callable

from styringsdata.sources.registry import IndicatorRule, load_reference, read_cells, validate


def excel_export(rows: int) -> bytes:
    lines = ["indicator_id;municipality_code;period;value;unit;status;source;comment"]
    for n in range(rows):
        lines.append(f"BYS08;{n % 10000:04d};{1990 + (n // 10000) % 30};{1 + n % 999}\u00a0{n % 1000:03d},{n % 10};"
                     f"count;Målt;Eiendom – «bygg»;\"rad {n}; kontrollert\"")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = excel_export(args.rows)
    years = range(1990, 2020)
    codes = {f"{n:04d}" for n in range(10000)}
    reference = load_reference([IndicatorRule("BYS08", "registry", "count")], codes, {}, max_bytes=len(data) + 1,
                               first_year=min(years))
    floor = best(args.repeat, lambda: list(csv.reader(io.StringIO(data.decode("cp1252"), newline=""), delimiter=";")))
    split = best(args.repeat, lambda: read_cells(data, "f.csv"))
    report = validate(data, "f.csv", reference)
    assert report.ok, report.text()[:500]
    whole = best(args.repeat, lambda: validate(data, "f.csv", reference))
    print(f"{args.rows} rows, {len(data) / 1e6:.1f} MB, best of {args.repeat}")
    print(f"(a) csv.reader           {floor:8.3f} s   1.00x")
    print(f"(b) read_cells           {split:8.3f} s   {split / floor:5.2f}x")
    print(f"(c) validate             {whole:8.3f} s   {whole / floor:5.2f}x")


if __name__ == "__main__":
    main()
