"""Peer groups with membership by year, and group figures made the way SSB makes them (issue 23).

Membership comes from seed peer_groups (evidence: ../shared/reference/kostra-candidates.md §7) and KLASS 112 as
recorded in the bundled snapshots; the group figures from the recorded SSB answers, in which SSB's EKG12 is the
sum of its members' amounts (snapshots/build.py: base_value), as SSB sums its groups.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from styringsdata.sources.jsonstat import decode

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "snapshots" / "data.ssb.no" / "api" / "pxwebapi" / "v2" / "tables"


@pytest.fixture(scope="module")
def work(offline_run):
    con = duckdb.connect(str(offline_run.data_dir / "work.duckdb"), read_only=True)
    yield con
    con.close()


def members(work, group: str, year: int) -> set[str]:
    return {r[0] for r in work.execute(
        "select municipality_code from intermediate.int_peer_groups__members_by_year where peer_group = ? and year = ?",
        [group, year]).fetchall()}


def test_asss_has_ten_members_until_asker_and_lillestrom_join_in_autumn_2022(work):
    assert len(members(work, "ASSS", 2021)) == 10
    assert {"3203", "3205"}.isdisjoint(members(work, "ASSS", 2021))
    # Joined 7 September 2022: counted for 2022, the rule being membership on 31 December of the year.
    assert len(members(work, "ASSS", 2022)) == 12
    assert len(members(work, "ASSS", 2023)) == 12
    assert members(work, "ASSS_UTEN_OSLO", 2023) == members(work, "ASSS", 2023) - {"0301"}


def test_ks_storbynettverk_has_seven_members_until_drammen_joins_in_november_2020(work):
    assert len(members(work, "KS_STORBY", 2019)) == 7 and "3301" not in members(work, "KS_STORBY", 2019)
    assert len(members(work, "KS_STORBY", 2020)) == 8
    for year in range(2021, 2026):
        assert len(members(work, "KS_STORBY", year)) == 8, year


def test_the_home_members_kostra_group_follows_the_klass_version_of_each_year(work):
    groups = dict(work.execute(
        "select year, group_code from intermediate.int_kostra_groups__membership where municipality_code = '3203' "
        "and code_that_year in ('0220', '3025', '3203')").fetchall())
    # The 2020 grouping renumbered the groups: before it Asker (0220) was in the older group 13 (as recorded).
    assert groups[2019] == "EKG13" and all(groups[y] == "EKG12" for y in range(2020, 2026))
    ssb = dict(work.execute(
        "select distinct year, ssb_region_code from intermediate.int_peer_groups__members_by_year "
        "where peer_group = 'ASSS_UTEN_OSLO'").fetchall())
    # ASSS without Oslo is SSB's EKG12 only when the members are the same: from 2022 (Asker and Lillestrøm in ASSS).
    assert ssb[2021] is None and all(ssb[y] == "EKG12" for y in range(2022, 2026))


def test_recorded_ekg12_is_the_sum_of_its_members_in_the_json_stat_ssb_sends(work):
    """The recorded 12367 and 12364 answers carry the members and EKG12; EKG12 holds the sum of its members'."""
    def cells(table_id: str) -> dict[tuple[str, ...], float]:
        path = next((SNAPSHOTS / table_id / "data").glob("GET-*.json"))
        body = json.loads(path.read_text(encoding="utf-8"))["response"]["body"]
        dataset = decode(body, source=str(path))
        return {tuple(r[:-2]): r[-2] for r in dataset.to_rows()}
    members_2022 = ["3005", "3024", "3004", "3025", "3030", "4204", "4601", "5001", "1103", "1108", "5401"]
    for table_id in ("12367", "12364"):
        recorded = cells(table_id)
        assert recorded, table_id
        sample = next(k for k in recorded if "EKG12" in k and "2022" in k)
        position = sample.index("EKG12")
        at = {code: recorded[sample[:position] + (code,) + sample[position + 1:]] for code in ["EKG12", *members_2022]}
        assert at["EKG12"] == pytest.approx(sum(at[c] for c in members_2022)), table_id


def test_group_figure_from_the_members_equals_ssbs_ekg12(work):
    rows = work.execute(
        "select key_figure_id, year, value, computed_value, method, members from intermediate.int_kostra__group_figures "
        "where peer_group = 'ASSS_UTEN_OSLO' and key_figure_id in ('KSAM03', 'KSAM08', 'KOPP03') and year = 2022"
    ).fetchall()
    assert len(rows) == 3
    for key_figure, _year, value, computed, method, covered in rows:
        assert method == "ssb_region"
        assert computed == pytest.approx(value, rel=1e-12), key_figure
        assert len(covered.split(", ")) == 11


def test_own_groups_are_sum_a_over_sum_b_and_a_mean_is_only_unweighted_without_a_denominator(work):
    parts = work.execute(
        "select sum(numerator), sum(denominator), any_value(scale) from intermediate.int_kostra__key_figure_parts "
        "where key_figure_id = 'KSAM03' and year = 2021 and municipality_code in "
        "(select municipality_code from intermediate.int_peer_groups__members_by_year "
        " where peer_group = 'ASSS' and year = 2021)").fetchone()
    value, method, count = work.execute(
        "select value, method, member_count from intermediate.int_kostra__group_figures "
        "where key_figure_id = 'KSAM03' and peer_group = 'ASSS' and year = 2021").fetchone()
    assert (method, count) == ("sum_ratio", 10)
    assert value == pytest.approx(parts[2] * parts[0] / parts[1])
    methods = dict(work.execute(
        "select key_figure_id, any_value(method) from intermediate.int_kostra__group_figures "
        "where peer_group = 'ASSS' and year = 2022 and key_figure_id in ('KOSU01', 'KOPP17') group by 1").fetchall())
    assert methods == {"KOSU01": "weighted_by_denominator", "KOPP17": "unweighted_mean"}
    notes = {r[0]: r[1] for r in work.execute(
        "select region_code, note from marts.kostra_comparison where key_figure_id = 'KOPP17' and year = 2022 "
        "and region_kind in ('asss_average', 'asss_average_with_oslo', 'peer_group')").fetchall()}
    assert "uveid gjennomsnitt" in notes["ASSS"] and "12 medlemmer" in notes["ASSS"]
