"""styringsdata.queries: the row of a query that always returns one, and a named error when it returns none."""

from __future__ import annotations

import duckdb
import pytest

from styringsdata.queries import NoRowError, one_row, one_value


def test_an_aggregate_gives_its_row_and_value():
    con = duckdb.connect()
    con.execute("create table t (vintage varchar)")
    con.execute("insert into t values ('2024-01-01'), ('2025-03-14')")
    assert one_row(con, "select count(*), max(vintage) from t") == (2, "2025-03-14")
    assert one_value(con, "select count(*) from t where vintage > ?", ["2025"]) == 1
    assert one_value(con, "select max(vintage) from t where vintage > ?", ["2026"]) is None  # a row, holding NULL


def test_a_query_that_returns_no_row_is_an_error_naming_it():
    con = duckdb.connect()
    with pytest.raises(NoRowError, match=r"select 1 where false"):
        one_value(con, "select 1 where false")
