"""Sensors: source changes (metadata only), the registry inbox, and failed runs.

Each sensor keeps its own cursor, so a change is asked for once; a run that fails leaves the change
pending in the landing zone and the weekly refresh picks it up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

import dagster as dg

from styringsdata.sources.changes import changes_of, fhi_changes
from styringsdata.sources.fhi import FhiClient, load_fhi_specs
from styringsdata.sources.registry import inbox_candidates
from styringsdata.sources.ssb import check_ssb
from styringsdata.defs.jobs import audit_and_publish, full_refresh, kostra_refresh, refresh_of
from styringsdata.defs.keys import FHI, PUBLISHED, REGISTRY, ssb_key
from styringsdata.defs.quality import read_gate_result
from styringsdata.defs.resources import PipelineResource
from styringsdata.runs.failures import step_failures
from styringsdata.runs.lock import run_lock_path
from styringsdata.reporting.report import RunInfo
from styringsdata.reporting.report_delivery import report_failed_run
from styringsdata.settings import Settings

OSLO = ZoneInfo("Europe/Oslo")
# SSB refreshes its metadata around 05:00 and 11:30 (Norwegian time): answers then may be half-updated.
SSB_METADATA_WINDOWS = ((dt.time(4, 45), dt.time(5, 30)), (dt.time(11, 15), dt.time(12, 0)))


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def in_ssb_metadata_window(now: dt.datetime) -> bool:
    local = now.astimezone(OSLO).time()
    return any(start <= local < end for start, end in SSB_METADATA_WINDOWS)


def _run_request(context: dg.SensorEvaluationContext, keys: list[dg.AssetKey], run_key: str,
                 tags: dict[str, str]) -> dg.RunRequest:
    """The changed sources, what is built from them and every mart, with their checks (the whole gate)."""
    repository = context.repository_def
    assert repository is not None, "Dagster evaluates a sensor with its code location's definitions"
    graph = repository.asset_graph
    assets = sorted(refresh_of(keys).resolve(graph), key=lambda k: k.to_user_string())
    checks = dg.AssetSelection.checks_for_assets(*assets).resolve_checks(graph)
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=assets,
        asset_check_keys=sorted(checks, key=lambda k: k.to_user_string()),
        tags=tags,
    )


def _digest(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


def build_sensors(settings: Settings) -> list[dg.SensorDefinition]:
    status = dg.DefaultSensorStatus.RUNNING if settings.automation else dg.DefaultSensorStatus.STOPPED
    ssb_specs = settings.table_specs
    fhi_specs = load_fhi_specs()

    @dg.sensor(job=full_refresh, minimum_interval_seconds=3600, default_status=status,
               description="Hourly: one SSB `GET /tables?pastDays=N` for every table and one FHI "
               "`table?modifiedAfter=` (no data); starts a run for the sources whose data changed and everything "
               "built from them.")
    def source_change_sensor(context: dg.SensorEvaluationContext, pipeline: PipelineResource):
        if in_ssb_metadata_window(utc_now()):
            return dg.SkipReason("SSB is refreshing its metadata (around 05:00 and 11:30); asking later")
        landing = pipeline.landing()
        check = check_ssb(pipeline.ssb(), landing, [t.table_id for t in ssb_specs.tables])
        context.log.info(check.how)
        pending = {f"ssb:{c.table_id}": c.vintage for c in changes_of(check)}
        fhi = fhi_changes(FhiClient(pipeline.transport), landing, fhi_specs)
        if fhi:
            pending["fhi"] = ",".join(fhi)
        asked = json.loads(context.cursor or "{}")
        new = {k: v for k, v in pending.items() if asked.get(k) != v}
        context.update_cursor(json.dumps(pending, sort_keys=True))
        if not new:
            return dg.SkipReason(f"no source changed since the last request ({len(ssb_specs.tables)} SSB tables "
                                 f"asked in {check.calls} call(s), FHI '{fhi_specs.source_id}' in one)")
        keys = [ssb_key(k.split(":", 1)[1]) for k in new if k.startswith("ssb:")] + ([FHI] if "fhi" in new else [])
        context.log.info(f"changed upstream: {new}")
        return _run_request(context, keys, f"sources-{_digest(new)}", {"styringsdata/trigger": "source_change"})

    @dg.sensor(job=full_refresh, minimum_interval_seconds=60, default_status=status,
               description="A new file in the registry inbox starts validation and, if accepted, load and publish.")
    def registry_inbox_sensor(context: dg.SensorEvaluationContext, pipeline: PipelineResource):
        inbox = pipeline.settings.registry_inbox
        # The runs' own rule (settle time, temporary names): a file the run would leave is not asked for.
        ready, _ = inbox_candidates(inbox, pipeline.settings.registry_settle_seconds, utc_now().timestamp())
        files = {}
        for path in ready:
            try:
                stat = path.lstat()
            except FileNotFoundError:
                continue  # a run took it meanwhile
            files[path.name] = f"{stat.st_size}:{stat.st_mtime_ns}"
        seen = json.loads(context.cursor or "{}")
        new = {name: stamp for name, stamp in files.items() if seen.get(name) != stamp}
        context.update_cursor(json.dumps(files, sort_keys=True))
        if not new:
            return dg.SkipReason(f"no new file in {inbox}")
        return _run_request(context, [REGISTRY], f"registry-{_digest(new)}",
                            {"styringsdata/trigger": "registry_inbox", "styringsdata/files": ",".join(sorted(new))})

    @dg.run_failure_sensor(monitored_jobs=[full_refresh, kostra_refresh, audit_and_publish], default_status=status,
                           description="A failed run writes the held-back report and mails the macro group's "
                           "recipients (when SMTP is configured).")
    def failed_run_notification(context: dg.RunFailureSensorContext):
        settings = Settings.from_env()
        run_id = context.dagster_run.run_id
        stats = context.instance.get_run_stats(run_id)
        # a run that failed to launch never started: its report covers what was fetched from now on (nothing)
        started = dt.datetime.fromtimestamp(stats.start_time or dt.datetime.now().timestamp(), dt.timezone.utc)
        events = [entry.dagster_event for entry in context.instance.all_logs(
            run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RESOURCE_INIT_FAILURE})
            if entry.dagster_event is not None]
        failures = step_failures(events)
        if any("LockHeld:" in line for line in failures):
            context.log.info(f"run {run_id} did not start (another run held the run lock): {'; '.join(failures)}")
            return
        published = [r for r in context.instance.get_records_for_run(
            run_id=run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=10_000).records
            if r.event_log_entry.asset_materialization is not None
            and r.event_log_entry.asset_materialization.asset_key == PUBLISHED]
        if published:
            # nothing was held back: the next run writes the publication's missing report (recovery.py)
            context.log.info(f"run {run_id} failed after publishing: {'; '.join(failures)}")
            return
        run = RunInfo(run_id=run_id, started_at=started.isoformat(timespec="seconds"), outcome="held_back",
                      reason="; ".join(failures) or context.failure_event.message or "the run failed",
                      home_municipality=settings.home_municipality)
        for line in report_failed_run(settings.work_db, settings.reports_dir, run,
                                      read_gate_result(settings.reports_dir, run_id), settings.mail,
                                      lock_path=run_lock_path(settings.data_dir),
                                      number_style=settings.number_format):
            context.log.info(line)

    return [source_change_sensor, registry_inbox_sensor, failed_run_notification]
