"""Source assets materialized alone against a source that fails (issue 21), without a whole pipeline run:

- KLASS (classifications 131 and 112) is isolated like every other source: a 503, a timeout or an unusable
  answer is recorded in raw.source_attempts, the asset materializes on KLASS's last good vintage, or on a first
  run on the bundled KLASS answers (snapshots/, the recorded answer the offline run uses), and it says so;
- the terminal's sources stage line does not list a failing source under "new in raw".
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest
import requests

from styringsdata.defs import resources
from styringsdata.defs.files import miljodirektoratet_emissions
from styringsdata.defs.klass import klass_kostra_groups, klass_municipality_changes
from styringsdata.defs.resources import PipelineResource
from styringsdata.runs.progress import RunProgress, stage_detail
from styringsdata.runs.source_outcomes import SOURCE_ERRORS_KEY, SourceFailure, one_line_per_source
from styringsdata.settings import PROJECT_ROOT
from styringsdata.sources.transport import Request, Response, SnapshotStore, SourceMode, Transport
from tests.ingestion.fakes import FakeClock

KLASS_HOST = "https://data.ssb.no/api/klass/v1/"
WORKBOOK = "https://www.miljodirektoratet.no/sharepoint/downloaditem/"
SNAPSHOTS = PROJECT_ROOT / "snapshots"
UNAVAILABLE = Response(503, b"<html><body>503 Service Unavailable</body></html>", {"content-type": "text/html"})


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("STYRINGSDATA_DATA_DIR", str(data))
    monkeypatch.setenv("STYRINGSDATA_SOURCE_MODE", "replay")
    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(SNAPSHOTS))
    return data


def world(monkeypatch, failing_prefix: str, answer) -> list[str]:
    """The pipeline's transport in live mode (the real retries) over the snapshots, except requests to
    `failing_prefix`, which get `answer` (a Response, or an exception to raise)."""
    store, asked = SnapshotStore(SNAPSHOTS), []

    def sender(request: Request, timeout: float) -> Response:
        if request.url.startswith(failing_prefix):
            asked.append(request.url)
            if isinstance(answer, BaseException):
                raise answer
            return Response(answer.status, answer.body, answer.headers, request.full_url())
        return store.load(request)

    def transport(mode, snapshot_dir=None, **kwargs):
        return Transport(SourceMode.LIVE, snapshot_dir, sender=sender, clock=FakeClock(),
                         rate_limits=kwargs.get("rate_limits"), timeout=kwargs.get("timeout", 60.0))

    monkeypatch.setattr(resources, "Transport", transport)
    return asked


def materialize(*assets) -> dg.ExecuteInProcessResult:
    return dg.materialize(list(assets), resources={"pipeline": PipelineResource()}, raise_on_error=False)


def failures_of(result: dg.ExecuteInProcessResult) -> list[dict]:
    return [entry for m in result.get_asset_materialization_events()
            for entry in (m.materialization.metadata.get(SOURCE_ERRORS_KEY).value
                          if SOURCE_ERRORS_KEY in m.materialization.metadata else [])]


def query(data, sql: str) -> list[tuple]:
    con = duckdb.connect(str(data / "work.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("answer, error_class", [
    (UNAVAILABLE, "HttpError"),
    (requests.exceptions.ReadTimeout("read timed out"), "TransportError"),
    (Response(200, b'{"codeChanges": "not a list", "correspondenceItems": 7}', {"content-type": "application/json"}),
     "KlassError"),
], ids=["503", "timeout", "malformed"])
def test_klass_failing_on_a_first_run_falls_back_on_the_bundled_answer_and_says_so(data_dir, monkeypatch, answer,
                                                                                   error_class):
    asked = world(monkeypatch, KLASS_HOST, answer)
    result = materialize(klass_municipality_changes, klass_kostra_groups)
    assert result.success, "a KLASS failure must not fail the job"
    assert asked, "KLASS was never asked"
    failures = failures_of(result)
    assert {f["source_table"] for f in failures} == {"131-changes", "112-kostra-groups"}, failures
    for failure in failures:
        assert failure["source"] == "KLASS" and failure["error_class"] == error_class, failure
        # the fallback is said in the failure's advice, which the `source failed:` line and the reports print
        assert "bundled" in failure["advice"] and "snapshots" in failure["advice"], failure
    # one `source failed:` line for KLASS, both classifications in it
    (line,) = [f.line() for f in one_line_per_source([SourceFailure(**f) for f in failures])]
    assert line.startswith("KLASS classifications 112-kostra-groups, 131-changes: "), line
    assert line.count("bundled one recorded 2026-09-01") == 1, line
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks if not c.passed} == {"source_answered"} and len(checks) == 2
    attempts = query(data_dir, "select source, source_table, answered, error_class from raw.source_attempts "
                               "order by source_table")
    assert attempts == [("KLASS", "112-kostra-groups", False, error_class), ("KLASS", "131-changes", False, error_class)]
    # Asker's former codes still map to 3203, and the members' KOSTRA groups are there: from the bundled answers
    lineage = query(data_dir, "select from_code, to_code, _vintage from raw.klass_municipality_lineage "
                              "where from_code in ('0220', '3025') order by all")
    assert [row[:2] for row in lineage] == [("0220", "3203"), ("3025", "3203")], lineage
    assert all("bundled" in row[2] for row in lineage), lineage
    assert query(data_dir, "select count(*) from raw.klass_kostra_groups where municipality_code = '3203'")[0][0] > 0


def test_klass_failing_after_a_good_run_keeps_its_last_good_vintage(data_dir, monkeypatch):
    assert materialize(klass_municipality_changes, klass_kostra_groups).success  # the recorded answers: fine
    good = query(data_dir, "select distinct _vintage from raw.klass_municipality_lineage")
    world(monkeypatch, KLASS_HOST, UNAVAILABLE)
    result = materialize(klass_municipality_changes, klass_kostra_groups)
    assert result.success
    failures = failures_of(result)
    assert len(failures) == 2 and all("bundled" not in f["advice"] for f in failures), failures
    assert all("try again later" in f["advice"] for f in failures), failures
    assert query(data_dir, "select distinct _vintage from raw.klass_municipality_lineage") == good


def test_a_failing_source_is_not_listed_as_new_in_raw(data_dir, monkeypatch):
    world(monkeypatch, WORKBOOK, UNAVAILABLE)
    result = materialize(miljodirektoratet_emissions)
    assert result.success
    events = [e for e in result.all_events if e.step_key]
    progress = RunProgress({e.step_key: "sources" for e in events}, {}, {"sources": 1})
    for event in events:
        progress.on_event(dg.EventLogEntry(error_info=None, level=20, user_message="", run_id=result.run_id,
                                           timestamp=dt.datetime.now().timestamp(), step_key=event.step_key,
                                           job_name=result.job_def.name, dagster_event=event))
    line = stage_detail(progress, progress.stages["sources"])
    assert "new in raw" not in line and "miljodirektoratet" not in line, line
    assert "nothing new" in line and "1 failing" in line, line


def test_stage_lines_come_in_stage_order_when_publish_ends_before_the_gate():
    """The gate's freshness checks wait for the gate's blocking check on marts.source_freshness (the error rule
    sources_within_freshness) and may end after publish: the lines still come sources, dbt, gate, publish, report."""
    import io

    from styringsdata.runs.progress import STAGES, TerminalProgress

    stream = io.StringIO()
    progress = RunProgress({}, {}, {"sources": 1, "dbt": 1, "gate": 2, "publish": 1, "report": 1})
    display = TerminalProgress(stream, live=False)
    for name in ("sources", "dbt", "publish", "gate", "report"):  # the order the steps ended in
        display.finish(progress, progress.stages[name])
    display.close(progress)
    assert [line.split()[0] for line in stream.getvalue().splitlines()] == list(STAGES)
