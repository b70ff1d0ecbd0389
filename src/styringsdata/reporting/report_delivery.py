"""Write each audience's report and send it when SMTP is configured; used by Dagster, the gate and the CLI.

Audiences (src/styringsdata/reporting/mail.py): the data team gets the operational report after every run that
publishes or is held back; the macro group gets its Norwegian report after each publication. Each goes to
its own recipients; an audience without recipients gets its report on disk only.

Inside a run the reports read the work file directly (the run holds the run lock). Anyone else passes
`lock_path` and reads a private copy taken while no run writes (src/styringsdata/runs/work_file.py), so
`styringsdata report` and the failure sensor never hold DuckDB's lock on the work file during a run.
"""

from __future__ import annotations

import errno
import html
import logging
import os
import smtplib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from styringsdata.publishing import ledger
from styringsdata.quality.gate import GateResult
from styringsdata.reporting import mail
from styringsdata.runs import work_file
from styringsdata.runs.failures import is_disk_full_error
from styringsdata.home import member_name
from styringsdata.runs.lock import LockHeld
from styringsdata.reporting.report import QualityReportFiles, ReportFiles, RunInfo, report_exists, write_report
from styringsdata.settings import Settings

AFTER_PUBLICATION = (mail.DATA_TEAM, mail.MACRO_GROUP)


@dataclass(frozen=True)
class Delivery:
    files: ReportFiles  # the first audience's report (the data team's unless only the macro group's was asked for)
    mail_sent: list[str]
    mail_failed: list[tuple[str, str]]
    mail_skipped: bool
    log_lines: list[str]
    reports: dict[str, ReportFiles] | None = None  # audience -> its report


def _write_all(work_db: Path, reports_dir: Path, run: RunInfo, gate: GateResult | None, audiences: tuple[str, ...],
               number_style: str, profile_members: tuple[str, ...] = ()) -> dict[str, ReportFiles]:
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        return {audience: _write(con, reports_dir, run, gate, audience, number_style, profile_members)
                for audience in audiences}
    except OSError as exc:
        if is_disk_full_error(exc) and not exc.filename:  # Python's write() errors name no file
            raise OSError(exc.errno, f"{os.strerror(exc.errno or errno.ENOSPC)} (writing the report)",
                          str(reports_dir)) from None
        raise
    finally:
        con.close()


def deliver(work_db: Path, reports_dir: Path, run: RunInfo, gate: GateResult | None,
            mail_settings: mail.MailSettings | None, log: logging.Logger | None = None, *,
            audiences: tuple[str, ...] = (mail.DATA_TEAM,), number_style: str = "en",
            lock_path: Path | None = None, profile_members: tuple[str, ...] = ()) -> Delivery:
    """Save each audience's report; then queue those with recipients and send everything in the outbox.
    Mail trouble never loses a report.

    `lock_path`: the run lock, for callers outside a run (read a private copy of the work file).
    `profile_members`: members whose tjenesteprofil the macro group's report draws after the home member's.
    """
    if lock_path is None:
        reports = _write_all(work_db, reports_dir, run, gate, audiences, number_style, profile_members)
    else:
        with work_file.readable(work_db, lock_path) as readable:
            reports = _write_all(readable.work_db, reports_dir, run, gate, audiences, number_style, profile_members)
    lines = [f"{_label(audience)} written: {files.html}"
             + (f" (Markdown: {files.markdown.name})" if isinstance(files, QualityReportFiles) else "")
             for audience, files in reports.items()]
    if mail_settings is None:
        lines.append("mail skipped: STYRINGSDATA_SMTP_HOST is not set (the report stays on disk)")
        outcome = mail.SendOutcome([], [])
    else:
        outbox = reports_dir / "outbox"
        for audience, files in reports.items():
            if not mail_settings.recipients_for(audience):
                lines.append(f"{_label(audience)} not mailed: {mail.RECIPIENT_SETTINGS[audience]} is not set "
                             "(the report stays on disk)")
                continue
            mail.enqueue(outbox, files.subject, files.mail_html, files.attachments, files.charts, audience)
        outcome = mail.flush(outbox, mail_settings)
        audience_of = {files.subject: audience for audience, files in reports.items()}
        lines += [f"mail sent to {len(mail_settings.recipients_for(audience_of.get(s, mail.DATA_TEAM)))} recipient(s) "
                  f"via {mail_settings.host}: {s}" for s in outcome.sent]
        lines += [f"mail NOT sent via {mail_settings.host}:{mail_settings.port} ({error}); the report stays on disk "
                  f"and in {outbox}, and is sent again on the next run: {subject}" for subject, error in outcome.failed]
    for line in lines:
        (log or logging.getLogger(__name__)).log(logging.WARNING if "NOT sent" in line else logging.INFO, line)
    return Delivery(next(iter(reports.values())), outcome.sent, outcome.failed, mail_settings is None, lines, reports)


def _write(con: duckdb.DuckDBPyConnection, reports_dir: Path, run: RunInfo, gate: GateResult | None,
           audience: str, number_style: str, profile_members: tuple[str, ...] = ()) -> ReportFiles:
    if audience == mail.MACRO_GROUP:
        from styringsdata.reporting.macro_report import write_macro_report  # matplotlib only when it is asked for

        return write_macro_report(con, reports_dir, run, gate, profile_members)
    return write_report(con, reports_dir, run, gate, number_style=number_style)


def _label(audience: str) -> str:
    return "quality report" if audience == mail.DATA_TEAM else "macro group report (makrogruppen)"


def report_failed_run(work_db: Path, reports_dir: Path, run: RunInfo, gate: GateResult | None,
                      mail_settings: mail.MailSettings | None, log: logging.Logger | None = None, *,
                      lock_path: Path | None = None, number_style: str = "en") -> list[str]:
    """After a failed run: the held-back report (unless the gate already wrote it), or a plain failure mail.

    The plain mail is for runs that failed before any marts existed, when there is nothing to report on,
    or when the work file cannot be read now (another run writes it, or the disk is full).
    Both go to the data team only: the macro group hears about publications.
    """
    log = log or logging.getLogger(__name__)
    if report_exists(reports_dir, run.run_id):
        return [f"the held-back report for run {run.run_id} was already written"]
    try:
        return deliver(work_db, reports_dir, run, gate, mail_settings, log, lock_path=lock_path,
                       number_style=number_style).log_lines
    except (duckdb.Error, LockHeld, OSError) as exc:
        text = " ".join(str(exc).split())
        lines = [f"no quality report for run {run.run_id}: the work file cannot be reported on "
                 f"({exc.__class__.__name__}: {text})"]
    if mail_settings is None:
        lines.append("mail skipped: STYRINGSDATA_SMTP_HOST is not set")
    elif not mail_settings.recipients:
        lines.append(f"failure mail skipped: {mail.RECIPIENT_SETTINGS[mail.DATA_TEAM]} is not set")
    else:
        home = f"{member_name(run.home_municipality)} ({run.home_municipality})"
        message = mail.build_message(mail_settings, f"styringsdata {home}: run FAILED, nothing "
                                     "published", f"<p>Run {run.run_id} failed: {html.escape(run.reason)}</p>"
                                     "<p>The last good publication stays in place.</p>", [], {})
        try:
            mail.send(mail_settings, message)
            lines.append(f"failure mail sent to {len(mail_settings.recipients)} recipient(s)")
        except (OSError, smtplib.SMTPException) as exc:
            lines.append(f"failure mail NOT sent via {mail_settings.host}:{mail_settings.port} "
                         f"({exc.__class__.__name__}: {exc})")
    for line in lines:
        log.warning(line)
    return lines


def record_delivery(settings: Settings, delivery: Delivery, publication: str | None = None) -> None:
    """Each audience's report of the approved publication, and how it went out, as a target in the publication
    ledger (src/styringsdata/publishing/ledger.py)."""
    for audience, files in (delivery.reports or {}).items():
        failed = [error for subject, error in delivery.mail_failed if subject == files.subject]
        how = ("on disk (mail off)" if delivery.mail_skipped else
               f"mail not sent ({failed[0]})" if failed else
               "mailed" if files.subject in delivery.mail_sent else "on disk (no recipients)")
        ledger.record_report(settings, audience, files.documents, how,
                             failed[0] if failed else None, publication)
