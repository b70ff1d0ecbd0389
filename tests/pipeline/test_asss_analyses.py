"""The macro group's analyses (issue 25) checked by hand against the recorded base tables.

Asker's barnehage tjenesteprofil for the latest bundled year: A (netto driftsutgifter on 201, 211, 221 from
the recorded 12367 answer), B (inhabitants 1-5 from the recorded 11805 answer), the member's value, the ASSS
average as sum(A) / sum(B) over the members valid that year (seed peer_groups), the index, the minimum and the
maximum with their holders, recomputed here from the JSON-stat payloads and compared with the published mart.
The bundled figures are illustrative (snapshots/README.md); the arithmetic is what is checked.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import duckdb

from styringsdata.sources import jsonstat

ROOT = Path(__file__).resolve().parents[2]
TABLES = ROOT / "snapshots" / "data.ssb.no" / "api" / "pxwebapi" / "v2" / "tables"


def _recorded(table_id: str) -> jsonstat.Dataset:
    [path] = sorted((TABLES / table_id / "data").glob("GET-*.json"))
    return jsonstat.decode(json.loads(path.read_text(encoding="utf-8"))["response"]["body"], source=str(path))


def _cells(dataset: jsonstat.Dataset, **fixed: str) -> dict[tuple[str, str], float]:
    """(region, year) -> value summed over the cells matching `fixed` (a tuple of codes for a dimension = sum)."""
    names = [d.code for d in dataset.dimensions]
    out: dict[tuple[str, str], float] = {}
    for row in dataset.to_rows():
        codes = dict(zip(names, row[:-2]))
        if all(codes[k] in (v if isinstance(v, tuple) else (v,)) for k, v in fixed.items()) and row[-2] is not None:
            key = (codes["KOKkommuneregion0000"], codes["Tid"])
            out[key] = out.get(key, 0.0) + row[-2]
    return out


def _asss_members(year: int) -> list[str]:
    with (ROOT / "dbt_project" / "seeds" / "peer_groups.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["peer_group"] == "ASSS"]
    end = dt.date(year, 12, 31)
    return sorted(r["municipality_code"] for r in rows if dt.date.fromisoformat(r["valid_from"]) <= end
                  and (not r["valid_to"] or dt.date.fromisoformat(r["valid_to"]) >= end))


def test_askers_barnehage_profile_is_sum_a_over_sum_b_from_the_recorded_tables(offline_run):
    accounts, population = _recorded("12367"), _recorded("11805")
    a = _cells(accounts, KOKfunksjon0000=("201", "211", "221"), KOKart0000="AGD2", KOKregnskapsomfa0000="A")
    b = _cells(population, KOKalder0000="F001-005")
    year = max(int(y) for (_, y) in a)
    members = _asss_members(year)
    assert len(members) == 12 and "3203" in members
    # every member's A counts all three functions (a missing function is not zero)
    function_counts = {m: sum(1 for f in ("201", "211", "221")
                              if _cells(accounts, KOKfunksjon0000=f, KOKart0000="AGD2", KOKregnskapsomfa0000="A")
                              .get((m, str(year))) is not None) for m in members}
    assert set(function_counts.values()) == {3}
    values = {m: 1000 * a[(m, str(year))] / b[(m, str(year))] for m in members}
    asss = 1000 * sum(a[(m, str(year))] for m in members) / sum(b[(m, str(year))] for m in members)
    low, high = min(values.values()), max(values.values())

    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        row = con.execute(
            """select numerator, denominator, value, asss_value, index_asss_100, asss_min, asss_min_members,
                      asss_max, asss_max_members, indicator_type, asss_member_count
               from tjenesteprofil where municipality_code = '3203' and indicator_id = 'KOPP04' and year = ?""",
            [year]).fetchone()
        not_computed = con.execute(
            """select count(*), count(note), count(value) from tjenesteprofil
               where municipality_code = '3203' and profile = 'barnehage' and year = ?
                 and computation = 'not_computed'""", [year]).fetchone()
    finally:
        con.close()
    numerator, denominator, value, asss_value, index, mart_min, min_members, mart_max, max_members, kind, n = row
    assert (numerator, denominator) == (a[("3203", str(year))], b[("3203", str(year))])
    assert abs(value - values["3203"]) < 1e-9 and abs(asss_value - asss) < 1e-9
    assert abs(index - 100 * values["3203"] / asss) < 1e-9
    assert abs(mart_min - low) < 1e-9 and abs(mart_max - high) < 1e-9
    assert min_members == ", ".join(m for m in members if values[m] == low)
    assert max_members == ", ".join(m for m in members if values[m] == high)
    assert kind == "prioritering" and n == 12
    # the indicators no table we read gives are there, with a reason and no value
    assert not_computed[0] == not_computed[1] >= 10 and not_computed[2] == 0


def test_resource_use_index_averages_to_one_over_the_members(offline_run):
    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            """select service_area, year, sum(resource_use_index * inhabitants) / sum(inhabitants), count(*),
                      count(*) filter (where employer_tax_pension_correction like 'not applied%')
               from resource_use_index where resource_use_index is not null group by service_area, year""").fetchall()
        areas = {r[0] for r in con.execute("select distinct service_area from resource_use_index").fetchall()}
        missing = con.execute(
            "select count(*) from resource_use_index where resource_use_index is null and note is null").fetchone()[0]
    finally:
        con.close()
    assert {r[0] for r in rows} == {"barnehage", "barnevern", "grunnskole"}
    assert areas == {"barnehage", "barnevern", "grunnskole", "pleie_og_omsorg", "kommunehelse", "sosiale_tjenester"}
    for area, year, average, members, not_applied in rows:
        assert abs(average - 1) < 1e-9 and members == not_applied == (12 if year >= 2022 else 10), (area, year)
    assert missing == 0
