"""A full run with SMTP configured: the report arrives by mail, and the password is nowhere in what the run
leaves behind (stdout, stderr, reports, outbox, gate results, landing manifests, Dagster's event log)."""

from __future__ import annotations

import email
import shutil
from email import policy

import pytest

from tests.orchestration.test_mail import PASSWORD, smtp_server  # noqa: F401 (fixture)
from tests.pipeline.conftest import run_cli

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def test_run_mails_the_report_and_never_writes_the_password(offline_run, tmp_path, smtp_server):  # noqa: F811
    inbox, port = smtp_server()
    data = tmp_path / "data"
    shutil.copytree(offline_run.data_dir, data)
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    # REBUILD: the copy has nothing new upstream, and a run with nothing new publishes (and mails) nothing
    env = dict(offline_run.env, STYRINGSDATA_DATA_DIR=str(data), DAGSTER_HOME=str(dagster_home),
               STYRINGSDATA_REBUILD="on",
               STYRINGSDATA_SMTP_HOST="127.0.0.1", STYRINGSDATA_SMTP_PORT=str(port),
               STYRINGSDATA_SMTP_SECURITY="none", STYRINGSDATA_SMTP_USER="macro",
               STYRINGSDATA_SMTP_PASSWORD=PASSWORD, STYRINGSDATA_MAIL_TO="makrogruppen@asker.kommune.no")

    result = run_cli(env)

    assert result.returncode == 0, result.stderr[-3000:]
    # switching mail on first mails the report of the publication the copy holds (the publication ledger,
    # issue 22), then the rebuilt publication's: every mail to the recipients, the last one the new publication
    assert inbox.envelopes
    envelope = inbox.envelopes[-1]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"].startswith("styringsdata Asker (3203): published")
    assert all(e.rcpt_tos == ["makrogruppen@asker.kommune.no"] for e in inbox.envelopes)
    assert not any(PASSWORD.encode() in e.content for e in inbox.envelopes)
    assert "mail sent to 1 recipient(s)" in result.stdout + result.stderr
    assert not list((data / "reports" / "outbox").glob("*.json"))

    assert PASSWORD not in result.stdout and PASSWORD not in result.stderr
    searched = 0
    for root in (data, dagster_home):
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_size < 50_000_000:
                assert PASSWORD.encode() not in path.read_bytes(), f"the SMTP password was written to {path}"
                searched += 1
    assert searched > 50
