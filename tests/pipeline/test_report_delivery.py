"""The real report of an offline run, mailed to an SMTP server on loopback; a refusal leaves it on disk."""

from __future__ import annotations

import email
import logging
from email import policy

import pytest

from styringsdata.reporting.report import RunInfo
from styringsdata.reporting.report_delivery import deliver
from tests.orchestration.test_mail import PASSWORD, settings, smtp_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def run_info() -> RunInfo:
    return RunInfo(run_id="0123456789abcdef", started_at="2026-11-27T00:00:00+00:00", outcome="published",
                   home_municipality="3203", published_path="data/warehouse.duckdb")


def test_report_is_mailed_with_inline_charts(offline_run, tmp_path, smtp_server, caplog):  # noqa: F811
    inbox, port = smtp_server()
    with caplog.at_level(logging.INFO):
        delivery = deliver(offline_run.data_dir / "work.duckdb", tmp_path / "reports", run_info(), None,
                           settings(port))

    assert delivery.mail_failed == [] and len(delivery.mail_sent) == 1
    (envelope,) = inbox.envelopes
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"].startswith("styringsdata Asker (3203): published, vintage ")
    body = message.get_body(preferencelist=("html",)).get_content()
    assert "Coverage of the 88 indicators" in body and "cid:coverage" in body and "cid:trend" in body
    names = {part.get_filename() for part in message.walk() if part.get_filename()}
    assert {delivery.files.markdown.name, delivery.files.failing_rows_csv.name} <= names
    assert {"coverage.png", "trend.png"} <= {p.split(".")[-2] + ".png" for p in names if p.endswith(".png")}
    assert PASSWORD not in caplog.text and PASSWORD not in delivery.files.html.read_text(encoding="utf-8")


def test_refusing_server_leaves_report_on_disk_and_says_so(offline_run, tmp_path, smtp_server, caplog):  # noqa: F811
    _, port = smtp_server(refuse=True)
    with caplog.at_level(logging.INFO):
        delivery = deliver(offline_run.data_dir / "work.duckdb", tmp_path / "reports", run_info(), None,
                           settings(port))

    assert delivery.mail_sent == [] and len(delivery.mail_failed) == 1
    assert delivery.files.html.exists() and delivery.files.markdown.exists()
    assert len(list((tmp_path / "reports" / "outbox").glob("*.json"))) == 1
    (line,) = [r.getMessage() for r in caplog.records
               if r.levelno == logging.WARNING and r.name == "styringsdata.reporting.report_delivery"]
    assert "mail NOT sent via 127.0.0.1" in line and "554" in line and "sent again on the next run" in line


def test_the_data_teams_report_can_use_norwegian_numbers(offline_run, tmp_path):
    import duckdb

    con = duckdb.connect(str(offline_run.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        (latest,) = con.execute("select latest_value from indicator_scorecard where indicator_id = 'OKO02' "
                                "and is_home_municipality").fetchone()
    finally:
        con.close()
    english = deliver(offline_run.data_dir / "work.duckdb", tmp_path / "en", run_info(), None, None)
    norwegian = deliver(offline_run.data_dir / "work.duckdb", tmp_path / "no", run_info(), None, None,
                        number_style="no")
    row = [line for line in english.files.markdown.read_text(encoding="utf-8").splitlines()
           if line.startswith("| OKO02 | Netto")][0]
    row_no = [line for line in norwegian.files.markdown.read_text(encoding="utf-8").splitlines()
              if line.startswith("| OKO02 | Netto")][0]
    assert f"| {latest:g} |" in row and f"| {latest:g} |".replace(".", ",").replace("-", "\u2212") in row_no
    assert "# Quality report" in norwegian.files.markdown.read_text(encoding="utf-8"), "the text stays English"
