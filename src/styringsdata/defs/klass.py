"""SSB KLASS classification 131 changes: the municipality lineage every series is harmonised with; and
classification 112, the KOSTRA groups.

KLASS is a source like the others (src/styringsdata/runs/source_outcomes.py): a 503, a timeout or an answer that
is not the classification is recorded in raw.source_attempts, said in one `source failed:` line, and the run goes
on with KLASS's last good vintage. A first run has none: it falls back on the bundled KLASS answers
(snapshots/, the recorded answers the offline run uses), lands them as a vintage named and marked `bundled`, and
the failure's advice says so, with the recording date. Only when even those are missing does the step fail:
without a classification no figure can be put on today's municipality codes.
"""

import dataclasses
from pathlib import Path
from typing import Callable

import dagster as dg
import duckdb

from styringsdata.defs.keys import KLASS_CHANGES, KOSTRA_GROUPS
from styringsdata.defs.resources import PipelineResource
from styringsdata.defs.source_checks import failure_metadata, source_asset, source_check_result
from styringsdata.queries import one_value
from styringsdata.raw.landing import LandingZone
from styringsdata.raw.raw_store import load_landed_klass, load_landed_kostra_groups, raw_table_exists
from styringsdata.raw.tables import LoadResult
from styringsdata.runs.source_outcomes import SourceFailure, attempt, changed_metadata, record
from styringsdata.sources.klass import (CHANGES_FROM, CHANGES_TABLE, KLASS_HOST, KOSTRA_GROUPS_TABLE, KlassClient,
                                        KlassRefresh, bundled_client, refresh_changes, refresh_kostra_groups)
from styringsdata.sources.transport import ReplayMiss, SnapshotStore

KLASS = "KLASS"  # the source's name in raw.source_attempts and the `source failed:` line


class KlassUnavailable(RuntimeError):
    """KLASS failed, this installation has no answer of its own, and the bundled snapshots have none either."""


def _refresh_klass(context: dg.AssetExecutionContext, pipeline: PipelineResource, key: dg.AssetKey, table: str,
                   raw_table: str, refresh: Callable[[KlassClient, bool], KlassRefresh],
                   load: Callable[[duckdb.DuckDBPyConnection, LandingZone, str], list[LoadResult]]):
    landing = pipeline.landing()
    result = attempt(KLASS, table, lambda: refresh(pipeline.klass(), False))
    failure = result if isinstance(result, SourceFailure) else None
    with pipeline.work_db() as con:
        loaded = load(con, landing, table)  # every landed vintage raw lacks: a new work file gets them all back
        if failure is not None and not _holds_a_vintage(con, raw_table):
            result = _bundled(pipeline.settings.snapshot_dir, lambda client: refresh(client, True), failure)
            loaded += load(con, landing, table)
            failure = dataclasses.replace(failure, advice=f"{failure.advice}; {_fallback_note(pipeline)}")
        failures = [failure] if failure is not None else []
        outcome_changed = record(con, context.run.run_id, KLASS, [table], failures)
        vintage = one_value(con, f"select max(_vintage) from raw.{raw_table}")
        total = one_value(con, f"select count(*) from raw.{raw_table} where _vintage = ?", [vintage])
    for f in failures:  # info: the terminal prints the failure once at the end, the UI shows the check
        context.log.info(f.line())
    return dg.MaterializeResult(
        metadata={
            "vintage": vintage,
            "new_vintage": not isinstance(result, SourceFailure) and result.changed,
            **changed_metadata(outcome_changed, any(not r.already_loaded for r in loaded)),
            "rows_loaded": sum(r.rows for r in loaded),
            "dagster/row_count": total,
            **({"landing_path": dg.MetadataValue.path(str(result.landing_path))}
               if not isinstance(result, SourceFailure) else {}),
            **failure_metadata(failures),
        },
        check_results=[source_check_result(key, [table], failures)])


def _holds_a_vintage(con: duckdb.DuckDBPyConnection, raw_table: str) -> bool:
    return raw_table_exists(con, raw_table) and one_value(con, f"select count(*) from raw.{raw_table}") > 0


def _bundled(snapshot_dir: Path, refresh: Callable[[KlassClient], KlassRefresh], failure: SourceFailure) -> KlassRefresh:
    try:
        return refresh(bundled_client(snapshot_dir))
    except ReplayMiss as exc:
        raise KlassUnavailable(
            f"{failure.line()}; and there is no earlier KLASS answer in this installation nor a bundled one in "
            f"{snapshot_dir} ({exc}): without the classification no figure can be put on today's municipality "
            "codes. Run again when KLASS answers.") from exc


def _fallback_note(pipeline: PipelineResource) -> str:
    # the same words for both classifications: the terminal says them once (one_line_per_source); the vintage
    # names (`…-bundled-…`) are in raw, the landing zone and the asset's metadata
    recorded = SnapshotStore(pipeline.settings.snapshot_dir).recorded_at(KLASS_HOST)
    when = f"recorded {recorded:%Y-%m-%d}" if recorded else "of unknown date"
    return (f"this installation had no KLASS answer yet, so this run uses the bundled one {when} "
            f"({pipeline.settings.snapshot_dir}) until KLASS answers")


@source_asset(
    key=KLASS_CHANGES,
    group="klass",
    description=(
        "Municipality code changes since 2018 from SSB KLASS (classification 131), and the transitive "
        "lineage from every former code to today's codes (raw.klass_municipality_lineage). When KLASS fails, "
        "the last good vintage stays (on a first run: the bundled answer, said in the source_answered check)."
    ),
)
def klass_municipality_changes(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    return _refresh_klass(context, pipeline, KLASS_CHANGES, CHANGES_TABLE, "klass_municipality_changes",
                          lambda client, bundled: refresh_changes(client, pipeline.landing(), CHANGES_FROM,
                                                                  bundled=bundled),
                          load_landed_klass)


@source_asset(
    key=KOSTRA_GROUPS,
    group="klass",
    description=(
        "KOSTRA group membership from SSB KLASS classification 112 (correspondsAt 131 on 1 January of every "
        "configured year): which KOSTRA group (EKGnn) each municipality belonged to. The comparison takes the "
        "members' groups from this, never from a code written into the project. When KLASS fails, the last "
        "good vintage stays (on a first run: the bundled answers, said in the source_answered check)."
    ),
)
def klass_kostra_groups(context: dg.AssetExecutionContext, pipeline: PipelineResource):
    specs = pipeline.settings.table_specs
    years = range(specs.first_year, specs.last_year + 1)
    return _refresh_klass(context, pipeline, KOSTRA_GROUPS, KOSTRA_GROUPS_TABLE, "klass_kostra_groups",
                          lambda client, bundled: refresh_kostra_groups(client, pipeline.landing(), years,
                                                                        bundled=bundled),
                          load_landed_kostra_groups)
