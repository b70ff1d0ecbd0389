"""What a user sees of a failed run names the root cause, not Dagster's wrapper around it.

The fault: replay mode with a snapshot directory that holds nothing, so every source request is a
`ReplayMiss` naming the request. The data directory is a published copy, so the marts exist and the
held-back report is written.
"""

from __future__ import annotations

import email
from email import policy

import dagster as dg
import pytest

from tests.faults.runs import cli, copy_data, pipeline_env
from tests.orchestration.test_mail import PASSWORD, smtp_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

WRAPPER = "Error occurred while executing op"
MISS = "ReplayMiss: no recorded response for GET https://data.ssb.no/api/pxwebapi/v2/tables/12143"


def mail_env(port: int) -> dict[str, str]:
    return {"STYRINGSDATA_SMTP_HOST": "127.0.0.1", "STYRINGSDATA_SMTP_PORT": str(port),
            "STYRINGSDATA_SMTP_SECURITY": "none", "STYRINGSDATA_SMTP_USER": "macro",
            "STYRINGSDATA_SMTP_PASSWORD": PASSWORD, "STYRINGSDATA_MAIL_TO": "makrogruppen@asker.kommune.no"}


def new_reports(data, published_data) -> list:
    return [p for p in (data / "reports").glob("quality-report_*.md") if not (published_data / "reports" / p.name).exists()]


def mailed_html(inbox) -> str:
    """The held-back report's mail. Switching mail on also mails the current publication's report once, at the
    start of the run (the publication ledger, issue 22): that mail is not the one looked at here."""
    bodies = [email.message_from_bytes(e.content, policy=policy.default).get_body(preferencelist=("html",))
              .get_content() for e in inbox.envelopes]
    (body,) = [b for b in bodies if "no recorded response" in b]
    return body


def held_back_report(data, published_data):
    (report,) = [p for p in new_reports(data, published_data) if "no recorded response" in p.read_text(encoding="utf-8")]
    return report


def test_cli_lines_held_back_report_and_mail_name_the_root_cause(published_data, tmp_path, smtp_server):  # noqa: F811
    inbox, port = smtp_server()
    data = copy_data(published_data, tmp_path / "data")
    empty = tmp_path / "snapshots"
    empty.mkdir()

    result = cli(pipeline_env(data, STYRINGSDATA_SNAPSHOT_DIR=str(empty), **mail_env(port)), "run")

    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("styringsdata: step ")]
    assert lines and not [line for line in lines if WRAPPER in line], lines
    assert [line for line in lines if line.startswith("styringsdata: step raw__ssb_12143 failed: " + MISS)], lines
    text = held_back_report(data, published_data).read_text(encoding="utf-8")
    assert MISS in text and WRAPPER not in text
    body = mailed_html(inbox)
    assert "HELD BACK" in body and "no recorded response for GET https://data.ssb.no" in body and WRAPPER not in body


def test_failure_sensor_report_names_the_root_cause(published_data, tmp_path, monkeypatch, smtp_server):  # noqa: F811
    inbox, port = smtp_server()
    data = copy_data(published_data, tmp_path / "data")
    empty = tmp_path / "snapshots"
    empty.mkdir()
    for name, value in pipeline_env(data, STYRINGSDATA_SNAPSHOT_DIR=str(empty), **mail_env(port)).items():
        if name.startswith("STYRINGSDATA_"):
            monkeypatch.setenv(name, value)
    from styringsdata.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("full_refresh").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    sensor = next(s for s in defs.sensors if s.name == "failed_run_notification")
    context = dg.build_run_status_sensor_context(sensor_name=sensor.name, dagster_instance=instance,
                                                 dagster_run=run, dagster_event=failure).for_run_failure()

    sensor(context)

    assert "no recorded response for GET https://data.ssb.no" in held_back_report(data, published_data).read_text(
        encoding="utf-8")
    body = mailed_html(inbox)
    assert "no recorded response for GET https://data.ssb.no" in body and WRAPPER not in body
