"""Write the macro group's report and send it when SMTP is configured; used by Dagster, the gate and the CLI."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from expectations.gate import GateResult
from orchestration.lib import mail
from orchestration.lib.report import ReportFiles, RunInfo, write_report


@dataclass(frozen=True)
class Delivery:
    files: ReportFiles
    mail_sent: list[str]
    mail_failed: list[tuple[str, str]]
    mail_skipped: bool
    log_lines: list[str]


def deliver(work_db: Path, reports_dir: Path, run: RunInfo, gate: GateResult | None,
            mail_settings: mail.MailSettings | None, log: logging.Logger | None = None) -> Delivery:
    """Save the report; then queue it and send everything in the outbox. Mail trouble never loses a report."""
    con = duckdb.connect(str(work_db), read_only=True)
    try:
        files = write_report(con, reports_dir, run, gate)
    finally:
        con.close()
    lines = [f"quality report written: {files.html} (Markdown: {files.markdown.name})"]
    if mail_settings is None:
        lines.append("mail skipped: STYRINGSDATA_SMTP_HOST is not set (the report stays on disk)")
        outcome = mail.SendOutcome([], [])
    else:
        outbox = reports_dir / "outbox"
        mail.enqueue(outbox, files.subject, files.mail_html, files.markdown, files.failing_rows_csv, files.charts)
        outcome = mail.flush(outbox, mail_settings)
        lines += [f"mail sent to {len(mail_settings.recipients)} recipient(s) via {mail_settings.host}: {s}"
                  for s in outcome.sent]
        lines += [f"mail NOT sent via {mail_settings.host}:{mail_settings.port} ({error}); the report stays on disk "
                  f"and in {outbox}, and is sent again on the next run: {subject}" for subject, error in outcome.failed]
    for line in lines:
        (log or logging.getLogger(__name__)).log(logging.WARNING if "NOT sent" in line else logging.INFO, line)
    return Delivery(files, outcome.sent, outcome.failed, mail_settings is None, lines)
