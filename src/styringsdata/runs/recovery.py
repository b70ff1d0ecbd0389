"""What every run does first, whoever starts it (CLI, UI, schedule, sensor): take the run lock, make sure
the work file is usable, and finish what an earlier run left undone that does not need a rebuild.

The rest of "the next run finishes the job" is the build decision (src/styringsdata/runs/build_state.py):
raw data an earlier run loaded but never published makes this run rebuild and publish.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from pathlib import Path

from styringsdata.publishing import ledger
from styringsdata.quality.gate import read_gate_result
from styringsdata.runs import build_state, precheck, work_file
from styringsdata.runs.lock import run_lock
from styringsdata.reporting.report import RunInfo
from styringsdata.reporting.report_delivery import deliver, record_delivery
from styringsdata.settings import Settings


def start_run(settings: Settings, what: str, log: logging.Logger | logging.LoggerAdapter,
              run_id: str = "") -> AbstractContextManager:
    """Take the run lock (waiting up to STYRINGSDATA_RUN_LOCK_WAIT for another run), then check the work
    file, write a missing report, and republish every target that does not hold the approved publication
    (src/styringsdata/publishing/ledger.py). Returns the held lock; the caller releases it when the run ends."""
    lock = run_lock(settings.data_dir, wait=settings.run_lock_wait, what=what, on_wait=log.info)
    lock.__enter__()
    try:
        precheck.forget(settings)  # until this run has succeeded, `styringsdata run` may skip nothing
        if check_work_file(settings, log) is None:
            report_unreported_publication(settings, log)
        # Never raises: a target it cannot repair is marked behind and named.
        ledger.reconcile(settings, log, run_id, report_writer(settings, log))
    except BaseException:
        lock.__exit__(None, None, None)
        raise
    return lock


def check_work_file(settings: Settings, log) -> Path | None:
    """Move a damaged work file aside (the run then rebuilds it from the landing zone); the new name, or None."""
    problem = work_file.problem(settings.work_db)
    if problem is None:
        return None
    aside = work_file.move_aside(settings.work_db)
    log.warning(f"{settings.work_db} cannot be opened as a DuckDB database ({problem}). It was moved aside to "
                f"{aside} and is rebuilt from {settings.landing_dir} (every vintage) in this run; nothing to do "
                "by hand")
    return aside


def unreported_run(settings: Settings) -> RunInfo | None:
    """The publication in the warehouse whose report was never written (its run was stopped first)."""
    state = build_state.load(settings.build_state_path)
    if not build_state.unreported_publication(state):
        return None
    return RunInfo(run_id=state.published_by, started_at=state.published_run_started_at or "", outcome="published",
                   published_path=str(settings.warehouse), home_municipality=settings.home_municipality)


def report_unreported_publication(settings: Settings, log, *, lock_path: Path | None = None) -> list[str]:
    """Write (and mail) the report of a publication that has none; never fails the caller."""
    run = unreported_run(settings)
    if run is None:
        return []
    try:
        delivery = deliver(settings.work_db, settings.reports_dir, run, read_gate_result(settings.reports_dir, run.run_id),
                           settings.mail, log, lock_path=lock_path)
    except Exception as exc:  # noqa: BLE001 - the run goes on; the report is tried again next time
        text = " ".join(str(exc).split())
        log.warning(f"the publication of run {run.run_id} still has no report ({exc.__class__.__name__}: {text}); "
                    "the next run tries again")
        return []
    build_state.mark_reported(settings.build_state_path, run.run_id)
    record_delivery(settings, delivery)
    log.info(f"the publication of run {run.run_id} had no report (its run was stopped first): written now")
    return delivery.log_lines


def report_writer(settings: Settings, log) -> ledger.ReportWriter:
    """For the ledger: write and deliver an audience's report of the approved publication again (the number
    format changed, mail was switched on, a file was removed). The report reads the work file, so this is only
    possible while it holds the approved build; otherwise the audience is behind until the next publication."""

    def write(check: ledger.TargetCheck, approved: dict) -> str:
        audience = check.name.split(":", 1)[1]
        state = build_state.load(settings.build_state_path)
        if state is None or not state.built or state.run_id != approved.get("build_run_id"):
            holds = "no finished build" if state is None or not state.built else f"the build of run {state.run_id}"
            why = f"the work file holds {holds}, not the approved one of run {approved.get('build_run_id')}"
            ledger.mark_behind(settings, check.name, f"cannot be written again now: {why}; it follows the next "
                               "publication")
            line = f"{check.label} does not match ({check.problem}) and cannot be written again now: {why}"
            log.warning(line)
            return line
        run = RunInfo(run_id=approved["run_id"], started_at=approved.get("run_started_at", ""), outcome="published",
                      published_path=str(settings.warehouse), home_municipality=settings.home_municipality)
        delivery = deliver(settings.work_db, settings.reports_dir, run,
                           read_gate_result(settings.reports_dir, approved["run_id"]), settings.mail, log,
                           audiences=(audience,), number_style=settings.number_format)
        record_delivery(settings, delivery, approved["id"])
        entry = ledger.load(settings)["targets"].get(check.name) or {}
        line = (f"{check.label} did not match publication {approved['id']} ({check.problem}): written again, "
                f"{entry.get('delivery', 'on disk')}")
        log.info(line)
        return line

    return write
