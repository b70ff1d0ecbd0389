"""Schedules, sensors and failure notification, evaluated against the bundled snapshots (no network)."""

from __future__ import annotations

import datetime as dt
import email
import json
import os
import shutil
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from styringsdata.raw.landing import LandingZone, vintage_from_updated
from styringsdata.sources.ssb import load_table_specs
from styringsdata.defs.jobs import KOSTRA_TABLES
from styringsdata.defs.resources import PipelineResource
from styringsdata.defs.schedules import build_schedules
from styringsdata.defs import sensors
from styringsdata.defs.sensors import build_sensors, in_ssb_metadata_window
from styringsdata.definitions import defs
from styringsdata.settings import PROJECT_ROOT, Settings

OSLO = ZoneInfo("Europe/Oslo")
SSB_TABLES = [t.table_id for t in load_table_specs().tables]
PUBLISH = dg.AssetKey(["published", "warehouse"])


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("STYRINGSDATA_DATA_DIR", str(data))
    monkeypatch.setenv("STYRINGSDATA_SOURCE_MODE", "replay")
    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(PROJECT_ROOT / "snapshots"))
    for name in [k for k in os.environ if k.startswith(("STYRINGSDATA_SMTP", "STYRINGSDATA_WORK_DB",
                                                        "STYRINGSDATA_REGISTRY_INBOX"))]:
        monkeypatch.delenv(name)
    return data


def sensor(name: str) -> dg.SensorDefinition:
    return next(s for s in build_sensors(Settings.from_env()) if s.name == name)


def evaluate(name: str, cursor: str | None = None):
    # `with`, as Dagster's daemon does: the resource releases the run lock when a run ends (a teardown)
    with dg.build_sensor_context(cursor=cursor, definitions=defs, resources={"pipeline": PipelineResource()}) as context:
        result = sensor(name).evaluate_tick(context)
        return result, context.cursor


def test_schedules_follow_the_asss_year_in_norwegian_time():
    schedules = {s.name: s for s in build_schedules(Settings.from_env({}))}
    assert set(schedules) == {"kostra_unrevised_release", "kostra_revised_release", "weekly_full_refresh"}
    for schedule in schedules.values():
        assert schedule.execution_timezone == "Europe/Oslo"
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED

    def next_tick(name: str, after: dt.datetime) -> dt.datetime:
        schedule = schedules[name]
        ticks = cron_string_iterator(after.timestamp(), schedule.cron_schedule, schedule.execution_timezone)
        return next(ticks).astimezone(OSLO)

    after = dt.datetime(2027, 1, 10, tzinfo=OSLO)
    assert next_tick("kostra_unrevised_release", after) == dt.datetime(2027, 3, 15, 9, 0, tzinfo=OSLO)
    assert next_tick("kostra_revised_release", after) == dt.datetime(2027, 6, 15, 9, 0, tzinfo=OSLO)
    weekly = next_tick("weekly_full_refresh", after)
    assert weekly.weekday() == 0 and (weekly.hour, weekly.minute) == (9, 15)
    for name in ("kostra_unrevised_release", "kostra_revised_release", "weekly_full_refresh"):
        assert not in_ssb_metadata_window(next_tick(name, after))

    on = build_schedules(Settings.from_env({"STYRINGSDATA_AUTOMATION": "on"}))
    assert {s.default_status for s in on} == {dg.DefaultScheduleStatus.RUNNING}
    with pytest.raises(ValueError, match="STYRINGSDATA_AUTOMATION='yes'"):
        Settings.from_env({"STYRINGSDATA_AUTOMATION": "yes"})


def test_kostra_job_refreshes_kostra_tables_and_everything_downstream():
    job = defs.resolve_job_def("kostra_refresh")
    selected = job.asset_layer.executable_asset_keys if hasattr(job.asset_layer, "executable_asset_keys") \
        else job.asset_layer.selected_asset_keys
    assert set(KOSTRA_TABLES) <= set(selected)
    assert dg.AssetKey(["raw", "ssb_01222"]) not in selected  # population: not KOSTRA
    assert {PUBLISH, dg.AssetKey(["reports", "quality_report"]), dg.AssetKey(["marts", "kostra_comparison"])} <= \
        set(selected)


def test_ssb_metadata_windows():
    assert in_ssb_metadata_window(dt.datetime(2027, 3, 15, 5, 0, tzinfo=OSLO))
    assert in_ssb_metadata_window(dt.datetime(2027, 3, 15, 11, 40, tzinfo=OSLO))
    assert not in_ssb_metadata_window(dt.datetime(2027, 3, 15, 9, 0, tzinfo=OSLO))
    assert not in_ssb_metadata_window(dt.datetime(2027, 3, 15, 13, 0, tzinfo=OSLO))


def land_every_ssb_vintage(data: Path, checked: bool = True) -> None:
    """Leave in the landing zone what an offline run would, without running it: a vintage per table named from
    SSB's `updated` and, unless `checked` is False (a landing zone from before checks were kept), SSB's
    `updated` per table as seen at the snapshot's time."""
    from styringsdata.sources.ssb import SsbClient, record_seen
    from styringsdata.sources.transport import Transport

    landing = LandingZone(data / "landing")
    transport = Transport("replay", PROJECT_ROOT / "snapshots")
    client = SsbClient(transport)
    updated = {}
    for spec in load_table_specs().tables:
        updated[spec.table_id] = client.table_info(spec.table_id).updated
        vintage = vintage_from_updated(updated[spec.table_id])
        landing.vintage_dir("ssb", spec.table_id, vintage).mkdir(parents=True)
        (landing.vintage_dir("ssb", spec.table_id, vintage) / "manifest.json").write_text("{}")
    if checked:
        record_seen(landing, updated, transport.now("data.ssb.no"))


def publish_upstream(snapshots: Path, table_id: str, updated: str) -> None:
    """SSB publishes `table_id` again: its table info and the listing of the past day say so."""
    (info_file,) = (snapshots / f"data.ssb.no/api/pxwebapi/v2/tables/{table_id}").glob("GET-*.json")
    recorded = json.loads(info_file.read_text())
    body = json.loads(recorded["response"]["body"])
    body["updated"] = updated
    recorded["response"]["body"] = json.dumps(body)
    info_file.write_text(json.dumps(recorded))
    (listing_file,) = (snapshots / "data.ssb.no/api/pxwebapi/v2/tables").glob("GET-*.json")
    recorded = json.loads(listing_file.read_text())
    listing = json.loads(recorded["response"]["body"])
    listing["tables"].insert(0, {**body, "updated": updated})
    listing["page"]["totalElements"] += 1
    recorded["response"]["body"] = json.dumps(listing)
    listing_file.write_text(json.dumps(recorded))


def test_source_change_sensor_keeps_out_of_ssb_metadata_windows(data_dir, monkeypatch):
    monkeypatch.setattr(sensors, "utc_now", lambda: dt.datetime(2027, 3, 15, 11, 30, tzinfo=OSLO))
    result, cursor = evaluate("source_change_sensor")
    assert result.run_requests == [] and "metadata" in result.skip_message and cursor is None


def test_source_change_sensor_asks_once_and_only_for_what_changed(data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(sensors, "utc_now", lambda: dt.datetime(2027, 3, 15, 9, 0, tzinfo=OSLO))
    # Nothing landed yet: every SSB table and FHI is new.
    result, cursor = evaluate("source_change_sensor")
    (request,) = result.run_requests
    assert {dg.AssetKey(["raw", f"ssb_{t}"]) for t in SSB_TABLES} <= set(request.asset_selection)
    assert dg.AssetKey(["raw", "fhi_nokkel"]) in request.asset_selection
    assert PUBLISH in request.asset_selection
    assert any(k.name == "fct_unique_grain" for k in request.asset_check_keys), "the whole gate runs"

    # Same answers again (the run has not landed anything yet): no second request.
    result, cursor = evaluate("source_change_sensor", cursor)
    assert result.run_requests == [] and "no source changed" in result.skip_message

    # Everything landed, then SSB publishes a new 12143: one request, for 12143 and what is built from it.
    land_every_ssb_vintage(data_dir)
    snapshots = tmp_path / "snapshots"
    shutil.copytree(PROJECT_ROOT / "snapshots", snapshots)
    publish_upstream(snapshots, "12143", "2027-06-15T06:00:00Z")
    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(snapshots))
    asked = count_requests(monkeypatch)

    result, cursor = evaluate("source_change_sensor", cursor)
    (request,) = result.run_requests
    sources = {k for k in request.asset_selection if k.path[0] == "raw"}
    assert dg.AssetKey(["raw", "ssb_12143"]) in sources
    assert not {dg.AssetKey(["raw", f"ssb_{t}"]) for t in SSB_TABLES if t != "12143"} & sources
    assert PUBLISH in request.asset_selection
    assert json.loads(cursor)["ssb:12143"] == "2027-06-15T060000Z"
    # the cursor holds what is pending against the landing zone, not every table asked about
    assert {k for k in json.loads(cursor) if k.startswith("ssb:")} == {"ssb:12143"}
    # found by one listing call, the same the run makes: no table-info call per table
    assert [u for u in asked if "pxwebapi" in u] == ["https://data.ssb.no/api/pxwebapi/v2/tables"]


def count_requests(monkeypatch) -> list[str]:
    from styringsdata.sources.transport import Transport

    urls: list[str] = []
    send = Transport.send

    def counting(self, request):
        urls.append(request.url)
        return send(self, request)

    monkeypatch.setattr(Transport, "send", counting)
    return urls


def test_source_change_sensor_asks_table_by_table_when_the_last_check_is_unknown(data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(sensors, "utc_now", lambda: dt.datetime(2027, 3, 15, 9, 0, tzinfo=OSLO))
    land_every_ssb_vintage(data_dir, checked=False)  # landed before change checks were kept
    snapshots = tmp_path / "snapshots"
    shutil.copytree(PROJECT_ROOT / "snapshots", snapshots)
    publish_upstream(snapshots, "12143", "2027-06-15T06:00:00Z")
    monkeypatch.setenv("STYRINGSDATA_SNAPSHOT_DIR", str(snapshots))
    asked = count_requests(monkeypatch)
    result, cursor = evaluate("source_change_sensor")
    (request,) = result.run_requests
    assert dg.AssetKey(["raw", "ssb_12143"]) in request.asset_selection
    assert json.loads(cursor)["ssb:12143"] == "2027-06-15T060000Z"
    assert sorted(u.rsplit("/", 1)[-1] for u in asked if "pxwebapi" in u) == sorted(SSB_TABLES)
    # what each table's info said is kept: the next tick asks one listing, and 12143 is still pending
    asked.clear()
    result, cursor = evaluate("source_change_sensor", cursor)
    assert result.run_requests == [] and json.loads(cursor)["ssb:12143"] == "2027-06-15T060000Z"
    assert [u for u in asked if "pxwebapi" in u] == ["https://data.ssb.no/api/pxwebapi/v2/tables"]


def test_registry_inbox_sensor_waits_for_a_settled_file_then_asks_once(data_dir, monkeypatch):
    inbox = data_dir / "inbox" / "registry"
    inbox.mkdir(parents=True)
    result, cursor = evaluate("registry_inbox_sensor")
    assert result.run_requests == []

    fresh = inbox / "sykefravaer_2024.csv"
    fresh.write_text("indicator_id;municipality_code;period;value;unit;status;source;comment\n")
    result, cursor = evaluate("registry_inbox_sensor", cursor)
    assert result.run_requests == [], "a file still being copied is not picked up"

    # two minutes later (a test cannot age a file's change time, which the settle rule reads too)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=120)
    monkeypatch.setattr("styringsdata.defs.sensors.utc_now", lambda: later)
    result, cursor = evaluate("registry_inbox_sensor", cursor)
    (request,) = result.run_requests
    assert dg.AssetKey(["raw", "registry_values"]) in request.asset_selection and PUBLISH in request.asset_selection
    assert not any(k.path[0] == "raw" and k.path[1].startswith("ssb_") for k in request.asset_selection)
    assert request.tags["styringsdata/files"] == "sykefravaer_2024.csv"

    result, _ = evaluate("registry_inbox_sensor", cursor)
    assert result.run_requests == []


def test_failed_run_without_marts_sends_a_plain_failure_mail(tmp_path, smtp_server):
    from styringsdata.reporting.report import RunInfo
    from styringsdata.reporting.report_delivery import report_failed_run
    from tests.orchestration.test_mail import settings

    inbox, port = smtp_server()
    run = RunInfo(run_id="feedface00000000", started_at="2026-11-27T09:00:00+00:00", outcome="held_back",
                  home_municipality="3203",
                  reason="step raw__ssb_12143 failed: HTTP 503 from data.ssb.no")
    lines = report_failed_run(tmp_path / "missing.duckdb", tmp_path / "reports", run, None, settings(port))
    assert any("no quality report" in line for line in lines)
    assert any("failure mail sent" in line for line in lines)
    (envelope,) = inbox.envelopes
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert "run FAILED" in message["Subject"]
    assert "HTTP 503 from data.ssb.no" in message.get_body(preferencelist=("html",)).get_content()


pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
