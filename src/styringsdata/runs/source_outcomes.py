"""A failing source stops only itself.

Each source asset fetches inside `attempt()`: a fault of the source (an HTTP error after the retries, a timeout, an
answer we cannot use, metadata that refuses the configured selection, a file that cannot be read) is caught there,
recorded in `raw.source_attempts` with what to do about it, and the asset still materializes, without a new
vintage: whatever raw holds from earlier runs stays, dbt builds, the gate decides and the rest is published. The
asset's `source_answered` check fails (severity error), so the failure shows in Dagster's UI on the asset.

What is not a source fault still fails the step as before: a missing snapshot in replay (ReplayMiss: the offline
world is incomplete), a full disk, a DuckDB error, a bug.

`raw.source_attempts` holds one row per source table and run (the ones that answered too): dbt reads the latest
per table to mark figures `source_error` (no good vintage yet) and `source_freshness` stale (an earlier vintage
stays published). The CLI and both reports read the same rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, TypeVar

import duckdb

from styringsdata.raw.landing import LandingError
from styringsdata.raw.raw_store import RAW, RawLoadError, ensure_schema
from styringsdata.runs.build_state import NEW_IN_RAW, RAW_CHANGED
from styringsdata.sources.fhi import FhiError
from styringsdata.sources.file_contract import ContractError
from styringsdata.sources.jsonstat import JsonStatError
from styringsdata.sources.klass import KlassError
from styringsdata.sources.kommune_nm import KommuneNmError
from styringsdata.sources.miljodirektoratet import MiljodirektoratetError
from styringsdata.sources.periods import PeriodError
from styringsdata.sources.ssb import SsbError
from styringsdata.sources.transport import HttpError, ReplayMiss, SourceUnreachable, TransportError

CHECK_NAME = "source_answered"
SOURCE_ERRORS_KEY = "source_errors"  # materialization metadata: the CLI's summary reads the failures from here

# The faults of a source; anything else is a fault of this pipeline or its machine and fails the step.
SOURCE_FAULTS: tuple[type[BaseException], ...] = (TransportError, SsbError, JsonStatError, FhiError, KlassError,
                                                  MiljodirektoratetError, KommuneNmError, ContractError, PeriodError,
                                                  RawLoadError, LandingError)
BUSY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
TRY_AGAIN = "the source is busy or down: try again later (`styringsdata run`)"
CHECK_CONFIG = "run `styringsdata doctor --live` to see what the source offers now, then correct the configuration"


@dataclass(frozen=True)
class SourceFailure:
    source: str  # as in marts.source_freshness: SSB, FHI, Miljødirektoratet, NHO Kommune-NM; or KLASS
    source_table: str
    error_class: str
    message: str
    advice: str

    def line(self) -> str:
        """The terminal's line: what failed and what to do."""
        return f"{self.what()}: {self.error_class}: {self.message} -> {self.advice}"

    def what(self) -> str:
        if self.source in ("SSB", "FHI"):
            return f"{self.source} table {self.source_table}"
        if self.source == "KLASS":
            return f"KLASS classification{'s' if ', ' in self.source_table else ''} {self.source_table}"
        return self.source

    def as_metadata(self) -> dict[str, str]:
        return {"source": self.source, "source_table": self.source_table, "error_class": self.error_class,
                "message": self.message, "advice": self.advice}


# Sources whose tables are parts of one thing to the user: one `source failed:` line for all of them (KLASS's
# classifications 131 and 112 come from one service and fail together). SSB's and FHI's tables are each a
# dataset of their own, each with its own line.
ONE_LINE_SOURCES = frozenset({"KLASS"})


def one_line_per_source(failures: list[SourceFailure]) -> list[SourceFailure]:
    """The failures as the terminal and the summary count them: ONE_LINE_SOURCES' tables merged, in order."""
    out: list[SourceFailure | list[SourceFailure]] = []
    groups: dict[str, list[SourceFailure]] = {}
    for f in failures:
        if f.source not in ONE_LINE_SOURCES:
            out.append(f)
        elif f.source not in groups:
            groups[f.source] = [f]
            out.append(groups[f.source])
        else:
            groups[f.source].append(f)
    return [entry if isinstance(entry, SourceFailure) else _merged(entry) for entry in out]


def _merged(failures: list[SourceFailure]) -> SourceFailure:
    ordered = sorted(failures, key=lambda f: f.source_table)

    def distinct(parts: list[str]) -> list[str]:
        return list(dict.fromkeys(parts))

    return SourceFailure(ordered[0].source, ", ".join(f.source_table for f in ordered),
                         "/".join(distinct([f.error_class for f in ordered])),
                         "; ".join(f.message for f in ordered),
                         "; ".join(distinct([part for f in ordered for part in f.advice.split("; ")])))


def is_source_fault(exc: BaseException) -> bool:
    return isinstance(exc, SOURCE_FAULTS) and not isinstance(exc, ReplayMiss)


def advice_for(exc: BaseException) -> str:
    if isinstance(exc, SourceUnreachable):
        return "the source could not be reached: check the network, or run offline from the snapshots"
    if isinstance(exc, HttpError):
        status = exc.response.status
        if status in BUSY_STATUSES:
            return TRY_AGAIN
        return f"the source refused the request (HTTP {status}): {CHECK_CONFIG}"
    if isinstance(exc, TransportError):  # timeouts, resets, bodies cut off: all retried already
        return TRY_AGAIN
    if isinstance(exc, (SsbError, FhiError)) and ("does not exist" in str(exc) or "variable" in str(exc)):
        return CHECK_CONFIG
    if isinstance(exc, (JsonStatError, RawLoadError)):
        return (f"the answer could not be used (kept aside in the landing zone's .rejected/): try again later; "
                f"if it persists the source changed its format: {CHECK_CONFIG}")
    if isinstance(exc, KlassError):
        return ("KLASS answered something that is not the classification: try again later; if it persists, KLASS "
                "changed its format (docs/sources.md, KLASS)")
    if isinstance(exc, MiljodirektoratetError):
        return "the download is not the workbook: check the link in docs/sources.md (Miljødirektoratet), try again later"
    if isinstance(exc, (KommuneNmError, ContractError)):
        return "correct the file named in the message and drop it again (docs/sources.md)"
    return CHECK_CONFIG


def failure_of(source: str, source_table: str, exc: BaseException) -> SourceFailure:
    return SourceFailure(source, source_table, exc.__class__.__name__, one_line(exc), advice_for(exc))


def one_line(exc: BaseException) -> str:
    """The failure on one line, each request it names without its body: method, URL, status and the source's own
    message stay (a POST body to FHI lists every region code and year; the run's log keeps it)."""
    message = str(exc)
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:  # a source module may wrap what the transport raised
        seen.add(id(cause))
        request = getattr(cause, "request", None)
        if isinstance(cause, TransportError) and request is not None:
            message = message.replace(request.describe(), request.describe(body=False))
        cause = cause.__cause__ or cause.__context__
    return " ".join(message.split())


T = TypeVar("T")


def attempt(source: str, source_table: str, fetch: Callable[[], T]) -> T | SourceFailure:
    """`fetch()`, or the failure when the source is at fault (anything else is raised)."""
    try:
        return fetch()
    except Exception as exc:  # noqa: BLE001 - only source faults are kept; the rest is raised below
        if not is_source_fault(exc):
            raise
        return failure_of(source, source_table, exc)


def record(con: duckdb.DuckDBPyConnection, run_id: str, source: str, tables: list[str],
           failures: list[SourceFailure]) -> bool:
    """One row per table this asset asked for in this run: answered, or the failure.

    True when the outcome differs from the table's previous attempt (it failed now, answered again, or fails
    differently): the marts must be rebuilt to say so even when no new vintage arrived (the asset adds this to
    its RAW_CHANGED, src/styringsdata/runs/build_state.py).
    """
    ensure_schema(con)  # raw.source_attempts
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    failed = {f.source_table: f for f in failures}
    previous = {row[0]: (row[1], row[2]) for row in con.execute(
        f"""select source_table, answered, message from (
                select *, row_number() over (partition by source_table order by attempted_at desc, run_id desc) as n
                from {RAW}.source_attempts where source = ? and run_id <> ?) where n = 1""", [source, run_id]).fetchall()}
    changed = any(previous.get(t, (True, None)) != ((False, failed[t].message) if t in failed else (True, None))
                  for t in tables)
    con.execute(f"delete from {RAW}.source_attempts where run_id = ? and source = ? and source_table in "
                f"({', '.join('?' for _ in tables)})", [run_id, source, *tables])
    rows = [(source, t, run_id, now, t not in failed, *((failed[t].error_class, failed[t].message, failed[t].advice)
                                                         if t in failed else (None, None, None))) for t in tables]
    con.executemany(f"insert into {RAW}.source_attempts values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return changed


def changed_metadata(outcome_changed: bool, new_in_raw: bool) -> dict[str, bool]:
    """A source asset's change flags: dbt rebuilds on either (RAW_CHANGED); the terminal's "new in raw" lists only
    the assets that loaded a vintage raw lacked, never one that merely failed (it has its `source failed:` line)."""
    return {RAW_CHANGED: outcome_changed or new_in_raw, NEW_IN_RAW: new_in_raw}


def latest_failures(con: duckdb.DuckDBPyConnection) -> list[SourceFailure]:
    """The source tables whose latest attempt failed (as dbt's int_source_failures reads them)."""
    ensure_schema(con)
    rows = con.execute(f"""select source, source_table, error_class, message, advice from (
                               select *, row_number() over (partition by source, source_table
                                                            order by attempted_at desc, run_id desc) as n
                               from {RAW}.source_attempts)
                           where n = 1 and not answered order by source, source_table""").fetchall()
    return [SourceFailure(*row) for row in rows]
