"""The gate on failing sources (issue 21): a failing source whose last good vintage is inside its freshness window,
or that never had one (a first run), is a warning (`sources_answered`); one whose last good vintage is older than
its window fails `sources_within_freshness`, an error, unless gate.yaml sets that rule to warning.

A small work file with only marts.source_freshness, shaped as dbt builds it (dbt_project/models/marts/
source_freshness.sql: is_late = as_of_date past the last update plus the cadence plus 30 days; is_stale = the
latest attempt failed), and the two rules run through the real gate (GX) alone."""

from __future__ import annotations

import datetime as dt

import duckdb
import yaml

from styringsdata.quality import gate
from styringsdata.quality.gate import GateConfig, run_gate

RULES = ("sources_answered", "sources_within_freshness")
AS_OF = dt.date(2026, 12, 7)
ERROR = "SSB table 12143 failed on 2026-12-07 06:00 UTC: HttpError: GET … answered HTTP 503. What to do: try again"


def freshness(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """rows: (source_table, last_source_updated, cadence_years, failed)."""
    con.execute("create schema marts")
    con.execute("""create table marts.source_freshness (source varchar, source_table varchar,
        last_source_updated timestamp, last_fetched_at timestamp, latest_vintage varchar, cadence_years integer,
        expected_next_publication date, is_late boolean, is_stale boolean, last_error varchar,
        last_failed_at timestamp)""")
    for table, updated, cadence, failed in rows:
        # as source_freshness.sql computes them
        late = None if updated is None or cadence is None else \
            AS_OF > (updated + dt.timedelta(days=365 * cadence + 30)).date()
        con.execute("insert into marts.source_freshness values ('SSB', ?, ?, ?, ?, ?, null, ?, ?, ?, ?)",
                    [table, updated, updated, None if updated is None else "v1", cadence, late, failed,
                     ERROR if failed else None, dt.datetime(2026, 12, 7, 6) if failed else None])


def gate_on(tmp_path, monkeypatch, rows: list[tuple], severities: dict[str, str] | None = None):
    work = tmp_path / "work.duckdb"
    con = duckdb.connect(str(work))
    freshness(con, rows)
    everything = gate.build_checks
    monkeypatch.setattr(gate, "build_checks",
                        lambda *args: [c for c in everything(*args) if c.name in RULES])
    config = GateConfig.load()
    if severities:
        config.severities.update(severities)
    try:
        result = run_gate(con, "3203", config=config)
    finally:
        con.close()
    return result, {c.name: c for c in result.checks}


INSIDE = dt.datetime(2026, 3, 15, 6)   # a yearly table updated 15 March: its window ends 14 April 2027
OUTSIDE = dt.datetime(2025, 3, 15, 6)  # ... updated a year earlier: its window ended 14 April 2026


def test_a_failing_source_inside_its_window_is_a_warning(tmp_path, monkeypatch):
    result, checks = gate_on(tmp_path, monkeypatch, [("12143", INSIDE, 1, True), ("11787", INSIDE, 1, False)])
    assert result.passed
    assert not checks["sources_answered"].passed and checks["sources_answered"].severity == "warning"
    assert checks["sources_answered"].failing_rows == 1
    assert checks["sources_within_freshness"].passed and checks["sources_within_freshness"].severity == "error"


def test_a_failing_source_without_any_vintage_is_a_warning(tmp_path, monkeypatch):
    result, checks = gate_on(tmp_path, monkeypatch, [("12143", None, 1, True)])
    assert result.passed and not checks["sources_answered"].passed and checks["sources_within_freshness"].passed


def test_a_failing_source_past_its_window_blocks(tmp_path, monkeypatch):
    result, checks = gate_on(tmp_path, monkeypatch, [("12143", OUTSIDE, 1, True), ("11787", INSIDE, 1, True)])
    assert not result.passed
    late = checks["sources_within_freshness"]
    assert not late.passed and late.severity == "error" and late.failing_rows == 1
    assert late.examples[0]["source_table"] == "12143" and "503" in late.examples[0]["last_error"], late.examples
    # each failing source is under one rule: the one still in its window is the warning
    assert checks["sources_answered"].failing_rows == 1
    assert checks["sources_answered"].examples[0]["source_table"] == "11787"
    assert "warning in" in late.description and "gate.yaml" in late.description, late.description


def test_a_late_source_that_answered_is_not_a_gate_matter(tmp_path, monkeypatch):
    # lateness of a source that answers is source_publishes_on_time's (a warning on the freshness asset)
    result, checks = gate_on(tmp_path, monkeypatch, [("12143", OUTSIDE, 1, False)])
    assert result.passed and all(c.passed for c in checks.values())


def test_set_to_warning_in_gate_yaml_the_rest_publishes(tmp_path, monkeypatch):
    result, checks = gate_on(tmp_path, monkeypatch, [("12143", OUTSIDE, 1, True)],
                             {"sources_within_freshness": "warning"})
    assert result.passed and not checks["sources_within_freshness"].passed


def test_gate_yaml_makes_it_an_error():
    assert yaml.safe_load(gate.CONFIG_PATH.read_text(encoding="utf-8"))["checks"]["sources_within_freshness"] == "error"
