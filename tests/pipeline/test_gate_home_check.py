"""The gate's home check must check something: no KOSTRA rows for the home member is a failure, not a pass."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from styringsdata.quality.gate import run_gate


@pytest.fixture
def work_copy(offline_run, tmp_path):
    copy = tmp_path / "work.duckdb"
    shutil.copyfile(offline_run.data_dir / "work.duckdb", copy)
    return copy


def home_check(work, home: str):
    con = duckdb.connect(str(work))
    try:
        result = run_gate(con, home)
    finally:
        con.close()
    (check,) = [c for c in result.checks if c.name == "kostra_home_present"]
    return check


def test_home_check_counts_what_it_checked_for_any_member(work_copy):
    for home in ("3203", "3201"):
        check = home_check(work_copy, home)
        assert check.passed, check.examples
        assert f"({home})" in check.description or home in check.description
        assert check.rows_checked > 0, "a check that reports 0 rows checked has checked nothing"


def test_home_check_fails_when_the_home_member_has_no_rows(work_copy):
    con = duckdb.connect(str(work_copy))
    con.execute("delete from marts.kostra_comparison where region_code = '3201'")
    con.close()
    assert not home_check(work_copy, "3201").passed


def test_home_check_fails_when_the_comparison_is_empty(work_copy):
    con = duckdb.connect(str(work_copy))
    con.execute("delete from marts.kostra_comparison")
    con.close()
    check = home_check(work_copy, "3203")
    assert not check.passed, "an empty comparison has no home figures: the check must not pass"
    assert check.failing_rows >= 1
