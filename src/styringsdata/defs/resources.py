"""Resources: where things live and how sources are reached (offline by default)."""

import datetime as dt
import os
from contextlib import contextmanager
from typing import Iterator

import dagster as dg
import duckdb

from styringsdata.sources.klass import KlassClient
from styringsdata.raw.landing import LandingZone
from styringsdata.raw.raw_store import ensure_schema
from styringsdata.sources.ssb import SsbClient
from styringsdata.sources.transport import Transport
from styringsdata.runs.recovery import start_run
from styringsdata.settings import Settings

# Everything that writes the DuckDB work file runs in this pool, limited to 1
# (dagster_home/dagster.yaml): DuckDB allows a single writing process.
DUCKDB_WRITER_POOL = "duckdb_writer"


class PipelineResource(dg.ConfigurableResource):
    """Settings from the environment (see src/styringsdata/settings.py), and the clients built from them.

    One transport per run, so SSB's rate limit is counted across all SSB assets
    of the run (the job runs in one process).

    Every run needs this resource, so its start is where every run, whoever launched it, takes the run
    lock and recovers what an earlier run left (src/styringsdata/runs/recovery.py); the lock is released when
    the run ends. Sensors use the resource too, without a run: they never take the lock.
    """

    # The CLI's --live/--record for this run, given as run config (never written into the process environment,
    # where it would outlive the run); empty: STYRINGSDATA_SOURCE_MODE.
    source_mode: str = ""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        override = {"STYRINGSDATA_SOURCE_MODE": self.source_mode} if self.source_mode else {}
        self._settings = Settings.from_env({**os.environ, **override})
        s = self._settings
        self._transport = Transport(
            s.source_mode,
            s.snapshot_dir,
            rate_limits={"data.ssb.no": (s.ssb_requests_per_minute, 60.0)},
            timeout=s.http_timeout,
        )
        self._run_lock = None
        run = context.run
        if run is not None:
            assert context.log is not None, "Dagster starts a run's resources with the run's log manager"
            self._run_lock = start_run(s, f"Dagster run {run.run_id} of job {run.job_name}", context.log, run.run_id)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run_lock is not None:
            self._run_lock.__exit__(None, None, None)
            self._run_lock = None

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def transport(self) -> Transport:
        return self._transport

    def ssb(self) -> SsbClient:
        return SsbClient(self._transport)

    def klass(self) -> KlassClient:
        return KlassClient(self._transport)

    def landing(self) -> LandingZone:
        return LandingZone(self._settings.landing_dir)

    @contextmanager
    def work_db(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self._settings.work_db.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self._settings.work_db))
        try:
            ensure_schema(con)
            yield con
        finally:
            # Closed before dbt starts: dbt is another process and DuckDB lets one writer in.
            con.close()


def run_started_at(instance: dg.DagsterInstance, run_id: str) -> str:
    stats = instance.get_run_stats(run_id)
    if stats.start_time is None:
        raise dg.Failure(f"run {run_id} has no start time in the Dagster instance")
    return dt.datetime.fromtimestamp(stats.start_time, dt.timezone.utc).isoformat(timespec="seconds")
