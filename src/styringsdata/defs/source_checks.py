"""The `source_answered` check every source asset carries: a failing source shows on its asset in Dagster's UI.

The asset itself yields the result (src/styringsdata/runs/source_outcomes.py): it fails with severity error and
the error, the table and the advice in its metadata; it does not block anything downstream, so the run goes on
with the other sources and the last good vintage of this one.
"""

from typing import Any, Callable

import dagster as dg

from styringsdata.defs.resources import DUCKDB_WRITER_POOL
from styringsdata.runs.source_outcomes import CHECK_NAME, SOURCE_ERRORS_KEY, SourceFailure


def source_asset(key: dg.AssetKey, *, group: str, description: str,
                 **options: Any) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """The decorator of every asset that asks a source inside `attempt()`: it writes raw in the writers' pool and
    carries the source_answered check its body yields with `source_check_result`."""
    return dg.asset(key=key, group_name=group, kinds={"python", "duckdb"}, pool=DUCKDB_WRITER_POOL,
                    description=description, check_specs=[source_check(key)], **options)


def source_check(key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_NAME, asset=key, blocking=False,
        description="The source answered this run's requests. When it did not (HTTP error after the retries, "
                    "timeout, unusable answer, metadata refusing the configured codes, unreadable file), its last "
                    "good vintage stays in raw and the marts, the rest of the run goes on, and the figures are "
                    "flagged (source_freshness stale, or status source_error). The metadata says what to do.")


def source_check_result(key: dg.AssetKey, tables: list[str], failures: list[SourceFailure]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=CHECK_NAME, asset_key=key, passed=not failures, severity=dg.AssetCheckSeverity.ERROR,
        description=("; ".join(f.line() for f in failures) if failures else
                     f"{len(tables)} table(s) answered"),
        metadata={"tables": dg.MetadataValue.json(tables),
                  "failed": dg.MetadataValue.json([f.as_metadata() for f in failures])})


def failure_metadata(failures: list[SourceFailure]) -> dict[str, dg.MetadataValue]:
    """Part of the materialization: the CLI's summary and the reports read the failures from here."""
    return {SOURCE_ERRORS_KEY: dg.MetadataValue.json([f.as_metadata() for f in failures])}
