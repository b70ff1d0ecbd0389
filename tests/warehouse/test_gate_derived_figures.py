"""Issue 22: the gate's rules on derived figures, so that no bad input that slips through the file contracts moves
the marts by orders of magnitude.

- `resource_use_asss_average_is_reference`: the ASSS average of every resource-use index (weighted by
  inhabitants, as the model makes it) is the scale's reference, dbt var `resource_use_asss_level`, per area and
  year, over every member valid that year;
- `need_adjusted_within_factor_of_unadjusted`: a member's need-adjusted figure stays within a factor of 2 of its
  unadjusted one, in `resource_use_index` and in `kostra_comparison`.

The marts are built by hand in an in-memory DuckDB, with the columns the gate reads of the real marts
(dbt_project/models/marts/resource_use_index.sql, kostra_comparison.sql) and figures computed by the model's
formula from inputs shaped like the real ones: net operating expenses and depreciation in 1000 kr (SSB 12367),
inhabitants (11805) and expense-need indices around 100 (the KMD cost key, country = 100).
"""

from __future__ import annotations

import duckdb
import pytest

from styringsdata.quality.gate import GateConfig, resource_use_asss_level, run_gate

# Per member: inhabitants, net operating expenses and depreciation on grunnskole (1000 kr), its expense-need
# index for the area (country = 100). The magnitudes of the four largest ASSS members' figures for 2023.
MEMBERS = {
    "0301": (717_710, 9_480_000, 610_000, 95.2),
    "4601": (291_189, 4_210_000, 300_000, 98.9),
    "3203": (97_863, 1_530_000, 121_000, 104.6),
    "3201": (130_772, 2_010_000, 150_000, 103.1),
}
GATE_RULES = ("resource_use_asss_average_is_reference", "need_adjusted_within_factor_of_unadjusted")


def resource_use_rows(members: dict[str, tuple[int, int, int, float]], year: int = 2023,
                      in_average: set[str] | None = None) -> list[tuple]:
    """The model's steps 1-3 and its three indices; the ASSS averages over `in_average` (default: everyone)."""
    in_average = set(members) if in_average is None else in_average
    counted = {code: figures for code, figures in members.items() if code in in_average}

    def per_inhabitant(expenses) -> float:
        return 1000 * sum(expenses(f) for f in counted.values()) / sum(f[0] for f in counted.values())

    steps = (lambda f: f[1], lambda f: f[1] - f[2], lambda f: (f[1] - f[2]) * 100 / f[3])
    asss = [per_inhabitant(step) for step in steps]
    level = resource_use_asss_level()
    rows = []
    for code, figures in members.items():
        own = [1000 * step(figures) / figures[0] for step in steps]
        indices = [level * o / a for o, a in zip(own, asss)]
        rows.append((code, "grunnskole", year, float(figures[0]), True, figures[3], *indices))
    return rows


def work_file(resource_use: list[tuple], kostra: list[tuple] = ()) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("""create table marts.resource_use_index (
                       municipality_code varchar, service_area varchar, year integer, inhabitants double,
                       in_asss_average boolean, need_index double, index_net_expenses double,
                       index_less_depreciation double, resource_use_index double)""")
    con.executemany("insert into marts.resource_use_index values (?, ?, ?, ?, ?, ?, ?, ?, ?)", resource_use)
    con.execute("""create table marts.kostra_comparison (
                       key_figure_id varchar, region_code varchar, region_kind varchar, year integer,
                       value double, need_index double, need_adjusted_value double)""")
    if kostra:
        con.executemany("insert into marts.kostra_comparison values (?, ?, ?, ?, ?, ?, ?)", list(kostra))
    return con


def gate(con: duckdb.DuckDBPyConnection) -> dict:
    result = run_gate(con, "3203", only=GATE_RULES)
    return {c.name: c for c in result.checks}, {(c.name, c.table): c for c in result.by_table}


def kopp02(need_index: float) -> tuple:
    """Asker's KOPP02 for 2023 (`**)` need-adjusted in the Handlingsprogram): 1 178 kr before the adjustment."""
    return ("KOPP02", "3203", "municipality", 2023, 1178.0, need_index, 1178.0 * 100 / need_index)


def test_the_reference_level_is_read_from_the_dbt_project():
    assert resource_use_asss_level() == 1
    config = GateConfig.load()
    assert config.severities["resource_use_asss_average_is_reference"] == "error"
    assert config.severities["need_adjusted_within_factor_of_unadjusted"] == "error"


def test_consistent_marts_pass_both_rules():
    checks, _ = gate(work_file(resource_use_rows(MEMBERS), [kopp02(104.6)]))
    average = checks["resource_use_asss_average_is_reference"]
    assert average.passed, average.examples
    assert average.rows_checked == 3  # three indices, one area, one year
    factor = checks["need_adjusted_within_factor_of_unadjusted"]
    assert factor.passed, factor.examples
    assert factor.rows_checked == len(MEMBERS) + 1


def test_an_average_that_misses_a_member_is_not_the_reference():
    """The indices scaled to an average over three members while four are valid that year (what the singular dbt
    test `assert_resource_use_index_asss_average_is_1` caught before the gate did)."""
    rows = resource_use_rows(MEMBERS, in_average={"0301", "4601", "3201"})
    checks, _ = gate(work_file(rows))
    average = checks["resource_use_asss_average_is_reference"]
    assert not average.passed and average.severity == "error"
    assert average.failing_rows == 3
    failing = {row["index_column"]: row for row in average.failing_sample}
    assert set(failing) == {"index_net_expenses", "index_less_depreciation", "resource_use_index"}
    assert failing["resource_use_index"]["service_area"] == "grunnskole" and failing["resource_use_index"]["year"] == 2023
    assert abs(failing["resource_use_index"]["asss_average"] - 1) > 0.001


def test_a_member_without_an_index_where_the_others_have_one_fails_the_average():
    rows = resource_use_rows(MEMBERS)
    code, area, year, inhabitants, in_average, need, *_ = rows[2]
    rows[2] = (code, area, year, inhabitants, in_average, need, None, None, None)
    checks, _ = gate(work_file(rows))
    average = checks["resource_use_asss_average_is_reference"]
    assert not average.passed
    assert {(r["members"], r["members_with_index"]) for r in average.failing_sample} == {(4, 3)}


def test_an_expense_need_index_of_1_0421_is_caught_by_the_factor_rule():
    """The issue's row: one need index written `1,0421` among values like `98,5` slipped through. The ASSS average
    still equals 1 (the indices are scaled to it), but Asker's need-adjusted figure is 96 times its unadjusted
    one and every other member's is a tenth of its own; KOPP02 2023 became 113 041 (before: 1 217)."""
    members = {**MEMBERS, "3203": MEMBERS["3203"][:3] + (1.0421,)}
    checks, by_table = gate(work_file(resource_use_rows(members), [kopp02(1.0421)]))
    assert checks["resource_use_asss_average_is_reference"].passed  # scaled to 1 whatever the input
    factor = checks["need_adjusted_within_factor_of_unadjusted"]
    assert not factor.passed and factor.severity == "error"
    assert not by_table[("need_adjusted_within_factor_of_unadjusted", "marts.resource_use_index")].passed
    comparison = by_table[("need_adjusted_within_factor_of_unadjusted", "marts.kostra_comparison")]
    assert not comparison.passed
    [row] = comparison.failing_sample
    assert (row["figure"], row["municipality_code"], row["year"]) == ("KOPP02", "3203", 2023)
    assert round(row["need_adjusted"]) == 113_041 and row["unadjusted"] == 1178.0
    failing = {r["municipality_code"] for r in factor.failing_sample if r["figure"] == "grunnskole"}
    assert "3203" in failing and len(failing) == len(MEMBERS)


@pytest.mark.parametrize("need_index, passes", [(51.0, True), (49.0, False), (199.0, True), (201.0, False)])
def test_the_factor_is_2_either_way(need_index, passes):
    checks, _ = gate(work_file(resource_use_rows(MEMBERS), [kopp02(need_index)]))
    assert checks["need_adjusted_within_factor_of_unadjusted"].passed is passes
