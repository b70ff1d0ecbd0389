"""What both publication targets share (the DuckDB file and Parquet in publish.py, PostgreSQL in publish_postgres.py),
so that neither imports the other's module at run time."""

from __future__ import annotations


class PublishError(RuntimeError):
    pass


def sql_string(text: str) -> str:
    """A SQL string literal (DuckDB and PostgreSQL quote the same way)."""
    return "'" + text.replace("'", "''") + "'"
