"""Every figure the Handlingsprogram's indicator tables print is kept (issue 23).

catalogue/published_values.csv holds each printed cell of the indicator tables (catalogue/extract_published_values.py
reads them from ../shared/seeds/002_b7438f97132f1d74.txt): 238 numbers, 17 "Tall kommer" and 97 "Ikke målt".
Each number is in fct_indicator_values for the home member Asker (3203) within the printed rounding, from a source or,
where no source gives it (BYS06, BYS16, HEL02, OKO04 before this issue), from the document with origin `published`.
A cell without a number keeps its status (pending, not_measured) unless a source gives a figure for it.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
PRINTED = list(csv.DictReader((ROOT / "catalogue" / "published_values.csv").open(encoding="utf-8")))


def test_every_printed_figure_and_status_is_in_the_warehouse(offline_run):
    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        got = {(r[0], r[1]): r[2:] for r in con.execute(
            "select indicator_id, year, value, status, origin, source from fct_indicator_values "
            "where municipality_code = '3203' and year between 2019 and 2022").fetchall()}
    finally:
        con.close()
    assert Counter(r["status"] for r in PRINTED) == {"measured": 238, "not_measured": 97, "pending": 17}
    numbers, statuses, from_document, superseded, failures = 0, 0, [], [], []
    for row in PRINTED:
        key = (row["indicator_id"], int(row["year"]))
        value, status, origin, source = got.get(key, (None, "absent", None, None))
        if row["status"] == "measured":
            printed = float(row["value"])
            tolerance = 0.5 * 10 ** -len(row["value"].partition(".")[2]) + 1e-9
            if value is None or abs(value - printed) > tolerance or origin not in ("published", "live"):
                failures.append((key, row["published_text"], value, status, origin))
                continue
            numbers += 1
            if source == "Handlingsprogram 2024-2027":
                from_document.append(key)
        elif value is not None:
            superseded.append(key)  # a source gives a figure where the document had none yet
        elif status == row["status"]:
            statuses += 1
        else:
            failures.append((key, row["published_text"], value, status, origin))
    print(f"\n{numbers} of 238 printed numbers reproduced ({len(from_document)} from the document itself: "
          f"{sorted(from_document)}); {statuses} statuses kept, {len(superseded)} superseded by a source")
    assert not failures, failures[:10]
    assert numbers == 238
    for key in [("BYS06", 2019), ("BYS06", 2022), ("BYS16", 2021), ("HEL02", 2019), ("OKO04", 2020), ("OKO04", 2022)]:
        assert key in from_document, key
    # "Tall kommer" is pending, never not_measured
    assert got[("HEL02", 2020)][1] == "pending" and got[("BYS16", 2022)][1] == "pending"
