"""The row of a query that always returns one: an aggregate (`count(*)`, `max(...)`), a pragma, a privilege test.

DuckDB's and psycopg's `fetchone()` are typed `tuple | None` because a query in general may return no row. For
these queries no row means the database broke its own contract, so it is an error that names the query rather
than a `None` passed on (or a `TypeError: 'NoneType' object is not subscriptable` somewhere later).
"""

from __future__ import annotations

from typing import Any, Protocol


class _Fetches(Protocol):
    def fetchone(self) -> tuple[Any, ...] | None: ...


class Executes(Protocol):
    """A DuckDB connection or a psycopg connection or cursor: each `execute` returns what fetches its rows.

    The query is `Any` because the two disagree on it (DuckDB takes a string or a parsed statement, psycopg a
    string or its composed `sql.SQL`), and a protocol parameter must accept what every implementation does."""

    def execute(self, query: Any, params: Any = None, /) -> _Fetches: ...


class NoRowError(RuntimeError):
    """A query that always returns a row returned none."""


def one_row(con: Executes, query: Any, params: Any = None) -> tuple[Any, ...]:
    """The one row `query` returns; raises NoRowError naming the query when there is none."""
    row = con.execute(query, params).fetchone()
    if row is None:
        raise NoRowError(f"this query returned no row, where it always returns one: {query}")
    return row


def one_value(con: Executes, query: Any, params: Any = None) -> Any:
    """The first column of the one row `query` returns (the aggregate's value)."""
    return one_row(con, query, params)[0]
