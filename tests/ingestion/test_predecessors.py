"""Every ASSS member's historical codes: the bundled KLASS 131 changes chain each of them to today's code, and the SSB
configuration fetches every one of them, so a member's figures before a merger are whole (Trondheim 2019 = 5001 +
5030 Klæbu).

The expected table is ../shared/reference/kostra-candidates.md §7a ("ASSS membership and codes"), built from the SSB
export in NFG-J/is114-tema05 (codes before 2020 and 2020-23, with its footnote "1.1.2020 ble kommunen 5030 Klæbu
innlemmet i 5001 Trondheim") and NorMacro's live-API test (2024 codes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from styringsdata.home import _klass_changes, asss_members
from styringsdata.sources.klass import build_lineage, parse_changes
from styringsdata.sources.ssb import load_table_specs

ROOT = Path(__file__).resolve().parents[2]

# today's code: (codes valid up to 2019, codes valid 2020-2023). Sandnes took part of 1129 Forsand (the rest went to
# 1130 Strand): a split predecessor, still one of Sandnes's.
PREDECESSORS: dict[str, tuple[set[str], set[str]]] = {
    "0301": ({"0301"}, {"0301"}),
    "4601": ({"1201"}, {"4601"}),
    "5001": ({"5001", "5030"}, {"5001"}),
    "1103": ({"1103", "1141", "1142"}, {"1103"}),
    "1108": ({"1102", "1129"}, {"1108"}),
    "4204": ({"1001", "1017", "1018"}, {"4204"}),
    "3201": ({"0219"}, {"3024"}),
    "3203": ({"0220", "0627", "0628"}, {"3025"}),
    "3205": ({"0231", "0227", "0226"}, {"3030"}),
    "3301": ({"0602", "0625", "0711"}, {"3005"}),
    "3107": ({"0106"}, {"3004"}),
    "5501": ({"1902"}, {"5401"}),
}


@pytest.fixture(scope="module")
def changes():
    body = _klass_changes(None, ROOT / "snapshots")
    assert body is not None, "no bundled KLASS 131 changes under snapshots/"
    return parse_changes(body)


def existed(code: str, year: int, changes) -> bool:
    """False when KLASS shows the code created after `year`: the new code of a change in which it is not also the
    old one (Stavanger 1103 -> 1103 keeps existing; 0220 -> 3025 creates 3025)."""
    for change in changes:
        if change.new_code == code and change.change_occurred.year > year:
            if not any(c.old_code == code and c.change_occurred == change.change_occurred for c in changes):
                return False
    return True


def codes_of(member: str, year: int, changes) -> set[str]:
    """The codes valid in `year` whose figures are `member`'s today, harmonised as dbt's int_region_codes_harmonised
    does: a code maps forward through the KLASS lineage when it changed after that year."""
    lineage = build_lineage(changes)
    codes = {c.old_code for c in changes} | {c.new_code for c in changes} | {member}
    out = set()
    for code in codes:
        targets = {r.to_code for r in lineage if r.from_code == code and r.changed_on.year > year} or {code}
        if member in targets and existed(code, year, changes):
            out.add(code)
    return out


def test_the_table_covers_every_member():
    assert set(PREDECESSORS) == set(asss_members())


@pytest.mark.parametrize("member", sorted(PREDECESSORS))
def test_klass_chains_every_predecessor_to_the_member(member, changes):
    before_2020, in_2020_2023 = PREDECESSORS[member]
    assert codes_of(member, 2019, changes) == before_2020
    assert codes_of(member, 2023, changes) == in_2020_2023
    assert codes_of(member, 2024, changes) == {member}


def test_the_ssb_configuration_fetches_every_historical_code():
    configured = set(load_table_specs().municipalities)
    expected = set().union(*(old | middle | {today} for today, (old, middle) in PREDECESSORS.items()))
    assert expected - configured == set()


def test_klaebu_counts_as_trondheim_before_2020(changes):
    rows = [row for row in build_lineage(changes) if row.from_code == "5030"]
    assert [(r.to_code, r.to_name, r.changed_on.isoformat(), r.successor_count) for r in rows] == \
        [("5001", "Trondheim", "2020-01-01", 1)]
